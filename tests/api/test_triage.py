"""Triage over HTTP, on the database under test: customers (with their portal's installed
apps from the ``apps`` identity claim) and staff (cookie session with CSRF) classify a
text; bad input is refused with stable codes; a new conversation keeps its triage, which
staff who may view the conversation read back."""

from __future__ import annotations

from sqlalchemy import select

from supportdesk.core.clock import utcnow
from supportdesk.identity.tokens import mint_identity_token
from supportdesk.triage.models import MarketplaceApp, PortalApps
from tests.factories import PASSWORD, Actor, Live, key


def customer_with_apps(live: Live, apps: list[str] | None, portal: str = "acme", user: str = "u1"):
    token = mint_identity_token(
        live.settings,
        portal=portal,
        user=user,
        role="admin",
        plan="professional",
        locale="ja",
        name=user,
        now=utcnow(),
        apps=apps,
    )
    return Actor(live, token)


def code(response) -> str:
    return response.json()["error"]["code"]


async def test_the_migration_seeds_the_marketplace_catalogue(live: Live):
    async with live.svc.db.read() as session:
        apps = list(await session.scalars(select(MarketplaceApp)))
    assert len(apps) >= 6
    assert all(a.vendor and a.support_email and a.support_url and a.aliases for a in apps)


async def test_a_customer_gets_a_vague_technical_problem_with_missing_items(live: Live):
    customer = await live.customer(locale="ja")
    response = await customer.post(
        "/api/v1/triage", {"text": "ワークフローが作動しません。何とかしてください。"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["category"] == "technical_problem"
    assert body["quality"] == "vague"
    assert "which_object" in body["missing"] and "screenshot" in body["missing"]
    assert body["app"] is None and body["subtype"] is None and body["specialization"] is None
    assert body["reasons"] and all(r["en"] and r["ja"] for r in body["reasons"])
    assert 0 < body["confidence"] <= 1


async def test_installed_apps_from_the_claim_are_matched_first_with_the_vendor_contact(live: Live):
    customer = customer_with_apps(live, ["smart-forms", "signflow"])
    response = await customer.post(
        "/api/v1/triage", {"text": "SmartFroms Pro の送信ボタンが反応しません", "locale": "ja"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["category"] == "marketplace_app"
    assert body["app"]["code"] == "smart-forms"
    assert body["app"]["installed"] is True
    assert body["app"]["vendor"] == "FormWorks Inc."
    assert body["app"]["support_email"] == "support@formworks.example.com"
    # The claim is kept on the portal; a token without the claim leaves it as it is, a
    # token with an empty list clears it.
    async with live.svc.db.read() as session:
        portal_apps = list(await session.scalars(select(PortalApps)))
    assert [p.codes for p in portal_apps] == [["smart-forms", "signflow"]]
    assert (await customer_with_apps(live, None, user="u2").get("/api/v1/me")).status_code == 200
    async with live.svc.db.read() as session:
        assert [p.codes for p in await session.scalars(select(PortalApps))] == [
            ["smart-forms", "signflow"]
        ]
    cleared = customer_with_apps(live, [], user="u3")
    again = await cleared.post(
        "/api/v1/triage", {"text": "SmartFroms Pro の送信ボタンが反応しません"}
    )
    assert again.json()["app"] is None or again.json()["app"]["installed"] is False


async def test_an_invalid_apps_claim_makes_the_token_invalid(live: Live):
    customer = customer_with_apps(live, ["x" * 61])
    response = await customer.get("/api/v1/me")
    assert response.status_code == 401 and code(response) == "invalid_identity_token"


async def test_staff_use_it_with_the_cookie_session_and_csrf(live: Live):
    await live.agent("Aiko", ["customer_support"])
    login = await live.http.post(
        "/api/v1/staff/login", json={"email": "aiko@staff.test", "password": PASSWORD}
    )
    csrf = login.json()["csrf_token"]
    try:
        text = {"text": "Please build a whole approval workflow for our purchase requests."}
        refused = await live.http.post("/api/v1/triage", json=text)
        assert refused.status_code == 403 and code(refused) == "csrf_failed"
        response = await live.http.post("/api/v1/triage", json=text, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["category"], body["subtype"], body["specialization"]) == (
            "out_of_scope",
            "workflow_design",
            "workflows",
        )
    finally:
        live.http.cookies.clear()


async def test_bad_input_is_refused_with_stable_codes(live: Live):
    customer = await live.customer()
    for text in ("", "   ", "x" * 4001):
        response = await customer.post("/api/v1/triage", {"text": text})
        assert response.status_code == 422 and code(response) == "triage_text_invalid", text
    wrong_locale = await customer.post("/api/v1/triage", {"text": "hello", "locale": "fr"})
    assert wrong_locale.status_code == 422 and code(wrong_locale) == "invalid_request"
    missing = await customer.post("/api/v1/triage", {"locale": "en"})
    assert missing.status_code == 422 and code(missing) == "invalid_request"
    anonymous = await live.http.post("/api/v1/triage", json={"text": "hello"})
    assert anonymous.status_code == 401


async def test_a_new_conversation_keeps_its_triage_for_staff_who_may_view_it(live: Live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = customer_with_apps(live, ["signflow"])
    opened = await customer.post(
        "/api/v1/conversations",
        {"body": "サインフローで署名依頼を送るとエラーになります。", "client_key": key()},
    )
    assert opened.status_code == 201, opened.text
    conv_id = opened.json()["conversation"]["id"]
    response = await agent.get(f"/api/v1/conversations/{conv_id}/triage")
    assert response.status_code == 200, response.text
    triage = response.json()["triage"]
    assert triage["category"] == "marketplace_app"
    assert triage["app"]["code"] == "signflow" and triage["app"]["installed"] is True
    assert triage["reasons"]

    # Customers do not read it; a conversation the agent may not see is a 404.
    assert (await customer.get(f"/api/v1/conversations/{conv_id}/triage")).status_code == 403
    tier2 = await live.agent("Kenji", ["technical_support"])
    hidden = await tier2.get(f"/api/v1/conversations/{conv_id}/triage")
    assert hidden.status_code == 404 and code(hidden) == "not_found"
    assert (await agent.get("/api/v1/conversations/999999/triage")).status_code == 404


async def test_a_vague_chat_is_stored_as_vague(live: Live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer(locale="en")
    opened = await customer.post(
        "/api/v1/conversations", {"body": "The workflow doesn't work. Fix it.", "client_key": key()}
    )
    conv_id = opened.json()["conversation"]["id"]
    triage = (await agent.get(f"/api/v1/conversations/{conv_id}/triage")).json()["triage"]
    assert (triage["category"], triage["quality"]) == ("technical_problem", "vague")
    assert triage["missing"]
