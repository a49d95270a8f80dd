"""Account access over real HTTP, on the database under test: the grant lifecycle, the
token the JWKS verifies, introspection, revocation, expiry with a moved clock,
completion on resolve, key rotation, who may do what, and the hash-chained log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from supportdesk.account_access.actions import do_expire_grants, do_rotate_signing_key
from supportdesk.account_access.models import SigningKey
from supportdesk.cli import app as cli_app
from supportdesk.config import DEMO_HOST_API_KEY
from supportdesk.core.clock import utcnow
from supportdesk.core.db import Database
from tests.factories import SECRET, Actor, Live, key, start_live

HOST_KEY = "host-api-key-for-the-tests-0123456789"


@pytest.fixture
async def live(database_url, tmp_path):
    # The sweep runs once at start-up; the tests call do_expire_grants themselves.
    async with start_live(
        database_url, tmp_path, host_api_key=HOST_KEY, access_sweep_seconds=3600
    ) as server:
        yield server


@dataclass
class Chat:
    customer: Actor
    tier1: Actor
    specialist: Actor
    conv_id: int


async def tier2_chat(
    live: Live,
    *,
    portal: str = "acme",
    user: str = "admin-1",
    tier1: Actor | None = None,
    specialist: Actor | None = None,
) -> Chat:
    """A chat opened by a portal admin, answered by tier 1, transferred to a specialist."""
    tier1 = tier1 or await live.agent("Aiko", ["customer_support"])
    specialist = specialist or await live.agent("Kenji", ["technical_support"])
    customer = await live.customer(portal=portal, user=user)
    opened = await customer.post(
        "/api/v1/conversations", {"body": "The export fails", "client_key": key()}
    )
    assert opened.status_code == 201, opened.text
    conv_id = opened.json()["conversation"]["id"]
    moved = await tier1.post(
        f"/api/v1/conversations/{conv_id}/transfer",
        {"to_tier": "technical_support", "note": "Needs a look at the account"},
    )
    assert moved.status_code == 200, moved.text
    conv = (await specialist.get(f"/api/v1/conversations/{conv_id}")).json()
    assert conv["assigned_agent"]["id"] == specialist.id
    return Chat(customer, tier1, specialist, conv_id)


async def request(chat: Chat, **body) -> dict:
    payload = {"reason": "Check the export settings", "duration_minutes": 120, **body}
    response = await chat.specialist.post(
        f"/api/v1/conversations/{chat.conv_id}/access-requests", payload
    )
    assert response.status_code == 201, response.text
    return response.json()


async def approve(chat: Chat, grant_id: int, **body) -> dict:
    response = await chat.customer.post(f"/api/v1/access-grants/{grant_id}/approve", body)
    assert response.status_code == 200, response.text
    return response.json()


async def mint(chat: Chat, grant_id: int) -> dict:
    response = await chat.specialist.post(f"/api/v1/access-grants/{grant_id}/tokens")
    assert response.status_code == 201, response.text
    return response.json()


async def introspect(live: Live, token: str, host_key: str | None = HOST_KEY):
    headers = {"Authorization": f"Bearer {host_key}"} if host_key else {}
    return await live.http.post(
        "/api/v1/access-tokens/introspect", json={"token": token}, headers=headers
    )


async def items(actor: Actor, conv_id: int) -> list[dict]:
    return (await actor.get(f"/api/v1/conversations/{conv_id}/items")).json()


def events(all_items: list[dict]) -> list[str]:
    return [i["data"]["event"] for i in all_items if i["kind"] == "system" and i["data"]]


def travel(live: Live, delta: timedelta) -> datetime:
    """Move the service's clock; no sleeping."""
    then = utcnow() + delta
    live.svc.clock = lambda: then
    return then


async def verify_with_jwks(live: Live, token: str, *, verify_exp: bool = True) -> dict:
    """What a host product does: pick the key by kid from the JWKS and check with PyJWT."""
    jwks = (await live.http.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    return jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=["EdDSA"],
        issuer="supportdesk",
        options={"verify_exp": verify_exp},
    )


async def log_actions(customer: Actor) -> list[str]:
    body = (await customer.get("/api/v1/me/access-log")).json()
    assert body["chain_intact"] is True
    return [entry["action"] for entry in reversed(body["entries"])]


# --- the lifecycle ---------------------------------------------------------------------


async def test_request_card_approval_with_narrowing_token_and_introspection(live):
    chat = await tier2_chat(live)
    async with chat.customer.socket() as sock:
        grant = await request(chat, scopes=["read", "write:settings"])
        # The card reaches the customer's chat live, with only the grant's id in it.
        card = await sock.wait_item(chat.conv_id, lambda i: i["kind"] == "card")
    assert card["data"] == {"card": "access_request", "grant_id": grant["id"]}
    assert grant["state"] == "pending"
    assert grant["requested_scopes"] == ["read", "write:settings"] and grant["scopes"] == []
    assert grant["specialist"] == {"id": chat.specialist.id, "name": "Kenji"}
    requested_at = datetime.fromisoformat(grant["requested_at"])
    assert datetime.fromisoformat(grant["answer_by"]) == requested_at + timedelta(hours=12)

    # The customer reads the details the card stands for.
    seen = (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()
    assert (seen["reason"], seen["requested_minutes"]) == ("Check the export settings", 120)
    listed = (await chat.customer.get(f"/api/v1/conversations/{chat.conv_id}/access-grants")).json()
    assert [g["id"] for g in listed] == [grant["id"]]

    # Approval narrows: read only, one hour instead of two.
    active = await approve(chat, grant["id"], scopes=["read"], duration_minutes=60)
    assert (active["state"], active["scopes"], active["granted_minutes"]) == (
        "active",
        ["read"],
        60,
    )
    until = datetime.fromisoformat(active["active_until"])
    assert until == datetime.fromisoformat(active["decided_at"]) + timedelta(minutes=60)
    approved = [i for i in await items(chat.customer, chat.conv_id) if i["kind"] == "system"][-1]
    assert approved["data"] == {
        "event": "access_approved",
        "grant_id": grant["id"],
        "until": until.isoformat(),
        "specialist_name": "Kenji",
    }

    # The specialist mints a token; the host verifies it with the JWKS.
    minted = await mint(chat, grant["id"])
    assert minted["token_type"] == "Bearer"
    claims = await verify_with_jwks(live, minted["token"])
    assert claims["sub"] == f"agent:{chat.specialist.id}"
    assert (claims["portal"], claims["scope"], claims["grant_id"]) == ("acme", "read", grant["id"])
    assert claims["jti"] == minted["jti"]
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["exp"] <= until.timestamp()

    # ... and asks the service, which says active.
    answer = await introspect(live, minted["token"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"active": True, **{k: claims[k] for k in claims if k != "nbf"}}

    # A second token does not announce the first use again.
    await mint(chat, grant["id"])
    assert events(await items(chat.customer, chat.conv_id)).count("access_first_used") == 1
    used = (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()
    assert used["first_used_at"] is not None

    assert await log_actions(chat.customer) == [
        "requested",
        "approved",
        "token_minted",
        "introspected",
        "token_minted",
    ]
    log = (await chat.customer.get("/api/v1/me/access-log")).json()["entries"]
    assert log[-1]["actor"] == {"type": "agent", "id": chat.specialist.id, "name": "Kenji"}
    introspected = next(e for e in log if e["action"] == "introspected")
    assert introspected["actor"]["type"] == "host"
    assert introspected["data"] == {"jti": minted["jti"], "active": True}


async def test_introspection_needs_the_host_key(live, database_url, tmp_path):
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    token = (await mint(chat, grant["id"]))["token"]
    for sent in (None, "wrong-key", chat.specialist.token):
        refused = await introspect(live, token, sent)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "host_key_required"
    assert (await introspect(live, "not a token")).json() == {"active": False}
    # Without SUPPORTDESK_HOST_API_KEY nothing can introspect, with a code that says so.
    async with start_live(database_url, tmp_path / "other") as unconfigured:
        refused = await introspect(unconfigured, token, "anything")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "host_key_not_configured"


# --- revocation and denial -------------------------------------------------------------


async def test_revocation_is_immediate(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    token = (await mint(chat, grant["id"]))["token"]
    assert (await introspect(live, token)).json()["active"] is True

    revoked = await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked" and revoked.json()["ended_at"]

    assert (await introspect(live, token)).json() == {"active": False}
    again = await chat.specialist.post(f"/api/v1/access-grants/{grant['id']}/tokens")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "grant_not_active"
    twice = await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/revoke")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "grant_already_ended"
    assert events(await items(chat.customer, chat.conv_id))[-1] == "access_revoked"


async def test_a_pending_request_can_be_denied_once(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    denied = await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/deny")
    assert denied.status_code == 200 and denied.json()["state"] == "denied"
    late = await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/approve")
    assert late.status_code == 409 and late.json()["error"]["code"] == "grant_already_decided"
    assert events(await items(chat.customer, chat.conv_id))[-1] == "access_denied"
    refused = await chat.specialist.post(f"/api/v1/access-grants/{grant['id']}/tokens")
    assert refused.json()["error"]["code"] == "grant_not_active"


# --- expiry, with a moved clock ----------------------------------------------------------------


async def test_an_unanswered_request_expires_after_12_hours(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    travel(live, timedelta(hours=11, minutes=59))
    assert await do_expire_grants(live.svc) == 0
    travel(live, timedelta(hours=12, seconds=1))
    assert await do_expire_grants(live.svc) == 1
    assert await do_expire_grants(live.svc) == 0  # nothing twice

    lapsed = (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()
    assert lapsed["state"] == "expired_unanswered"
    assert lapsed["ended_at"] == lapsed["answer_by"]
    assert events(await items(chat.customer, chat.conv_id))[-1] == "access_request_expired"
    late = await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/approve")
    assert late.status_code == 409 and late.json()["error"]["code"] == "grant_already_decided"


async def test_a_late_answer_finds_the_request_lapsed_without_the_sweep(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    travel(live, timedelta(hours=13))
    late = await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/approve")
    assert late.status_code == 409 and late.json()["error"]["code"] == "grant_already_decided"
    # The lapse was recorded even though the approval was refused.
    assert (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()[
        "state"
    ] == "expired_unanswered"
    assert events(await items(chat.customer, chat.conv_id))[-1] == "access_request_expired"


async def test_an_active_grant_expires_and_its_tokens_with_it(live):
    chat = await tier2_chat(live)
    grant = await request(chat, duration_minutes=30)
    active = await approve(chat, grant["id"])
    until = datetime.fromisoformat(active["active_until"])
    token = (await mint(chat, grant["id"]))["token"]
    # A token minted near the end never outlives the grant.
    travel(live, until - utcnow() - timedelta(minutes=5))
    late_token = (await mint(chat, grant["id"]))["token"]
    assert jwt.decode(late_token, options={"verify_signature": False})["exp"] <= until.timestamp()

    travel(live, until - utcnow() + timedelta(seconds=1))
    # Introspection checks the time itself, before any sweep, and lapses the grant.
    assert (await introspect(live, token)).json() == {"active": False}
    assert (await introspect(live, late_token)).json() == {"active": False}
    expired = (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()
    assert expired["state"] == "expired"
    refused = await chat.specialist.post(f"/api/v1/access-grants/{grant['id']}/tokens")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "grant_not_active"
    assert events(await items(chat.customer, chat.conv_id)).count("access_expired") == 1


async def test_the_sweep_expires_active_grants(live):
    chat = await tier2_chat(live)
    grant = await request(chat, duration_minutes=30)
    await approve(chat, grant["id"])
    travel(live, timedelta(minutes=31))
    assert await do_expire_grants(live.svc) == 1
    assert (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()[
        "state"
    ] == "expired"
    assert "expired" in await log_actions(chat.customer)


# --- resolution ----------------------------------------------------------------------------------


async def test_resolving_the_conversation_completes_its_grants(live):
    chat = await tier2_chat(live)
    first = await request(chat)
    await approve(chat, first["id"])
    token = (await mint(chat, first["id"]))["token"]
    second = await request(chat, scopes=["write:settings"])

    resolved = await chat.specialist.post(f"/api/v1/conversations/{chat.conv_id}/resolve")
    assert resolved.status_code == 200, resolved.text

    grants = (await chat.customer.get(f"/api/v1/conversations/{chat.conv_id}/access-grants")).json()
    assert {g["id"]: g["state"] for g in grants} == {
        first["id"]: "completed",
        second["id"]: "completed",
    }
    assert events(await items(chat.customer, chat.conv_id)).count("access_completed") == 2
    assert (await introspect(live, token)).json() == {"active": False}
    after = await chat.specialist.post(
        f"/api/v1/conversations/{chat.conv_id}/access-requests",
        {"reason": "one more look", "duration_minutes": 30},
    )
    assert after.status_code == 409 and after.json()["error"]["code"] == "conversation_resolved"


# --- signing keys -------------------------------------------------------------------------------


async def test_rotation_keeps_the_old_key_until_its_tokens_expire(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    old = (await mint(chat, grant["id"]))["token"]
    old_kid = jwt.get_unverified_header(old)["kid"]

    new_kid, retired = await do_rotate_signing_key(live.svc)
    assert retired == [old_kid] and new_kid != old_kid
    kids = {k["kid"] for k in (await live.http.get("/.well-known/jwks.json")).json()["keys"]}
    assert kids == {old_kid, new_kid}
    new = (await mint(chat, grant["id"]))["token"]
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    # Tokens of the old key still verify and introspect as active.
    await verify_with_jwks(live, old)
    assert (await introspect(live, old)).json()["active"] is True
    async with live.svc.db.read() as session:
        retired_row = await session.get(SigningKey, old_kid)
        assert retired_row.private_key_encrypted is None  # it never signs again

    # Fifteen minutes after the rotation every old token has expired: the key goes.
    travel(live, timedelta(minutes=15, seconds=1))
    kids = {k["kid"] for k in (await live.http.get("/.well-known/jwks.json")).json()["keys"]}
    assert kids == {new_kid}
    assert (await introspect(live, old)).json() == {"active": False}


def test_keys_rotate_command(monkeypatch, database_url, tmp_path):
    for name, value in {
        "SUPPORTDESK_DATABASE_URL": database_url,
        "SUPPORTDESK_DATA_DIR": str(tmp_path),
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    first = CliRunner().invoke(cli_app, ["keys", "rotate"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(cli_app, ["keys", "rotate"])
    assert second.exit_code == 0, second.output
    first_kid = first.output.split()[3]
    assert f"retired key {first_kid}" in second.output

    async def rows():
        db = Database(database_url)
        try:
            async with db.read() as session:
                result = await session.execute(
                    text("SELECT kid, retired_at IS NULL FROM access_signing_keys")
                )
                return dict(result.all())
        finally:
            await db.dispose()

    assert asyncio.run(rows()) == {first_kid: False, second.output.split()[3]: True}


def test_demo_prints_a_host_api_key(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("SUPPORTDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("SUPPORTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SUPPORTDESK_IDENTITY_SECRET", raising=False)
    result = CliRunner().invoke(cli_app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert DEMO_HOST_API_KEY in result.output


# --- who may do what -----------------------------------------------------------------------------


async def test_tier_1_gets_403_on_every_access_endpoint(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    # Aiko handled the chat, so she may still read it, but never its access.
    assert (await chat.tier1.get(f"/api/v1/conversations/{chat.conv_id}")).status_code == 200
    for grant_id, conv_id in ((grant["id"], chat.conv_id), (999_999, 999_999)):
        calls = [
            ("post", f"/api/v1/conversations/{conv_id}/access-requests"),
            ("get", f"/api/v1/conversations/{conv_id}/access-grants"),
            ("get", f"/api/v1/access-grants/{grant_id}"),
            ("post", f"/api/v1/access-grants/{grant_id}/approve"),
            ("post", f"/api/v1/access-grants/{grant_id}/deny"),
            ("post", f"/api/v1/access-grants/{grant_id}/revoke"),
            ("post", f"/api/v1/access-grants/{grant_id}/tokens"),
            ("get", "/api/v1/me/access-grants"),
            ("get", "/api/v1/me/access-log"),
        ]
        for method, path in calls:
            body = {"reason": "x", "duration_minutes": 30} if "requests" in path else None
            response = await (
                chat.tier1.get(path) if method == "get" else chat.tier1.post(path, body)
            )
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
    assert (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()[
        "state"
    ] == "pending"


async def test_another_portals_admin_gets_404(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    other = await live.customer(portal="globex", user="boss")
    for path in (
        f"/api/v1/access-grants/{grant['id']}",
        f"/api/v1/conversations/{chat.conv_id}/access-grants",
    ):
        assert (await other.get(path)).status_code == 404
    for action in ("approve", "deny", "revoke"):
        response = await other.post(f"/api/v1/access-grants/{grant['id']}/{action}")
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert (await other.get("/api/v1/me/access-grants")).json() == []
    assert (await other.get("/api/v1/me/access-log")).json() == {
        "entries": [],
        "chain_intact": True,
    }


async def test_a_non_admin_customer_cannot_approve_or_read_the_log(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    member = await live.customer(portal="acme", user="member", role="user")
    for action in ("approve", "deny", "revoke"):
        response = await member.post(f"/api/v1/access-grants/{grant['id']}/{action}")
        assert response.status_code == 404, response.text
    for path in ("/api/v1/me/access-log", "/api/v1/me/access-grants"):
        refused = await member.get(path)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "access_requires_portal_admin"
    assert (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()[
        "state"
    ] == "pending"


async def test_only_the_assigned_specialist_requests_and_only_the_named_one_mints(live):
    chat = await tier2_chat(live)
    colleague = await live.agent("Mika", ["technical_support"])
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    body = {"reason": "I want to look too", "duration_minutes": 30}
    path = f"/api/v1/conversations/{chat.conv_id}/access-requests"
    for outsider in (colleague, supervisor):
        refused = await outsider.post(path, body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "access_not_assigned"
    assert (await chat.customer.post(path, body)).status_code == 403

    grant = await request(chat)
    # Colleagues and supervisors may read the grants ...
    for reader in (colleague, supervisor):
        seen = await reader.get(f"/api/v1/access-grants/{grant['id']}")
        assert seen.status_code == 200
    # ... but neither decides for the customer.
    decided = await supervisor.post(f"/api/v1/access-grants/{grant['id']}/approve")
    assert decided.status_code == 403
    await approve(chat, grant["id"])
    for other in (colleague, supervisor):
        refused = await other.post(f"/api/v1/access-grants/{grant['id']}/tokens")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "access_grant_not_yours"
    assert (
        await chat.customer.post(f"/api/v1/access-grants/{grant['id']}/tokens")
    ).status_code == 403


async def test_a_grant_is_never_wider_than_the_request(live):
    chat = await tier2_chat(live)
    grant = await request(chat, scopes=["read"], duration_minutes=60)
    path = f"/api/v1/access-grants/{grant['id']}/approve"
    wider = await chat.customer.post(path, {"scopes": ["read", "write:settings"]})
    assert wider.status_code == 422 and wider.json()["error"]["code"] == "access_scope_not_allowed"
    longer = await chat.customer.post(path, {"duration_minutes": 61})
    assert (
        longer.status_code == 422 and longer.json()["error"]["code"] == "access_duration_too_long"
    )
    assert (await chat.customer.get(f"/api/v1/access-grants/{grant['id']}")).json()[
        "state"
    ] == "pending"
    assert await log_actions(chat.customer) == ["requested"]  # refusals wrote nothing


async def test_request_limits(live):
    chat = await tier2_chat(live)
    path = f"/api/v1/conversations/{chat.conv_id}/access-requests"
    cases = [
        ({"reason": "r", "duration_minutes": 1441}, "access_duration_too_long"),
        ({"reason": "r", "duration_minutes": 4}, "access_duration_too_short"),
        ({"reason": "r", "duration_minutes": 30, "scopes": ["admin"]}, "access_scope_not_allowed"),
        ({"reason": " ", "duration_minutes": 30}, "access_reason_required"),
        ({"reason": "r" * 1001, "duration_minutes": 30}, "access_reason_too_long"),
        ({"reason": "r"}, "invalid_request"),
    ]
    for body, code in cases:
        response = await chat.specialist.post(path, body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
    grant = await request(chat)
    assert grant["requested_scopes"] == ["read"]  # the default choice
    twice = await chat.specialist.post(path, {"reason": "again", "duration_minutes": 30})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "access_request_already_pending"


# --- the access log ------------------------------------------------------------------------------


async def _break_triggers(live: Live) -> None:
    """Take away the append-only guard, as someone with the database's keys could."""
    async with live.svc.db.write() as session:
        if live.svc.db.is_sqlite:
            for verb in ("update", "delete"):
                await session.execute(text(f"DROP TRIGGER access_log_entries_no_{verb}"))
        else:
            await session.execute(
                text(
                    "ALTER TABLE access_log_entries DISABLE TRIGGER access_log_entries_append_only"
                )
            )


async def _log_with_three_entries(live: Live) -> Chat:
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    await mint(chat, grant["id"])
    assert await log_actions(chat.customer) == ["requested", "approved", "token_minted"]
    return chat


async def test_the_database_refuses_to_change_the_log(live):
    await _log_with_three_entries(live)
    for statement in (
        "UPDATE access_log_entries SET action = 'denied'",
        "DELETE FROM access_log_entries",
    ):
        with pytest.raises(Exception, match="append-only"):
            async with live.svc.db.write() as session:
                await session.execute(text(statement))


async def test_the_hash_chain_detects_an_edited_row(live):
    chat = await _log_with_three_entries(live)
    await _break_triggers(live)
    async with live.svc.db.write() as session:
        await session.execute(
            text("UPDATE access_log_entries SET data = :data WHERE seq = 2"),
            {"data": '{"scopes": ["read", "write:settings"], "minutes": 120, "until": "x"}'},
        )
    body = (await chat.customer.get("/api/v1/me/access-log")).json()
    assert body["chain_intact"] is False


async def test_the_hash_chain_detects_a_deleted_row(live):
    chat = await _log_with_three_entries(live)
    await _break_triggers(live)
    async with live.svc.db.write() as session:
        await session.execute(text("DELETE FROM access_log_entries WHERE seq = 2"))
    body = (await chat.customer.get("/api/v1/me/access-log")).json()
    assert [e["action"] for e in body["entries"]] == ["token_minted", "requested"]
    assert body["chain_intact"] is False


async def test_the_log_shows_denied_and_expired_entries_to_its_portal_only(live):
    chat = await tier2_chat(live)
    denied = await request(chat)
    await chat.customer.post(f"/api/v1/access-grants/{denied['id']}/deny")
    lapsing = await request(chat)
    travel(live, timedelta(hours=12, seconds=1))
    await do_expire_grants(live.svc)
    live.svc.clock = utcnow

    # Another portal's chat with the same specialist: its log is its own.
    other = await tier2_chat(
        live, portal="globex", user="boss", tier1=chat.tier1, specialist=chat.specialist
    )
    await request(other)

    body = (await chat.customer.get("/api/v1/me/access-log")).json()
    assert body["chain_intact"] is True
    entries = list(reversed(body["entries"]))
    assert [(e["action"], e["grant_id"]) for e in entries] == [
        ("requested", denied["id"]),
        ("denied", denied["id"]),
        ("requested", lapsing["id"]),
        ("request_expired", lapsing["id"]),
    ]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[1]["actor"]["type"] == "customer"
    assert entries[3]["actor"] == {"type": "system", "id": None, "name": ""}
    assert {e["conversation_id"] for e in entries} == {chat.conv_id}
    # Paging: newest first, before_id excludes.
    page = (
        await chat.customer.get(
            "/api/v1/me/access-log", params={"limit": 2, "before_id": body["entries"][1]["id"]}
        )
    ).json()
    assert [e["action"] for e in page["entries"]] == ["denied", "requested"]
    other_log = (await other.customer.get("/api/v1/me/access-log")).json()["entries"]
    assert [e["action"] for e in other_log] == ["requested"]
    mine = (await chat.customer.get("/api/v1/me/access-grants")).json()
    assert {g["id"] for g in mine} == {denied["id"], lapsing["id"]}


async def test_concurrent_entries_keep_one_unbroken_chain(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    token = (await mint(chat, grant["id"]))["token"]
    answers = await asyncio.gather(*(introspect(live, token) for _ in range(12)))
    assert all(answer.json()["active"] for answer in answers)
    body = (await chat.customer.get("/api/v1/me/access-log", params={"limit": 500})).json()
    assert body["chain_intact"] is True
    assert sorted(e["seq"] for e in body["entries"]) == list(range(1, 16))


async def test_the_jwks_has_a_key_before_the_first_token(live):
    first = (await live.http.get("/.well-known/jwks.json")).json()["keys"]
    assert len(first) == 1
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    token = (await mint(chat, grant["id"]))["token"]
    assert jwt.get_unverified_header(token)["kid"] == first[0]["kid"]


async def test_a_changed_secret_retires_the_unreadable_key(live):
    chat = await tier2_chat(live)
    grant = await request(chat)
    await approve(chat, grant["id"])
    old = (await mint(chat, grant["id"]))["token"]
    # The private key is stored encrypted: nothing in the row is the raw key.
    async with live.svc.db.read() as session:
        row = await session.get(SigningKey, jwt.get_unverified_header(old)["kid"])
        assert row.private_key_encrypted and row.public_key not in row.private_key_encrypted

    live.svc.settings.signing_key_secret = "a-brand-new-signing-key-secret-0123456789"
    new = (await mint(chat, grant["id"]))["token"]
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    # Both verify: the old key's public half is still published.
    await verify_with_jwks(live, old)
    await verify_with_jwks(live, new)
