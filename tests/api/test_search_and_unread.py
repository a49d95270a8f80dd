"""Finding conversations (by number, portal, customer and any timeline text, within the
agent's visibility) and unread counts (read markers that only move forward)."""

from __future__ import annotations

from supportdesk.core.clock import utcnow
from supportdesk.identity.tokens import mint_identity_token
from tests.api.test_query_counts import count_queries
from tests.factories import Actor, key

SEARCH = "/api/v1/conversations/search"
UNREAD = "/api/v1/staff/me/unread"


async def _customer(live, portal: str, user: str, name: str = "", email: str = "") -> Actor:
    token = mint_identity_token(
        live.settings,
        portal=portal,
        user=user,
        role="admin",
        plan="professional",
        locale="ja",
        name=name or user,
        email=email,
        now=utcnow(),
    )
    actor = Actor(live, token)
    actor.id = (await actor.get("/api/v1/me")).json()["id"]
    return actor


async def _open(customer: Actor, body: str) -> int:
    response = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]["id"]


async def _post(actor: Actor, conv_id: int, body: str, internal: bool = False) -> int:
    response = await actor.post(
        f"/api/v1/conversations/{conv_id}/messages",
        {"body": body, "client_key": key(), "internal": internal},
    )
    assert response.status_code == 201, response.text
    return response.json()["seq"]


async def _found(agent: Actor, q: str) -> list[int]:
    response = await agent.get(SEARCH, params={"q": q})
    assert response.status_code == 200, response.text
    return [conversation["id"] for conversation in response.json()]


async def test_search_by_number_portal_customer_and_any_timeline_text(live):
    tier1 = await live.agent("Aiko", ["customer_support"], max_chats=10)
    yamada = await _customer(live, "acme-corp", "u1", "山田 花子", "hanako@acme.example")
    other = await _customer(live, "globex", "u2", "Bob Stone", "bob@globex.example")

    invoices = await _open(yamada, "請求書のダウンロードができません")
    login = await _open(other, "I cannot log in")
    export = await _open(other, "CSV export is empty")
    await _post(tier1, login, "Please try a private window.")
    await _post(tier1, export, "Customer uses Safari 17 on macOS", internal=True)

    assert (await _found(tier1, f"#{login}")) == [login]
    # A bare number is the conversation first, then any text containing it.
    assert (await _found(tier1, str(export)))[0] == export
    assert await _found(tier1, "#999999") == []
    assert await _found(tier1, "ACME-corp") == [invoices]  # portal external id
    assert await _found(tier1, "globex") == [export, login]  # newest first
    assert await _found(tier1, "山田") == [invoices]  # customer name
    assert await _found(tier1, "Hanako@ACME") == [invoices]  # customer email
    assert await _found(tier1, "ダウンロード") == [invoices]  # a Japanese substring
    assert await _found(tier1, "PRIVATE WINDOW") == [login]  # a later message
    assert await _found(tier1, "safari 17") == [export]  # an internal note
    assert await _found(tier1, "   ") == []
    too_long = await tier1.get(SEARCH, params={"q": "x" * 201})
    assert too_long.status_code == 422

    # Customers do not search the staff's index.
    assert (await yamada.get(SEARCH, params={"q": "acme"})).status_code == 403


async def test_search_sees_only_what_the_agent_may_see(live):
    tier1 = await live.agent("Aiko", ["customer_support"], max_chats=10)
    colleague = await live.agent("Ken", ["customer_support"], online=False)
    specialist = await live.agent("Taro", ["technical_support"])
    product = await live.agent("Pia", ["product"], online=False)
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    customer = await _customer(live, "initech", "u1")

    printer = await _open(customer, "The printer setup fails")
    billing = await _open(customer, "Question about the printer invoice")

    # Tier 2 and product staff do not see tier 1's conversations, so they find nothing.
    assert await _found(tier1, "printer") == [billing, printer]
    assert await _found(colleague, "printer") == [billing, printer]
    assert await _found(specialist, "printer") == []
    assert await _found(specialist, f"#{printer}") == []
    assert await _found(product, "printer") == []
    assert await _found(supervisor, "printer") == [billing, printer]

    transferred = await tier1.post(
        f"/api/v1/conversations/{printer}/transfer",
        {"to_tier": "technical_support", "note": "Driver crash, needs logs"},
    )
    assert transferred.status_code == 200, transferred.text
    # Now tier 2's; tier 1's agent who handled it keeps finding it, their colleague not.
    assert await _found(specialist, "printer") == [printer]
    assert await _found(specialist, "needs logs") == [printer]  # the handoff note
    assert await _found(tier1, "printer") == [billing, printer]
    assert await _found(colleague, "printer") == [billing]
    assert await _found(colleague, f"#{printer}") == []


async def test_search_takes_like_wildcards_literally(live):
    tier1 = await live.agent("Aiko", ["customer_support"], max_chats=10)
    customer = await _customer(live, "hooli", "u1")
    percent = await _open(customer, "The report shows 100% usage")
    underscore = await _open(customer, "Field user_id is missing")
    plain = await _open(customer, "Everything else is fine")

    assert await _found(tier1, "%") == [percent]
    assert await _found(tier1, "100%") == [percent]
    assert await _found(tier1, "_") == [underscore]
    assert await _found(tier1, "r_i") == [underscore]
    assert await _found(tier1, "e%e") == []  # would match "Everything else" as a pattern
    assert await _found(tier1, "fine") == [plain]


async def _unread(agent: Actor) -> dict[int, int]:
    response = await agent.get(UNREAD)
    assert response.status_code == 200, response.text
    return {int(conversation_id): count for conversation_id, count in response.json().items()}


async def _read(agent: Actor, conv_id: int, seq: int):
    return await agent.post(f"/api/v1/conversations/{conv_id}/read", {"seq": seq})


async def test_unread_counts_follow_the_read_marker(live):
    agent = await live.agent("Aiko", ["customer_support"], max_chats=10)
    customer = await _customer(live, "acme", "u1")
    conv = await _open(customer, "Hello")
    # The question and the "assigned" notice are new to the agent; their own reply is not.
    await _post(agent, conv, "Hi, how can I help?")
    await _post(agent, conv, "Checking the logs", internal=True)
    assert await _unread(agent) == {conv: 2}

    last = await _post(customer, conv, "My export fails")
    assert await _unread(agent) == {conv: 3}

    marked = await _read(agent, conv, last)
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"conversation_id": conv, "last_read_seq": last}
    assert await _unread(agent) == {conv: 0}

    await _post(customer, conv, "Any news?")
    await _post(customer, conv, "Hello?")
    assert await _unread(agent) == {conv: 2}

    # Never backwards: an older tab reporting late changes nothing.
    assert (await _read(agent, conv, 1)).json()["last_read_seq"] == last
    assert await _unread(agent) == {conv: 2}

    # Beyond the last item: clamped, so what arrives later is still unread.
    clamped = await _read(agent, conv, 10_000)
    assert clamped.json()["last_read_seq"] == last + 2
    assert await _unread(agent) == {conv: 0}
    await _post(customer, conv, "Thanks")
    assert await _unread(agent) == {conv: 1}

    negative = await _read(agent, conv, -1)
    assert (negative.status_code, negative.json()["error"]["code"]) == (422, "invalid_request")


async def test_read_markers_are_per_agent_and_need_visibility(live):
    agent = await live.agent("Aiko", ["customer_support"], max_chats=10)
    colleague = await live.agent("Ken", ["customer_support"], online=False)
    specialist = await live.agent("Taro", ["technical_support"], online=False)
    customer = await _customer(live, "acme", "u1")
    conv = await _open(customer, "Hello")
    await _post(customer, conv, "More detail")
    before = await _unread(agent)

    # A colleague of the tier may view it and keep their own marker.
    assert (await _read(colleague, conv, 3)).status_code == 200
    assert await _unread(agent) == before
    # Only conversations assigned to the agent are listed.
    assert await _unread(colleague) == {}

    hidden = await _read(specialist, conv, 1)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    missing = await _read(agent, 999_999, 1)
    assert missing.status_code == 404
    # The customer's marker (moved by the widget; product notices use it) is their own.
    assert (
        await customer.post(f"/api/v1/conversations/{conv}/read", {"seq": 3})
    ).status_code == 200
    assert await _unread(agent) == before

    # Resolved chats leave the list.
    assert (await agent.post(f"/api/v1/conversations/{conv}/resolve")).status_code == 200
    assert await _unread(agent) == {}


async def test_unread_is_one_query_however_many_chats(live):
    agent = await live.agent("Aiko", ["customer_support"], max_chats=10)

    async def measure():
        with count_queries(live.svc.db.read_engine) as statements:
            counts = await _unread(agent)
        return counts, len(statements)

    first = await _open(await _customer(live, "p0", "u"), "question 0")
    small, small_queries = await measure()
    for i in range(1, 6):
        conv = await _open(await _customer(live, f"p{i}", "u"), f"question {i}")
        await _read(agent, conv, 1)
    large, large_queries = await measure()

    assert set(small) == {first} and len(large) == 6
    assert large_queries == small_queries
