"""Triage over HTTP: classify a text before it is sent, and read a conversation's triage."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from supportdesk.deps import AgentDep, PrincipalDep, SvcDep
from supportdesk.triage import actions, queries

router = APIRouter(prefix="/api/v1", tags=["triage"])

# The rules check the length (1..4000 after trimming) with their own error code; this cap
# only stops absurd bodies before they are parsed further.
HARD_CAP = 100_000


class TriageIn(BaseModel):
    text: str = Field(max_length=HARD_CAP)
    locale: Literal["ja", "en"] | None = None


class ReasonOut(BaseModel):
    en: str
    ja: str


class AppOut(BaseModel):
    code: str
    name: str
    name_ja: str
    vendor: str
    support_url: str
    support_email: str
    support_tab_url: str
    installed: bool


class TriageOut(BaseModel):
    category: Literal[
        "technical_problem", "how_to", "out_of_scope", "marketplace_app", "feature_request"
    ]
    subtype: Literal["customization", "workflow_design", "app_development", "rest_api"] | None
    quality: Literal["specific", "vague"] | None
    missing: list[
        Literal[
            "which_object", "which_action", "expected_vs_actual", "when", "error_text", "screenshot"
        ]
    ]
    confidence: float
    reasons: list[ReasonOut]
    app: AppOut | None
    specialization: str | None


class ConversationTriageOut(BaseModel):
    triage: TriageOut | None


@router.post("/triage")
async def triage(body: TriageIn, principal: PrincipalDep, svc: SvcDep) -> TriageOut:
    """What kind of request the text is, how specific, what it lacks, and why. Customers
    call it before sending (their portal's installed apps are matched first); staff too."""
    result = await actions.triage_text(svc, principal, body.text, body.locale)
    return TriageOut.model_validate(result.as_dict())


@router.get("/conversations/{conversation_id}/triage")
async def conversation_triage(
    conversation_id: int, agent: AgentDep, svc: SvcDep
) -> ConversationTriageOut:
    """The triage computed when the conversation was opened (staff who may view it)."""
    async with svc.db.read() as session:
        kept = await queries.conversation_triage(session, agent, conversation_id)
    return ConversationTriageOut(triage=TriageOut.model_validate(kept) if kept else None)
