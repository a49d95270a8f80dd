from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from supportdesk.deps import AgentDep, SupervisorDep, SvcDep
from supportdesk.saved_replies import actions, queries

router = APIRouter(prefix="/api/v1/saved-replies", tags=["saved replies"])

# Lengths are checked by the rules, with their own error codes; this cap only stops
# absurd bodies before they are parsed further.
HARD_CAP = 1_000_000


class SavedReplyIn(BaseModel):
    shortcut: str = Field(max_length=HARD_CAP)
    title: str = Field(max_length=HARD_CAP)
    body: str = Field(max_length=HARD_CAP)
    locale: Literal["ja", "en"]


class SavedReplyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    body: str
    locale: str
    created_by: int | None
    updated_by: int | None
    created_at: datetime
    updated_at: datetime


@router.get("")
async def search(
    _: AgentDep,
    svc: SvcDep,
    q: str = Query(default="", max_length=200),
    locale: Literal["ja", "en"] | None = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[SavedReplyPublic]:
    """Replies whose shortcut, title or body contains ``q`` (any agent: the composer's
    ``/`` picker); the replies whose shortcut starts with ``q`` come first."""
    async with svc.db.read() as session:
        replies = await queries.search_saved_replies(session, q, locale, limit)
    return [SavedReplyPublic.model_validate(reply) for reply in replies]


@router.post("", status_code=201)
async def create(body: SavedReplyIn, supervisor: SupervisorDep, svc: SvcDep) -> SavedReplyPublic:
    reply = await actions.do_create_saved_reply(
        svc, supervisor, body.shortcut, body.title, body.body, body.locale
    )
    return SavedReplyPublic.model_validate(reply)


@router.put("/{reply_id}")
async def update(
    reply_id: int, body: SavedReplyIn, supervisor: SupervisorDep, svc: SvcDep
) -> SavedReplyPublic:
    reply = await actions.do_update_saved_reply(
        svc, supervisor, reply_id, body.shortcut, body.title, body.body, body.locale
    )
    return SavedReplyPublic.model_validate(reply)


@router.delete("/{reply_id}", status_code=204)
async def delete(reply_id: int, supervisor: SupervisorDep, svc: SvcDep) -> None:
    await actions.do_delete_saved_reply(svc, supervisor, reply_id)
