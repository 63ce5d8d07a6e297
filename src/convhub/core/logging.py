"""structlog set-up: JSON lines when not on a terminal, readable lines when on one."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    tail: list[structlog.typing.Processor]
    if sys.stderr.isatty():
        # Plain tracebacks: rich's pretty ones render every local variable, which takes seconds
        # for an application object and would hold up the error response.
        tail = [structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)]
    else:
        tail = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *tail,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def settle() -> None:
    """Call once a long-running process (``convhub serve``, ``convhub worker``) has configured
    logging for good: each logger is then built once, at its first use, instead of at every
    call (the request log line alone rebuilt one per request). Not for the application object,
    which tests build again and again with other levels."""
    structlog.configure(cache_logger_on_first_use=True)
