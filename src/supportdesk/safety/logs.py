"""Keep customer secrets out of the server's transport logs.

Customer text is redacted where it enters the service (``conversations.actions``), so
everything the service itself stores, publishes or logs is already clean. Two things
see the raw text before that point and can log it: the WebSocket protocol, which logs
every frame it receives and sends when ``uvicorn.error`` is at DEBUG ("< TEXT '{…}'"),
and uvicorn's own lines (a socket's URL carries its identity token). This filter drops
the payload of frame records and redacts whatever else those loggers write.
"""

from __future__ import annotations

import logging

from websockets.frames import Frame

from supportdesk.safety.redaction import redact

# The loggers that write records before the service has redacted anything. (A filter
# applies to records created by its own logger, not to those of child loggers.)
TRANSPORT_LOGGERS = ("uvicorn.error", "uvicorn.access", "websockets.server")


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, Frame) for arg in args):
            record.args = tuple(
                f"{arg.opcode.name} [{len(arg.data)} bytes]" if isinstance(arg, Frame) else arg
                for arg in args
            )
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem to report
            return True
        cleaned = redact(message)
        if cleaned.kinds:
            record.msg, record.args = cleaned.text, None
        return True


def install_log_redaction() -> None:
    """Add the filter to the transport loggers (once; safe to call for every app)."""
    for name in TRANSPORT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
