"""Partner HTTP API: the public directory, admin CRUD and CSV import, referral cards,
leads, and the supervisors' referral report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import normalize_locale, translate
from supportdesk.deps import AdminDep, AgentDep, PrincipalDep, SupervisorDep, SvcDep, request_locale
from supportdesk.partners import actions, queries, rules, texts
from supportdesk.partners.models import Partner
from supportdesk.realtime.events import ItemPublic
from supportdesk.reports import rules as report_rules

router = APIRouter(prefix="/api/v1", tags=["partners"])

# Lengths and values are checked by the rules with their own error codes; these caps only
# stop absurd bodies before they are parsed further.
HARD_CAP = 100_000
LIST_CAP = 1000


class Description(BaseModel):
    en: str
    ja: str


class PartnerPublic(BaseModel):
    id: int
    name: str
    level: str
    specializations: list[str]
    countries: list[str]
    languages: list[str]
    contact_url: str
    description: Description


class PartnerAdmin(PartnerPublic):
    email: str
    description_en: str
    description_ja: str
    active: bool
    last_referred_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PartnerIn(BaseModel):
    name: str = Field(max_length=HARD_CAP)
    level: str = Field(max_length=HARD_CAP)
    specializations: list[str] = Field(max_length=LIST_CAP)
    countries: list[str] = Field(default_factory=list, max_length=LIST_CAP)
    languages: list[str] = Field(max_length=LIST_CAP)
    contact_url: str = Field(max_length=HARD_CAP)
    email: str = Field(max_length=HARD_CAP)
    description_en: str = Field(default="", max_length=HARD_CAP)
    description_ja: str = Field(default="", max_length=HARD_CAP)
    active: bool = True

    def draft(self) -> rules.PartnerDraft:
        return rules.check_partner(**self.model_dump())


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class PartnerReferralIn(BaseModel):
    kind: Literal["partner"]
    specialization: str = Field(max_length=HARD_CAP)
    # Optional preferences; the conversation's language is used when none is given.
    country: str | None = Field(default=None, max_length=HARD_CAP)
    language: str | None = Field(default=None, max_length=HARD_CAP)


class VendorReferralIn(BaseModel):
    kind: Literal["vendor"]
    app_code: str = Field(max_length=HARD_CAP)


class LeadIn(BaseModel):
    partner_id: int
    client_key: str = Field(max_length=HARD_CAP)


class LeadPartner(BaseModel):
    id: int
    name: str
    level: str
    contact_url: str


class LeadOut(BaseModel):
    lead_id: int
    partner: LeadPartner
    created: bool


class PartnerReportRowOut(BaseModel):
    partner_id: int
    name: str
    level: str
    active: bool
    referrals: int
    leads: int
    lead_rate: float | None


class VendorReportRowOut(BaseModel):
    app_code: str
    referrals: int


class PartnerReportOut(BaseModel):
    start: datetime
    end: datetime
    partner_cards: int
    vendor_cards: int
    partners: list[PartnerReportRowOut]
    vendors: list[VendorReportRowOut]


def public(partner: Partner) -> PartnerPublic:
    return PartnerPublic(
        id=partner.id,
        name=partner.name,
        level=partner.level,
        specializations=list(partner.specializations),
        countries=list(partner.countries),
        languages=list(partner.languages),
        contact_url=partner.contact_url,
        description=Description(en=partner.description_en, ja=partner.description_ja),
    )


def admin_view(partner: Partner) -> PartnerAdmin:
    return PartnerAdmin(
        **public(partner).model_dump(),
        email=partner.email,
        description_en=partner.description_en,
        description_ja=partner.description_ja,
        active=partner.active,
        last_referred_at=partner.last_referred_at,
        created_at=partner.created_at,
        updated_at=partner.updated_at,
    )


# --- public directory ----------------------------------------------------------------------


@router.get("/partners")
async def list_partners(
    svc: SvcDep,
    specialization: str | None = Query(default=None, max_length=100),
    language: str | None = Query(default=None, max_length=100),
    country: str | None = Query(default=None, max_length=100),
) -> list[PartnerPublic]:
    """Active partners matching every given filter (no sign-in needed): certification
    level first, then name; at most 100."""
    spec = rules.check_specialization(specialization) if specialization else None
    lang = rules.check_filter_language(language)
    where = rules.check_filter_country(country)
    async with svc.db.read() as session:
        found = await queries.public_partners(session, spec, lang, where)
    return [public(p) for p in found]


# --- admin -------------------------------------------------------------------------------------


@router.get("/admin/partners")
async def admin_list(_: AdminDep, svc: SvcDep) -> list[PartnerAdmin]:
    """Every partner, inactive ones too, by name."""
    async with svc.db.read() as session:
        return [admin_view(p) for p in await queries.all_partners(session)]


@router.post("/admin/partners", status_code=201)
async def admin_create(admin: AdminDep, svc: SvcDep, body: PartnerIn) -> PartnerAdmin:
    return admin_view(await actions.do_create_partner(svc, admin, body.draft()))


@router.put("/admin/partners/{partner_id}")
async def admin_update(
    admin: AdminDep, svc: SvcDep, partner_id: int, body: PartnerIn
) -> PartnerAdmin:
    """Replace every field (``active: true`` reactivates a deactivated partner)."""
    return admin_view(await actions.do_update_partner(svc, admin, partner_id, body.draft()))


@router.delete("/admin/partners/{partner_id}")
async def admin_deactivate(admin: AdminDep, svc: SvcDep, partner_id: int) -> PartnerAdmin:
    """Deactivate (partners are never deleted: cards, leads and reports refer to them)."""
    return admin_view(await actions.do_deactivate_partner(svc, admin, partner_id))


@router.post("/admin/partners/import")
async def admin_import(admin: AdminDep, svc: SvcDep, request: Request) -> ImportOut:
    """A CSV file as the body (``text/csv``, UTF-8): create or update partners by name,
    all rows or none. Row-level problems answer 422 ``partner_csv_invalid`` with
    ``errors: [{row, column, code, message}]``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain", "application/csv"):
        raise DomainError("partner_csv_content_type", 415)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > rules.CSV_MAX_BYTES:
            break
    try:
        drafts = rules.parse_csv(rules.decode_csv(bytes(data)))
    except rules.CsvInvalid as exc:
        raise csv_error(exc, request_locale(request)) from None
    report = await actions.import_partners(svc, drafts, admin)
    return ImportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)


def csv_error(exc: rules.CsvInvalid, locale: str) -> DomainError:
    lang = normalize_locale(locale)
    errors = [
        {
            "row": error.row,
            "column": error.column,
            "code": error.code,
            "message": translate(error.code, lang, error.params),
        }
        for error in exc.errors[:200]
    ]
    return DomainError(
        "partner_csv_invalid", 422, params={"count": len(exc.errors)}, extra={"errors": errors}
    )


# --- referral cards and leads ------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/referrals", status_code=201)
async def refer(
    agent: AgentDep,
    svc: SvcDep,
    conversation_id: int,
    body: Annotated[PartnerReferralIn | VendorReferralIn, Field(discriminator="kind")],
) -> ItemPublic:
    """Put a ``partner_referral`` or ``vendor_referral`` card into the chat (the assigned
    agent or a supervisor, as for a message)."""
    if isinstance(body, PartnerReferralIn):
        return await actions.do_refer_partner(
            svc,
            agent,
            conversation_id,
            body.specialization,
            country=body.country,
            language=body.language,
        )
    return await actions.do_refer_vendor(svc, agent, conversation_id, body.app_code)


@router.post("/referrals/{referral_id}/leads")
async def create_lead(
    principal: PrincipalDep, svc: SvcDep, referral_id: int, body: LeadIn, response: Response
) -> LeadOut:
    """The conversation's customer asks a partner of the card: 201 with the new lead, or
    200 with the existing one on a retry (``created`` false)."""
    result = await actions.do_create_lead(
        svc, principal, referral_id, body.partner_id, body.client_key
    )
    response.status_code = 201 if result.created else 200
    partner = result.partner
    return LeadOut(
        lead_id=result.lead_id,
        partner=LeadPartner(
            id=partner.id, name=partner.name, level=partner.level, contact_url=partner.contact_url
        ),
        created=result.created,
    )


# --- the report --------------------------------------------------------------------------------

FromQuery = Query(default=None, alias="from")
ToQuery = Query(default=None, alias="to")


@router.get("/reports/partners")
async def partner_report(
    _: SupervisorDep,
    svc: SvcDep,
    start: datetime | None = FromQuery,
    end: datetime | None = ToQuery,
) -> PartnerReportOut:
    """Per partner: cards that showed it and leads it received in the window; per app:
    vendor cards. ``from``/``to`` as in the other reports (default: the last 30 days)."""
    window = report_rules.report_window(start, end, utcnow())
    async with svc.db.read() as session:
        report = await queries.partner_report(session, window)
    return PartnerReportOut(
        start=window.start,
        end=window.end,
        partner_cards=report.partner_cards,
        vendor_cards=report.vendor_cards,
        partners=[
            PartnerReportRowOut(
                partner_id=r.partner_id,
                name=r.name,
                level=r.level,
                active=r.active,
                referrals=r.referrals,
                leads=r.leads,
                lead_rate=r.lead_rate,
            )
            for r in report.partners
        ],
        vendors=[
            VendorReportRowOut(app_code=v.app_code, referrals=v.referrals) for v in report.vendors
        ],
    )


@router.get("/reports/partners.csv")
async def partner_report_csv(
    _: SupervisorDep,
    svc: SvcDep,
    request: Request,
    start: datetime | None = FromQuery,
    end: datetime | None = ToQuery,
    locale: str | None = Query(default=None, max_length=20),
) -> Response:
    """The per-partner table as a spreadsheet-safe CSV (UTF-8 with a BOM; formula cells
    neutralised), headers in ``locale`` or the caller's language."""
    window = report_rules.report_window(start, end, utcnow())
    lang = normalize_locale(locale) if locale else request_locale(request)
    async with svc.db.read() as session:
        report = await queries.partner_report(session, window)
    yes, no = texts.YES_NO[lang]
    rows = [
        [
            r.partner_id,
            r.name,
            r.level,
            yes if r.active else no,
            r.referrals,
            r.leads,
            "" if r.lead_rate is None else f"{r.lead_rate:.2f}",
        ]
        for r in report.partners
    ]
    days = window.days
    name = f"partners-{days[0].isoformat()}-{days[-1].isoformat()}.csv"
    return Response(
        content="\ufeff" + report_rules.csv_text(texts.REPORT_CSV_HEADER[lang], rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
