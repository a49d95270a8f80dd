"""The timeline: gapless seq under concurrency, idempotent posts, resume, bad input,
and portal isolation."""

import asyncio

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import key


async def _open(customer, body="Help please"):
    response = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]["id"]


async def test_fifty_concurrent_posts_get_gapless_seqs(live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    conv_id = await _open(customer)

    async def post(i):
        actor = customer if i % 2 else agent
        response = await actor.post(
            f"/api/v1/conversations/{conv_id}/messages",
            {"body": f"message {i}", "client_key": key()},
        )
        assert response.status_code == 201, response.text
        return response.json()["seq"]

    seqs = await asyncio.gather(*(post(i) for i in range(50)))
    assert len(set(seqs)) == 50
    items = (
        await agent.get(f"/api/v1/conversations/{conv_id}/items", params={"limit": 1000})
    ).json()
    assert [item["seq"] for item in items] == list(range(1, len(items) + 1))
    assert sorted(seqs) == list(range(min(seqs), min(seqs) + 50))
    conversation = (await agent.get(f"/api/v1/conversations/{conv_id}")).json()
    assert conversation["last_seq"] == len(items)


async def test_retried_client_key_makes_no_duplicate(live):
    customer = await live.customer()
    conv_key = key()
    first = await customer.post("/api/v1/conversations", {"body": "Hi", "client_key": conv_key})
    again = await customer.post("/api/v1/conversations", {"body": "Hi", "client_key": conv_key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["conversation"]["id"] == again.json()["conversation"]["id"]
    conv_id = first.json()["conversation"]["id"]

    message_key = key()
    results = await asyncio.gather(
        *(
            customer.post(
                f"/api/v1/conversations/{conv_id}/messages",
                {"body": "same", "client_key": message_key},
            )
            for _ in range(5)
        )
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["seq"] for r in results}) == 1
    items = (await customer.get(f"/api/v1/conversations/{conv_id}/items")).json()
    assert [i["body"] for i in items if i["kind"] == "message"] == ["Hi", "same"]

    reused = await customer.post(
        f"/api/v1/conversations/{conv_id}/messages",
        {"body": "different", "client_key": message_key},
    )
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "client_key_reused"

    # The same key from another author is a different request, not a replay of theirs.
    agent = await live.agent("Aiko", ["customer_support"])
    assert (
        await agent.post(
            f"/api/v1/conversations/{conv_id}/messages",
            {"body": "agent", "client_key": message_key},
        )
    ).status_code == 201


async def test_socket_resume_loses_nothing_and_duplicates_nothing(live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    conv_id = await _open(customer)
    async with customer.socket() as sock:
        await agent.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": "one", "client_key": key()}
        )
        seen = await sock.wait_item(conv_id, lambda i: i["body"] == "one")
        last_seq = seen["seq"]
    # Offline: the agent keeps writing.
    for n in ("two", "three", "four"):
        await agent.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": n, "client_key": key()}
        )
    await agent.post(
        f"/api/v1/conversations/{conv_id}/messages",
        {"body": "internal", "client_key": key(), "internal": True},
    )
    async with customer.socket() as sock:
        await sock.send({"type": "resume", "cursors": {str(conv_id): last_seq}})
        # The replay has begun once its first item is here (before the server has read the
        # resume frame, a live item would count this socket's cursor from 0, and the client
        # drops what it already has by seq). Then a message arrives live during the replay.
        received = [await sock.wait_item(conv_id)]
        await agent.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": "five", "client_key": key()}
        )
        async with asyncio.timeout(10):
            while received[-1]["body"] != "five":
                received.append(await sock.wait_item(conv_id))
    assert [i["body"] for i in received] == ["two", "three", "four", "five"]
    seqs = [i["seq"] for i in received]
    assert seqs == sorted(set(seqs)) and seqs[0] == last_seq + 1


async def test_messages_over_the_socket_are_acked_and_idempotent(live):
    customer = await live.customer()
    conv_id = await _open(customer)
    async with customer.socket() as sock:
        client_key = key()
        for _ in range(2):
            await sock.send(
                {
                    "type": "message.send",
                    "conversation_id": conv_id,
                    "body": "hey",
                    "client_key": client_key,
                }
            )
        acks = [await sock.wait_for(lambda f: f["type"] == "ack") for _ in range(2)]
    assert acks[0]["item"]["seq"] == acks[1]["item"]["seq"]


async def test_bad_input_gets_clear_4xx(live):
    agent = await live.agent("Aiko", ["customer_support"])
    other_agent = await live.agent("Ben", ["customer_support"], online=False)
    customer = await live.customer(locale="ja")
    conv_id = await _open(customer)
    base = f"/api/v1/conversations/{conv_id}"

    async def expect(response, status, code=None):
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["message"]
        if code:
            assert error["code"] == code
        return error

    error = await expect(
        await customer.post(f"{base}/messages", {"body": "  ", "client_key": key()}),
        422,
        "message_empty",
    )
    assert "メッセージ" in error["message"]  # the customer's locale
    await expect(
        await customer.post(f"{base}/messages", {"body": "x" * 10_001, "client_key": key()}),
        422,
        "message_too_long",
    )
    assert (
        await customer.post(f"{base}/messages", {"body": "x" * 10_000, "client_key": key()})
    ).status_code == 201
    await expect(
        await other_agent.post(f"{base}/transfer", {"to_tier": "technical_support", "note": "n"}),
        403,
        "conversation_not_assigned_to_you",
    )
    await expect(
        await agent.post(f"{base}/transfer", {"to_tier": "technical_support"}),
        422,
        "transfer_note_required",
    )
    await expect(
        await agent.post(f"{base}/transfer", {"to_tier": "tier9", "note": "n"}), 422, "unknown_tier"
    )
    await expect(await customer.post(f"{base}/rating", {"score": 6}), 422, "rating_out_of_range")
    await expect(
        await customer.post(f"{base}/rating", {"score": 4}), 409, "conversation_not_resolved"
    )
    for wrong in ([1, 2], {"body": 5}, {"client_key": key()}, "text"):
        await expect(await customer.post(f"{base}/messages", wrong), 422, "invalid_request")
    raw = await customer.live.http.post(
        f"{base}/messages",
        content=b"{not json",
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    await expect(raw, 422, "invalid_request")
    await expect(await customer.get("/api/v1/conversations/abc"), 422, "invalid_request")
    await expect(await customer.get("/api/v1/nowhere"), 404, "not_found")

    assert (await agent.post(f"{base}/resolve")).status_code == 200
    await expect(
        await customer.post(f"{base}/messages", {"body": "more", "client_key": key()}),
        409,
        "conversation_resolved",
    )
    assert (await customer.post(f"{base}/rating", {"score": 4})).status_code == 201
    assert (await customer.post(f"{base}/rating", {"score": 4})).status_code == 200
    await expect(await customer.post(f"{base}/rating", {"score": 2}), 409, "already_rated")
    # A new request starts again at tier 1.
    new = await customer.post("/api/v1/conversations", {"body": "next", "client_key": key()})
    assert new.json()["conversation"]["tier"] == "customer_support"


async def test_socket_refuses_bad_token_and_survives_bad_frames(live):
    async with connect(f"{live.ws_url}/api/v1/stream?token=garbage") as ws:
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("socket stayed open")
        except ConnectionClosed as closed:
            assert closed.rcvd.code == 4401
    customer = await live.customer()
    async with customer.socket() as sock:
        await sock.ws.send("{this is not json")
        error = await sock.wait_for(lambda f: f["type"] == "error")
        assert error["code"] == "invalid_frame"
        await sock.send({"type": "dance"})
        assert (await sock.wait_for(lambda f: f["type"] == "error"))["code"] == "invalid_frame"
        await sock.send(
            {"type": "message.send", "conversation_id": 999999, "body": "x", "client_key": "k"}
        )
        error = await sock.wait_for(lambda f: f["type"] == "error")
        assert error["code"] == "not_found" and error["client_key"] == "k"
        await sock.send({"type": "ping"})
        assert (await sock.wait_for(lambda f: f["type"] == "pong"))["type"] == "pong"


async def test_portal_cannot_see_another_portals_data(live):
    acme = await live.customer(portal="acme", user="a")
    globex = await live.customer(portal="globex", user="g")
    acme_conv = await _open(acme, "acme secret")
    await _open(globex, "globex question")
    missing = await globex.get("/api/v1/conversations/987654")
    for path in (f"/api/v1/conversations/{acme_conv}", f"/api/v1/conversations/{acme_conv}/items"):
        response = await globex.get(path)
        assert response.status_code == 404
        assert response.json() == missing.json()
    posted = await globex.post(
        f"/api/v1/conversations/{acme_conv}/messages", {"body": "hi", "client_key": key()}
    )
    assert posted.status_code == 404
    assert (
        await globex.post(f"/api/v1/conversations/{acme_conv}/rating", {"score": 1})
    ).status_code == 404
    listed = (await globex.get("/api/v1/conversations")).json()
    assert [c["subject"] for c in listed] == ["globex question"]

    async with globex.socket() as sock:
        await sock.send({"type": "resume", "cursors": {str(acme_conv): 0}})
        error = await sock.wait_for(lambda f: f["type"] == "error")
        assert error["code"] == "not_found"
        await acme.post(
            f"/api/v1/conversations/{acme_conv}/messages",
            {"body": "acme only", "client_key": key()},
        )
        await sock.send({"type": "ping"})
        await sock.wait_for(lambda f: f["type"] == "pong")
        await asyncio.sleep(0.2)
        assert not [
            f
            for f in sock.seen
            if f.get("conversation_id") == acme_conv
            or f.get("conversation", {}).get("id") == acme_conv
        ]


async def test_staff_socket_gets_live_items_of_its_chats_and_of_watched_ones(live):
    assigned = await live.agent("Aiko", ["customer_support"])
    colleague = await live.agent("Ben", ["customer_support"], max_chats=0 + 1)
    await colleague.put("/api/v1/staff/me/presence", {"presence": "away"})
    customer = await live.customer()
    conv_id = await _open(customer)
    async with colleague.socket() as watcher, assigned.socket() as mine:
        await customer.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": "first", "client_key": key()}
        )
        await mine.wait_item(conv_id, lambda i: i["body"] == "first")
        await watcher.send({"type": "resume", "cursors": {str(conv_id): 0}})
        await watcher.wait_item(conv_id, lambda i: i["body"] == "first")  # from the catch-up
        await customer.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": "second", "client_key": key()}
        )
        await watcher.wait_item(conv_id, lambda i: i["body"] == "second")  # live, once watched
        await assigned.post(
            f"/api/v1/conversations/{conv_id}/messages",
            {"body": "internal", "client_key": key(), "internal": True},
        )
        note = await watcher.wait_item(conv_id, lambda i: i["kind"] == "note")
        assert note["body"] == "internal"


async def test_same_key_with_different_bodies_at_once_is_refused_once(live):
    customer = await live.customer()
    conv_id = await _open(customer)
    same_key = key()
    responses = await asyncio.gather(
        *(
            customer.post(
                f"/api/v1/conversations/{conv_id}/messages", {"body": body, "client_key": same_key}
            )
            for body in ("first version", "second version")
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    items = (await customer.get(f"/api/v1/conversations/{conv_id}/items")).json()
    assert len([i for i in items if i["client_key"] == same_key]) == 1


async def test_resolved_conversation_takes_notes_but_no_messages(live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    conv_id = await _open(customer)
    assert (await agent.post(f"/api/v1/conversations/{conv_id}/resolve")).status_code == 200
    message = await agent.post(
        f"/api/v1/conversations/{conv_id}/messages", {"body": "ps", "client_key": key()}
    )
    assert message.status_code == 409 and message.json()["error"]["code"] == "conversation_resolved"
    note = await agent.post(
        f"/api/v1/conversations/{conv_id}/messages",
        {"body": "follow-up later", "client_key": key(), "internal": True},
    )
    assert note.status_code == 201


async def test_agent_can_subscribe_to_every_conversation_it_may_see(live):
    assigned = await live.agent("Aiko", ["customer_support"])
    colleague = await live.agent("Ben", ["customer_support"], online=False)
    specialist = await live.agent("Kenji", ["technical_support"], online=False)
    customer = await live.customer()
    async with (
        colleague.socket() as tier1_wall,
        specialist.socket() as tier2_wall,
        customer.socket() as c_sock,
    ):
        for sock in (tier1_wall, tier2_wall):
            await sock.send({"type": "subscribe", "scope": "visible"})
            assert (await sock.wait_for(lambda f: f["type"] == "subscribed"))["scope"] == "visible"
        await c_sock.send({"type": "subscribe", "scope": "visible"})
        assert (await c_sock.wait_for(lambda f: f["type"] == "error"))["code"] == "forbidden"

        conv_id = await _open(customer)
        queue = await tier1_wall.wait_for(lambda f: f["type"] == "queue")
        assert queue["tier"] == "customer_support"
        await assigned.post(
            f"/api/v1/conversations/{conv_id}/messages",
            {"body": "tier-1 only note", "client_key": key(), "internal": True},
        )
        note = await tier1_wall.wait_item(conv_id, lambda i: i["kind"] == "note")
        assert note["body"] == "tier-1 only note"
        await tier2_wall.send({"type": "ping"})
        await tier2_wall.wait_for(lambda f: f["type"] == "pong")
        assert not [f for f in tier2_wall.seen if f.get("conversation_id") == conv_id]
