"""The partner referral report on the supervisor page in real Chromium: a tier-1 agent
sends a partner card and the customer asks that partner (both through the API); the
supervisor sees the partner with one referral and one lead, the CSV link carries the
report period, and the table follows the period and the language switch.  axe-clean."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from playwright.async_api import expect

from ..factories import Live, key
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations

# Markup in the name must stay text on the page.
PARTNER = "Lumière <b>Conseil</b> & Co"


async def referral_and_lead(live: Live) -> int:
    """One partner, one card that shows it, one lead for it; returns the partner's id."""
    admin = await live.agent("Ada Admin", ["admin"], online=False)
    created = await admin.post(
        "/api/v1/admin/partners",
        {
            "name": PARTNER,
            "level": "gold",
            "specializations": ["training"],
            "countries": ["FR"],
            "languages": ["fr", "en"],
            "contact_url": "https://lumiere.example.com",
            "email": "leads@lumiere.example.com",
        },
    )
    assert created.status_code == 201, created.text
    partner_id = int(created.json()["id"])

    agent = await live.agent("Aiko Tanaka", ["customer_support"])
    customer = await live.customer(locale="en", user="learner")
    opened = await customer.post(
        "/api/v1/conversations",
        {"body": "Could someone train our new admins on the whole product?", "client_key": key()},
    )
    assert opened.status_code == 201, opened.text
    conv_id = opened.json()["conversation"]["id"]
    card = await agent.post(
        f"/api/v1/conversations/{conv_id}/referrals",
        {"kind": "partner", "specialization": "training", "language": "fr", "country": "FR"},
    )
    assert card.status_code == 201, card.text
    data = card.json()["data"]
    assert [p["id"] for p in data["partners"]] == [partner_id]
    lead = await customer.post(
        f"/api/v1/referrals/{data['referral_id']}/leads",
        {"partner_id": partner_id, "client_key": key()},
    )
    assert lead.status_code == 201, lead.text
    return partner_id


def iso(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


async def test_the_supervisor_sees_referrals_and_leads_per_partner(
    browsing: Browsing, demo_live: Live, tmp_path: Path
) -> None:
    page = browsing.page
    partner_id = await referral_and_lead(demo_live)
    await staff_sign_in(browsing, demo_live, "/supervisor", "Sara Supervisor", ["supervisor"])
    await expect(page.locator("#sv-page")).to_be_visible()

    table = page.locator("#sv-partners-table")
    await expect(table.locator("caption")).to_have_text("Referrals and leads per partner")
    row = table.locator(f"tbody tr[data-partner-id='{partner_id}']")
    await expect(row.locator("th[scope=row]")).to_have_text(PARTNER)
    await expect(row.locator(".sv-referrals")).to_have_text("1")
    await expect(row.locator(".sv-leads")).to_have_text("1")
    await expect(row).to_contain_text("Gold")
    await expect(row).to_contain_text("100%")
    await expect(table.locator("tbody tr")).to_have_count(1)
    assert await page.locator("#sv-partners b").count() == 0
    await expect(page.locator("#sv-partners-summary")).to_have_text(
        "Partner cards sent: 1 · vendor cards sent: 0"
    )
    await expect(page.locator("#sv-partners-empty")).to_be_hidden()

    # The CSV link carries the report period (to: the day after the last day shown).
    today = datetime.now(UTC).date()
    await page.locator("#sv-from").fill((today - timedelta(days=6)).isoformat())
    await page.locator("#sv-filters button[type=submit]").click()
    csv = page.locator("#sv-partners-csv")
    first = iso(today - timedelta(days=6))
    await expect(csv).to_have_attribute("href", re.compile(re.escape(quote(first, safe=""))))
    link = urlsplit(await csv.get_attribute("href") or "")
    assert link.path == "/api/v1/reports/partners.csv"
    assert parse_qs(link.query) == {
        "from": [first],
        "to": [iso(today + timedelta(days=1))],
        "locale": ["en"],
    }
    await expect(row.locator(".sv-leads")).to_have_text("1")
    async with page.expect_download() as download_info:
        await csv.click()
    download = await download_info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    text = saved.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith('"Partner ID","Partner"')
    assert PARTNER in text and '"1","1","1.00"' in text
    await page.locator("#sv-partners").scroll_into_view_if_needed()
    await browsing.screenshot("supervisor-partner-report")
    await assert_no_violations(page, "supervisor page: partner report")

    # A period before the referral: the table empties and the link follows.
    await page.locator("#sv-from").fill("2020-01-01")
    await page.locator("#sv-to").fill("2020-01-31")
    await page.locator("#sv-filters button[type=submit]").click()
    await expect(page.locator("#sv-partners-empty")).to_be_visible()
    await expect(row.locator(".sv-referrals")).to_have_text("0")  # every partner has a row
    await expect(row.locator(".sv-leads")).to_have_text("0")
    assert parse_qs(urlsplit(await csv.get_attribute("href") or "").query)["to"] == [
        "2020-02-01T00:00:00Z"
    ]

    # Japanese: the headings and the link follow the language switch.
    async with page.expect_response("**/api/v1/staff/me/settings"):
        await page.locator("#sd-language").select_option("ja")
    await expect(table.locator("caption")).to_have_text("パートナー別の紹介数とリード数")
    await expect(csv).to_have_attribute("href", re.compile("locale=ja"))
    await page.locator("#sv-partners").scroll_into_view_if_needed()
    await browsing.screenshot("supervisor-partner-report-ja")
    await assert_no_violations(page, "supervisor page: partner report in Japanese")
    assert browsing.errors == [] and browsing.dialogs == []
