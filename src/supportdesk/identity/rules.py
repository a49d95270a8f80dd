"""Who may open a support chat. Pure decisions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from supportdesk.core.auth import CustomerPrincipal

DEFAULT_PLANS: tuple[tuple[str, str, str, bool], ...] = (
    # code, English name, Japanese name, commercial
    ("free", "Free", "フリー", False),
    ("basic", "Basic", "ベーシック", True),
    ("standard", "Standard", "スタンダード", True),
    ("professional", "Professional", "プロフェッショナル", True),
    ("enterprise", "Enterprise", "エンタープライズ", True),
)


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    reason: str | None  # the refusal's error code when not eligible


def eligibility(customer: CustomerPrincipal) -> Eligibility:
    """A chat needs a commercial plan *and* the portal's admin role; the plan is checked first,
    because an admin on a free plan can act on it (upgrade) while a non-admin cannot."""
    if not customer.plan_commercial:
        return Eligibility(False, "support_requires_commercial_plan")
    if not customer.is_portal_admin:
        return Eligibility(False, "support_requires_portal_admin")
    return Eligibility(True, None)
