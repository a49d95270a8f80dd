"""Pure decisions about staff: roles, passwords, login throttling."""

from __future__ import annotations

from datetime import datetime, timedelta

from supportdesk.core.auth import Role
from supportdesk.core.errors import DomainError, invalid

MIN_PASSWORD_LENGTH = 10


def parse_roles(values: list[str]) -> list[Role]:
    roles: list[Role] = []
    for value in values:
        try:
            roles.append(Role(value.strip()))
        except ValueError:
            raise invalid("invalid_role", role=value) from None
    if not roles:
        raise invalid("invalid_role", role="")
    return sorted(set(roles))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid("password_too_short", min=MIN_PASSWORD_LENGTH)


def login_retry_after(
    failures: list[datetime], now: datetime, max_failures: int, window: timedelta
) -> int | None:
    """Seconds until the next attempt is allowed, or ``None`` when it is allowed now.

    ``failures`` are the recent failed attempts for one email address.
    """
    recent = sorted(at for at in failures if now - at < window)
    if len(recent) < max_failures:
        return None
    # The window frees up when the oldest failure that keeps us at the limit expires.
    unblock_at = recent[-max_failures] + window
    return max(1, int((unblock_at - now).total_seconds()) + 1)


def too_many_attempts(retry_after: int) -> DomainError:
    return DomainError(
        "too_many_login_attempts",
        429,
        params={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )
