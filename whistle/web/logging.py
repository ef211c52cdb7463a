"""Logging that cannot identify a reporter.

No access log anywhere (gunicorn's is off, Werkzeug's request lines are silenced), and a filter
on every handler scrubs what slips through: IP addresses, query strings, ticket-shaped strings,
and whole records from loggers that only ever describe requests.
"""
from __future__ import annotations

import logging
import logging.config
import re
from pathlib import Path

IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# Deliberately broad: anything with >=2 colons between hex groups (also eats some timestamps'
# neighbours, never a loss worth a reporter's address).
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
QUERY = re.compile(r"\?[^\s\"']*")
TICKET = re.compile(r"\b(?:[0-9A-Za-z]{4}-){4}[0-9A-Za-z]{4,5}\b")
HEADER_NAMES = re.compile(r"(?i)\b(user-agent|referer|referrer|x-forwarded-for|x-real-ip|"
                          r"remote_addr|cookie)\b\s*[:=]\s*\S+")
DROP_LOGGERS = ("werkzeug", "gunicorn.access")


def scrub(text: str) -> str:
    text = HEADER_NAMES.sub(lambda m: m.group(1) + "=[redacted]", text)
    text = QUERY.sub("?[redacted]", text)
    text = TICKET.sub("[ticket]", text)
    text = IPV4.sub("[addr]", text)
    return IPV6.sub("[addr]", text)


class ScrubFilter(logging.Filter):
    """Attach to handlers (not loggers) so records propagated from any logger pass through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(DROP_LOGGERS) and record.levelno < logging.WARNING:
            return False  # request lines: method, path, query, client address
        message = scrub(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            # Keep the type; drop the message and frames, which may quote request content.
            record.msg = f"{message} [{type(record.exc_info[1]).__name__}]"
            record.exc_info = None
            record.exc_text = None
        record.stack_info = None
        return True


def configure_logging(log_dir: Path | None = None, level: str = "INFO") -> None:
    """Root logging to stderr, and to ``<log_dir>/whistle.log`` in serve mode."""
    handlers: dict[str, dict[str, object]] = {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                   "filters": ["scrub"]},
    }
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers["file"] = {
            "class": "logging.handlers.RotatingFileHandler", "formatter": "plain",
            "filters": ["scrub"], "filename": str(log_dir / "whistle.log"),
            "maxBytes": 10 * 1024 * 1024, "backupCount": 5, "encoding": "utf-8",
        }
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": ScrubFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": handlers,
        "root": {"level": level, "handlers": list(handlers)},
        "loggers": {
            "werkzeug": {"level": "WARNING"},
            "gunicorn.access": {"level": "CRITICAL", "propagate": False},
        },
    })
