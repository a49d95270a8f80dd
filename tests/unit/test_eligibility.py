"""Who may open a support chat: a commercial plan *and* the portal's admin role."""

from __future__ import annotations

import pytest

from supportdesk.identity.rules import DEFAULT_PLANS, Eligibility, eligibility

from ._builders import customer

pytestmark = pytest.mark.unit


def test_admin_on_a_free_plan_is_told_to_upgrade() -> None:
    result = eligibility(customer(role="admin", plan_code="free", commercial=False))

    assert result == Eligibility(False, "support_requires_commercial_plan")


def test_non_admin_on_a_commercial_plan_is_sent_to_their_portal_admin() -> None:
    result = eligibility(customer(role="user", plan_code="standard", commercial=True))

    assert result == Eligibility(False, "support_requires_portal_admin")


def test_non_admin_on_a_free_plan_hears_about_the_plan_first() -> None:
    result = eligibility(customer(role="user", plan_code="free", commercial=False))

    assert not result.eligible
    assert result.reason == "support_requires_commercial_plan"


def test_admin_on_a_commercial_plan_may_open_a_chat() -> None:
    result = eligibility(customer(role="admin", plan_code="enterprise", commercial=True))

    assert result == Eligibility(True, None)


@pytest.mark.parametrize("role", ["Admin", "ADMIN", "owner", ""])
def test_only_the_exact_admin_role_counts_as_portal_admin(role: str) -> None:
    result = eligibility(customer(role=role, commercial=True))

    assert result.reason == "support_requires_portal_admin"


def test_default_plans_free_is_the_only_non_commercial_plan() -> None:
    commercial = {code: is_commercial for code, _en, _ja, is_commercial in DEFAULT_PLANS}

    assert commercial == {
        "free": False,
        "basic": True,
        "standard": True,
        "professional": True,
        "enterprise": True,
    }


def test_every_default_plan_has_an_english_and_a_japanese_name() -> None:
    for code, english, japanese, _commercial in DEFAULT_PLANS:
        assert english, code
        assert japanese, code
        assert english != japanese, code


@pytest.mark.parametrize(("code", "_en", "_ja", "is_commercial"), DEFAULT_PLANS)
def test_eligibility_of_a_portal_admin_on_each_default_plan(
    code: str, _en: str, _ja: str, is_commercial: bool
) -> None:
    result = eligibility(customer(role="admin", plan_code=code, commercial=is_commercial))

    assert result.eligible is is_commercial
    expected_reason = None if is_commercial else "support_requires_commercial_plan"
    assert result.reason == expected_reason
