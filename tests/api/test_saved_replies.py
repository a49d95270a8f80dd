"""Saved replies: the policy replies every installation has, search for the composer's
``/`` picker, management by supervisors only, validation codes and the audit trail."""

from __future__ import annotations

from typing import Any

from tests.factories import Actor

URL = "/api/v1/saved-replies"


async def _delete(actor: Actor, path: str):
    return await actor.live.http.delete(path, headers=actor.headers)


def _reply(**fields: Any) -> dict[str, Any]:
    return {
        "shortcut": "refund",
        "title": "Refunds",
        "body": "Refunds are processed within 5 business days.",
        "locale": "en",
        **fields,
    }


async def _shortcuts(actor: Actor, **params: str) -> list[tuple[str, str]]:
    response = await actor.get(URL, params=params)
    assert response.status_code == 200, response.text
    return [(reply["locale"], reply["shortcut"]) for reply in response.json()]


async def test_the_policy_replies_are_installed_in_both_languages(live):
    agent = await live.agent("Aiko", ["customer_support"], online=False)
    policies = {"no-phone", "password", "describe-problem"}
    everything = await _shortcuts(agent)
    assert {shortcut for locale, shortcut in everything if locale == "ja"} >= policies
    assert {shortcut for locale, shortcut in everything if locale == "en"} >= policies

    japanese = (await agent.get(URL, params={"q": "パスワード", "locale": "ja"})).json()
    assert [reply["shortcut"] for reply in japanese] == ["password"]
    assert "一時的なアクセス許可" in japanese[0]["body"]
    # Found by words of the body, too, and case-insensitively.
    assert await _shortcuts(agent, q="REMOTE DESKTOP", locale="en") == [("en", "no-phone")]
    assert await _shortcuts(agent, q="スクリーンショット", locale="ja") == [
        ("ja", "describe-problem"),
        ("ja", "no-phone"),
    ]


async def test_supervisor_manages_replies_and_every_agent_finds_them(live):
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    agent = await live.agent("Aiko", ["customer_support"], online=False)

    created = await supervisor.post(URL, _reply(shortcut=" /Refund "))
    assert created.status_code == 201, created.text
    reply = created.json()
    assert (reply["shortcut"], reply["created_by"], reply["updated_by"]) == (
        "refund",
        supervisor.id,
        supervisor.id,
    )
    # Same shortcut in the other language is another reply.
    ja = await supervisor.post(
        URL, _reply(locale="ja", title="返金", body="返金は5営業日以内に処理されます。")
    )
    assert ja.status_code == 201, ja.text

    assert await _shortcuts(agent, q="ref", locale="en") == [("en", "refund")]
    assert await _shortcuts(agent, q="5 BUSINESS") == [("en", "refund")]
    assert await _shortcuts(agent, q="/refund") == [("en", "refund"), ("ja", "refund")]
    assert await _shortcuts(agent, q="営業日", locale="ja") == [("ja", "refund")]

    updated = await supervisor.put(
        f"{URL}/{reply['id']}", _reply(shortcut="refund-policy", title="Refund policy")
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["shortcut"] == "refund-policy"
    assert updated.json()["created_at"] == reply["created_at"]
    assert await _shortcuts(agent, q="refund-p") == [("en", "refund-policy")]

    assert (await _delete(supervisor, f"{URL}/{reply['id']}")).status_code == 204
    assert await _shortcuts(agent, q="refund", locale="en") == []
    assert (await _delete(supervisor, f"{URL}/{reply['id']}")).status_code == 404
    assert (await supervisor.put(f"{URL}/{reply['id']}", _reply())).status_code == 404

    audit = (await supervisor.get("/api/v1/audit", params={"subject_type": "saved_reply"})).json()
    assert [(e["action"], e["subject_id"], e["actor_id"]) for e in reversed(audit)] == [
        ("saved_reply.created", reply["id"], supervisor.id),
        ("saved_reply.created", ja.json()["id"], supervisor.id),
        ("saved_reply.updated", reply["id"], supervisor.id),
        ("saved_reply.deleted", reply["id"], supervisor.id),
    ]
    assert audit[1]["data"]["changed"] == ["shortcut", "title"]
    assert audit[0]["data"]["title"] == "Refund policy"


async def test_only_supervisors_manage_and_only_staff_read(live):
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    agent = await live.agent("Aiko", ["customer_support", "technical_support"], online=False)
    existing = (await supervisor.post(URL, _reply())).json()

    assert (await agent.post(URL, _reply(shortcut="mine"))).status_code == 403
    assert (await agent.put(f"{URL}/{existing['id']}", _reply(title="x"))).status_code == 403
    refused = await _delete(agent, f"{URL}/{existing['id']}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

    customer = await live.customer()
    assert (await customer.get(URL)).status_code == 403
    assert (await live.http.get(URL)).status_code == 401
    # Nothing changed.
    assert await _shortcuts(agent, q="refund") == [("en", "refund")]
    assert (await agent.get(URL, params={"q": "refund"})).json()[0]["title"] == "Refunds"


async def test_bad_replies_get_stable_codes_and_nothing_is_written(live):
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    first = (await supervisor.post(URL, _reply())).json()
    other = (await supervisor.post(URL, _reply(shortcut="zeta", title="Zeta", body="Zeta."))).json()

    cases = [
        (_reply(shortcut="fresh", body="   \n "), 422, "saved_reply_body_empty"),
        (_reply(shortcut="fresh", body="x" * 5_001), 422, "saved_reply_body_too_long"),
        (_reply(shortcut="fresh", title=" "), 422, "saved_reply_title_empty"),
        (_reply(shortcut="fresh", title="t" * 121), 422, "saved_reply_title_too_long"),
        (_reply(shortcut="two words"), 422, "saved_reply_shortcut_invalid"),
        (_reply(shortcut="/"), 422, "saved_reply_shortcut_invalid"),
        (_reply(shortcut="パスワード"), 422, "saved_reply_shortcut_invalid"),
        (_reply(shortcut="s" * 41), 422, "saved_reply_shortcut_invalid"),
        (_reply(shortcut="fresh", locale="fr"), 422, "invalid_request"),
        ({"shortcut": "new"}, 422, "invalid_request"),
        (_reply(shortcut="REFUND"), 409, "saved_reply_shortcut_taken"),
        (_reply(shortcut="password"), 409, "saved_reply_shortcut_taken"),  # a policy reply
    ]
    for body, status, code in cases:
        response = await supervisor.post(URL, body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    taken = await supervisor.put(f"{URL}/{other['id']}", _reply(shortcut="refund"))
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "saved_reply_shortcut_taken"
    assert "/refund" in taken.json()["error"]["message"]
    # Saving a reply under its own shortcut is not a conflict.
    kept = await supervisor.put(f"{URL}/{first['id']}", _reply(title="Refunds, again"))
    assert kept.status_code == 200

    assert await _shortcuts(supervisor, q="fresh") == []
    assert await _shortcuts(supervisor, q="refund") == [("en", "refund")]
    assert await _shortcuts(supervisor, q="zeta") == [("en", "zeta")]


async def test_search_treats_like_wildcards_as_text(live):
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    await supervisor.post(URL, _reply(shortcut="discount", body="You get 100% of it back."))
    await supervisor.post(URL, _reply(shortcut="snake_case", body="Names like user_id."))
    await supervisor.post(URL, _reply(shortcut="plain", body="Nothing special here."))

    assert await _shortcuts(supervisor, q="100%") == [("en", "discount")]
    assert await _shortcuts(supervisor, q="%") == [("en", "discount")]
    assert await _shortcuts(supervisor, q="e_c") == [("en", "snake_case")]
    assert await _shortcuts(supervisor, q="r_i") == [("en", "snake_case")]
    # The shortcut typed after "/" ranks first; the others still match by text.
    await supervisor.post(URL, _reply(shortcut="names", body="Plain names."))
    assert (await _shortcuts(supervisor, q="name", locale="en"))[0] == ("en", "names")
