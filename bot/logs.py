"""Logging: text or JSON lines, with secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from bot.core.sanitize import redact_known_secrets

_CONTEXT_FIELDS = ("delivery_id", "job_id", "task_id", "installation_id", "repository")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the configured secret values, then every token, key and credential pattern
    `redact_secrets` knows: the scrubbing `bot.core.publish.publishable` applies to all the
    App publishes too, so logs and comments never drift apart."""
    return redact_known_secrets(text, secrets)


class ScrubFilter(logging.Filter):
    """Scrubs message, arguments and exception text of every record a handler emits."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, self.secrets)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted here, scrubbed, and exc_info dropped: formatters then print exc_text
            # as is and can never render the raw exception (whose text may hold a token).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the job's context (delivery, job, task, installation,
    repository) given as `extra=` becomes top-level keys so log stores can filter on them."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info and not record.exc_text:  # a handler without ScrubFilter
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, default=str)


def configure_logging(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ScrubFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
