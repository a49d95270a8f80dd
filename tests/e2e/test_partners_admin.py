"""The partner directory page (/console/partners) in real Chromium: an admin adds a
partner, edits it, deactivates it (it leaves the public directory), imports a CSV file
(and sees row errors for a bad one); other agents see a refusal.  axe-clean."""

from __future__ import annotations

from playwright.async_api import expect

from ..factories import Live
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations

CSV_GOOD = (
    "name,level,specializations,countries,languages,contact_url,email,description_en,"
    "description_ja,active\n"
    "Aozora Consulting,silver,training;implementation,JP,ja,https://aozora.example.com/,"
    "info@aozora.example.com,Training for new admins.,新任管理者向けの研修。,true\n"
    "Harbor Apps,registered,app_development,US,en,https://harbor.example.com/,"
    "hi@harbor.example.com,Custom apps.,カスタムアプリ。,true\n"
)
CSV_BAD = (
    "name,level,specializations,languages,contact_url,email,description_en,description_ja\n"
    "Broken Partner,diamond,workflows,ja,https://broken.example.com/,broken@example.com,x,y\n"
)


async def public_names(live: Live, specialization: str) -> list[str]:
    response = await live.http.get("/api/v1/partners", params={"specialization": specialization})
    assert response.status_code == 200, response.text
    return [partner["name"] for partner in response.json()]


async def test_admin_adds_edits_deactivates_and_imports_partners(
    browsing: Browsing, demo_live: Live
) -> None:
    await staff_sign_in(browsing, demo_live, "/console/partners", "Ada Admin", ["admin"])
    page = browsing.page
    await expect(page.locator("#pa-manage")).to_be_visible()
    await expect(page.get_by_role("link", name="Partners")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.locator("#pa-empty")).to_be_visible()

    # Add.
    await page.locator("#pa-new").click()
    await expect(page.locator("#pa-editor-heading")).to_be_focused()
    await page.locator("#pa-name").fill("Sakura Workflow Partners")
    await page.locator("#pa-level").select_option("gold")
    await page.locator("#pa-specializations input[value=workflows]").check()
    await page.locator("#pa-languages").fill("ja, en")
    await page.locator("#pa-countries").fill("JP")
    await page.locator("#pa-url").fill("https://sakura-wf.example.com/")
    await page.locator("#pa-email").fill("leads@sakura-wf.example.com")
    await page.locator("#pa-description-en").fill("Approval workflows, designed and built.")
    await page.locator("#pa-description-ja").fill("承認ワークフローの設計と構築。")
    await page.locator("#pa-save").click()
    await expect(page.locator("#pa-notice")).to_have_text("Sakura Workflow Partners is saved.")
    row = page.locator("#pa-rows tr", has_text="Sakura Workflow Partners")
    await expect(row).to_contain_text("Gold")
    await expect(row).to_contain_text("Workflows")
    await expect(row).to_contain_text("Active")
    assert await public_names(demo_live, "workflows") == ["Sakura Workflow Partners"]
    await assert_no_violations(page, "partner admin: list and editor")
    await browsing.screenshot("partners-admin-added")

    # A refusal names its field.
    await page.locator("#pa-email").fill("not an address")
    await page.locator("#pa-save").click()
    await expect(page.locator("#pa-form-error")).to_be_visible()
    await expect(page.locator("#pa-email")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#pa-email")).to_be_focused()

    # Edit.
    await page.locator("#pa-email").fill("leads@sakura-wf.example.com")
    await page.locator("#pa-level").select_option("platinum")
    await page.locator("#pa-save").click()
    await expect(row).to_contain_text("Platinum")

    # Deactivate: gone from the public directory, kept in the admin list.
    await row.get_by_role("button", name="Deactivate Sakura Workflow Partners").click()
    await expect(page.locator("#pa-notice")).to_contain_text(
        "Sakura Workflow Partners is deactivated"
    )
    await expect(row).to_contain_text("Inactive")
    await expect(row.locator(".pa-deactivate")).to_have_count(0)
    assert await public_names(demo_live, "workflows") == []

    # CSV import: a bad file imports nothing and lists its rows; a good one imports.
    await page.locator("#pa-import-file").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": CSV_BAD.encode()}]
    )
    await page.locator("#pa-import-submit").click()
    await expect(page.locator("#pa-import-error")).to_be_visible()
    await expect(page.locator("#pa-import-rows li")).not_to_have_count(0)
    await expect(page.locator("#pa-import-rows")).to_contain_text("Row 2")
    await page.locator("#pa-import-file").set_input_files(
        files=[{"name": "partners.csv", "mimeType": "text/csv", "buffer": CSV_GOOD.encode()}]
    )
    await page.locator("#pa-import-submit").click()
    await expect(page.locator("#pa-notice")).to_have_text(
        "Imported: 2 created, 0 updated, 0 unchanged."
    )
    await expect(page.locator("#pa-import-error")).to_be_hidden()
    await expect(page.locator("#pa-rows tr")).to_have_count(3)
    await expect(page.locator("#pa-count")).to_have_text("3 partners, 2 active")
    assert await public_names(demo_live, "training") == ["Aozora Consulting"]
    await assert_no_violations(page, "partner admin: after the import")
    await browsing.screenshot("partners-admin-imported")

    # In Japanese.
    await page.locator("#sd-language").select_option("ja")
    await expect(page.locator("#app h1")).to_have_text("パートナー")
    await expect(page.locator("#pa-count")).to_have_text("3 社（有効 2 社）")
    assert not browsing.errors


async def test_agents_who_are_not_admins_see_a_refusal(browsing: Browsing, demo_live: Live) -> None:
    await staff_sign_in(browsing, demo_live, "/console/partners", "Sam Super", ["supervisor"])
    page = browsing.page
    await expect(page.locator("#pa-refused")).to_be_visible()
    await expect(page.locator("#pa-manage")).to_be_hidden()
    await expect(page.get_by_role("link", name="Partners")).to_be_hidden()
    await assert_no_violations(page, "partner admin: refusal")
