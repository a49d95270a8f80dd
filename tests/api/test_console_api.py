"""The agent console's reads: the queues per tier, the customer panel and the list of
specialists for a transfer, with who may (not) call them."""

from supportdesk.core.clock import utcnow
from supportdesk.identity.tokens import mint_identity_token
from tests.factories import Actor, key


async def _open(customer, body="Help"):
    response = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]


def _error(response):
    return response.status_code, response.json()["error"]["code"]


async def test_queues_per_tier_fifo_for_the_tiers_the_agent_works(live):
    # Nobody is online, so everything waits.
    tier1 = await live.agent("Aiko", ["customer_support"], online=False)
    tier2 = await live.agent("Kenji", ["technical_support"], online=False)
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    customers = [await live.customer(portal=f"p{i}", user="admin") for i in range(3)]
    opened = [await _open(c, f"question {i}") for i, c in enumerate(customers)]

    queues = (await tier1.get("/api/v1/queues")).json()
    assert [q["tier"] for q in queues] == ["customer_support"]
    (queue,) = queues
    assert queue["waiting"] == 3
    assert [c["id"] for c in queue["conversations"]] == [c["id"] for c in opened]
    assert [c["queue_position"] for c in queue["conversations"]] == [1, 2, 3]
    assert queue["conversations"][0]["subject"] == "question 0"
    assert queue["oldest_waiting_since"] is not None

    # Tier 2 sees its own (empty) queue only; supervisors see both tiers.
    assert (await tier2.get("/api/v1/queues")).json() == [
        {
            "tier": "technical_support",
            "waiting": 0,
            "oldest_waiting_since": None,
            "conversations": [],
        }
    ]
    both = (await supervisor.get("/api/v1/queues")).json()
    assert [q["tier"] for q in both] == ["customer_support", "technical_support"]
    assert both[0]["waiting"] == 3

    # An agent coming online takes the oldest; the queue shrinks from the front.
    await tier1.put("/api/v1/staff/me/presence", {"presence": "online"})
    (queue,) = (await tier1.get("/api/v1/queues")).json()
    assert queue["waiting"] == 0  # max_chats 5: all three taken

    # The summary agrees with the live `queue` event.
    other = await live.agent("Ben", ["customer_support"], online=False)
    await tier1.put("/api/v1/staff/me/presence", {"presence": "away"})
    async with other.socket() as sock:
        fourth = await _open(await live.customer(portal="p9", user="admin"), "fourth")
        event = await sock.wait_for(
            lambda f: f["type"] == "queue" and f["tier"] == "customer_support"
        )
    (queue,) = (await other.get("/api/v1/queues")).json()
    assert queue["waiting"] == event["waiting"] == 1
    assert queue["oldest_waiting_since"] == event["oldest_waiting_since"]
    assert queue["conversations"][0]["id"] == fourth["id"]


async def test_queues_refuse_customers_and_strangers(live):
    customer = await live.customer()
    assert _error(await customer.get("/api/v1/queues")) == (403, "forbidden")
    assert _error(await live.http.get("/api/v1/queues")) == (401, "authentication_required")
    product = await live.agent("Pia", ["product"], online=False)
    assert (await product.get("/api/v1/queues")).json() == []


async def test_customer_panel_shows_portal_plan_and_user(live):
    tier1 = await live.agent("Aiko", ["customer_support"])
    token = mint_identity_token(
        live.settings,
        portal="acme-42",
        user="hana-7",
        role="admin",
        plan="enterprise",
        locale="ja",
        name="Hana Sato",
        email="hana@acme.test",
        now=utcnow(),
    )
    customer = Actor(live, token)
    conv = await _open(customer)

    response = await tier1.get(f"/api/v1/conversations/{conv['id']}/customer")
    assert response.status_code == 200, response.text
    panel = response.json()
    assert panel["conversation_id"] == conv["id"]
    assert panel["portal"]["external_id"] == "acme-42"
    assert panel["portal"]["id"] == conv["portal_id"]
    assert panel["portal"]["plan"]["code"] == "enterprise"
    assert panel["portal"]["plan"]["commercial"] is True
    assert panel["portal"]["plan"]["name_en"] and panel["portal"]["plan"]["name_ja"]
    user = panel["user"]
    assert (user["external_id"], user["name"], user["email"]) == (
        "hana-7",
        "Hana Sato",
        "hana@acme.test",
    )
    assert (user["role"], user["locale"]) == ("admin", "ja")


async def test_customer_panel_permissions(live):
    tier1 = await live.agent("Aiko", ["customer_support"])
    tier2 = await live.agent("Kenji", ["technical_support"])
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    customer = await live.customer(portal="acme")
    stranger = await live.customer(portal="other")
    conv = await _open(customer)
    path = f"/api/v1/conversations/{conv['id']}/customer"

    # Customers never call it, not even for their own conversation.
    assert _error(await customer.get(path)) == (403, "forbidden")
    assert _error(await stranger.get(path)) == (403, "forbidden")
    # Tier 2 may not see a tier-1 conversation it never handled: the same 404 as missing.
    assert _error(await tier2.get(path)) == (404, "not_found")
    assert _error(await tier1.get("/api/v1/conversations/999999/customer")) == (404, "not_found")
    assert (await supervisor.get(path)).status_code == 200

    # After a transfer tier 2 sees it, and tier 1 keeps read access as a participant.
    moved = await tier1.post(
        f"/api/v1/conversations/{conv['id']}/transfer",
        {"to_tier": "technical_support", "note": "Needs a specialist"},
    )
    assert moved.status_code == 200
    assert (await tier2.get(path)).status_code == 200
    assert (await tier1.get(path)).status_code == 200
    # A tier-1 agent who never handled it no longer sees it at tier 2.
    newcomer = await live.agent("Ben", ["customer_support"], online=False)
    assert _error(await newcomer.get(path)) == (404, "not_found")


async def test_specialists_for_the_transfer_dialog(live):
    tier1 = await live.agent("Aiko", ["customer_support"])
    kenji = await live.agent("Kenji", ["technical_support"], languages=("en", "ja"))
    mika = await live.agent("Mika", ["technical_support"], online=False)
    both = await live.agent("Dual", ["customer_support", "technical_support"], online=False)
    await live.agent("Sara", ["supervisor"], online=False)
    customer = await live.customer()
    conv = await _open(customer)
    await tier1.post(
        f"/api/v1/conversations/{conv['id']}/transfer",
        {"to_tier": "technical_support", "note": "n"},
    )

    response = await tier1.get("/api/v1/staff/specialists")
    assert response.status_code == 200, response.text
    rows = response.json()
    # Online first, then by name; only technical-support agents.
    assert [r["id"] for r in rows] == [kenji.id, both.id, mika.id]
    first = rows[0]
    assert first == {
        "id": kenji.id,
        "name": "Kenji",
        "presence": "online",
        "languages": ["en", "ja"],
        "open_chats": 1,  # he took the transferred chat
    }
    assert rows[2]["presence"] == "offline" and rows[2]["open_chats"] == 0

    assert _error(await customer.get("/api/v1/staff/specialists")) == (403, "forbidden")
    assert _error(await live.http.get("/api/v1/staff/specialists")) == (
        401,
        "authentication_required",
    )
