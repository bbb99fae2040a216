"""Domain errors: raised by services, turned into HTTP answers by the app and into messages by the
CLI. Messages are written for the person who will read them (Chinese for users of the system)."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out; nothing was changed.

    Attributes:
        message: what went wrong and, where possible, how to fix it.
        status_code: the HTTP status the API answers with.
        details: optional machine-readable details (e.g. the fields or items concerned).
    """

    status_code = 400

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class Unauthorized(DomainError):
    status_code = 401


class TooManyRequests(DomainError):
    status_code = 429


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415
