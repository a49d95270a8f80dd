"""Staff login, presence, assignment and routing, supervisor actions, the audit log."""

import asyncio

from sqlalchemy import delete, update

from supportdesk.audit.models import AuditEntry
from supportdesk.staff.actions import do_create_agent
from supportdesk.staff.models import Agent, LoginFailure
from tests.factories import PASSWORD, key


async def _open(customer, body="Help"):
    response = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]


async def test_login_logout_and_throttling(live):
    await do_create_agent(
        live.svc,
        email="x@staff.test",
        name="X",
        password=PASSWORD,
        roles=["customer_support"],
        languages=["en"],
    )
    bad = {"email": "x@staff.test", "password": "wrong password!"}
    for _ in range(live.settings.login_max_failures):
        response = await live.http.post("/api/v1/staff/login", json=bad)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
    throttled = await live.http.post(
        "/api/v1/staff/login", json={"email": "x@staff.test", "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "too_many_login_attempts"
    assert int(throttled.headers["Retry-After"]) > 0

    async with live.svc.db.write() as session:  # the window passes (rules are unit-tested)
        await session.execute(delete(LoginFailure))
    ok = await live.http.post(
        "/api/v1/staff/login", json={"email": "X@staff.test", "password": PASSWORD}
    )
    assert ok.status_code == 200, ok.text
    token = ok.json()["token"]
    assert token.startswith("sds_")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await live.http.get("/api/v1/me", headers=headers)).json()["type"] == "agent"
    assert (await live.http.post("/api/v1/staff/logout", headers=headers)).status_code == 204
    after = await live.http.get("/api/v1/me", headers=headers)
    assert after.status_code == 401 and after.json()["error"]["code"] == "invalid_session"


async def test_cookie_session_needs_csrf_token(live):
    await do_create_agent(
        live.svc,
        email="c@staff.test",
        name="C",
        password=PASSWORD,
        roles=["customer_support"],
        languages=["en"],
    )
    login = await live.http.post(
        "/api/v1/staff/login", json={"email": "c@staff.test", "password": PASSWORD}
    )
    csrf = login.json()["csrf_token"]
    assert "sd_session" in live.http.cookies
    assert (await live.http.get("/api/v1/me")).status_code == 200
    refused = await live.http.put("/api/v1/staff/me/presence", json={"presence": "online"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    accepted = await live.http.put(
        "/api/v1/staff/me/presence", json={"presence": "online"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200
    live.http.cookies.clear()


async def test_assignment_language_capacity_fewest_and_fifo_queue(live):
    ja_only = await live.agent("Yui", ["customer_support"], languages=("ja",), max_chats=1)
    en_1 = await live.agent("Ann", ["customer_support"], languages=("en",), max_chats=2)
    en_2 = await live.agent("Bob", ["customer_support"], languages=("en",), max_chats=2)
    customers = [await live.customer(portal=f"p{i}", user="admin") for i in range(5)]
    japanese = await live.customer(portal="jp", user="admin", locale="ja")

    convs = [await _open(c, f"question {i}") for i, c in enumerate(customers)]
    assigned = [
        (await customers[i].get(f"/api/v1/conversations/{c['id']}")).json()
        for i, c in enumerate(convs)
    ]
    agents = [c["assigned_agent"]["id"] if c["assigned_agent"] else None for c in assigned]
    # Fewest open chats first, alternating; nobody takes an English chat in Japanese only.
    assert agents[:4] == [en_1.id, en_2.id, en_1.id, en_2.id]
    assert agents[4] is None and ja_only.id not in agents
    assert assigned[4]["state"] == "waiting" and assigned[4]["queue_position"] == 1

    jp_conv = await _open(japanese, "質問です")
    assert jp_conv["assigned_agent"]["id"] == ja_only.id

    # A sixth English chat queues behind the fifth.
    sixth_customer = await live.customer(portal="p6", user="admin")
    sixth = await _open(sixth_customer)
    assert sixth["queue_position"] == 2

    # Resolving frees a slot: the oldest waiting conversation goes first.
    async with customers[4].socket() as sock:
        await en_1.post(f"/api/v1/conversations/{convs[0]['id']}/resolve")
        event = await sock.wait_for(
            lambda f: (
                f["type"] == "conversation"
                and f["conversation"]["id"] == convs[4]["id"]
                and f["conversation"]["state"] == "assigned"
            )
        )
        assert event["conversation"]["assigned_agent"]["id"] == en_1.id
    sixth_now = (await sixth_customer.get(f"/api/v1/conversations/{sixth['id']}")).json()
    assert sixth_now["state"] == "waiting" and sixth_now["queue_position"] == 1

    # An agent coming online takes the queue.
    late = await live.agent("Cat", ["customer_support"], languages=("en",), online=False)
    await late.put("/api/v1/staff/me/presence", {"presence": "online"})
    sixth_now = (await sixth_customer.get(f"/api/v1/conversations/{sixth['id']}")).json()
    assert sixth_now["assigned_agent"]["id"] == late.id


async def test_preferred_specialist_and_supervisor_reassign(live):
    tier1 = await live.agent("Aiko", ["customer_support"])
    kenji = await live.agent("Kenji", ["technical_support"])
    mika = await live.agent("Mika", ["technical_support"])
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    customer = await live.customer()
    await _open(customer, "first")  # give Kenji one chat, so fewest-chats alone would pick Mika
    first_id = (await customer.get("/api/v1/conversations")).json()[0]["id"]
    await tier1.post(
        f"/api/v1/conversations/{first_id}/transfer",
        {"to_tier": "technical_support", "note": "n", "preferred_agent_id": kenji.id},
    )
    conv = await _open(customer, "second")
    not_specialist = await tier1.post(
        f"/api/v1/conversations/{conv['id']}/transfer",
        {"to_tier": "technical_support", "note": "n", "preferred_agent_id": tier1.id},
    )
    assert not_specialist.status_code == 422
    assert not_specialist.json()["error"]["code"] == "preferred_agent_not_specialist"
    moved = await tier1.post(
        f"/api/v1/conversations/{conv['id']}/transfer",
        {
            "to_tier": "technical_support",
            "note": "Kenji knows this portal",
            "preferred_agent_id": kenji.id,
        },
    )
    assert moved.json()["assigned_agent"]["id"] == kenji.id

    # Tier 2 can send it back to tier 1, with a note too.
    back = await kenji.post(
        f"/api/v1/conversations/{conv['id']}/transfer", {"to_tier": "customer_support"}
    )
    assert back.status_code == 422
    back = await kenji.post(
        f"/api/v1/conversations/{conv['id']}/transfer",
        {"to_tier": "customer_support", "note": "Not a bug: a setting"},
    )
    assert back.json()["tier"] == "customer_support"
    assert back.json()["assigned_agent"]["id"] == tier1.id

    # Only supervisors reassign.
    refused = await tier1.post(f"/api/v1/conversations/{conv['id']}/assign", {"agent_id": tier1.id})
    assert refused.status_code == 403
    wrong_tier = await supervisor.post(
        f"/api/v1/conversations/{conv['id']}/assign", {"agent_id": mika.id}
    )
    assert (
        wrong_tier.status_code == 422 and wrong_tier.json()["error"]["code"] == "agent_not_in_tier"
    )
    other = await live.agent("Ben", ["customer_support"], online=False)
    done = await supervisor.post(
        f"/api/v1/conversations/{conv['id']}/assign", {"agent_id": other.id}
    )
    assert done.status_code == 200 and done.json()["assigned_agent"]["id"] == other.id

    # Tier 1 sees the portal's earlier conversations and the specialist who handled them.
    history = (await other.get(f"/api/v1/conversations/{conv['id']}/portal-history")).json()
    assert history[0]["id"] == first_id
    assert {"id": kenji.id, "name": "Kenji", "tier": "technical_support"} in history[0][
        "handled_by"
    ]


async def test_presence_goes_offline_after_sockets_drop(live):
    agent = await live.agent("Aiko", ["customer_support"])
    async with agent.socket():
        pass

    async def presence():
        async with live.svc.db.read() as session:
            return (await session.get(Agent, agent.id)).presence

    assert await presence() == "online"
    async with asyncio.timeout(10):
        while await presence() != "offline":
            await asyncio.sleep(0.05)
    # Reconnecting within the grace period keeps an agent online.
    await agent.put("/api/v1/staff/me/presence", {"presence": "online"})
    async with agent.socket():
        pass
    async with agent.socket():
        await asyncio.sleep(live.settings.presence_grace_seconds * 3)
        assert await presence() == "online"


async def test_audit_log_records_changes_and_is_append_only(live):
    tier1 = await live.agent("Aiko", ["customer_support"])
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    customer = await live.customer()
    conv = await _open(customer)
    await tier1.post(f"/api/v1/conversations/{conv['id']}/resolve")
    assert (await tier1.get("/api/v1/audit")).status_code == 403
    assert (await customer.get("/api/v1/audit")).status_code == 403
    entries = (
        await supervisor.get("/api/v1/audit", params={"subject_type": "conversation"})
    ).json()
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["conversation.opened", "conversation.assigned", "conversation.resolved"]
    resolved = entries[0]
    assert resolved["actor_type"] == "agent" and resolved["actor_id"] == tier1.id
    logins = (await supervisor.get("/api/v1/audit", params={"action": "staff.login"})).json()
    assert {e["actor_id"] for e in logins} == {tier1.id, supervisor.id}

    try:
        async with live.svc.db.write() as session:
            await session.execute(update(AuditEntry).values(action="tampered"))
        raise AssertionError("audit entry was updated")
    except Exception as exc:  # the database trigger refuses
        assert "append-only" in str(exc)
