"""Receiving upload bytes onto local disk, in chunks, with the limits enforced as they
arrive: a ``multipart/form-data`` body (python-multipart's streaming parser fed from
``request.stream()``; FastAPI's ``UploadFile`` would spool the whole body first) and the
body of a tus ``PATCH``.

Nothing here decides what a file is; the caller sniffs and processes the finished file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from supportdesk.core.errors import DomainError

MAX_FIELD_BYTES = 1024  # small text fields such as client_key
MAX_PARTS = 10
HEAD_BYTES = 4096  # enough of a file's start to tell its kind (see actions.early_kind)


@dataclass
class Received:
    """A multipart upload written to ``path`` (raw bytes, not yet sniffed)."""

    path: Path
    filename: str
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)


def boundary_of(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise DomainError("upload_not_multipart", 415)
    return boundary


class _Form:
    """The parser's callbacks: collect headers, small fields, and the file's bytes."""

    def __init__(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.parts = 0
        self.name = ""
        self.filename: str | None = None
        self.value = bytearray()
        self.fields: dict[str, str] = {}
        self.file_name: str | None = None  # the file part's name, once it began
        self.file_done = False
        self.pending: list[bytes] = []  # file bytes parsed from the current chunk
        self.ended = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self.header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise DomainError("upload_malformed", 400, params={"detail": "too many parts"})
        self.headers, self.name, self.filename = {}, "", None
        self.value = bytearray()

    def header_end(self) -> None:
        self.headers[self.header_field.decode("latin-1").lower()] = bytes(self.header_value)
        self.header_field, self.header_value = bytearray(), bytearray()

    def headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition", b""))
        self.name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = params.get(b"filename")
        if raw_filename is not None:
            self.filename = raw_filename.decode("utf-8", "replace")
        if self.name == "file":
            if self.file_name is not None:
                raise DomainError("upload_malformed", 400, params={"detail": "more than one file"})
            self.file_name = self.filename or ""

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.name == "file":
            self.pending.append(bytes(data[start:end]))
            return
        self.value.extend(data[start:end])
        if len(self.value) > MAX_FIELD_BYTES:
            raise DomainError("upload_malformed", 400, params={"detail": f"field {self.name}"})

    def part_end(self) -> None:
        if self.name == "file":
            self.file_done = True
        elif self.name:
            self.fields[self.name] = self.value.decode("utf-8", "replace")

    def end(self) -> None:
        self.ended = True


async def receive_multipart(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    target: Path,
    check_size: Callable[[int, bytes], None],
) -> Received:
    """Parse the body into ``target`` (the ``file`` field) and the small fields.

    ``check_size(bytes so far, the file's first HEAD_BYTES)`` runs after every chunk and
    raises to refuse (the limits).
    A body that ends before the closing boundary, or a client that goes away, is
    ``upload_incomplete``. The caller deletes ``target``'s directory in every case.
    """
    form = _Form()
    parser = MultipartParser(boundary_of(content_type), form.callbacks())  # type: ignore[arg-type]
    digest = hashlib.sha256()
    size = 0
    head = b""
    with target.open("wb") as out:
        try:
            async for chunk in chunks:
                parser.write(chunk)
                if form.pending:
                    data = b"".join(form.pending)
                    form.pending.clear()
                    size += len(data)
                    if len(head) < HEAD_BYTES:
                        head += data[: HEAD_BYTES - len(head)]
                    check_size(size, head)
                    await asyncio.to_thread(_write_and_hash, out, digest, data)
        except MultipartParseError as error:
            raise DomainError("upload_malformed", 400, params={"detail": str(error)}) from None
        except ClientDisconnect:
            raise DomainError("upload_incomplete", 400) from None
        parser.finalize()
    if not form.ended or (form.file_name is not None and not form.file_done):
        raise DomainError("upload_incomplete", 400)
    if form.file_name is None:
        raise DomainError("upload_not_multipart", 415)
    return Received(target, form.file_name, size, digest.hexdigest(), form.fields)


def _write_and_hash(out: BinaryIO, digest: hashlib._Hash, data: bytes) -> None:
    out.write(data)
    digest.update(data)


# --- tus PATCH ----------------------------------------------------------------------


@contextlib.contextmanager
def locked_append(path: Path) -> Iterator[BinaryIO]:
    """Open a partial upload for appending, exclusively (across processes too): a
    second writer at the same time gets 409 ``upload_busy``."""
    handle = path.open("ab")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DomainError("upload_busy", 409) from None
        yield handle
    finally:
        handle.close()


async def append_body(
    chunks: AsyncIterator[bytes], path: Path, offset: int, length: int
) -> tuple[int, DomainError | None]:
    """Append a PATCH body to the partial file at ``offset`` and return the new offset.

    Bytes that arrived before the client went away are kept (that is what resuming
    resumes from); bytes past ``length`` are refused. The second value is the error to
    answer with, if any, after the bytes that did arrive are safely written.
    """
    with locked_append(path) as out:
        # The file is the offset; a crash mid-write may leave it ahead of what was
        # acknowledged, which is harmless, but never behind what HEAD reported.
        current = os.fstat(out.fileno()).st_size
        if current != offset:
            raise DomainError(
                "upload_offset_mismatch", 409, params={"offset": current, "sent": offset}
            )
        position = offset
        problem: DomainError | None = None
        try:
            async for chunk in chunks:
                room = length - position
                if len(chunk) > room:
                    chunk = chunk[:room]
                    problem = DomainError("upload_exceeds_length", 413, params={"length": length})
                if chunk:
                    await asyncio.to_thread(out.write, chunk)
                    position += len(chunk)
                if problem:
                    break
        except ClientDisconnect:
            problem = DomainError("upload_incomplete", 400)
        await asyncio.to_thread(_flush, out)
        return position, problem


def _flush(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())
