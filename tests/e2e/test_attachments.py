"""Screenshots, videos and files in the widget and the console, in real Chromium.

The customer pastes a screenshot (a ``paste`` event with an image ``File``, as a
browser makes when Ctrl+V holds a screenshot) or picks files with the attach button
(the file chooser); the agent's console shows the thumbnail live and opens it in the
lightbox; a video shows its poster and plays; refused files show the server's reason
in the customer's language; a large file takes the resumable (tus) path and survives a
dropped connection.

The server runs with a small image limit (``SMALL_IMAGE_LIMIT``) so that "too large"
can be shown with a small file.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import FrameLocator, Page, Route, expect

from ..factories import Live, start_live
from .conftest import Browsing
from .test_accessibility import assert_no_violations
from .test_console import sign_in
from .test_widget import ADMIN, ask, connected, open_widget, widget_frame

SMALL_IMAGE_LIMIT = 300 * 1024
XSS_NAME = "<img src=x onerror=alert(1)>.png"
BLOB = re.compile(r"^blob:")


@pytest.fixture
async def demo_live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    """The demo server of conftest.py, with a small image limit (overrides its fixture,
    so ``browsing`` and ``new_browsing`` use this server)."""
    async with start_live(
        database_url, tmp_path / "server", demo=True, max_image_bytes=SMALL_IMAGE_LIMIT
    ) as server:
        yield server


def png(width: int = 320, height: int = 200, colour: str = "#1f4fb4") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def noisy_png(width: int, height: int) -> bytes:
    """A PNG that does not compress (random pixels): width * height * 3 bytes or so."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def tiny_mp4(tmp_path: Path) -> bytes:
    """One second of a test pattern, H.264 (or MPEG-4 part 2 where x264 is missing)."""
    out = tmp_path / "clip.mp4"
    for codec in (["-c:v", "libx264", "-pix_fmt", "yuv420p"], ["-c:v", "mpeg4"]):
        result = subprocess.run(
            [
                "ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi",
                "-i", "testsrc=size=160x120:rate=10", "-t", "1",
                *codec, "-movflags", "+faststart", str(out),
            ],
            capture_output=True,
            check=False,
        )  # fmt: skip
        if result.returncode == 0:
            return out.read_bytes()
    raise AssertionError(f"ffmpeg could not make a video: {result.stderr.decode()}")


def file_payload(name: str, mime: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


async def pick(page: Page, frame: FrameLocator, button: str, *files: dict[str, Any]) -> None:
    """Click an attach button and choose files in the file chooser, as a person does."""
    async with page.expect_file_chooser() as chooser:
        await frame.locator(button).click()
    await (await chooser.value).set_files(list(files))  # type: ignore[arg-type]


async def paste_screenshot(b: Browsing, target: str, name: str = "image.png") -> None:
    """Paste a screenshot into a field: a ClipboardEvent whose DataTransfer holds a PNG
    File drawn on a canvas in the page (what Chromium dispatches for Ctrl+V)."""
    await widget_frame(b).evaluate(
        """async ([target, name]) => {
            const canvas = document.createElement("canvas");
            canvas.width = 400;
            canvas.height = 240;
            const g = canvas.getContext("2d");
            g.fillStyle = "#f5f7fb"; g.fillRect(0, 0, 400, 240);
            g.fillStyle = "#a4161a"; g.fillRect(20, 20, 360, 60);
            g.fillStyle = "#1d2330"; g.font = "24px sans-serif";
            g.fillText("Export failed: timeout", 30, 140);
            const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
            const data = new DataTransfer();
            data.items.add(new File([blob], name, { type: "image/png" }));
            const field = document.querySelector(target);
            field.focus();
            field.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: data, bubbles: true, cancelable: true,
            }));
        }""",
        [target, name],
    )


async def loaded(image: Any) -> None:
    """The <img> has really decoded an image (a blob: URL fetched with credentials)."""
    await expect(image).to_have_attribute("src", BLOB)
    await image.evaluate(
        "img => img.complete && img.naturalWidth > 0 ? true : new Promise((ok, no) => {"
        " img.onload = () => ok(true); img.onerror = () => no(new Error('image failed')); })"
    )
    assert await image.evaluate("img => img.naturalWidth") > 0


async def console_with_chat(
    b: Browsing, agent_b: Browsing, live: Live, question: str
) -> tuple[FrameLocator, Page]:
    """The agent is online in the console; the customer asks in the widget and the agent
    opens the conversation."""
    await sign_in(agent_b, live, "Aiko Agent", ["customer_support"])
    frame = await open_widget(b, ADMIN)
    await ask(frame, question)
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(b)
    page = agent_b.page
    entry = page.locator("#cs-mine .cs-conv").first
    await expect(entry).to_have_count(1)
    await entry.click()
    await expect(page.locator("#cs-timeline .cs-item").filter(has_text=question)).to_have_count(1)
    return frame, page


async def test_pasted_screenshot_shows_live_in_the_console_and_opens_in_the_lightbox(
    browsing: Browsing, new_browsing: Any, demo_live: Live
) -> None:
    agent_b = await new_browsing()
    frame, console = await console_with_chat(
        browsing, agent_b, demo_live, "エクスポートが失敗します"
    )

    # Ctrl+V of a screenshot in the composer: a chip with name, size and progress.
    await paste_screenshot(browsing, "#chat-body")
    chip = frame.locator("#chat-files .sd-att-chip")
    await expect(chip).to_have_count(1)
    await expect(chip.locator(".sd-att-chip-name")).to_have_text("image.png")
    await expect(chip.locator(".sd-att-chip-size")).to_contain_text("KB")
    await expect(chip.locator(".sd-att-chip-status")).to_have_text("送信できます")
    await expect(chip.get_by_role("button", name="image.png を取り除く")).to_be_visible()
    await assert_no_violations(widget_frame(browsing), "widget: a pending attachment")
    await browsing.screenshot("attachments-widget-pasted")

    # Enter sends it (no text needed); the chip goes, the message shows the thumbnail.
    await frame.locator("#chat-body").press("Enter")
    await expect(chip).to_have_count(0)
    mine = frame.locator(".sd-mine .sd-att--image")
    await expect(mine).to_have_count(1)
    await loaded(mine.locator("img"))

    # The agent's console shows it live, without a reload.
    tile = console.locator("#cs-timeline .cs-item--customer .sd-att--image")
    await expect(tile).to_have_count(1)
    await loaded(tile.locator("img.sd-att-thumb-img"))
    await expect(tile.locator(".sd-att-name")).to_have_text("image.png")

    # It opens in the lightbox; the full image loads; Escape closes it and focus returns.
    thumb = tile.get_by_role("button", name="Open image image.png")
    await thumb.click()
    box = console.locator("dialog.sd-lightbox")
    await expect(box).to_be_visible()
    await expect(box.locator(".sd-lightbox-title")).to_have_text("image.png")
    await loaded(box.locator("img.sd-lightbox-img"))
    assert await box.locator("img.sd-lightbox-img").evaluate("img => img.naturalWidth") == 400
    await assert_no_violations(console, "console: the lightbox")
    await agent_b.screenshot("attachments-console-lightbox")
    await console.keyboard.press("Escape")
    await expect(box).to_be_hidden()
    await expect(thumb).to_be_focused()
    await agent_b.screenshot("attachments-console-timeline")
    assert browsing.errors == [] and agent_b.errors == []


async def test_files_picked_before_asking_go_with_the_question_and_names_stay_text(
    browsing: Browsing, demo_live: Live
) -> None:
    agent = await demo_live.agent("Aiko Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    page = browsing.page

    # The attach button opens the file chooser; the files wait for the question.
    await pick(page, frame, "#ask-attach", file_payload(XSS_NAME, "image/png", png()))
    await pick(page, frame, "#ask-attach", file_payload("notes.txt", "text/plain", b"hello\n"))
    chips = frame.locator("#ask-files .sd-att-chip")
    await expect(chips).to_have_count(2)
    await expect(chips.first.locator(".sd-att-chip-name")).to_have_text(XSS_NAME)
    await expect(chips.first.locator(".sd-att-chip-status")).to_have_text(
        "送信時にアップロードします"
    )
    # Removing one, by keyboard, keeps the other.
    await chips.nth(1).get_by_role("button").press("Enter")
    await expect(chips).to_have_count(1)
    await pick(page, frame, "#ask-attach", file_payload("notes.txt", "text/plain", b"hello\n"))
    await expect(chips).to_have_count(2)
    await browsing.screenshot("attachments-widget-ask-form")

    await ask(frame, "画面のスクリーンショットです")
    # The question, then the files in a message of their own.
    attached = frame.locator(".sd-mine .sd-att-list")
    await expect(attached.locator(".sd-att")).to_have_count(2)
    image = attached.locator(".sd-att--image")
    await loaded(image.locator("img"))

    # The agent's API shows the same message with both attachments.
    conversations = (await agent.get("/api/v1/conversations")).json()
    items = (await agent.get(f"/api/v1/conversations/{conversations[0]['id']}/items")).json()
    sent = [i for i in items if i["kind"] == "message" and (i["data"] or {}).get("attachments")]
    assert len(sent) == 1
    stored = {a["kind"]: a["filename"] for a in sent[0]["data"]["attachments"]}
    assert stored["file"] == "notes.txt"
    assert "src=x onerror=alert(1)" in stored["image"]  # the server tidies the name

    # The names are text: the only <img> is the thumbnail itself.
    await expect(image.locator(".sd-att-name")).to_have_text(stored["image"])
    await expect(frame.locator("#chat-items img")).to_have_count(1)
    text_file = attached.locator(".sd-att--file")
    await expect(text_file.locator(".sd-att-name")).to_have_text("notes.txt")
    await expect(text_file.get_by_role("link", name="notes.txt をダウンロード")).to_be_visible()

    # The download link fetches with the identity token and saves the file.
    async with page.expect_download() as download_info:
        await text_file.get_by_role("link").click()
    download = await download_info.value
    assert download.suggested_filename == "notes.txt"
    saved = Path(await download.path())
    assert await asyncio.to_thread(saved.read_bytes) == b"hello\n"
    await asyncio.sleep(0.3)  # a would-be onerror handler would have fired by now
    assert browsing.dialogs == [] and browsing.errors == []
    await browsing.screenshot("attachments-widget-sent")


async def test_a_video_shows_its_poster_and_plays_in_console_and_widget(
    browsing: Browsing, new_browsing: Any, demo_live: Live, tmp_path: Path
) -> None:
    agent_b = await new_browsing()
    frame, console = await console_with_chat(browsing, agent_b, demo_live, "動画を送ります")
    clip = tiny_mp4(tmp_path)
    await pick(browsing.page, frame, "#chat-attach", file_payload("clip.mp4", "video/mp4", clip))
    await expect(frame.locator("#chat-files .sd-att-chip-status")).to_have_text("送信できます")
    await frame.locator("#chat-body").fill("再現手順の動画です")
    await frame.locator("#chat-body").press("Enter")

    # The console: the poster with a play button; playing gives a real <video>.
    tile = console.locator("#cs-timeline .sd-att--video")
    await expect(tile).to_have_count(1)
    await expect(tile.locator("..").locator("..")).to_contain_text("再現手順の動画です")
    await loaded(tile.locator("img.sd-att-poster-img"))
    await agent_b.screenshot("attachments-console-video-poster")
    await tile.get_by_role("button", name="Play video clip.mp4").click()
    video = tile.locator("video.sd-att-player")
    await expect(video).to_have_count(1)
    await video.evaluate(
        "v => v.readyState >= 1 || new Promise((ok, no) => {"
        " v.onloadedmetadata = () => ok(true); v.onerror = () => no(new Error('video failed')); })"
    )
    assert await video.evaluate("v => v.readyState") >= 1  # HAVE_METADATA
    assert await video.evaluate("v => v.controls") is True
    assert round(await video.evaluate("v => v.duration")) == 1
    await agent_b.screenshot("attachments-console-video-playing")

    # The widget plays it too, from a blob fetched with the identity token.
    mine = frame.locator(".sd-mine .sd-att--video")
    await loaded(mine.locator("img.sd-att-poster-img"))
    await mine.get_by_role("button", name="動画 clip.mp4 を再生").click()
    player = mine.locator("video.sd-att-player")
    await expect(player).to_have_attribute("src", BLOB)
    await player.evaluate(
        "v => v.readyState >= 1 || new Promise((ok, no) => {"
        " v.onloadedmetadata = () => ok(true); v.onerror = () => no(new Error('video failed')); })"
    )
    await browsing.screenshot("attachments-widget-video")
    assert browsing.errors == [] and agent_b.errors == []


async def test_refused_files_show_the_servers_reason_in_the_customers_language(
    browsing: Browsing, demo_live: Live
) -> None:
    await demo_live.agent("Aiko Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    await ask(frame, "添付のテスト")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    big = noisy_png(400, 400)
    assert len(big) > SMALL_IMAGE_LIMIT
    await pick(
        browsing.page,
        frame,
        "#chat-attach",
        file_payload("logo.svg", "image/svg+xml", svg),
        file_payload("huge.png", "image/png", big),
    )
    chips = frame.locator("#chat-files .sd-att-chip")
    await expect(chips).to_have_count(2)
    svg_error = chips.filter(has_text="logo.svg").locator(".sd-att-chip-error")
    await expect(svg_error).to_contain_text("SVG 画像はスクリプトを含められるため添付できません。")
    big_error = chips.filter(has_text="huge.png").locator(".sd-att-chip-error")
    await expect(big_error).to_contain_text("ファイルが大きすぎます")
    await expect(big_error).to_contain_text("300")  # the limit, with its value
    await assert_no_violations(widget_frame(browsing), "widget: refused attachments")
    await browsing.screenshot("attachments-widget-refused")

    # Nothing refused is sent: Enter with only failed chips sends no message.
    await frame.locator("#chat-body").press("Enter")
    await asyncio.sleep(0.3)
    await expect(frame.locator(".sd-mine")).to_have_count(1)  # the question only
    await expect(chips).to_have_count(2)
    assert browsing.errors == []


async def test_a_large_file_uploads_resumably_and_survives_a_dropped_connection(
    browsing: Browsing, demo_live: Live
) -> None:
    agent = await demo_live.agent("Aiko Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    await ask(frame, "大きなログファイルです")
    page = browsing.page
    line = b"2024-05-01T12:00:00Z INFO export worker heartbeat ok\n"
    log = line * (9 * 1024 * 1024 // len(line) + 1)  # over the 8 MB resumable threshold
    seen: list[str] = []
    dropped = False

    async def drop_second_chunk(route: Route) -> None:
        nonlocal dropped
        request = route.request
        seen.append(f"{request.method} {request.headers.get('upload-offset', '')}")
        patches = [entry for entry in seen if entry.startswith("PATCH")]
        if request.method == "PATCH" and len(patches) == 2 and not dropped:
            dropped = True
            await route.abort("connectionreset")
            return
        await route.continue_()

    await page.route("**/api/v1/uploads/**", drop_second_chunk)
    await pick(page, frame, "#chat-attach", file_payload("export.log", "text/plain", log))
    chip = frame.locator("#chat-files .sd-att-chip")
    await expect(chip.locator(".sd-att-chip-status")).to_have_text("送信できます", timeout=30_000)
    assert dropped, seen
    # After the dropped chunk the upload asked the server where it was, and went on.
    assert any(entry.startswith("HEAD") for entry in seen), seen
    await frame.locator("#chat-body").press("Enter")
    shown = frame.locator(".sd-mine .sd-att--file .sd-att-name")
    await expect(shown).to_have_count(1)

    conversations = (await agent.get("/api/v1/conversations")).json()
    items = (await agent.get(f"/api/v1/conversations/{conversations[0]['id']}/items")).json()
    stored = [a for i in items for a in (i["data"] or {}).get("attachments", [])]
    assert len(stored) == 1
    assert stored[0]["size"] == len(log)
    assert stored[0]["sha256"] == hashlib.sha256(log).hexdigest()
    await expect(shown).to_have_text(stored[0]["filename"])  # export.txt: stored as text
    assert browsing.errors == []


async def test_the_agent_attaches_a_screenshot_from_the_console(
    browsing: Browsing, new_browsing: Any, demo_live: Live
) -> None:
    agent_b = await new_browsing()
    frame, console = await console_with_chat(browsing, agent_b, demo_live, "手順を教えてください")

    # The agent pastes a screenshot into the composer and picks a file with the button.
    await console.locator("#cs-body").evaluate(
        """async (field) => {
            const canvas = document.createElement("canvas");
            canvas.width = 200; canvas.height = 120;
            canvas.getContext("2d").fillRect(10, 10, 100, 50);
            const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
            const data = new DataTransfer();
            data.items.add(new File([blob], "settings.png", { type: "image/png" }));
            field.focus();
            field.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: data, bubbles: true, cancelable: true,
            }));
        }"""
    )
    async with console.expect_file_chooser() as chooser:
        await console.locator("#cs-attach").click()
    await (await chooser.value).set_files(file_payload("steps.pdf", "application/pdf", _PDF))
    chips = console.locator("#cs-files .sd-att-chip")
    await expect(chips).to_have_count(2)
    await expect(chips.locator(".sd-att-chip-status")).to_have_text(["Ready to send"] * 2)
    await assert_no_violations(console, "console: pending attachments")
    await console.locator("#cs-body").fill("See the screenshot.")
    await console.locator("#cs-body").press("Enter")
    await expect(chips).to_have_count(0)
    own = console.locator("#cs-timeline .cs-item--own")
    await loaded(own.locator(".sd-att--image img"))
    await expect(own.locator(".sd-att--file .sd-att-name")).to_have_text("steps.pdf")

    # The customer sees the thumbnail live and opens it in the widget's lightbox.
    theirs = frame.locator(".sd-theirs .sd-att--image")
    await loaded(theirs.locator("img"))
    await theirs.get_by_role("button", name="画像 settings.png を開く").click()
    box = frame.locator("dialog.sd-lightbox")
    await loaded(box.locator("img.sd-lightbox-img"))
    await assert_no_violations(widget_frame(browsing), "widget: the lightbox")
    await browsing.screenshot("attachments-widget-lightbox")
    await box.get_by_role("button", name="閉じる").click()
    await expect(box).to_be_hidden()
    await expect(theirs.get_by_role("button")).to_be_focused()
    assert browsing.errors == [] and agent_b.errors == []


_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
