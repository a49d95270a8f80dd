"""Referral cards, leads and the lead e-mail over HTTP, on the database under test.

The assigned agent sends a partner card (best matches, fair rotation) and a vendor card;
the customer asks a partner, retries and double-clicks: exactly one lead, one chat
confirmation and ONE e-mail, delivered to a real SMTP server (aiosmtpd) that the test
runs on loopback. Others cannot create leads; the supervisors' report counts it all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportdesk.core.outbox import JobStatus, OutboxJob
from supportdesk.demo import DEMO_PARTNERS
from supportdesk.partners.actions import import_partners
from supportdesk.partners.rules import parse_csv
from tests.factories import Actor, Live, key, start_live
from tests.mail import Inbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def desk(database_url: str, tmp_path: Path, smtp) -> AsyncIterator[Live]:
    _inbox, port = smtp
    async with start_live(
        database_url,
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="support@desk.example.com",
        outbox_retry_seconds=0.2,
    ) as server:
        await import_partners(server.svc, parse_csv(DEMO_PARTNERS.read_text(encoding="utf-8")))
        yield server


def code(response) -> str:
    return response.json()["error"]["code"]


async def open_chat(live: Live, locale: str = "ja", user: str = "u1") -> tuple[Actor, Actor, int]:
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer(locale=locale, user=user)
    text = (
        "承認ワークフローを一から作ってほしいです。経費精算の申請、部長承認、経理確認まで。"
        if locale == "ja"
        else "Please build our whole approval workflow for expense claims."
    )
    opened = await customer.post("/api/v1/conversations", {"body": text, "client_key": key()})
    assert opened.status_code == 201, opened.text
    conv_id = opened.json()["conversation"]["id"]
    conv = (await agent.get(f"/api/v1/conversations/{conv_id}")).json()
    assert conv["assigned_agent"]["id"] == agent.id
    return agent, customer, conv_id


async def outbox_settled(live: Live) -> list[OutboxJob]:
    """Wait until no outbox job is pending, then return them all."""
    async with asyncio.timeout(30):
        while True:
            async with live.svc.db.read() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxJob)
                    .where(OutboxJob.status == JobStatus.PENDING.value)
                )
                if not pending:
                    return list(await session.scalars(select(OutboxJob).order_by(OutboxJob.id)))
            await asyncio.sleep(0.05)


def refer_path(conv_id: int) -> str:
    return f"/api/v1/conversations/{conv_id}/referrals"


async def test_a_partner_card_offers_the_best_matches_live(desk: Live):
    agent, customer, conv_id = await open_chat(desk, "ja")
    async with customer.socket() as sock:
        sent = await agent.post(
            refer_path(conv_id), {"kind": "partner", "specialization": "workflows"}
        )
        assert sent.status_code == 201, sent.text
        item = sent.json()
        assert item["kind"] == "card" and item["author"]["id"] == agent.id
        data = item["data"]
        assert data["card"] == "partner_referral"
        assert data["specialization"] == "workflows"
        assert isinstance(data["referral_id"], int)
        # Japanese speakers first (platinum before gold), then the English-only partner.
        assert [p["name"] for p in data["partners"]] == [
            "Sakura Solutions",
            "Osaka Digital Works",
            "Northwind Workflow Studio",
        ]
        first = data["partners"][0]
        assert set(first) == {"id", "name", "level", "contact_url", "description"}
        assert first["level"] == "platinum" and first["description"]["ja"].startswith("東京")
        assert "認定パートナー" in data["policy"]["ja"] and "partners" in data["policy"]["en"]
        live_item = await sock.wait_item(conv_id, lambda i: i["seq"] == item["seq"])
        assert live_item["data"]["referral_id"] == data["referral_id"]

    # An English-speaking customer in Canada asking for REST work.
    english = await agent.post(
        refer_path(conv_id),
        {
            "kind": "partner",
            "specialization": "rest_integration",
            "language": "en",
            "country": "CA",
        },
    )
    assert [p["name"] for p in english.json()["data"]["partners"]] == [
        "Maple API Partners",  # speaks English and works in Canada
        "Kumo Integrations",
    ]


async def test_equal_partners_take_turns(desk: Live):
    sara = await desk.agent("Sara", ["admin"], online=False)
    ids = []
    for n in range(4):
        created = await sara.post(
            "/api/v1/admin/partners",
            {
                "name": f"Equal {n}",
                "level": "silver",
                "specializations": ["training"],
                "countries": ["FR"],
                "languages": ["fr"],
                "contact_url": f"https://equal{n}.example.com",
                "email": f"equal{n}@example.com",
            },
        )
        ids.append(created.json()["id"])
    agent, _customer, conv_id = await open_chat(desk, "en")
    cards = []
    for _ in range(4):
        sent = await agent.post(
            refer_path(conv_id),
            {"kind": "partner", "specialization": "training", "language": "fr", "country": "FR"},
        )
        assert sent.status_code == 201, sent.text
        cards.append([p["id"] for p in sent.json()["data"]["partners"]])
    a, b, c, d = ids
    # A queue: each card takes the three referred longest ago, in that order.
    assert cards == [[a, b, c], [d, a, b], [c, d, a], [b, c, d]]


async def test_who_may_send_cards_and_bad_requests(desk: Live):
    agent, customer, conv_id = await open_chat(desk, "en")
    colleague = await desk.agent("Ken", ["customer_support"], online=False)
    body = {"kind": "partner", "specialization": "workflows"}
    read_only = await colleague.post(refer_path(conv_id), body)
    assert read_only.status_code == 403 and code(read_only) == "conversation_read_only"
    assert (await customer.post(refer_path(conv_id), body)).status_code == 403
    assert (await agent.post(refer_path(999_999), body)).status_code == 404
    for bad, expected in [
        ({"kind": "partner", "specialization": "cooking"}, "partner_specialization_invalid"),
        ({"kind": "partner"}, "invalid_request"),
        ({"kind": "wizard", "specialization": "workflows"}, "invalid_request"),
        (
            {"kind": "partner", "specialization": "workflows", "country": "Japan"},
            "partner_country_invalid",
        ),
        ({"kind": "vendor", "app_code": "no-such-app"}, "referral_app_unknown"),
    ]:
        refused = await agent.post(refer_path(conv_id), bad)
        assert refused.status_code == 422 and code(refused) == expected, refused.text
    sara = await desk.agent("Sara", ["admin"], online=False)
    for partner in (await sara.get("/api/v1/admin/partners")).json():
        if "app_development" in partner["specializations"]:
            await desk.http.delete(f"/api/v1/admin/partners/{partner['id']}", headers=sara.headers)
    none_left = await agent.post(
        refer_path(conv_id), {"kind": "partner", "specialization": "app_development"}
    )
    assert none_left.status_code == 409 and code(none_left) == "partner_none_match"
    items = (await agent.get(f"/api/v1/conversations/{conv_id}/items")).json()
    assert not [i for i in items if i["kind"] == "card"]

    assert (await agent.post(f"/api/v1/conversations/{conv_id}/resolve")).status_code == 200
    late = await agent.post(refer_path(conv_id), body)
    assert late.status_code == 409 and code(late) == "conversation_resolved"


async def test_a_vendor_card_names_the_apps_developer(desk: Live):
    agent, customer, conv_id = await open_chat(desk, "ja")
    sent = await agent.post(refer_path(conv_id), {"kind": "vendor", "app_code": "gantt-plus"})
    assert sent.status_code == 201, sent.text
    data = sent.json()["data"]
    assert data["card"] == "vendor_referral" and isinstance(data["referral_id"], int)
    app = data["app"]
    assert app["code"] == "gantt-plus" and app["vendor"] == "Timeline Labs"
    assert app["names"]["en"] == "Gantt Plus"
    for field in ("support_url", "support_email", "support_tab_url"):
        assert app[field]
    assert "Timeline Labs" in data["policy"]["en"] and "Timeline Labs" in data["policy"]["ja"]
    items = (await customer.get(f"/api/v1/conversations/{conv_id}/items")).json()
    assert [i["data"]["card"] for i in items if i["kind"] == "card"] == ["vendor_referral"]


async def test_asking_a_partner_makes_one_lead_and_one_email_whatever_the_retries(desk: Live, smtp):
    inbox, _port = smtp
    agent, customer, conv_id = await open_chat(desk, "ja")
    card = (
        await agent.post(refer_path(conv_id), {"kind": "partner", "specialization": "workflows"})
    ).json()["data"]
    referral_id = card["referral_id"]
    sakura = card["partners"][0]
    path = f"/api/v1/referrals/{referral_id}/leads"

    async with customer.socket() as sock:
        click = key()
        # A double click: two requests at once, then the client retries the first.
        first, second = await asyncio.gather(
            customer.post(path, {"partner_id": sakura["id"], "client_key": click}),
            customer.post(path, {"partner_id": sakura["id"], "client_key": key()}),
        )
        retry = await customer.post(path, {"partner_id": sakura["id"], "client_key": click})
        answers = [first, second, retry]
        assert sorted(r.status_code for r in answers) == [200, 200, 201], [r.text for r in answers]
        assert len({r.json()["lead_id"] for r in answers}) == 1
        assert [r.json()["created"] for r in answers].count(True) == 1
        assert first.json()["partner"]["name"] == "Sakura Solutions"

        confirmation = await sock.wait_item(
            conv_id, lambda i: i["kind"] == "card" and i["data"]["card"] == "lead_confirmation"
        )
        assert confirmation["data"]["partner"] == {"id": sakura["id"], "name": "Sakura Solutions"}
        assert confirmation["data"]["locale"] == "ja"
        assert "Sakura Solutions にご依頼を送りました" in confirmation["body"]

    jobs = await outbox_settled(desk)
    assert [(j.kind, j.status) for j in jobs] == [("mail", "done")]
    mails = inbox.to("leads@sakura-solutions.example.com")
    assert len(mails) == 1
    mail = mails[0]
    assert mail["From"] == "support@desk.example.com"
    assert mail["Subject"] == "サポート経由のお問い合わせ：u1 様（acme）"
    assert mail["Message-ID"].startswith("<lead-")
    text = mail.get_content()
    assert "承認ワークフローを一から作ってほしいです" in text  # the conversation summary
    assert "ポータル：acme" in text and "言語：日本語" in text
    assert "ワークフロー設計" in text  # the requested service

    # The chat shows one confirmation, whatever the retries.
    items = (await customer.get(f"/api/v1/conversations/{conv_id}/items")).json()
    confirmations = [
        i for i in items if i["kind"] == "card" and i["data"]["card"] == "lead_confirmation"
    ]
    assert len(confirmations) == 1

    # Asking a second partner of the same card is a second lead, mailed in English to a
    # partner that works in English only.
    northwind = card["partners"][2]
    other = await customer.post(path, {"partner_id": northwind["id"], "client_key": key()})
    assert other.status_code == 201 and other.json()["created"] is True
    await outbox_settled(desk)
    english = inbox.to("partners@northwind-workflows.example.com")
    assert len(english) == 1
    assert english[0]["Subject"] == "New enquiry from u1 (acme) via support"
    assert len(inbox.to("leads@sakura-solutions.example.com")) == 1


async def test_only_the_conversations_customer_creates_leads(desk: Live):
    agent, customer, conv_id = await open_chat(desk, "en")
    card = (
        await agent.post(
            refer_path(conv_id), {"kind": "partner", "specialization": "customization"}
        )
    ).json()["data"]
    path = f"/api/v1/referrals/{card['referral_id']}/leads"
    partner_id = card["partners"][0]["id"]
    lead = {"partner_id": partner_id, "client_key": key()}

    same_portal_other_user = await desk.customer(user="u2")
    other_portal = await desk.customer(portal="globex", user="g1")
    supervisor = await desk.agent("Sara", ["supervisor"], online=False)
    for outsider in (same_portal_other_user, other_portal, agent, supervisor):
        refused = await outsider.post(path, lead)
        assert refused.status_code == 404 and code(refused) == "not_found", refused.text
    missing = await customer.post("/api/v1/referrals/999999/leads", lead)
    assert missing.status_code == 404

    not_offered = await customer.post(path, {"partner_id": 999_999, "client_key": key()})
    assert not_offered.status_code == 422 and code(not_offered) == "lead_partner_not_offered"
    bad_key = await customer.post(path, {"partner_id": partner_id, "client_key": ""})
    assert bad_key.status_code == 422

    vendor = (
        await agent.post(refer_path(conv_id), {"kind": "vendor", "app_code": "signflow"})
    ).json()
    on_vendor = await customer.post(
        f"/api/v1/referrals/{vendor['data']['referral_id']}/leads", lead
    )
    assert on_vendor.status_code == 422 and code(on_vendor) == "lead_partner_not_offered"

    sara = await desk.agent("Sam", ["admin"], online=False)
    await desk.http.delete(f"/api/v1/admin/partners/{partner_id}", headers=sara.headers)
    inactive = await customer.post(path, lead)
    assert inactive.status_code == 409 and code(inactive) == "partner_inactive"
    async with desk.svc.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxJob)) == 0


async def test_without_smtp_the_mail_is_skipped_and_the_job_done(database_url: str, tmp_path: Path):
    async with start_live(database_url, tmp_path) as live:
        await import_partners(live.svc, parse_csv(DEMO_PARTNERS.read_text(encoding="utf-8")))
        agent, customer, conv_id = await open_chat(live, "en")
        card = (
            await agent.post(refer_path(conv_id), {"kind": "partner", "specialization": "training"})
        ).json()["data"]
        made = await customer.post(
            f"/api/v1/referrals/{card['referral_id']}/leads",
            {"partner_id": card["partners"][0]["id"], "client_key": key()},
        )
        assert made.status_code == 201
        jobs = await outbox_settled(live)
        assert [(j.kind, j.status, j.attempts) for j in jobs] == [("mail", "done", 1)]


async def test_the_report_counts_cards_and_leads_per_partner(desk: Live):
    agent, customer, conv_id = await open_chat(desk, "ja")
    sara = await desk.agent("Sara", ["supervisor"], online=False)
    card = (
        await agent.post(refer_path(conv_id), {"kind": "partner", "specialization": "workflows"})
    ).json()["data"]
    await agent.post(refer_path(conv_id), {"kind": "partner", "specialization": "customization"})
    await agent.post(refer_path(conv_id), {"kind": "vendor", "app_code": "invoicely"})
    await customer.post(
        f"/api/v1/referrals/{card['referral_id']}/leads",
        {"partner_id": card["partners"][0]["id"], "client_key": key()},
    )

    report = await sara.get("/api/v1/reports/partners")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["partner_cards"] == 2 and body["vendor_cards"] == 1
    assert body["vendors"] == [{"app_code": "invoicely", "referrals": 1}]
    rows = {r["name"]: r for r in body["partners"]}
    assert len(rows) == 8
    assert body["partners"][0]["name"] == "Sakura Solutions"  # most leads first
    assert (rows["Sakura Solutions"]["referrals"], rows["Sakura Solutions"]["leads"]) == (2, 1)
    assert rows["Sakura Solutions"]["lead_rate"] == 0.5
    assert (
        rows["Kumo Integrations"]["referrals"] == 0
        and rows["Kumo Integrations"]["lead_rate"] is None
    )

    past = await sara.get(
        "/api/v1/reports/partners", params={"from": "2020-01-01", "to": "2020-02-01"}
    )
    assert past.json()["partner_cards"] == 0
    assert {r["referrals"] for r in past.json()["partners"]} == {0}
    reversed_range = await sara.get(
        "/api/v1/reports/partners", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert reversed_range.status_code == 422 and code(reversed_range) == "invalid_date_range"
    assert (await agent.get("/api/v1/reports/partners")).status_code == 403

    admin = await desk.agent("Ada", ["admin"], online=False)
    await admin.post(
        "/api/v1/admin/partners",
        {
            "name": '=HYPERLINK("http://evil.example")',
            "level": "registered",
            "specializations": ["training"],
            "languages": ["en"],
            "contact_url": "https://evil.example",
            "email": "x@evil.example",
        },
    )
    csv = await sara.get("/api/v1/reports/partners.csv", params={"locale": "ja"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith('"パートナーID","パートナー"')
    assert any('"Sakura Solutions","platinum","はい","2","1","0.50"' in line for line in lines)
    assert any("'=HYPERLINK" in line for line in lines)
    assert not any(',"=HYPERLINK' in line for line in lines)
