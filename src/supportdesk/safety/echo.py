"""Validation messages that never repeat what the client sent.

Pydantic puts some input into its messages (a wrong discriminator tag, a custom
validator's ``ValueError``). A 422 body or an ``error`` frame built from them could
then echo a secret back, and into any log that records responses. This keeps the
message and drops the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supportdesk.safety.redaction import redact

# Shorter inputs cannot be a secret, and replacing them would mangle the message.
_MIN_ECHO = 3


def validation_message(error: Mapping[str, Any]) -> str:
    """``error["msg"]`` without the offending input (and with secrets redacted)."""
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    # The input itself, or the part of it that pydantic quotes (a discriminator's tag).
    for value in (error.get("input"), context.get("tag")):
        if isinstance(value, str) and len(value) >= _MIN_ECHO and value in message:
            message = message.replace(value, "…")
    return redact(message).text
