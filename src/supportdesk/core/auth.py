"""Who is calling: the two kinds of principal, and the staff roles and support tiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from supportdesk.core.i18n import Locale


class Role(StrEnum):
    CUSTOMER_SUPPORT = "customer_support"
    TECHNICAL_SUPPORT = "technical_support"
    PRODUCT = "product"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Tier(StrEnum):
    """Support tiers. Every conversation starts at ``CUSTOMER_SUPPORT`` (tier 1)."""

    CUSTOMER_SUPPORT = "customer_support"
    TECHNICAL_SUPPORT = "technical_support"

    @property
    def number(self) -> int:
        return 1 if self is Tier.CUSTOMER_SUPPORT else 2


# The role that works a tier's queue has the tier's name.
TIER_ROLE = {
    Tier.CUSTOMER_SUPPORT: Role.CUSTOMER_SUPPORT,
    Tier.TECHNICAL_SUPPORT: Role.TECHNICAL_SUPPORT,
}


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    """A host-product user, proven by a verified identity token."""

    user_id: int
    portal_id: int
    external_user_id: str
    external_portal_id: str
    role: str  # "admin" | "user" in the portal
    plan_code: str
    plan_commercial: bool
    name: str
    locale: Locale

    @property
    def is_portal_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class AgentPrincipal:
    """A staff member, proven by a login session."""

    agent_id: int
    name: str
    email: str
    roles: frozenset[Role]
    languages: tuple[str, ...]
    locale: Locale
    session_id: int | None = None
    csrf_token: str | None = field(default=None, repr=False)

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_supervisor(self) -> bool:
        return self.has(Role.SUPERVISOR, Role.ADMIN)

    @property
    def tiers(self) -> frozenset[Tier]:
        return frozenset(tier for tier, role in TIER_ROLE.items() if role in self.roles)


Principal = CustomerPrincipal | AgentPrincipal
