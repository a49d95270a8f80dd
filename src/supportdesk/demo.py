"""Demo data: plans (from the migration), portals, users, agents of both tiers and the
knowledge base's articles (``demo/kb/*.md``) and the partner directory
(``demo/partners.csv``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from supportdesk.core.clock import utcnow
from supportdesk.identity.actions import do_upsert_customer
from supportdesk.identity.tokens import mint_identity_token, verify_identity_token
from supportdesk.knowledge.actions import import_articles
from supportdesk.knowledge.files import read_folder
from supportdesk.partners.actions import import_partners
from supportdesk.partners.rules import parse_csv
from supportdesk.services import Services
from supportdesk.staff.actions import do_create_agent
from supportdesk.staff.models import Agent

DEMO_PASSWORD = "demo-password"
DEMO_KB = Path(__file__).parent / "demo" / "kb"
DEMO_PARTNERS = Path(__file__).parent / "demo" / "partners.csv"

DEMO_AGENTS = (
    # email, name, roles, languages
    ("aiko@demo.test", "Aiko Sato (tier 1)", ["customer_support"], ["ja", "en"]),
    ("ben@demo.test", "Ben Carter (tier 1)", ["customer_support"], ["en"]),
    ("kenji@demo.test", "Kenji Tanaka (tier 2)", ["technical_support"], ["ja", "en"]),
    ("sara@demo.test", "Sara Lind (supervisor)", ["supervisor", "admin"], ["ja", "en"]),
)

DEMO_CUSTOMERS = (
    # label, portal, user, role, plan, locale, name
    ("commercial admin", "acme", "acme-admin", "admin", "professional", "ja", "山田 花子"),
    ("commercial non-admin", "acme", "acme-member", "user", "professional", "en", "Tom Member"),
    ("free-plan admin", "hobby", "hobby-admin", "admin", "free", "en", "Fran Free"),
)

# Marketplace apps the host says each demo portal has installed (the ``apps`` claim).
DEMO_PORTAL_APPS = {"acme": ["smart-forms", "signflow"]}


@dataclass(frozen=True)
class DemoCustomer:
    label: str
    portal: str
    user: str
    token: str


async def load_demo(svc: Services) -> list[DemoCustomer]:
    """Idempotent: agents that exist are kept; tokens are minted fresh each time."""
    async with svc.db.read() as session:
        existing = set(await session.scalars(select(Agent.email)))
    for email, name, roles, languages in DEMO_AGENTS:
        if email not in existing:
            await do_create_agent(
                svc,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                roles=roles,
                languages=languages,
                locale="ja" if "ja" in languages else "en",
            )
    # The help articles of the demo's product (idempotent: unchanged files write nothing).
    await import_articles(svc, read_folder(DEMO_KB))
    # The certified partners that referral cards offer (idempotent by name).
    await import_partners(svc, parse_csv(DEMO_PARTNERS.read_text(encoding="utf-8")))
    customers = []
    for label, portal, user, role, plan, locale, name in DEMO_CUSTOMERS:
        token = mint_identity_token(
            svc.settings,
            portal=portal,
            user=user,
            role=role,
            plan=plan,
            locale=locale,
            name=name,
            now=utcnow(),
            apps=DEMO_PORTAL_APPS.get(portal),
        )
        await do_upsert_customer(svc, verify_identity_token(token, svc.settings, utcnow()))
        customers.append(DemoCustomer(label, portal, user, token))
    return customers
