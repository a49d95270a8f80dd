"""The whole support flow over real HTTP and WebSocket, on the database under test."""

from datetime import timedelta

from supportdesk.core.clock import utcnow
from tests.factories import key


async def test_whole_support_flow(live):
    tier1 = await live.agent("Aiko", ["customer_support"])
    tier2 = await live.agent("Kenji", ["technical_support"])
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    customer = await live.customer(portal="acme", user="admin-1", locale="en")

    async with customer.socket() as c_sock, tier1.socket() as t1_sock, tier2.socket() as t2_sock:
        # 1. An eligible administrator opens a chat.
        opened = await customer.post(
            "/api/v1/conversations", {"body": "The export button does nothing", "client_key": key()}
        )
        assert opened.status_code == 201, opened.text
        conv_id = opened.json()["conversation"]["id"]
        assert opened.json()["conversation"]["tier"] == "customer_support"

        # 2. A tier-1 agent is assigned automatically (the customer sees it live).
        assigned = await c_sock.wait_item(
            conv_id, lambda i: (i["data"] or {}).get("event") == "assigned"
        )
        assert assigned["data"]["agent"]["id"] == tier1.id
        await t1_sock.wait_item(conv_id, lambda i: i["body"] == "The export button does nothing")

        # 3. Messages flow live both ways.
        await t1_sock.send(
            {
                "type": "message.send",
                "conversation_id": conv_id,
                "body": "Which browser do you use?",
                "client_key": key(),
            }
        )
        got = await c_sock.wait_item(
            conv_id, lambda i: i["kind"] == "message" and i["author"]["type"] == "agent"
        )
        assert got["body"] == "Which browser do you use?"
        assert got["author"]["tier"] == "customer_support"
        await c_sock.send(
            {
                "type": "message.send",
                "conversation_id": conv_id,
                "body": "Chrome 130",
                "client_key": key(),
            }
        )
        got = await t1_sock.wait_item(conv_id, lambda i: i["body"] == "Chrome 130")
        assert got["author"]["type"] == "customer"

        # 4. Tier 1 transfers the chat with a note.
        response = await tier1.post(
            f"/api/v1/conversations/{conv_id}/transfer",
            {"to_tier": "technical_support", "note": "Export fails in Chrome; reproduced"},
        )
        assert response.status_code == 200, response.text
        system = await c_sock.wait_item(
            conv_id, lambda i: (i["data"] or {}).get("event") == "transferred"
        )
        assert system["kind"] == "system"

        # 5. Tier 2 is assigned and sees the whole history with the handoff note.
        await t2_sock.wait_item(
            conv_id,
            lambda i: (
                (i["data"] or {}).get("event") == "assigned"
                and i["data"]["agent"]["id"] == tier2.id
            ),
        )
        history = (await tier2.get(f"/api/v1/conversations/{conv_id}/items")).json()
        bodies = [item["body"] for item in history]
        assert bodies[:1] == ["The export button does nothing"]
        assert "Chrome 130" in bodies
        notes = [item for item in history if item["kind"] == "note"]
        assert [n["body"] for n in notes] == ["Export fails in Chrome; reproduced"]
        assert [item["seq"] for item in history] == list(range(1, len(history) + 1))
        # ... while the customer never sees the note.
        customer_view = (await customer.get(f"/api/v1/conversations/{conv_id}/items")).json()
        assert all(item["kind"] != "note" for item in customer_view)
        assert not any(f.get("item", {}).get("kind") == "note" for f in c_sock.seen)

        # Tier 1 keeps read-only access.
        assert (await tier1.get(f"/api/v1/conversations/{conv_id}/items")).status_code == 200
        refused = await tier1.post(
            f"/api/v1/conversations/{conv_id}/messages",
            {"body": "still here?", "client_key": key()},
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "conversation_read_only"

        # 6. Tier 2 resolves; the customer gets a rating prompt and rates.
        await tier2.post(
            f"/api/v1/conversations/{conv_id}/messages",
            {"body": "Fixed on our side.", "client_key": key()},
        )
        assert (await tier2.post(f"/api/v1/conversations/{conv_id}/resolve")).status_code == 200
        prompt = await c_sock.wait_item(conv_id, lambda i: i["kind"] == "card")
        assert prompt["data"]["card"] == "rating_prompt"
        rating = await customer.post(
            f"/api/v1/conversations/{conv_id}/rating", {"score": 5, "comment": "great"}
        )
        assert rating.status_code == 201, rating.text

    # 7. The CSAT report counts the rating for both agents.
    report = (await supervisor.get("/api/v1/reports/csat")).json()
    assert report["count"] == 1 and report["average"] == 5
    assert report["distribution"]["5"] == 1
    per_agent = {(row["agent_id"], row["tier"]): row for row in report["by_agent"]}
    assert per_agent[(tier1.id, "customer_support")]["count"] == 1
    assert per_agent[(tier2.id, "technical_support")]["average"] == 5
    tier2_only = (
        await supervisor.get("/api/v1/reports/csat", params={"tier": "technical_support"})
    ).json()
    assert [row["agent_id"] for row in tier2_only["by_agent"]] == [tier2.id]

    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    yesterday = (utcnow() - timedelta(days=1)).isoformat()
    later = (await supervisor.get("/api/v1/reports/csat", params={"from": tomorrow})).json()
    assert later["count"] == 0 and later["by_agent"] == []
    window = (
        await supervisor.get("/api/v1/reports/csat", params={"from": yesterday, "to": tomorrow})
    ).json()
    assert window["count"] == 1
    just_tier1 = (await supervisor.get("/api/v1/reports/csat", params={"agent": tier1.id})).json()
    assert just_tier1["count"] == 1
    assert [row["agent_id"] for row in just_tier1["by_agent"]] == [tier1.id]
    assert (await tier1.get("/api/v1/reports/csat")).status_code == 403
