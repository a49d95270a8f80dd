"""Triage writes and the calls that classify with what the database knows.

``classify`` itself is pure; these functions load the catalogue and the portal's installed
apps, run it, and keep the result (installed apps on the portal, triage on a new
conversation).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.core.auth import CustomerPrincipal, Principal
from supportdesk.core.clock import utcnow
from supportdesk.services import Services
from supportdesk.triage import queries, rules
from supportdesk.triage.classifier import TriageResult, classify
from supportdesk.triage.models import ConversationTriage, PortalApps

log = logging.getLogger(__name__)


async def record_installed_apps(
    session: AsyncSession, portal_id: int, codes: Sequence[str]
) -> None:
    """Keep the portal's installed apps as the host's ``apps`` claim lists them, inside the
    caller's transaction (the identity upsert). Audited when the list changes."""
    wanted = rules.check_installed_apps(codes)
    row = await session.get(PortalApps, portal_id)
    if row is not None and list(row.codes) == wanted:
        return
    before = list(row.codes) if row is not None else []
    if row is None:
        session.add(PortalApps(portal_id=portal_id, codes=wanted, updated_at=utcnow()))
    else:
        row.codes = wanted
        row.updated_at = utcnow()
    audit.record(
        session,
        None,
        "portal.apps_changed",
        subject_type="portal",
        subject_id=portal_id,
        portal_id=portal_id,
        before=before,
        after=wanted,
    )


async def triage_text(
    svc: Services, principal: Principal, text: str, locale: str | None
) -> TriageResult:
    """``POST /api/v1/triage``: a customer's installed apps are matched first; staff have
    none (the whole catalogue is still matched)."""
    text = rules.check_text(text)
    async with svc.db.read() as session:
        catalogue = await queries.active_catalogue(session)
        installed = (
            await queries.installed_apps(session, principal.portal_id)
            if isinstance(principal, CustomerPrincipal)
            else []
        )
    return classify(text, locale or principal.locale, installed, catalogue)


async def triage_new_conversation(
    svc: Services, customer: CustomerPrincipal, body: str
) -> dict[str, Any] | None:
    """The triage to keep on a conversation being opened. Never stops the conversation:
    on any failure it is logged and the conversation opens without one."""
    try:
        return (await triage_text(svc, customer, body[: rules.TEXT_MAX], customer.locale)).as_dict()
    except Exception:
        log.exception("triage of a new conversation failed")
        return None


def keep_triage(session: AsyncSession, conversation_id: int, result: dict[str, Any] | None) -> None:
    """Store the triage in the transaction that creates the conversation."""
    if result is not None:
        session.add(
            ConversationTriage(conversation_id=conversation_id, result=result, created_at=utcnow())
        )
