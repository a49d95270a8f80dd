"""Staff rules: login throttling, role parsing and password policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.core.auth import Role
from supportdesk.staff.rules import (
    MIN_PASSWORD_LENGTH,
    check_password,
    login_retry_after,
    parse_roles,
    too_many_attempts,
)

from ._builders import raises_domain_error

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
LIMIT = 5


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


# --- login throttling -------------------------------------------------------------


def test_no_failures_allows_login() -> None:
    assert login_retry_after([], NOW, LIMIT, WINDOW) is None


def test_failures_below_the_limit_allow_login() -> None:
    assert login_retry_after(minutes_ago(1, 2, 3, 4), NOW, LIMIT, WINDOW) is None


def test_failures_at_the_limit_block_until_the_oldest_one_leaves_the_window() -> None:
    retry = login_retry_after(minutes_ago(1, 2, 3, 4, 5), NOW, LIMIT, WINDOW)

    # The failure 5 minutes ago leaves the 15-minute window in 10 minutes.
    assert retry is not None
    assert retry > 0
    assert 10 * 60 <= retry <= 10 * 60 + 1


def test_with_more_failures_than_the_limit_the_block_lasts_until_below_the_limit() -> None:
    # Six failures: once the one 10 minutes ago expires, the one 8 minutes ago still
    # keeps five in the window; the block ends when that one leaves, in 7 minutes.
    retry = login_retry_after(minutes_ago(1, 2, 4, 6, 8, 10), NOW, LIMIT, WINDOW)

    assert retry is not None
    assert 7 * 60 <= retry <= 7 * 60 + 1


def test_failures_outside_the_window_are_ignored() -> None:
    old = minutes_ago(16, 20, 30, 60, 120)

    assert login_retry_after([*old, *minutes_ago(1, 2)], NOW, LIMIT, WINDOW) is None


def test_failure_exactly_one_window_ago_no_longer_counts() -> None:
    failures = [NOW - WINDOW, *minutes_ago(1, 2, 3, 4)]

    assert login_retry_after(failures, NOW, LIMIT, WINDOW) is None


def test_order_of_failures_does_not_matter() -> None:
    failures = minutes_ago(3, 1, 5, 2, 4)

    assert login_retry_after(failures, NOW, LIMIT, WINDOW) == login_retry_after(
        sorted(failures), NOW, LIMIT, WINDOW
    )


def test_retry_after_is_at_least_one_second() -> None:
    failures = [NOW - WINDOW + timedelta(milliseconds=1)] * LIMIT

    assert login_retry_after(failures, NOW, LIMIT, WINDOW) == 1


def test_limit_of_one_blocks_after_a_single_failure() -> None:
    assert login_retry_after(minutes_ago(1), NOW, 1, WINDOW) is not None


def test_too_many_attempts_carries_retry_after() -> None:
    error = too_many_attempts(42)

    assert (error.code, error.status) == ("too_many_login_attempts", 429)
    assert error.headers == {"Retry-After": "42"}
    assert "42" in error.message("en")
    assert "42" in error.message("ja")


# --- roles ------------------------------------------------------------------------


def test_parse_roles_accepts_known_roles() -> None:
    assert parse_roles(["supervisor", "customer_support"]) == [
        Role.CUSTOMER_SUPPORT,
        Role.SUPERVISOR,
    ]


def test_parse_roles_removes_duplicates() -> None:
    assert parse_roles(["product", "product", " product "]) == [Role.PRODUCT]


def test_parse_roles_returns_every_role_once_in_a_stable_order() -> None:
    values = [role.value for role in Role]

    assert parse_roles(values) == parse_roles(list(reversed(values)))
    assert set(parse_roles(values)) == set(Role)


@pytest.mark.parametrize("value", ["root", "Supervisor", "tier3"])
def test_parse_roles_refuses_an_unknown_role(value: str) -> None:
    with raises_domain_error("invalid_role", 422) as caught:
        parse_roles(["product", value])
    assert caught.value.params == {"role": value}


def test_parse_roles_refuses_an_empty_list() -> None:
    with raises_domain_error("invalid_role", 422):
        parse_roles([])


# --- passwords --------------------------------------------------------------------


def test_short_password_is_refused() -> None:
    with raises_domain_error("password_too_short", 422) as caught:
        check_password("a" * (MIN_PASSWORD_LENGTH - 1))
    assert str(MIN_PASSWORD_LENGTH) in caught.value.message("en")


def test_password_of_the_minimum_length_is_accepted() -> None:
    check_password("a" * MIN_PASSWORD_LENGTH)


def test_minimum_password_length_is_at_least_ten() -> None:
    assert MIN_PASSWORD_LENGTH >= 10
    with raises_domain_error("password_too_short", 422):
        check_password("123456789")
