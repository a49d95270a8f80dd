"""Saved-reply rules: who manages them, and what a valid reply is."""

from __future__ import annotations

import pytest

from supportdesk.core.auth import Role
from supportdesk.saved_replies.rules import (
    BODY_LENGTH,
    can_manage,
    check_body,
    check_can_manage,
    check_reply,
    check_shortcut,
    check_title,
)

from ._builders import agent, raises_domain_error

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ((Role.SUPERVISOR,), True),
        ((Role.ADMIN,), True),
        ((Role.CUSTOMER_SUPPORT, Role.SUPERVISOR), True),
        ((Role.CUSTOMER_SUPPORT,), False),
        ((Role.TECHNICAL_SUPPORT,), False),
        ((Role.PRODUCT,), False),
    ],
)
def test_only_supervisors_and_admins_manage_replies(roles: tuple[Role, ...], allowed: bool) -> None:
    assert can_manage(agent(1, *roles)) is allowed


def test_check_can_manage_refuses_with_403() -> None:
    with raises_domain_error("forbidden", 403):
        check_can_manage(agent(1, Role.CUSTOMER_SUPPORT))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("password", "password"),
        ("/Password", "password"),
        ("  /no-phone ", "no-phone"),
        ("describe_problem2", "describe_problem2"),
        ("9", "9"),
        ("a" * 40, "a" * 40),
    ],
)
def test_shortcuts_are_normalised(typed: str, stored: str) -> None:
    assert check_shortcut(typed) == stored


@pytest.mark.parametrize(
    "typed", ["", "/", "two words", "-dash-first", "_x", "パスワード", "a.b", "a" * 41, "//x"]
)
def test_bad_shortcuts_are_refused(typed: str) -> None:
    with raises_domain_error("saved_reply_shortcut_invalid", 422) as caught:
        check_shortcut(typed)
    assert caught.value.params == {"limit": 40}


def test_titles_are_trimmed_and_bounded() -> None:
    assert check_title("  Refund \n policy ") == "Refund policy"
    assert check_title("t" * 120) == "t" * 120
    with raises_domain_error("saved_reply_title_empty", 422):
        check_title(" \t ")
    with raises_domain_error("saved_reply_title_too_long", 422):
        check_title("t" * 121)


def test_bodies_keep_their_lines_and_are_bounded() -> None:
    assert check_body("\n Line one\n\nLine two \n") == "Line one\n\nLine two"
    assert check_body("x" * BODY_LENGTH) == "x" * BODY_LENGTH
    with raises_domain_error("saved_reply_body_empty", 422):
        check_body(" \n ")
    with raises_domain_error("saved_reply_body_too_long", 422) as caught:
        check_body("x" * (BODY_LENGTH + 1))
    assert caught.value.params == {"length": BODY_LENGTH + 1, "limit": BODY_LENGTH}
    with raises_domain_error("saved_reply_body_too_long", 422):
        check_body("x" * 11, limit=10)


def test_check_reply_returns_the_normalised_draft() -> None:
    draft = check_reply("/Refund", " Refunds ", " Within 5 days. ", "ja")
    assert (draft.shortcut, draft.title, draft.body, draft.locale) == (
        "refund",
        "Refunds",
        "Within 5 days.",
        "ja",
    )
