from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from supportdesk.conversations.actions import ineligible_error
from supportdesk.core.auth import AgentPrincipal
from supportdesk.deps import CustomerDep, PrincipalDep, SvcDep
from supportdesk.identity.rules import eligibility

router = APIRouter(prefix="/api/v1", tags=["identity"])


class EligibilityPublic(BaseModel):
    eligible: bool
    code: str | None = None
    message: str | None = None
    links: dict[str, str] | None = None
    plan: str
    role: str


@router.get("/me")
async def me(principal: PrincipalDep) -> dict[str, object]:
    if isinstance(principal, AgentPrincipal):
        return {
            "type": "agent",
            "id": principal.agent_id,
            "name": principal.name,
            "email": principal.email,
            "roles": sorted(principal.roles),
            "tiers": sorted(principal.tiers),
            "locale": principal.locale,
        }
    return {
        "type": "customer",
        "id": principal.user_id,
        "name": principal.name,
        "portal_id": principal.portal_id,
        "portal": principal.external_portal_id,
        "role": principal.role,
        "plan": principal.plan_code,
        "locale": principal.locale,
    }


@router.get("/me/eligibility")
async def my_eligibility(customer: CustomerDep, svc: SvcDep) -> EligibilityPublic:
    """Tells the widget in advance whether to show the ask form or the explanation."""
    verdict = eligibility(customer)
    if verdict.eligible or verdict.reason is None:
        return EligibilityPublic(eligible=True, plan=customer.plan_code, role=customer.role)
    error = await ineligible_error(svc, customer, verdict.reason)
    return EligibilityPublic(
        eligible=False,
        code=error.code,
        message=error.message(customer.locale),
        links=error.extra["links"],
        plan=customer.plan_code,
        role=customer.role,
    )
