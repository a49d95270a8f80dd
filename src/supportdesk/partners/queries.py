"""Reads of the partner directory, the permission-checked loaders, and the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.conversations.models import AuthorType, Conversation, ItemKind, TimelineItem
from supportdesk.core.auth import CustomerPrincipal, Principal
from supportdesk.core.errors import not_found
from supportdesk.partners import rules
from supportdesk.partners.models import Lead, Partner, Referral, ReferralPartner
from supportdesk.reports.rules import Window

PUBLIC_LIMIT = 100


def draft_of(partner: Partner) -> rules.PartnerDraft:
    return rules.PartnerDraft(
        name=partner.name,
        level=partner.level,
        specializations=tuple(partner.specializations),
        countries=tuple(partner.countries),
        languages=tuple(partner.languages),
        contact_url=partner.contact_url,
        email=partner.email,
        description_en=partner.description_en,
        description_ja=partner.description_ja,
        active=partner.active,
    )


def candidate_of(partner: Partner) -> rules.Candidate:
    return rules.Candidate(
        id=partner.id,
        level=partner.level,
        specializations=tuple(partner.specializations),
        languages=tuple(partner.languages),
        countries=tuple(partner.countries),
        last_referred_at=partner.last_referred_at,
        active=partner.active,
    )


async def all_partners(session: AsyncSession) -> list[Partner]:
    return list(await session.scalars(select(Partner).order_by(Partner.name, Partner.id)))


async def public_partners(
    session: AsyncSession,
    specialization: str | None,
    language: str | None,
    country: str | None,
) -> list[Partner]:
    """Active partners with every given filter, best certification first, then by name.
    The lists are JSON columns; the directory is small, so they are filtered here."""
    rows = await session.scalars(select(Partner).where(Partner.active.is_(True)))
    found = [
        p
        for p in rows
        if (specialization is None or specialization in p.specializations)
        and (language is None or language in p.languages)
        and (country is None or country in p.countries)
    ]
    found.sort(key=lambda p: (rules.level_rank(p.level), p.name.casefold(), p.id))
    return found[:PUBLIC_LIMIT]


async def access_partner_by_id(session: AsyncSession, partner_id: int) -> Partner:
    """For admin routes (the route's dependency has checked the role)."""
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise not_found()
    return partner


async def partners_by_name(session: AsyncSession, names: Sequence[str]) -> dict[str, Partner]:
    if not names:
        return {}
    rows = await session.scalars(select(Partner).where(Partner.name.in_(list(names))))
    return {p.name: p for p in rows}


async def matching_candidates(
    session: AsyncSession, specialization: str, *, lock: bool
) -> list[Partner]:
    """Active partners that may qualify. With ``lock`` (PostgreSQL) their rows are locked
    so two cards at once read and advance the rotation one after the other."""
    query = select(Partner).where(Partner.active.is_(True)).order_by(Partner.id)
    if lock:
        query = query.with_for_update()
    return [p for p in await session.scalars(query) if specialization in p.specializations]


async def access_referral_by_id(
    session: AsyncSession, principal: Principal, referral_id: int, *, lock: bool = False
) -> tuple[Referral, Conversation]:
    """A referral of a conversation whose customer is ``principal``, with the conversation
    (row-locked with ``lock``); 404 ``not_found`` for anyone else, staff included."""
    referral = await session.get(Referral, referral_id)
    if referral is None or not isinstance(principal, CustomerPrincipal):
        raise not_found()
    query = select(Conversation).where(Conversation.id == referral.conversation_id)
    if lock:
        query = query.with_for_update()
    conv = await session.scalar(query)
    if (
        conv is None
        or conv.customer_id != principal.user_id
        or conv.portal_id != principal.portal_id
    ):
        raise not_found()
    return referral, conv


async def offered(session: AsyncSession, referral_id: int, partner_id: int) -> bool:
    found = await session.scalar(
        select(ReferralPartner.partner_id).where(
            ReferralPartner.referral_id == referral_id, ReferralPartner.partner_id == partner_id
        )
    )
    return found is not None


async def existing_lead(session: AsyncSession, referral_id: int, partner_id: int) -> Lead | None:
    lead: Lead | None = await session.scalar(
        select(Lead).where(Lead.referral_id == referral_id, Lead.partner_id == partner_id)
    )
    return lead


async def customer_messages(
    session: AsyncSession, conversation_id: int, limit: int = 3
) -> list[str]:
    """The customer's first messages in the conversation (for the lead e-mail)."""
    rows = await session.scalars(
        select(TimelineItem.body)
        .where(
            TimelineItem.conversation_id == conversation_id,
            TimelineItem.kind == ItemKind.MESSAGE.value,
            TimelineItem.author_type == AuthorType.CUSTOMER.value,
        )
        .order_by(TimelineItem.seq)
        .limit(limit)
    )
    return list(rows)


# --- the report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerReportRow:
    partner_id: int
    name: str
    level: str
    active: bool
    referrals: int
    leads: int

    @property
    def lead_rate(self) -> float | None:
        return None if not self.referrals else self.leads / self.referrals


@dataclass(frozen=True, slots=True)
class VendorReportRow:
    app_code: str
    referrals: int


@dataclass(frozen=True, slots=True)
class PartnerReport:
    partners: list[PartnerReportRow]
    vendors: list[VendorReportRow]
    partner_cards: int
    vendor_cards: int


async def partner_report(session: AsyncSession, window: Window) -> PartnerReport:
    """Per partner: how many partner cards in the window showed it, and how many leads it
    got in the window; per app: vendor cards. Every partner is listed (zero rows too), most
    leads first."""
    in_window = (Referral.created_at >= window.start, Referral.created_at < window.end)
    shown: dict[int, int] = dict(
        (
            await session.execute(
                select(ReferralPartner.partner_id, func.count())
                .join(Referral, Referral.id == ReferralPartner.referral_id)
                .where(*in_window)
                .group_by(ReferralPartner.partner_id)
            )
        ).all()
    )
    leads: dict[int, int] = dict(
        (
            await session.execute(
                select(Lead.partner_id, func.count())
                .where(Lead.created_at >= window.start, Lead.created_at < window.end)
                .group_by(Lead.partner_id)
            )
        ).all()
    )
    cards: dict[str, int] = dict(
        (
            await session.execute(
                select(Referral.kind, func.count()).where(*in_window).group_by(Referral.kind)
            )
        ).all()
    )
    vendors = (
        await session.execute(
            select(Referral.app_code, func.count())
            .where(*in_window, Referral.kind == "vendor")
            .group_by(Referral.app_code)
            .order_by(func.count().desc(), Referral.app_code)
        )
    ).all()
    rows = [
        PartnerReportRow(
            partner_id=p.id,
            name=p.name,
            level=p.level,
            active=p.active,
            referrals=int(shown.get(p.id, 0)),
            leads=int(leads.get(p.id, 0)),
        )
        for p in await session.scalars(select(Partner))
    ]
    rows.sort(key=lambda r: (-r.leads, -r.referrals, r.name.casefold(), r.partner_id))
    return PartnerReport(
        partners=rows,
        vendors=[VendorReportRow(code or "", int(count)) for code, count in vendors],
        partner_cards=int(cards.get("partner", 0)),
        vendor_cards=int(cards.get("vendor", 0)),
    )
