"""Where attachment bytes live: a local directory or an S3-compatible bucket.

Both are content-addressed: an object's key is ``sha256/ab/cd/<sha256>`` of its bytes,
so identical files (and identical thumbnails) are stored once and a key can never be
influenced by a filename. Objects are written whole or not at all: the local backend
writes a temporary file in the target directory and renames it; S3 makes an object
visible only when its upload completes.

Deleting is the caller's decision (``actions.release_objects``): an object is removed
only when no attachment refers to it any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from supportdesk.config import Settings

CHUNK = 256 * 1024


def object_key(digest: str) -> str:
    """``sha256/ab/cd/<digest>``; only ever built from a hex SHA-256."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a SHA-256 hex digest")
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


class Storage(Protocol):
    async def put(self, source: Path, digest: str, mime: str) -> None:
        """Store ``source`` (whose SHA-256 is ``digest``) unless it is stored already.
        ``source`` may be moved away; the caller deletes its working directory anyway."""

    async def exists(self, digest: str) -> bool: ...

    def read(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive, in chunks."""
        ...

    async def delete(self, digest: str) -> None: ...

    async def keys(self) -> list[str]:
        """Every stored object's key (for tests and administration)."""
        ...


class LocalStorage:
    """``<data dir>/attachments/sha256/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / object_key(digest)

    async def put(self, source: Path, digest: str, mime: str) -> None:
        await asyncio.to_thread(self._put, source, digest)

    def _put(self, source: Path, digest: str) -> None:
        target = self.path(digest)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".tmp-{secrets.token_hex(8)}"
        try:
            try:
                os.replace(source, temporary)  # same file system: no copy
            except OSError:
                shutil.copyfile(source, temporary)
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    async def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    async def read(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path(digest).open, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.path(digest).unlink)

    async def keys(self) -> list[str]:
        base = self.root / "sha256"
        if not base.exists():
            return []
        return sorted(
            str(path.relative_to(self.root)) for path in base.rglob("*") if path.is_file()
        )


class S3Storage:
    """An S3-compatible bucket through boto3 (its calls run in worker threads)."""

    def __init__(self, settings: Settings) -> None:
        import boto3
        from botocore.config import Config

        options: dict[str, Any] = {
            "region_name": settings.s3_region,
            "config": Config(retries={"max_attempts": 3, "mode": "standard"}),
        }
        if settings.s3_endpoint_url:
            options["endpoint_url"] = settings.s3_endpoint_url
        if settings.s3_access_key_id:
            options["aws_access_key_id"] = settings.s3_access_key_id
            options["aws_secret_access_key"] = settings.s3_secret_access_key
        self.bucket = settings.s3_bucket
        self.client = boto3.session.Session().client("s3", **options)

    async def put(self, source: Path, digest: str, mime: str) -> None:
        if await self.exists(digest):
            return
        # upload_file switches to a multipart upload for large files; the object appears
        # only once every part is in.
        await asyncio.to_thread(
            self.client.upload_file,
            str(source),
            self.bucket,
            object_key(digest),
            ExtraArgs={"ContentType": mime},
        )

    async def exists(self, digest: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(
                self.client.head_object, Bucket=self.bucket, Key=object_key(digest)
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def read(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        response = await asyncio.to_thread(
            self.client.get_object,
            Bucket=self.bucket,
            Key=object_key(digest),
            Range=f"bytes={start}-{end}",
        )
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, digest: str) -> None:
        await asyncio.to_thread(
            self.client.delete_object, Bucket=self.bucket, Key=object_key(digest)
        )

    async def keys(self) -> list[str]:
        def list_all() -> list[str]:
            found: list[str] = []
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket):
                found += [item["Key"] for item in page.get("Contents", [])]
            return sorted(found)

        return await asyncio.to_thread(list_all)


def build_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.data_dir / "attachments")


class ObjectLocks:
    """One asyncio lock per object digest: storing an object and inserting the row that
    refers to it, and deleting an object that nothing refers to any more, never
    interleave for the same content in this process."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, digests: list[str]) -> AsyncIterator[None]:
        ordered = sorted(set(digests))  # a fixed order: no deadlocks
        for digest in ordered:
            self._users[digest] = self._users.get(digest, 0) + 1
            self._locks.setdefault(digest, asyncio.Lock())
        acquired: list[asyncio.Lock] = []
        try:
            for digest in ordered:
                lock = self._locks[digest]
                await lock.acquire()
                acquired.append(lock)
            yield
        finally:
            for lock in acquired:
                lock.release()
            for digest in ordered:
                self._users[digest] -= 1
                if not self._users[digest]:
                    del self._users[digest], self._locks[digest]
