"""Domain errors: a stable machine code, an HTTP status and bilingual text.

Every refusal in the service is a ``DomainError``. The HTTP layer renders it as
``{"error": {"code", "message", ...}}`` in the caller's locale; the WebSocket gateway
renders the same code and text as an ``error`` frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supportdesk.core.i18n import MESSAGES, Locale, translate


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        status: int,
        *,
        params: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if code not in MESSAGES:
            raise ValueError(f"error code {code!r} has no message in core/i18n.py")
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = dict(params or {})
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def message(self, locale: Locale) -> str:
        return translate(self.code, locale, self.params)

    def body(self, locale: Locale) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message(locale), **self.extra}}


def not_found() -> DomainError:
    """The same answer whether the row is missing or belongs to someone else."""
    return DomainError("not_found", 404)


def forbidden(code: str = "forbidden") -> DomainError:
    return DomainError(code, 403)


def invalid(code: str, **params: Any) -> DomainError:
    return DomainError(code, 422, params=params)


def conflict(code: str, **params: Any) -> DomainError:
    return DomainError(code, 409, params=params)
