"""Small builders for principals and conversation facts, shared by the unit tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Role
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import Locale
from supportdesk.realtime.events import ConversationFacts

TIER1 = "customer_support"
TIER2 = "technical_support"


def customer(
    *,
    role: str = "admin",
    portal_id: int = 1,
    plan_code: str = "standard",
    commercial: bool = True,
    locale: Locale = "en",
    user_id: int = 100,
) -> CustomerPrincipal:
    return CustomerPrincipal(
        user_id=user_id,
        portal_id=portal_id,
        external_user_id=f"u-{user_id}",
        external_portal_id=f"p-{portal_id}",
        role=role,
        plan_code=plan_code,
        plan_commercial=commercial,
        name="Customer",
        locale=locale,
    )


def agent(agent_id: int = 10, *roles: Role, languages: tuple[str, ...] = ("en",)) -> AgentPrincipal:
    return AgentPrincipal(
        agent_id=agent_id,
        name=f"Agent {agent_id}",
        email=f"agent{agent_id}@example.com",
        roles=frozenset(roles or (Role.CUSTOMER_SUPPORT,)),
        languages=languages,
        locale="en",
    )


def conversation(
    *,
    portal_id: int = 1,
    tier: str = TIER1,
    state: str = "assigned",
    assigned_agent_id: int | None = None,
    participant_ids: list[int] | None = None,
    conversation_id: int = 500,
) -> ConversationFacts:
    return ConversationFacts(
        id=conversation_id,
        portal_id=portal_id,
        tier=tier,
        state=state,
        assigned_agent_id=assigned_agent_id,
        participant_ids=participant_ids or [],
    )


def clear_supportdesk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Settings`` reads ``SUPPORTDESK_*`` variables; a developer's shell must not leak in."""
    for name in list(os.environ):
        if name.upper().startswith("SUPPORTDESK_"):
            monkeypatch.delenv(name)


@contextmanager
def raises_domain_error(code: str, status: int) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """Like ``pytest.raises(DomainError)``, then check the error's code and HTTP status."""
    with pytest.raises(DomainError) as caught:
        yield caught
    assert (caught.value.code, caught.value.status) == (code, status)
