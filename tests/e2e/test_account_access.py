"""Account access and credential safety in real Chromium (issue 4).

The customer is the Japanese portal administrator of the demo host page (the widget);
the agents sign in to their own consoles in separate browser contexts, or act through
the API where the test is about the widget alone.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import FrameLocator, Response, Route, expect

from ..factories import Actor, Live
from .conftest import Browsing
from .test_accessibility import assert_no_violations
from .test_console import chat_entry, shows
from .test_console import sign_in as console_sign_in
from .test_widget import ADMIN, ask, connected, conversation_id, open_widget, widget_frame

READ = "アカウントのデータと設定の閲覧（読み取りのみ）"
WRITE_SETTINGS = "アカウント設定の変更"
ACCESS_PATHS = ("/access-grants", "/access-requests", "/access-log", "/access-tokens")


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def introspect(live: Live, token: str) -> dict[str, Any]:
    response = await live.http.post(
        "/api/v1/access-tokens/introspect",
        json={"token": token},
        headers={"Authorization": f"Bearer {live.settings.host_api_key}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def transfer_to_specialist(tier1: Actor, specialist: Actor, cid: int) -> None:
    response = await tier1.post(
        f"/api/v1/conversations/{cid}/transfer",
        {"to_tier": "technical_support", "note": "Needs a look inside the account."},
    )
    assert response.status_code == 200, response.text
    async with specialist.socket() as sock:
        await sock.send({"type": "resume", "cursors": {str(cid): 0}})
        await sock.wait_item(
            cid,
            lambda i: (
                (i["data"] or {}).get("event") == "assigned"
                and i["data"]["agent"]["id"] == specialist.id
            ),
        )


async def request_access(
    specialist: Actor, cid: int, reason: str, minutes: int, scopes: list[str] | None = None
) -> int:
    body: dict[str, Any] = {"reason": reason, "duration_minutes": minutes}
    if scopes is not None:
        body["scopes"] = scopes
    response = await specialist.post(f"/api/v1/conversations/{cid}/access-requests", body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def card(widget: FrameLocator, grant_id: int | None = None):  # type: ignore[no-untyped-def]
    where = "#chat-items .sd-grant"
    return widget.locator(f"{where}[data-grant-id='{grant_id}']" if grant_id else where)


def system_line(widget: FrameLocator, text: str):  # type: ignore[no-untyped-def]
    return widget.locator("#chat-items .sd-system").filter(has_text=text)


async def test_request_card_narrowed_approval_token_tier1_line_and_one_click_revoke(
    browsing: Browsing, new_browsing: Callable[[], Awaitable[Browsing]], demo_live: Live
) -> None:
    tier1_console, tier2_console = await new_browsing(), await new_browsing()
    tier1, tier2 = tier1_console.page, tier2_console.page
    await console_sign_in(tier1_console, demo_live, "Aiko Agent", ["customer_support"])
    kenji = await console_sign_in(
        tier2_console, demo_live, "Kenji Specialist", ["technical_support"]
    )
    # Everything the tier-1 console asks the server, to show it never touches access.
    tier1_responses: list[Response] = []
    tier1.on("response", lambda response: tier1_responses.append(response))

    # The customer asks; tier 1 takes it and hands it to technical support.
    widget = await open_widget(browsing, ADMIN)
    await ask(widget, "請求書の設定を保存するとエラーになります。")
    await connected(browsing)
    await expect(widget.locator("#chat-status")).to_contain_text("Aiko Agent")
    entry = tier1.locator("#cs-mine .cs-conv").first
    cid = int(await entry.get_attribute("data-conversation") or 0)
    await entry.click()
    await shows(tier1, "請求書の設定を保存するとエラーになります。")
    await expect(tier1.locator("#cs-access-request")).to_be_hidden()
    await tier1.locator("#cs-transfer").click()
    await tier1.locator("#cs-transfer-note").fill("Saving billing settings fails; see the account.")
    await tier1.locator("#cs-transfer-submit").click()
    await expect(tier1.locator("#cs-transfer-dialog")).to_be_hidden()
    await expect(widget.locator("#chat-status")).to_contain_text("Kenji Specialist")

    # The specialist asks for access: read is ticked by default, a reason is required,
    # and a duration over the cap is refused with the server's limit.
    await chat_entry(tier2, cid).click()
    await shows(tier2, "請求書の設定を保存するとエラーになります。")
    await tier2.locator("#cs-access-request").click()
    dialog = tier2.locator("#cs-access-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Read only")).to_be_checked()
    await expect(dialog.get_by_label("Change settings")).not_to_be_checked()
    await dialog.get_by_label("Change settings").check()
    await tier2.locator("#cs-access-submit").click()
    await expect(tier2.locator("#cs-access-form-error")).to_contain_text("Write why")
    await expect(tier2.locator("#cs-access-reason")).to_be_focused()
    reason = "To see why the billing settings page refuses to save."
    await tier2.locator("#cs-access-reason").fill(reason)
    await tier2.locator("#cs-access-duration").fill("30")
    await tier2.locator("#cs-access-unit").select_option("1440")
    async with tier2.expect_response(f"**/conversations/{cid}/access-requests") as refused:
        await tier2.locator("#cs-access-submit").click()
    assert (await refused.value).status == 422
    await expect(tier2.locator("#cs-access-form-error")).to_contain_text("1440")
    await expect(tier2.locator("#cs-access-duration")).to_have_attribute("aria-invalid", "true")
    await tier2.locator("#cs-access-duration").fill("2")
    await tier2.locator("#cs-access-unit").select_option("60")
    await assert_no_violations(tier2, "console: access request dialog")
    await tier2_console.screenshot("access-request-dialog")
    await tier2.locator("#cs-access-submit").click()
    await expect(dialog).to_be_hidden()
    grant_line = tier2.locator("#cs-grants .cs-grant-line")
    await expect(grant_line).to_contain_text("Waiting for the customer: Kenji Specialist asked")
    await shows(tier2, "Access requested by Kenji Specialist.")

    # The card appears live in the widget: who, what, how long, why.
    request_card = card(widget)
    await expect(request_card).to_have_count(1)
    await expect(request_card.locator(".sd-card-title")).to_have_text(
        "Kenji Specialist がアカウントへのアクセスを求めています"
    )
    facts = request_card.locator(".sd-facts dd")
    await expect(facts.nth(0)).to_have_text("Kenji Specialist（テクニカルサポート）のみ")
    await expect(request_card.locator(".sd-scopes li")).to_have_text([READ, WRITE_SETTINGS])
    await expect(facts.nth(2)).to_have_text("2 時間")
    await expect(facts.nth(3)).to_have_text(reason)
    await expect(request_card.locator(".sd-grant-state")).to_contain_text(
        "お客様の判断をお待ちしています。"
    )
    await browsing.screenshot("access-card-pending")

    # The administrator narrows it: no settings changes, one hour instead of two.
    await request_card.get_by_label(WRITE_SETTINGS).uncheck()
    await request_card.get_by_label("期間").select_option(label="1 時間")
    await request_card.get_by_role("button", name="承認する").click()
    await expect(request_card.locator(".sd-grant-state")).to_contain_text(
        "までアクセスを許可しています。"
    )
    await expect(request_card.locator(".sd-scopes li")).to_have_text([READ])
    await expect(facts.nth(2)).to_have_text("1 時間（リクエストは 2 時間）")
    approved = system_line(widget, "Kenji Specialist（テクニカルサポート）は ")
    await expect(approved).to_contain_text("までお客様のアカウントにアクセスできます。")
    await browsing.screenshot("access-card-active")

    # The specialist's console follows live and mints a token, shown once.
    await expect(grant_line).to_contain_text("Active until")
    await expect(grant_line).to_contain_text("Read only")
    await tier2.get_by_role("button", name="Get access token").click()
    token_field = tier2.locator(".cs-token-value")
    await expect(token_field).to_have_attribute("readonly", "")
    token = await token_field.input_value()
    claims = jwt_claims(token)
    assert claims["scope"] == "read" and claims["sub"] == f"agent:{kenji}"
    assert (await introspect(demo_live, token))["active"] is True
    await expect(
        system_line(widget, "テクニカルサポートがアカウントへのアクセスを使い始めました。")
    ).to_have_count(1)
    await assert_no_violations(tier2, "console: grant status and token")
    await tier2_console.screenshot("access-token-console")

    # Tier 1 sees one line and no controls, and never called an access endpoint.
    access_line = tier1.locator("#cs-access-line")
    await expect(access_line).to_have_text(re.compile(r"^Technical support has access until .+\.$"))
    await shows(tier1, "Access requested by Kenji Specialist.")
    await shows(tier1, "Technical support was given access until")
    await expect(tier1.locator("#cs-access")).to_be_hidden()
    await expect(tier1.locator("#cs-access-request")).to_be_hidden()
    await expect(tier1.locator(".cs-token-button, .cs-grant")).to_have_count(0)
    await expect(tier1.locator("#cs-timeline")).not_to_contain_text(reason)
    await tier1_console.screenshot("access-tier1-line")

    # One click revokes; the card, both consoles and introspection follow.
    await request_card.get_by_role("button", name="アクセスを取り消す").click()
    await expect(request_card.locator(".sd-grant-state")).to_contain_text(
        "アクセスを取り消しました。"
    )
    await expect(request_card.get_by_role("button")).to_have_count(0)
    await expect(system_line(widget, "アクセスは取り消されました。")).to_have_count(1)
    await expect(grant_line).to_contain_text("Ended (revoked by the customer")
    await expect(tier2.locator(".cs-token-button, .cs-token")).to_have_count(0)
    await shows(tier2, "The customer revoked account access.")
    await expect(access_line).to_be_hidden()
    await shows(tier1, "The customer revoked account access.")
    assert (await introspect(demo_live, token))["active"] is False
    await browsing.screenshot("access-card-revoked")

    touched = [r.url for r in tier1_responses if any(p in r.url for p in ACCESS_PATHS)]
    assert touched == []
    assert [r.url for r in tier1_responses if r.status == 403] == []
    for b in (browsing, tier1_console, tier2_console):
        assert b.errors == [] and b.dialogs == []


async def test_a_pasted_password_is_removed_and_the_customer_is_told(
    browsing: Browsing, demo_live: Live
) -> None:
    agent = await demo_live.agent("Aiko Agent", ["customer_support"])
    widget = await open_widget(browsing, ADMIN)
    await ask(widget, "ログインできなくなりました。")
    await expect(widget.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)

    secret = "Tr0ub4dor&3xyz"
    body = widget.locator("#chat-body")
    await body.focus()
    await browsing.page.keyboard.insert_text(f"パスワードは {secret} です。確認してください。")
    await body.press("Enter")

    notice = widget.locator("#chat-items .sd-notice")
    await expect(notice).to_have_count(1)
    await expect(notice.locator(".sd-notice-title")).to_have_text(
        "メッセージから秘密の情報を削除しました"
    )
    await expect(notice).to_contain_text("メッセージにパスワードが含まれていました。")
    await expect(notice).to_contain_text(
        "サポートがお客様のパスワードを必要とすることはありません。"
    )
    await expect(notice.locator(".sd-notice-action")).to_have_text(
        "チャットに入力されたため、今すぐ変更してください。"
    )
    mine = widget.locator(".sd-mine .sd-body").last
    await expect(mine).to_contain_text("[password removed]")
    await expect(widget.locator("#chat-items")).not_to_contain_text(secret)
    await browsing.screenshot("secret-removed-notice")

    # What was stored (and what the agent reads) has the placeholder, not the password.
    cid = await conversation_id(agent)
    items = (await agent.get(f"/api/v1/conversations/{cid}/items")).json()
    assert not [item for item in items if secret in item["body"]]
    messages = [item for item in items if item["kind"] == "message"]
    assert "[password removed]" in messages[-1]["body"]
    notices = [i for i in items if (i["data"] or {}).get("event") == "secret_removed"]
    assert [n["data"]["kinds"] for n in notices] == [["password"]]
    assert notices[0]["seq"] == messages[-1]["seq"] + 1
    assert browsing.errors == []


async def test_access_page_lists_grants_and_the_log_with_a_denied_request(
    browsing: Browsing, demo_live: Live
) -> None:
    tier1 = await demo_live.agent("Aiko Agent", ["customer_support"])
    specialist = await demo_live.agent("Kenji Specialist", ["technical_support"])
    widget = await open_widget(browsing, ADMIN)
    await ask(widget, "Webhook が届かなくなりました。")
    await expect(widget.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)
    cid = await conversation_id(tier1)
    await transfer_to_specialist(tier1, specialist, cid)

    # A first request: its card passes axe, and the administrator denies it.
    first = await request_access(specialist, cid, "To read the webhook delivery log.", 60)
    first_card = card(widget, first)
    await expect(first_card.locator(".sd-facts dd").nth(3)).to_have_text(
        "To read the webhook delivery log."
    )
    await expect(first_card.get_by_label(READ)).to_be_checked()
    await assert_no_violations(widget_frame(browsing), "widget: access request card")
    await first_card.get_by_role("button", name="拒否する").click()
    await expect(first_card.locator(".sd-grant-state")).to_have_text("拒否しました。")
    await expect(system_line(widget, "アクセスのリクエストは拒否されました。")).to_have_count(1)

    # A second request is approved as asked, and used.
    second = await request_access(
        specialist, cid, "To check the webhook settings.", 120, ["read", "write:settings"]
    )
    second_card = card(widget, second)
    await second_card.get_by_role("button", name="承認する").click()
    await expect(second_card.locator(".sd-grant-state")).to_contain_text(
        "までアクセスを許可しています。"
    )
    minted = await specialist.post(f"/api/v1/access-grants/{second}/tokens")
    assert minted.status_code == 201, minted.text

    # The page opens from the chat by keyboard.
    await widget.locator("#chat-access").focus()
    await browsing.page.keyboard.press("Enter")
    await expect(widget.locator("#view-access")).to_be_visible()
    await expect(widget.locator("#access-heading")).to_be_focused()
    grants = widget.locator("#grants-list .sd-grant")
    await expect(grants).to_have_count(2)
    await expect(grants.nth(0)).to_have_attribute("data-grant-id", str(second))
    denied_grant = widget.locator(f"#grants-list .sd-grant[data-grant-id='{first}']")
    await expect(denied_grant.locator(".sd-grant-state")).to_have_text("拒否しました。")
    active_grant = widget.locator(f"#grants-list .sd-grant[data-grant-id='{second}']")
    await expect(active_grant.locator(".sd-scopes li")).to_have_text([READ, WRITE_SETTINGS])

    log = widget.locator("#log-list .sd-log-entry")
    entries = (await demo_admin(demo_live).get("/api/v1/me/access-log")).json()["entries"]
    assert "denied" in {entry["action"] for entry in entries}
    await expect(log).to_have_count(len(entries))
    shown = await widget_frame(browsing).eval_on_selector_all(
        "#log-list .sd-log-entry", "nodes => nodes.map(node => node.dataset.action)"
    )
    assert shown == [entry["action"] for entry in entries]  # newest first, all of them
    await expect(log.filter(has_text="アクセスを拒否しました。")).to_have_count(1)
    await expect(
        log.filter(has_text="Kenji Specialist がアクセスをリクエストしました。")
    ).to_have_count(2)
    await expect(widget.locator("#log-broken")).to_be_hidden()
    await assert_no_violations(widget_frame(browsing), "widget: account access page")
    await browsing.screenshot("access-page")
    await widget.locator("#log-heading").scroll_into_view_if_needed()
    await browsing.screenshot("access-page-log")

    # One click on the page revokes; the grant and the log update live.
    await active_grant.get_by_role("button", name="アクセスを取り消す").click()
    await expect(active_grant.locator(".sd-grant-state")).to_contain_text(
        "アクセスを取り消しました。"
    )
    await expect(log.filter(has_text="アクセスを取り消しました。")).to_have_count(1)
    refused = await specialist.post(f"/api/v1/access-grants/{second}/tokens")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "grant_not_active"

    # Back to the chat, where the card shows the same state.
    await widget.locator("#sd-back").click()
    await expect(widget.locator("#view-chat")).to_be_visible()
    await expect(second_card.locator(".sd-grant-state")).to_contain_text(
        "アクセスを取り消しました。"
    )

    # A log whose chain does not verify is flagged (the response is altered in flight:
    # the server side of tampering is tested in the API tests).
    async def broken_chain(route: Route) -> None:
        response = await route.fetch()
        page = await response.json()
        page["chain_intact"] = False
        await route.fulfill(response=response, json=page)

    await browsing.page.route("**/api/v1/me/access-log*", broken_chain)
    await widget.locator("#chat-access").click()
    await expect(widget.locator("#log-broken")).to_be_visible()
    await expect(widget.locator("#log-broken")).to_contain_text("改ざん検知")
    await browsing.screenshot("access-page-broken-chain")
    assert browsing.errors == []


def demo_admin(live: Live) -> Actor:
    """The widget's customer (demo user 0) as an API caller, with the same identity."""
    token = live.token("acme", "acme-admin", "admin", "professional", "ja", "山田 花子")
    return Actor(live, token)
