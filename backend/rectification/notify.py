"""The one place where notifications to people plug in (e-mail, SMS, a messaging app…).

The services call :func:`notify` when a notice is issued, a task is answered, accepted or
rejected, an objection is decided, and when a task is first found overdue. The default notifier
only logs. A deployment that delivers messages installs its own with :func:`set_notifier`, e.g.
at start-up::

    from backend.rectification import notify

    class SmsNotifier:
        async def send(self, event: notify.Notification) -> None:
            ...  # hand it to a queue; don't block the request

    notify.set_notifier(SmsNotifier())

A notifier is called after the change has committed, except when a notice is issued on an
inspection's submission: there it is called last inside the submission's transaction (which
commits right after). A notifier must therefore be quick, must not write to the database through
this process's transaction, and should queue delivery rather than perform it. Whatever it
raises is logged and swallowed: a failed message never undoes or fails the change itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notification:
    """Something people should hear about.

    Attributes:
        kind: ``notice.issued``, ``task.answered``, ``task.accepted``, ``task.rejected``,
            ``objection.decided``, ``task.overdue`` or ``task.reopened``.
        institution_id: the institution concerned (its manager is told about everything).
        notice_id: the notice concerned.
        notice_number: its number, when it has one.
        task_id: the task concerned, if any.
        audience: who should hear: ``manager`` (the institution's), ``reviewers`` (the
            region's inspectors and supervisors) or both.
        message: a short Chinese sentence for people.
        data: further details for the notifier.
    """

    kind: str
    institution_id: UUID
    notice_id: UUID
    notice_number: str | None
    audience: tuple[str, ...]
    message: str
    task_id: UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """What a notifier implements."""

    async def send(self, event: Notification) -> None:
        """Deliver (or queue) one notification."""
        ...


class LoggingNotifier:
    """The default: one log line per notification, nothing sent."""

    async def send(self, event: Notification) -> None:
        _log.info(
            "notification %s to %s: %s (notice %s, task %s)",
            event.kind,
            "/".join(event.audience),
            event.message,
            event.notice_number or event.notice_id,
            event.task_id,
        )


_notifier: Notifier = LoggingNotifier()


def set_notifier(notifier: Notifier) -> Notifier:
    """Install a notifier; returns the previous one (tests put it back)."""
    global _notifier
    previous, _notifier = _notifier, notifier
    return previous


def get_notifier() -> Notifier:
    """The installed notifier."""
    return _notifier


async def notify(event: Notification) -> None:
    """Hand one notification to the installed notifier; its failures are logged, not raised."""
    try:
        await _notifier.send(event)
    except Exception:  # noqa: BLE001 - a message must never fail the change it reports
        _log.exception("notifier failed for %s (notice %s)", event.kind, event.notice_id)
