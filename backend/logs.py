"""Structured logging for the server and the CLI: key-value lines, or JSON lines in production."""

from __future__ import annotations

import logging
import sys

import structlog
from litestar.logging.config import StructLoggingConfig, default_structlog_processors
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin

from backend.settings import Settings


def _processors(settings: Settings) -> list:
    if settings.log_format == "json":
        return default_structlog_processors(as_json=True)
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.format_exc_info,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
    ]


def _logger_factory(settings: Settings) -> object:
    # JSON processors emit bytes, the console renderer emits text: each needs its own writer.
    if settings.log_format == "json":
        return structlog.BytesLoggerFactory(file=sys.stderr.buffer)
    return structlog.WriteLoggerFactory(file=sys.stderr)


def structlog_plugin(settings: Settings) -> StructlogPlugin:
    """The Litestar plugin that logs each request (never bodies: they may hold passwords)."""
    return StructlogPlugin(
        config=StructlogConfig(
            structlog_logging_config=StructLoggingConfig(
                processors=_processors(settings),
                wrapper_class=structlog.make_filtering_bound_logger(
                    logging.getLevelName(settings.log_level)
                ),
                logger_factory=_logger_factory(settings),
                # Refused requests (4xx) are answers, not failures: unexpected errors are logged
                # by the app's after_exception hook instead.
                log_exceptions="never",
                pretty_print_tty=False,
            ),
            middleware_logging_config=LoggingMiddlewareConfig(
                request_log_fields=("path", "method", "query"),
                response_log_fields=("status_code",),
            ),
        )
    )


def configure_cli_logging(settings: Settings) -> None:
    """Structured logs for CLI commands, to stderr so stdout stays machine-readable."""
    structlog.configure(
        processors=_processors(settings),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelName(settings.log_level)
        ),
        logger_factory=_logger_factory(settings),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A structured logger."""
    return structlog.get_logger(name)


async def log_unexpected_exception(exc: Exception, scope: object) -> None:
    """Log an exception that will become a 500, with its traceback; refusals (4xx) are not."""
    from litestar.exceptions import HTTPException

    from backend.errors import DomainError

    if isinstance(exc, DomainError) or (isinstance(exc, HTTPException) and exc.status_code < 500):
        return
    path = scope.get("path") if isinstance(scope, dict) else None
    get_logger("yibao").error("unexpected error", path=path, exc_info=exc)
