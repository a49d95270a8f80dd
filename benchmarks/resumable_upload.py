"""A 200 MB video through the resumable (tus) upload, interrupted half-way and resumed.

    PYTHONPATH=. .venv/bin/python benchmarks/resumable_upload.py [--megabytes 200] [--chunk-mb 8]

Starts a live server on loopback (SQLite, local storage), makes a real MP4 with ffmpeg
and pads it to the wanted size with an MP4 `free` box (players and ffprobe skip it), then
uploads it with tus PATCHes. Half-way the client "loses" its state: it asks HEAD for the
server's offset and goes on from there. It prints the throughput of each half, the time
to finish (sniffing, ffprobe, the poster, the SHA-256 and the move into storage), and
checks the stored SHA-256 against the source.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import struct
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.factories import start_live

from supportdesk import migrate

MB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def padded_mp4(path: Path, megabytes: int) -> None:
    small = path.with_suffix(".small.mp4")
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=320x240:rate=15",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(small),
        ],
        check=True,
    )
    data = small.read_bytes()
    small.unlink()
    padding = megabytes * MB - len(data) - 8
    with path.open("wb") as out:
        out.write(data)
        out.write(struct.pack(">I4s", padding + 8, b"free"))
        remaining = padding
        block = os.urandom(MB)
        while remaining:
            n = min(remaining, MB)
            out.write(block[:n])
            remaining -= n


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def run(megabytes: int, chunk: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "recording.mp4"
        padded_mp4(source, megabytes)
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        db = work / "bench.db"
        url = f"sqlite+aiosqlite:///{db}"
        await migrate.upgrade(url)
        async with start_live(url, work, demo=True) as live:
            customer = await live.customer()
            opened = await customer.post(
                "/api/v1/conversations", {"body": "A screen recording", "client_key": "c1"}
            )
            cid = opened.json()["conversation"]["id"]
            size = source.stat().st_size
            created = await live.http.post(
                f"/api/v1/conversations/{cid}/uploads",
                headers={
                    **customer.headers,
                    **TUS,
                    "Upload-Length": str(size),
                    "Upload-Metadata": metadata(
                        filename="recording.mp4", client_key=uuid.uuid4().hex
                    ),
                },
            )
            location = created.headers["location"]

            async def send(start: int, stop: int) -> float:
                began = time.perf_counter()
                with source.open("rb") as file:
                    file.seek(start)
                    offset = start
                    while offset < stop:
                        data = file.read(min(chunk, stop - offset))
                        answer = await live.http.patch(
                            location,
                            content=data,
                            headers={
                                **customer.headers,
                                **TUS,
                                "Upload-Offset": str(offset),
                                "Content-Type": "application/offset+octet-stream",
                            },
                        )
                        assert answer.status_code == 204, answer.text
                        offset = int(answer.headers["upload-offset"])
                return time.perf_counter() - began

            half = (size // 2 // chunk) * chunk
            first = await send(0, half)
            # The client forgets everything; the server says where to go on.
            head = await live.http.head(location, headers={**customer.headers, **TUS})
            resume_at = int(head.headers["upload-offset"])
            assert resume_at == half
            second = await send(resume_at, size)
            finished = await live.http.get(location, headers=customer.headers)
            attachment = finished.json()
            assert attachment["sha256"] == digest, "stored SHA-256 differs from the source"
            total = first + second
            print(f"size {size / MB:.0f} MB in {chunk // MB} MB PATCHes")
            print(
                f"first half  {half / MB:6.0f} MB in {first:5.2f} s = {half / MB / first:6.1f} MB/s"
            )
            print(f"resumed at {resume_at / MB:.0f} MB (HEAD)")
            print(
                f"second half {(size - half) / MB:6.0f} MB in {second:5.2f} s = "
                f"{(size - half) / MB / second:6.1f} MB/s"
                " (includes sniffing, ffprobe, the poster and the move into storage)"
            )
            print(
                f"whole upload {size / MB / total:.1f} MB/s; sha256 {digest[:16]}… matches; "
                f"poster: {attachment['has_poster']}, duration {attachment.get('duration')}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--chunk-mb", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.megabytes, args.chunk_mb * MB))


if __name__ == "__main__":
    main()
