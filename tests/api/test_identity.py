"""Identity tokens, upserts and eligibility over HTTP."""

import base64
import json
import time

import jwt
from sqlalchemy import func, select

from supportdesk.conversations.models import Conversation, TimelineItem
from supportdesk.identity.models import Portal, PortalUser
from tests.factories import SECRET, key


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides):
    now = int(time.time())
    claims = {
        "sub": "u1",
        "portal": "acme",
        "role": "admin",
        "plan": "professional",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


async def _status(live, token):
    response = await live.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


async def test_bad_identity_tokens_get_401(live):
    now = int(time.time())
    bad = {
        "expired": jwt.encode(_claims(iat=now - 1000, exp=now - 500), SECRET, algorithm="HS256"),
        "malformed": "not-a-jwt",
        "unsigned": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "wrong key": jwt.encode(
            _claims(), "another-secret-0123456789abcdef0123", algorithm="HS256"
        ),
        "too long-lived": jwt.encode(_claims(exp=now + 10 * 3600), SECRET, algorithm="HS256"),
        "unknown plan": jwt.encode(_claims(plan="platinum"), SECRET, algorithm="HS256"),
        "bad role": jwt.encode(_claims(role="owner"), SECRET, algorithm="HS256"),
    }
    for case, token in bad.items():
        status, body = await _status(live, token)
        assert status == 401, case
        assert body["error"]["code"] == "invalid_identity_token", case
    async with live.svc.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Portal)) == 0


async def test_token_upserts_portal_and_user_and_plan_change_is_immediate(live):
    token = live.token(portal="p1", user="alice", plan="free")
    status, me = await _status(live, token)
    assert status == 200 and me["plan"] == "free"
    eligibility = (
        await live.http.get("/api/v1/me/eligibility", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert eligibility["eligible"] is False
    assert eligibility["code"] == "support_requires_commercial_plan"

    upgraded = live.token(portal="p1", user="alice", plan="standard", name="Alice A")
    response = await live.http.get(
        "/api/v1/me/eligibility", headers={"Authorization": f"Bearer {upgraded}"}
    )
    assert response.json()["eligible"] is True
    async with live.svc.db.read() as session:
        portal = await session.scalar(select(Portal).where(Portal.external_id == "p1"))
        assert portal.plan_code == "standard"
        users = (await session.scalars(select(PortalUser))).all()
        assert [(u.external_id, u.name) for u in users] == [("alice", "Alice A")]


async def _counts(live):
    async with live.svc.db.read() as session:
        return (
            await session.scalar(select(func.count()).select_from(Conversation)),
            await session.scalar(select(func.count()).select_from(TimelineItem)),
        )


async def test_refusals_for_free_plan_admin_and_non_admin_write_nothing(live):
    free_admin = await live.customer(portal="hobby", user="f", plan="free", locale="ja")
    response = await free_admin.post(
        "/api/v1/conversations", {"body": "助けて", "client_key": key()}
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "support_requires_commercial_plan"
    assert "フリー" in error["message"]  # Japanese text with the plan's Japanese name
    assert error["links"]["pricing"] and error["links"]["help_center"]

    member = await live.customer(portal="acme", user="m", role="user", locale="en")
    response = await member.post("/api/v1/conversations", {"body": "help", "client_key": key()})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "support_requires_portal_admin"
    assert "administrators" in response.json()["error"]["message"]
    assert await _counts(live) == (0, 0)

    eligibility = (await member.get("/api/v1/me/eligibility")).json()
    assert eligibility == {
        **eligibility,
        "eligible": False,
        "code": "support_requires_portal_admin",
    }


async def test_conversation_always_starts_at_tier_one(live):
    specialist = await live.agent("Kenji", ["technical_support"])
    customer = await live.customer()
    response = await customer.post(
        "/api/v1/conversations",
        {
            "body": "I know Kenji",
            "client_key": key(),
            "tier": "technical_support",
            "preferred_agent_id": specialist.id,
        },
    )
    assert response.status_code == 201
    conversation = response.json()["conversation"]
    assert conversation["tier"] == "customer_support"
    assert conversation["state"] == "waiting"  # no tier-1 agent online; the specialist is not asked
    assert conversation["assigned_agent"] is None
