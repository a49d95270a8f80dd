"""Every change to partners, referrals and leads, as ``do_*`` functions.

A referral card and its rotation update, and a lead with its chat confirmation and its
e-mail (an outbox job), are each written in one transaction: a lead never exists without
its mail, and a retried request never makes a second of either.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.conversations.models import Conversation, ItemKind
from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.conversations.rules import check_client_key, check_post
from supportdesk.conversations.timeline import (
    Draft,
    append_items,
    facts_of,
    item_events,
    participants_of,
)
from supportdesk.core.auth import AgentPrincipal, Principal
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict, invalid, not_found
from supportdesk.core.mail import Mail, check_address, enqueue_mail
from supportdesk.identity.models import Portal, PortalUser
from supportdesk.partners import queries, rules, texts
from supportdesk.partners.models import Lead, Partner, Referral, ReferralPartner
from supportdesk.realtime.events import ItemPublic
from supportdesk.services import Services

# --- the directory ---------------------------------------------------------------------


def _apply(partner: Partner, draft: rules.PartnerDraft) -> None:
    partner.name, partner.level = draft.name, draft.level
    partner.specializations = list(draft.specializations)
    partner.countries = list(draft.countries)
    partner.languages = list(draft.languages)
    partner.contact_url, partner.email = draft.contact_url, draft.email
    partner.description_en, partner.description_ja = draft.description_en, draft.description_ja
    partner.active = draft.active


def _new_partner(draft: rules.PartnerDraft) -> Partner:
    now = utcnow()
    partner = Partner(last_referred_at=None, created_at=now, updated_at=now)
    _apply(partner, draft)
    return partner


async def do_create_partner(
    svc: Services, agent: AgentPrincipal, draft: rules.PartnerDraft
) -> Partner:
    try:
        async with svc.db.write() as session:
            if await queries.partners_by_name(session, [draft.name]):
                raise conflict("partner_name_taken", name=draft.name)
            partner = _new_partner(draft)
            session.add(partner)
            await session.flush()
            audit.record(
                session,
                agent,
                "partner.created",
                subject_type="partner",
                subject_id=partner.id,
                name=partner.name,
            )
    except IntegrityError:
        raise conflict("partner_name_taken", name=draft.name) from None
    return partner


async def do_update_partner(
    svc: Services, agent: AgentPrincipal, partner_id: int, draft: rules.PartnerDraft
) -> Partner:
    try:
        async with svc.db.write() as session:
            partner = await queries.access_partner_by_id(session, partner_id)
            if draft.name != partner.name and await queries.partners_by_name(session, [draft.name]):
                raise conflict("partner_name_taken", name=draft.name)
            before = queries.draft_of(partner)
            if rules.changed(before, draft):
                _apply(partner, draft)
                partner.updated_at = utcnow()
                audit.record(
                    session,
                    agent,
                    "partner.updated",
                    subject_type="partner",
                    subject_id=partner.id,
                    changed=sorted(
                        name
                        for name in rules.PartnerDraft.__slots__
                        if getattr(before, name) != getattr(draft, name)
                    ),
                )
    except IntegrityError:
        raise conflict("partner_name_taken", name=draft.name) from None
    return partner


async def do_deactivate_partner(svc: Services, agent: AgentPrincipal, partner_id: int) -> Partner:
    """Partners are never deleted: old cards, leads and reports keep pointing at them."""
    async with svc.db.write() as session:
        partner = await queries.access_partner_by_id(session, partner_id)
        if partner.active:
            partner.active = False
            partner.updated_at = utcnow()
            audit.record(
                session,
                agent,
                "partner.deactivated",
                subject_type="partner",
                subject_id=partner.id,
            )
    return partner


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int


async def import_partners(
    svc: Services, drafts: Sequence[rules.PartnerDraft], agent: AgentPrincipal | None = None
) -> ImportReport:
    """Create or update partners matched by name, in one transaction (all or nothing). A
    row equal to the stored partner writes nothing, so importing a file twice is a no-op."""
    created = updated = unchanged = 0
    try:
        async with svc.db.write() as session:
            existing = await queries.partners_by_name(session, [d.name for d in drafts])
            now = utcnow()
            for draft in drafts:
                partner = existing.get(draft.name)
                if partner is None:
                    session.add(_new_partner(draft))
                    created += 1
                elif rules.changed(queries.draft_of(partner), draft):
                    _apply(partner, draft)
                    partner.updated_at = now
                    updated += 1
                else:
                    unchanged += 1
            if created or updated:
                audit.record(
                    session,
                    agent,
                    "partner.imported",
                    subject_type="partner",
                    subject_id=None,
                    created=created,
                    updated=updated,
                )
    except IntegrityError:
        # Another import created one of these names at the same moment: nothing was kept.
        raise conflict("partner_import_conflict") from None
    return ImportReport(created, updated, unchanged)


# --- referral cards ----------------------------------------------------------------------


def card_partner(partner: Partner) -> dict[str, Any]:
    return {
        "id": partner.id,
        "name": partner.name,
        "level": partner.level,
        "contact_url": partner.contact_url,
        "description": {"en": partner.description_en, "ja": partner.description_ja},
    }


async def _append_card(
    svc: Services,
    session: AsyncSession,
    agent: AgentPrincipal,
    conv: Conversation,
    referral: Referral,
    data: dict[str, Any],
) -> ItemPublic:
    session.add(referral)
    await session.flush()
    items = await append_items(
        session,
        conv,
        [Draft(ItemKind.CARD, agent, data={**data, "referral_id": referral.id})],
        referral.created_at,
    )
    referral.item_seq = items[0].seq
    return items[0]


async def do_refer_partner(
    svc: Services,
    agent: AgentPrincipal,
    conversation_id: int,
    specialization: str,
    *,
    country: str | None = None,
    language: str | None = None,
) -> ItemPublic:
    """A ``partner_referral`` card with the best partners for the customer: the
    specialisation, then the conversation's language (or ``language``), ``country``,
    certification, and fair rotation among equals."""
    specialization = rules.check_specialization(specialization)
    country = rules.check_filter_country(country)
    language = rules.check_filter_language(language)
    now = utcnow()
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id, lock=True)
        # The same rule as an agent's message (and an article card).
        check_post(agent, facts, internal=False)
        candidates = await queries.matching_candidates(
            session, specialization, lock=not svc.db.is_sqlite
        )
        by_id = {p.id: p for p in candidates}
        chosen = rules.rank_partners(
            [queries.candidate_of(p) for p in candidates],
            specialization,
            language or conv.locale,
            country,
        )
        if not chosen:
            raise conflict("partner_none_match", specialization=specialization)
        partners = [by_id[c.id] for c in chosen]
        referral = Referral(
            conversation_id=conv.id,
            kind="partner",
            specialization=specialization,
            app_code=None,
            agent_id=agent.agent_id,
            item_seq=0,
            created_at=now,
        )
        item = await _append_card(
            svc,
            session,
            agent,
            conv,
            referral,
            {
                "card": "partner_referral",
                "specialization": specialization,
                "partners": [card_partner(p) for p in partners],
                "policy": dict(texts.PARTNER_POLICY),
            },
        )
        session.add_all(
            ReferralPartner(referral_id=referral.id, partner_id=p.id, position=index)
            for index, p in enumerate(partners)
        )
        # The rotation: these partners go to the back of their tie group, in card order.
        for partner_id, stamp in rules.referral_stamps(chosen, now).items():
            await session.execute(
                update(Partner)
                .where(Partner.id == partner_id)
                .values(last_referred_at=stamp)
                .execution_options(synchronize_session=False)
            )
        audit.record(
            session,
            agent,
            "partner.referred",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
            referral_id=referral.id,
            specialization=specialization,
            partner_ids=[p.id for p in partners],
        )
        facts = facts_of(conv, facts.participant_ids)
    await svc.bus.publish(item_events(facts, [item]))
    return item


def app_card(app: Any, locale: str) -> dict[str, Any]:
    names = {"en": app.name_en, "ja": app.name_ja or app.name_en}
    return {
        "code": app.code,
        "name": texts.pick(names, locale),
        "names": names,
        "vendor": app.vendor,
        "support_url": app.support_url,
        "support_email": app.support_email,
        "support_tab_url": app.support_tab_url,
    }


async def do_refer_vendor(
    svc: Services, agent: AgentPrincipal, conversation_id: int, app_code: str
) -> ItemPublic:
    """A ``vendor_referral`` card: the marketplace app's developer and their contacts."""
    from supportdesk.triage.queries import get_app

    now = utcnow()
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id, lock=True)
        check_post(agent, facts, internal=False)
        app = await get_app(session, app_code.strip()) if app_code.strip() else None
        if app is None or not getattr(app, "active", True):
            raise invalid("referral_app_unknown", app=app_code[:100])
        card = app_card(app, conv.locale)
        policy = {
            locale: text.format(app=card["names"][locale], vendor=app.vendor)
            for locale, text in texts.VENDOR_POLICY.items()
        }
        referral = Referral(
            conversation_id=conv.id,
            kind="vendor",
            specialization=None,
            app_code=app.code,
            agent_id=agent.agent_id,
            item_seq=0,
            created_at=now,
        )
        item = await _append_card(
            svc,
            session,
            agent,
            conv,
            referral,
            {"card": "vendor_referral", "app": card, "policy": policy},
        )
        audit.record(
            session,
            agent,
            "vendor.referred",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
            referral_id=referral.id,
            app_code=app.code,
        )
        facts = facts_of(conv, facts.participant_ids)
    await svc.bus.publish(item_events(facts, [item]))
    return item


# --- leads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadResult:
    lead_id: int
    partner: Partner
    created: bool
    item: ItemPublic | None


async def _lead_mail(
    session: AsyncSession,
    lead: Lead,
    partner: Partner,
    conv: Conversation,
    referral: Referral,
    customer: Principal,
) -> Mail:
    user = await session.get(PortalUser, conv.customer_id)
    portal = await session.get(Portal, conv.portal_id)
    locale = lead.locale
    customer_name = (user.name if user else "") or getattr(customer, "name", "") or "-"
    email = (user.email if user else "") or ""
    summary = rules.summary_of(conv.subject, await queries.customer_messages(session, conv.id))
    specialization = referral.specialization or ""
    fields = {
        "partner": partner.name,
        "customer": customer_name,
        "email": email or texts.pick(texts.NO_EMAIL, locale),
        "portal": portal.external_id if portal else str(conv.portal_id),
        "language": texts.pick(
            texts.LANGUAGE_NAMES.get(conv.locale, {"en": conv.locale, "ja": conv.locale}), locale
        ),
        "specialization": texts.pick(
            texts.SPECIALIZATION_NAMES.get(
                specialization, {"en": specialization, "ja": specialization}
            ),
            locale,
        ),
        "summary": summary,
        "lead_id": lead.id,
    }
    reply_to: str | None = None
    if email:
        # The host product's address, if it is one plain address; else no Reply-To.
        with contextlib.suppress(ValueError):
            reply_to = check_address(email)
    return Mail(
        to=partner.email,
        subject=texts.pick(texts.LEAD_MAIL_SUBJECT, locale).format(**fields),
        body=texts.pick(texts.LEAD_MAIL_BODY, locale).format(**fields),
        message_key=f"lead-{lead.id}",
        reply_to=reply_to,
        locale=locale,
    )


async def do_create_lead(
    svc: Services, principal: Principal, referral_id: int, partner_id: int, client_key: str
) -> LeadResult:
    """The customer of the conversation asks a partner from the card. Exactly one lead
    per (referral, partner): a retry, or a second click racing the first, answers with
    the lead that exists (``created`` false) and writes nothing."""
    check_client_key(client_key)
    for attempt in range(2):
        try:
            return await _create_lead(svc, principal, referral_id, partner_id, client_key)
        except IntegrityError:
            # A concurrent request inserted the lead first; the next attempt finds it.
            if attempt:
                raise
    raise not_found()  # pragma: no cover - the loop always returns or raises


async def _create_lead(
    svc: Services, principal: Principal, referral_id: int, partner_id: int, client_key: str
) -> LeadResult:
    now = utcnow()
    async with svc.db.write() as session:
        # The conversation's row lock serialises two clicks: the second waits, then
        # finds the first one's lead.
        referral, conv = await queries.access_referral_by_id(
            session, principal, referral_id, lock=True
        )
        if referral.kind != "partner" or not await queries.offered(
            session, referral.id, partner_id
        ):
            raise invalid("lead_partner_not_offered")
        partner = await queries.access_partner_by_id(session, partner_id)
        lead = await queries.existing_lead(session, referral.id, partner.id)
        if lead is not None:
            return LeadResult(lead.id, partner, False, None)
        if not partner.active:
            raise DomainError("partner_inactive", 409, params={"name": partner.name})
        lead = Lead(
            referral_id=referral.id,
            partner_id=partner.id,
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            client_key=client_key,
            locale=rules.mail_locale(partner.languages, conv.locale),
            created_at=now,
        )
        session.add(lead)
        await session.flush()
        enqueue_mail(session, await _lead_mail(session, lead, partner, conv, referral, principal))
        customer_locale = getattr(principal, "locale", conv.locale)
        message = {
            locale: text.format(partner=partner.name)
            for locale, text in texts.LEAD_CONFIRMATION.items()
        }
        items = await append_items(
            session,
            conv,
            [
                Draft(
                    ItemKind.CARD,
                    None,
                    body=texts.pick(message, customer_locale),
                    data={
                        "card": "lead_confirmation",
                        "referral_id": referral.id,
                        "lead_id": lead.id,
                        "partner": {"id": partner.id, "name": partner.name},
                        "locale": customer_locale,
                        "message": message,
                    },
                )
            ],
            now,
        )
        audit.record(
            session,
            principal,
            "partner.lead_created",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
            referral_id=referral.id,
            partner_id=partner.id,
            lead_id=lead.id,
        )
        participants = await participants_of(session, [conv.id])
        facts = facts_of(conv, participants.get(conv.id, []))
    await svc.bus.publish(item_events(facts, items))
    return LeadResult(lead.id, partner, True, items[0])
