"""Log output: plain text (uvicorn's default) or one JSON object per line.

``SUPPORTDESK_LOG_FORMAT=json`` makes every record, ours and uvicorn's, a line such as
``{"time": "...", "level": "INFO", "logger": "uvicorn.access", "message": "...",
"request_id": "..."}``, which log shippers read without parsing patterns. The request id
comes from the ``X-Request-ID`` header when a proxy set a sane one, else it is made
here; it is returned on the response and put on every record logged while the request
is handled (ops/middleware.py sets it).

Redaction stays in force: the filters of safety/logs.py rewrite a record's message
before any handler formats it, and this formatter only reads ``getMessage()``. The text
of a logged exception is redacted here as well, since a traceback can quote input.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from supportdesk.config import Settings
from supportdesk.safety.redaction import redact

request_id_var: ContextVar[str | None] = ContextVar("supportdesk_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info)).text
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text).text
        return orjson.dumps(entry, default=str).decode()


def logging_config(settings: Settings) -> dict[str, Any] | None:
    """The ``logging.config.dictConfig`` for the format chosen; ``None`` for text, which
    leaves uvicorn's own configuration in place."""
    if settings.log_format != "json":
        return None
    level = settings.log_level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["default"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {"uvicorn": quiet, "uvicorn.error": {"level": level}, "uvicorn.access": quiet},
    }


def configure_logging(settings: Settings) -> None:
    """For processes that are not uvicorn (the worker): the chosen format at the chosen
    level on the root logger."""
    config = logging_config(settings)
    if config is None:
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
    else:
        logging.config.dictConfig(config)
