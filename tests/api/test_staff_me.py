"""Who is signed in (GET /staff/me) and the agent's own settings."""

from __future__ import annotations

from ..factories import PASSWORD, Live


async def test_me_returns_profile_roles_and_the_cookie_sessions_csrf_token(live: Live) -> None:
    supervisor = await live.agent("Sue Visor", ["supervisor"])
    me = (await supervisor.get("/api/v1/staff/me")).json()
    assert (me["name"], me["roles"], me["is_supervisor"]) == ("Sue Visor", ["supervisor"], True)
    assert "password_hash" not in me

    # The console signs in with the cookie; /me tells it the CSRF token for unsafe calls.
    login = await live.http.post(
        "/api/v1/staff/login", json={"email": "sue.visor@staff.test", "password": PASSWORD}
    )
    me = (await live.http.get("/api/v1/staff/me")).json()
    assert me["csrf_token"] == login.json()["csrf_token"]
    refused = await live.http.put("/api/v1/staff/me/settings", json={"locale": "ja"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    live.http.cookies.clear()


async def test_locale_setting_changes_the_agents_language_and_is_audited(live: Live) -> None:
    agent = await live.agent("Ann Agent", ["customer_support"])
    assert (await agent.get("/api/v1/staff/me")).json()["is_supervisor"] is False
    assert (await agent.put("/api/v1/staff/me/settings", {"locale": "ja"})).status_code == 200
    assert (await agent.get("/api/v1/staff/me")).json()["locale"] == "ja"
    # Errors now come in Japanese.
    error = (await agent.get("/api/v1/reports/csat")).json()["error"]
    assert error["code"] == "forbidden" and any(
        "\u3040" <= ch <= "\u30ff" for ch in error["message"]
    )

    bad = await agent.put("/api/v1/staff/me/settings", {"locale": "fr"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"

    supervisor = await live.agent("Sue Visor", ["supervisor"])
    audit = (
        await supervisor.get("/api/v1/audit", params={"action": "agent.locale_changed"})
    ).json()
    assert [(e["actor_id"], e["data"]) for e in audit] == [
        (agent.id, {"before": "en", "after": "ja"})
    ]


async def test_customers_have_no_staff_profile(live: Live) -> None:
    customer = await live.customer()
    assert (await customer.get("/api/v1/staff/me")).status_code == 403
    assert (await live.http.get("/api/v1/staff/me")).status_code == 401
