"""Attachments end to end on a live server, on both storage backends (a local directory
and S3 through moto's standalone server on loopback): upload, the message that carries
it, downloads with Range and the security headers, who may read, hostile inputs refused
with nothing stored, GPS removed, resumable uploads, limits and garbage collection."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import socket
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from supportdesk.attachments.actions import do_collect_garbage
from supportdesk.attachments.models import Attachment, Upload
from supportdesk.core.clock import utcnow
from tests.factories import SECRET, Actor, Live, key, start_live
from tests.servers import free_port

KB = 1024
MB = 1024 * 1024
# Small limits, so "over the limit" files stay small; the resumable test's log file fits.
LIMITS = {
    "max_image_bytes": 600 * KB,
    "max_video_bytes": 2 * MB,
    "max_file_bytes": 6 * MB,
}


# --- the S3-compatible server --------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone S3-compatible server (PyPI ``moto[server]``) in its own process,
    on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("moto_server exited") from None
                import time

                time.sleep(0.05)
        else:
            raise RuntimeError("moto_server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


S3_CREDENTIALS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing-secret"}


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Storage settings: the local directory, or a fresh bucket on the moto server."""
    if request.param == "local":
        return {"storage": "local"}
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"sd-{key()[:16]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )
    client.create_bucket(Bucket=bucket)
    return {"storage": "s3", "s3_endpoint_url": endpoint, "s3_bucket": bucket, **S3_CREDENTIALS}


Starter = Callable[..., AbstractAsyncContextManager[Live]]


@pytest.fixture
def start(database_url: str, tmp_path: Path, backend: dict[str, Any]) -> Starter:
    """``async with start(**settings) as live``: a live server on this test's backend."""

    def starter(**overrides: Any) -> AbstractAsyncContextManager[Live]:
        return start_live(database_url, tmp_path, **{**backend, **LIMITS, **overrides})

    return starter


@pytest.fixture
async def live(start: Starter) -> AsyncIterator[Live]:
    async with start() as server:
        yield server


# --- helpers -----------------------------------------------------------------------------


async def chat(live: Live) -> tuple[Actor, Actor, int]:
    """A customer's conversation, assigned to a tier-1 agent."""
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    response = await customer.post(
        "/api/v1/conversations", {"body": "Look at this", "client_key": key()}
    )
    assert response.status_code == 201, response.text
    conversation = response.json()["conversation"]
    assert conversation["assigned_agent"]["id"] == agent.id
    return customer, agent, conversation["id"]


async def upload(
    actor: Actor, conversation_id: int, filename: str, data: bytes, client_key: str | None = None
) -> httpx.Response:
    return await actor.post(
        f"/api/v1/conversations/{conversation_id}/attachments",
        files={"file": (filename, data, "application/octet-stream")},
        data={"client_key": client_key or key()},
    )


def png(width: int = 64, height: int = 48, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {  # GPSInfo
        1: "N",
        2: (35.0, 41.0, 22.0),
        3: "E",
        4: (139.0, 41.0, 30.0),
    }
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "blue").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(0x8825))


def mp4(tmp_path: Path) -> bytes:
    out = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=160x120:rate=10",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return out.read_bytes()


def png_bomb() -> bytes:
    """A small PNG that decodes to 20000 x 20000 pixels (400 megapixels)."""
    side = 20_000
    row = b"\x00" + bytes(side // 8)  # filter byte + one bit per pixel
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def log_text(size: int) -> bytes:
    lines = []
    total = 0
    number = 0
    while total < size:
        line = f"2026-11-28 12:{number // 60 % 60:02d}:{number % 60:02d} INFO job {number} ok\n"
        lines.append(line)
        total += len(line)
        number += 1
    return "".join(lines).encode()[:size]


async def stored_keys(live: Live) -> list[str]:
    return await live.svc.storage.keys()


async def attachment_rows(live: Live) -> int:
    async with live.svc.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Attachment)) or 0)


def leftovers(live: Live) -> list[Path]:
    """Files in the service's working folders (incoming uploads and partial tus files)."""
    base = live.settings.data_dir / "attachments"
    found = []
    for folder in ("incoming", "resumable"):
        try:
            found += list((base / folder).rglob("*"))
        except FileNotFoundError:  # being removed right now: not clean yet
            found.append(base / folder)
    return found


async def assert_nothing_stored(live: Live) -> None:
    assert await stored_keys(live) == []
    assert await attachment_rows(live) == 0
    assert leftovers(live) == []


async def stored_bytes(live: Live, digest: str) -> bytes:
    chunks = [chunk async for chunk in live.svc.storage.read(digest, 0, 1 << 40)]
    return b"".join(chunk for chunk in chunks)


# --- happy paths ------------------------------------------------------------------------


async def test_upload_send_and_download(live: Live) -> None:
    customer, agent, cid = await chat(live)
    image = png()
    client_key = key()
    response = await upload(customer, cid, "screen shot.png", image, client_key)
    assert response.status_code == 201, response.text
    att = response.json()
    assert att["kind"] == "image" and att["mime"] == "image/png"
    assert att["filename"] == "screen shot.png"
    assert (att["width"], att["height"]) == (64, 48)
    assert att["has_thumbnail"] and not att["has_poster"]
    assert att["url"] == f"/api/v1/attachments/{att['id']}/download"
    assert att["inline_url"] == f"/api/v1/attachments/{att['id']}/inline"
    assert att["thumbnail_url"] == f"/api/v1/attachments/{att['id']}/thumbnail"
    assert att["poster_url"] is None

    # A retry with the same client_key is the same attachment, not a second file.
    again = await upload(customer, cid, "screen shot.png", image, client_key)
    assert again.status_code == 200 and again.json()["id"] == att["id"]
    assert await attachment_rows(live) == 1

    # Before it is sent, only the uploader may fetch it.
    assert (await customer.get(att["url"])).status_code == 200
    assert (await agent.get(att["url"])).status_code == 404

    # Nobody else may send it: it is the customer's.
    stolen = await agent.post(
        f"/api/v1/conversations/{cid}/messages",
        {"body": "mine now", "client_key": key(), "attachment_ids": [att["id"]]},
    )
    assert stolen.status_code == 422
    assert stolen.json()["error"]["code"] == "attachment_not_linkable"

    # The message carries it; the body may be empty.
    sent = await customer.post(
        f"/api/v1/conversations/{cid}/messages",
        {"body": "", "client_key": key(), "attachment_ids": [att["id"]]},
    )
    assert sent.status_code == 201, sent.text
    item = sent.json()
    assert item["data"]["attachments"] == [att]
    items = (await agent.get(f"/api/v1/conversations/{cid}/items")).json()
    assert items[-1]["data"]["attachments"][0]["id"] == att["id"]

    # An attachment goes with one message only.
    twice = await customer.post(
        f"/api/v1/conversations/{cid}/messages",
        {"body": "again", "client_key": key(), "attachment_ids": [att["id"]]},
    )
    assert twice.status_code == 422 and twice.json()["error"]["code"] == "attachment_not_linkable"

    # Customer and agent of the conversation download the stored bytes.
    for actor in (customer, agent):
        got = await actor.get(att["url"])
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == att["sha256"]
        assert got.headers["content-type"] == "image/png"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert got.headers["cache-control"] == "private"
        assert got.headers["accept-ranges"] == "bytes"
        inline = await actor.get(att["inline_url"])
        assert inline.status_code == 200
        assert inline.headers["content-disposition"].startswith("inline;")
        thumb = await actor.get(att["thumbnail_url"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        with Image.open(io.BytesIO(thumb.content)) as picture:
            assert picture.format == "WEBP"
    # Everyone else: 404, whether another portal's customer or an agent of another tier.
    stranger = await live.customer(portal="globex", user="mallory")
    specialist = await live.agent("Kenji", ["technical_support"])
    for outsider in (stranger, specialist):
        for url in (att["url"], att["inline_url"], att["thumbnail_url"]):
            assert (await outsider.get(url)).status_code == 404
    assert (await customer.get("/api/v1/attachments/999999/download")).status_code == 404
    assert (await stored_bytes(live, att["sha256"])) == (await customer.get(att["url"])).content


async def test_internal_note_attachment_is_staff_only_and_socket_send(live: Live) -> None:
    customer, agent, cid = await chat(live)
    note_file = (await upload(agent, cid, "trace.txt", b"stack trace\n")).json()
    note = await agent.post(
        f"/api/v1/conversations/{cid}/messages",
        {
            "body": "internal",
            "client_key": key(),
            "internal": True,
            "attachment_ids": [note_file["id"]],
        },
    )
    assert note.status_code == 201, note.text
    assert (await agent.get(note_file["url"])).status_code == 200
    assert (await customer.get(note_file["url"])).status_code == 404

    # The socket's message.send carries attachments too.
    shot = (await upload(customer, cid, "shot.png", png(color="green"))).json()
    async with customer.socket() as sock:
        client_key = key()
        await sock.send(
            {
                "type": "message.send",
                "conversation_id": cid,
                "body": "",
                "client_key": client_key,
                "attachment_ids": [shot["id"]],
            }
        )
        ack = await sock.wait_for(lambda f: f["type"] == "ack")
    assert ack["item"]["data"]["attachments"][0]["id"] == shot["id"]
    assert (await agent.get(shot["url"])).status_code == 200


async def test_video_poster_range_and_416(live: Live, tmp_path: Path) -> None:
    customer, agent, cid = await chat(live)
    video = mp4(tmp_path)
    response = await upload(customer, cid, "clip.mp4", video)
    assert response.status_code == 201, response.text
    att = response.json()
    assert att["kind"] == "video" and att["mime"] == "video/mp4"
    assert (att["width"], att["height"]) == (160, 120)
    assert att["duration"] == pytest.approx(1.0, abs=0.2)
    assert att["has_poster"] and att["poster_url"]
    assert att["sha256"] == hashlib.sha256(video).hexdigest()  # videos are stored as sent
    await customer.post(
        f"/api/v1/conversations/{cid}/messages",
        {"body": "video", "client_key": key(), "attachment_ids": [att["id"]]},
    )
    poster = await agent.get(att["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(poster.content)) as picture:
        assert picture.format == "JPEG" and picture.size == (160, 120)

    size = len(video)
    part = await live.http.get(
        att["inline_url"], headers={**agent.headers, "Range": "bytes=10-109"}
    )
    assert part.status_code == 206
    assert part.content == video[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{size}"
    assert part.headers["content-length"] == "100"
    tail = await live.http.get(att["url"], headers={**agent.headers, "Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == video[-16:]
    rest = await live.http.get(att["url"], headers={**agent.headers, "Range": f"bytes={size - 5}-"})
    assert rest.status_code == 206 and rest.content == video[-5:]
    beyond = await live.http.get(att["url"], headers={**agent.headers, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    assert beyond.json()["error"]["code"] == "range_not_satisfiable"


async def test_gps_exif_is_removed(live: Live) -> None:
    customer, _, cid = await chat(live)
    original = jpeg_with_gps()
    assert has_gps(original)
    att = (await upload(customer, cid, "holiday.jpg", original)).json()
    assert att["mime"] == "image/jpeg"
    downloaded = (await customer.get(att["url"])).content
    stored = await stored_bytes(live, att["sha256"])
    assert stored == downloaded
    assert not has_gps(downloaded)
    assert b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()


# --- hostile inputs ----------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def polyglot() -> bytes:
    """A valid PNG that also carries an HTML payload after its end."""
    return png() + b"<html><script>alert(1)</script></html>"


HOSTILE = {
    "svg with script": ("drawing.svg", lambda: SVG, 415, "attachment_type_not_allowed"),
    "html renamed to png": ("cat.png", lambda: HTML, 415, "attachment_type_not_allowed"),
    "png decompression bomb": ("bomb.png", png_bomb, 413, "attachment_image_too_large"),
    "polyglot": ("both.png", polyglot, 415, "attachment_type_not_allowed"),
    "zero bytes": ("empty.txt", lambda: b"", 422, "attachment_empty"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_file_is_refused_and_nothing_stored(live: Live, case: str) -> None:
    filename, make, status, code = HOSTILE[case]
    customer, _, cid = await chat(live)
    response = await upload(customer, cid, filename, make())
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    await assert_nothing_stored(live)


OVER = {
    "image": ("big.png", lambda: png(2000, 2000, "white") + b"", "SUPPORTDESK_MAX_IMAGE_BYTES"),
    "video": ("long.mp4", None, "SUPPORTDESK_MAX_VIDEO_BYTES"),
    "file": ("big.log", lambda: log_text(3 * KB), "SUPPORTDESK_MAX_FILE_BYTES"),
}


@pytest.mark.parametrize("kind", list(OVER))
async def test_each_size_limit(start: Starter, tmp_path: Path, kind: str) -> None:
    limits = {"max_image_bytes": 3 * KB, "max_video_bytes": 4 * KB, "max_file_bytes": 2 * KB}
    filename, make, setting = OVER[kind]
    data = mp4(tmp_path) if make is None else make()
    async with start(**limits) as live:
        customer, _, cid = await chat(live)
        response = await upload(customer, cid, filename, data)
        assert response.status_code == 413, response.text
        error = response.json()["error"]
        assert error["code"] == "attachment_too_large"
        assert error["setting"] == setting
        # The kind is known from the first bytes, so its own limit applies, named.
        limit = limits[f"max_{kind}_bytes"]
        assert error["kind"] == kind and error["limit_bytes"] == limit
        assert f"{limit // KB} KB" in error["message"]
        await assert_nothing_stored(live)


async def test_path_traversal_filename_is_only_a_name(live: Live) -> None:
    customer, _, cid = await chat(live)
    response = await upload(customer, cid, "../../etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    assert response.status_code == 201, response.text
    att = response.json()
    assert "/" not in att["filename"] and ".." not in att["filename"]
    assert att["filename"].startswith("passwd")
    digest = att["sha256"]
    assert await stored_keys(live) == [f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"]
    assert not (live.settings.data_dir / "etc").exists()
    got = await customer.get(att["url"])
    assert 'filename="passwd' in got.headers["content-disposition"]


async def test_truncated_multipart_body(live: Live) -> None:
    customer, _, cid = await chat(live)
    boundary = "sdboundary42"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="client_key"\r\n\r\n{key()}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="log.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + log_text(200 * KB)

    # The HTTP message is complete but the multipart body stops before its last boundary.
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(head), 16 * KB):
            yield head[start : start + 16 * KB]

    response = await live.http.post(
        f"/api/v1/conversations/{cid}/attachments",
        content=chunks(),
        headers={**customer.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "upload_incomplete"
    await assert_nothing_stored(live)

    # The client goes away in the middle of the body.
    port = int(live.base_url.rsplit(":", 1)[1])
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"POST /api/v1/conversations/{cid}/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {customer.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) * 2}\r\n\r\n"
    ).encode()
    writer.write(request + head)
    await writer.drain()
    # The server is writing the file into its working directory; now the client leaves.
    await wait_until(lambda: any(p.name == "upload" for p in leftovers(live)))
    writer.close()
    await writer.wait_closed()
    await wait_until(lambda: not leftovers(live))
    await assert_nothing_stored(live)


async def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


# --- resumable uploads ---------------------------------------------------------------------

TUS = {"Tus-Resumable": "1.0.0"}


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def test_resumable_upload_resumes_and_completes(live: Live) -> None:
    customer, agent, cid = await chat(live)
    source = log_text(4 * MB + 12345)
    options = await live.http.options("/api/v1/uploads")
    assert options.headers["tus-version"] == "1.0.0"
    assert options.headers["tus-extension"] == "creation,termination"
    assert int(options.headers["tus-max-size"]) == LIMITS["max_file_bytes"]

    client_key = key()
    create_headers = {
        **customer.headers,
        **TUS,
        "Upload-Length": str(len(source)),
        "Upload-Metadata": metadata(filename="server.log", client_key=client_key),
    }
    no_tus = await live.http.post(
        f"/api/v1/conversations/{cid}/uploads",
        headers={k: v for k, v in create_headers.items() if k != "Tus-Resumable"},
    )
    assert no_tus.status_code == 412 and no_tus.headers["tus-version"] == "1.0.0"
    created = await live.http.post(f"/api/v1/conversations/{cid}/uploads", headers=create_headers)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.startswith("/api/v1/uploads/")
    retried = await live.http.post(f"/api/v1/conversations/{cid}/uploads", headers=create_headers)
    assert retried.status_code == 200 and retried.headers["location"] == location

    def patch_headers(offset: int) -> dict[str, str]:
        return {
            **customer.headers,
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }

    first = 1 * MB + 7
    response = await live.http.patch(location, content=source[:first], headers=patch_headers(0))
    assert response.status_code == 204, response.text
    assert response.headers["upload-offset"] == str(first)
    assert "supportdesk-attachment-id" not in response.headers

    # Interrupted: the client sends part of the next chunk and goes away.
    port = int(live.base_url.rsplit(":", 1)[1])
    sent = 700 * KB
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in patch_headers(first).items())
        + f"Content-Length: {2 * MB}\r\n\r\n"
    ).encode()
    writer.write(head + source[first : first + sent])
    await writer.drain()
    writer.close()
    await writer.wait_closed()

    async def offset() -> int:
        head_response = await live.http.head(location, headers={**customer.headers, **TUS})
        assert head_response.status_code == 200
        assert head_response.headers["upload-length"] == str(len(source))
        return int(head_response.headers["upload-offset"])

    async with asyncio.timeout(10):
        while (resume_at := await offset()) < first + sent:
            await asyncio.sleep(0.02)
    assert resume_at == first + sent  # every byte that arrived is kept

    # Others cannot see the upload; a wrong offset is refused.
    assert (await live.http.head(location, headers={**agent.headers, **TUS})).status_code == 404
    wrong = await live.http.patch(location, content=b"x", headers=patch_headers(first))
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "upload_offset_mismatch"
    pending = await live.http.get(location, headers=customer.headers)
    assert pending.status_code == 409

    done = await live.http.patch(
        location, content=source[resume_at:], headers=patch_headers(resume_at)
    )
    assert done.status_code == 204, done.text
    assert done.headers["upload-offset"] == str(len(source))
    attachment_id = int(done.headers["supportdesk-attachment-id"])
    result = await live.http.get(location, headers=customer.headers)
    assert result.status_code == 200
    att = result.json()
    assert att["id"] == attachment_id
    assert att["kind"] == "file" and att["size"] == len(source)
    assert att["sha256"] == hashlib.sha256(source).hexdigest()
    assert (await stored_bytes(live, att["sha256"])) == source
    downloaded = await customer.get(att["url"])
    assert hashlib.sha256(downloaded.content).hexdigest() == att["sha256"]
    assert leftovers(live) == []


async def test_resumable_refusal_and_termination_leave_nothing(live: Live) -> None:
    customer, _, cid = await chat(live)
    headers = {**customer.headers, **TUS}
    data = HTML

    created = await live.http.post(
        f"/api/v1/conversations/{cid}/uploads",
        headers={
            **headers,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(filename="page.png", client_key=key()),
        },
    )
    location = created.headers["location"]
    refused = await live.http.patch(
        location,
        content=data,
        headers={
            **headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert refused.status_code == 415
    assert (await live.http.head(location, headers=headers)).status_code == 404
    await assert_nothing_stored(live)

    too_big = await live.http.post(
        f"/api/v1/conversations/{cid}/uploads",
        headers={
            **headers,
            "Upload-Length": str(LIMITS["max_file_bytes"] + 1),
            "Upload-Metadata": metadata(filename="huge.log", client_key=key()),
        },
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "attachment_too_large"

    created = await live.http.post(
        f"/api/v1/conversations/{cid}/uploads",
        headers={
            **headers,
            "Upload-Length": "100",
            "Upload-Metadata": metadata(filename="a.log", client_key=key()),
        },
    )
    location = created.headers["location"]
    await live.http.patch(
        location,
        content=b"x" * 40,
        headers={
            **headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert (await live.http.delete(location, headers=headers)).status_code == 204
    assert (await live.http.head(location, headers=headers)).status_code == 404
    await assert_nothing_stored(live)


# --- limits --------------------------------------------------------------------------------


async def test_quota_and_count_limits(start: Starter) -> None:
    async with start(portal_quota_bytes=10 * KB, max_attachments_per_message=2) as live:
        customer, _, cid = await chat(live)
        first = await upload(customer, cid, "a.log", log_text(6 * KB))
        assert first.status_code == 201
        keys_before = await stored_keys(live)
        second = await upload(customer, cid, "b.log", log_text(6 * KB - 1))
        assert second.status_code == 413, second.text
        error = second.json()["error"]
        assert error["code"] == "portal_quota_exceeded"
        assert error["quota_bytes"] == 10 * KB and "10 KB" in error["message"]
        assert await stored_keys(live) == keys_before
        assert await attachment_rows(live) == 1
        # Another portal has its own quota.
        other = await live.customer(portal="globex", user="g1")
        opened = await other.post("/api/v1/conversations", {"body": "Hi", "client_key": key()})
        other_cid = opened.json()["conversation"]["id"]
        assert (await upload(other, other_cid, "c.log", log_text(6 * KB))).status_code == 201

        ids = [
            (await upload(customer, cid, f"{n}.txt", f"note {n}\n".encode())).json()["id"]
            for n in range(3)
        ]
        too_many = await customer.post(
            f"/api/v1/conversations/{cid}/messages",
            {"body": "three", "client_key": key(), "attachment_ids": ids},
        )
        assert too_many.status_code == 422
        error = too_many.json()["error"]
        assert error["code"] == "too_many_attachments" and error["limit"] == 2
        assert "2" in error["message"]
        ok = await customer.post(
            f"/api/v1/conversations/{cid}/messages",
            {"body": "two", "client_key": key(), "attachment_ids": ids[:2]},
        )
        assert ok.status_code == 201


# --- garbage collection ------------------------------------------------------------------


async def test_orphans_are_collected(live: Live) -> None:
    customer, _, cid = await chat(live)
    sent = (await upload(customer, cid, "sent.png", png(color="blue"))).json()
    orphan = (await upload(customer, cid, "orphan.png", png(color="yellow"))).json()
    # The same content uploaded twice: one copy stored, still used by the sent one.
    twin = (await upload(customer, cid, "twin.png", png(color="blue"))).json()
    assert twin["sha256"] == sent["sha256"]
    await customer.post(
        f"/api/v1/conversations/{cid}/messages",
        {"body": "see", "client_key": key(), "attachment_ids": [sent["id"]]},
    )
    created = await live.http.post(
        f"/api/v1/conversations/{cid}/uploads",
        headers={
            **customer.headers,
            **TUS,
            "Upload-Length": "1000",
            "Upload-Metadata": metadata(filename="half.log", client_key=key()),
        },
    )
    location = created.headers["location"]
    await live.http.patch(
        location,
        content=b"y" * 10,
        headers={
            **customer.headers,
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert len(await stored_keys(live)) == 4  # two images and their two thumbnails

    # Not yet: younger than SUPPORTDESK_ATTACHMENT_ORPHAN_HOURS.
    assert (await do_collect_garbage(live.svc)).attachments == 0
    assert (await customer.get(orphan["url"])).status_code == 200

    live.svc.clock = lambda: utcnow() + timedelta(hours=25)
    collected = await do_collect_garbage(live.svc)
    assert (collected.attachments, collected.uploads) == (2, 1)
    assert (await customer.get(orphan["url"])).status_code == 404
    assert (await customer.get(twin["url"])).status_code == 404
    assert (await customer.get(sent["url"])).status_code == 200
    digest = sent["sha256"]
    keys = await stored_keys(live)
    assert f"sha256/{digest[:2]}/{digest[2:4]}/{digest}" in keys
    assert len(keys) == 2  # the sent image and its thumbnail
    assert (await live.http.head(location, headers={**customer.headers, **TUS})).status_code == 404
    assert leftovers(live) == []
    async with live.svc.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Upload)) == 0


async def test_gc_command(live: Live, backend: dict[str, Any]) -> None:
    customer, _, cid = await chat(live)
    orphan = (await upload(customer, cid, "orphan.txt", b"forgotten\n")).json()
    env = {
        **os.environ,
        "SUPPORTDESK_DATABASE_URL": live.settings.database_url,
        "SUPPORTDESK_DATA_DIR": str(live.settings.data_dir),
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
        "SUPPORTDESK_ATTACHMENT_ORPHAN_HOURS": "0",
        **{f"SUPPORTDESK_{name.upper()}": str(value) for name, value in backend.items()},
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "supportdesk", "attachments", "gc"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "1 attachments" in result.stdout
    assert (await customer.get(orphan["url"])).status_code == 404
    assert await stored_keys(live) == []
