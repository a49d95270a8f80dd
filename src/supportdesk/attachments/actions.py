"""Every write of the attachments feature: uploads (plain and resumable), storing,
and the garbage collection of attachments that were never sent.

The path of an upload: the bytes stream to a private working directory under
``<data dir>/attachments/incoming`` with the limits enforced as they arrive; the
finished file is sniffed (``sniff.py``), checked against its kind's limit, cleaned
(``media.py``: images re-encoded without metadata plus a thumbnail, videos probed plus
a poster), handed to the storage backend by SHA-256, and only then recorded, with the
portal's quota checked again inside the insert's transaction. The working directory is
removed whatever happens, and an object stored for a refused or failed upload is
removed again unless another attachment uses it: a refusal leaves nothing behind.

Linking an attachment to a message happens in the timeline writer's transaction
(``conversations/timeline.py``), so a message and its attachments appear together.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import shutil
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from supportdesk.attachments import queries, rules
from supportdesk.attachments.media import (
    probe_video,
    process_image,
    safe_filename,
    video_poster,
)
from supportdesk.attachments.models import Attachment, Kind, Upload
from supportdesk.attachments.receive import HEAD_BYTES, append_body, receive_multipart
from supportdesk.attachments.rules import AttachmentPublic, Limits, attachment_public
from supportdesk.attachments.sniff import _detect, sniff
from supportdesk.config import Settings
from supportdesk.conversations import rules as conversation_rules
from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.conversations.timeline import author_of
from supportdesk.core.auth import AgentPrincipal, Principal
from supportdesk.core.clock import as_utc
from supportdesk.core.errors import DomainError
from supportdesk.core.periodic import PeriodicTask
from supportdesk.identity.models import Portal
from supportdesk.realtime.events import ConversationFacts
from supportdesk.services import Services

log = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
PREVIEW_MIME = {
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}


def limits_of(settings: Settings) -> Limits:
    return Limits(
        image=settings.max_image_bytes,
        video=settings.max_video_bytes,
        file=settings.max_file_bytes,
        quota=settings.portal_quota_bytes,
        per_message=settings.max_attachments_per_message,
    )


def incoming_dir(settings: Settings) -> Path:
    return settings.data_dir / "attachments" / "incoming"


def resumable_dir(settings: Settings) -> Path:
    return settings.data_dir / "attachments" / "resumable"


def part_path(settings: Settings, upload_id: str) -> Path:
    return resumable_dir(settings) / upload_id


def _new_workdir(settings: Settings) -> Path:
    path = incoming_dir(settings) / secrets.token_hex(12)
    path.mkdir(parents=True, mode=0o700)
    return path


async def _remove_tree(path: Path) -> None:
    await asyncio.to_thread(shutil.rmtree, path, True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Target:
    """The conversation an upload goes into, with the portal's usage when it started."""

    facts: ConversationFacts
    used: int


async def upload_target(svc: Services, principal: Principal, conversation_id: int) -> Target:
    """404 unless the principal sees the conversation; 403/409 unless they may write in it.
    Agents may attach to internal notes, which stay open after resolution."""
    async with svc.db.read() as session:
        _, facts = await access_conversation_by_id(session, principal, conversation_id)
        conversation_rules.check_post(
            principal, facts, internal=isinstance(principal, AgentPrincipal)
        )
        used = await queries.portal_usage(session, facts.portal_id)
    return Target(facts, used)


@dataclass(frozen=True)
class Stored:
    attachment: AttachmentPublic
    created: bool


async def do_upload(
    svc: Services,
    principal: Principal,
    conversation_id: int,
    content_type: str | None,
    body: AsyncIterator[bytes],
) -> Stored:
    """``POST /conversations/{id}/attachments``: a multipart body with ``file`` and
    ``client_key``, streamed to disk. A retried ``client_key`` returns the original."""
    target = await upload_target(svc, principal, conversation_id)
    limits = limits_of(svc.settings)
    kind: list[str] = []  # known once enough of the file has arrived

    def check_size(received: int, head: bytes) -> None:
        if not kind and len(head) >= HEAD_BYTES:
            kind.append(early_kind(head))
        if kind:
            rules.check_size(kind[0], received, limits)
        else:
            rules.check_stream_size(received, limits)
        rules.check_quota(target.used, received, limits.quota)

    workdir = _new_workdir(svc.settings)
    try:
        received = await receive_multipart(body, content_type, workdir / "upload", check_size)
        client_key = rules.check_client_key(received.fields.get("client_key"))
        return await _finish(
            svc, principal, target.facts, workdir, received.path, received.filename, client_key
        )
    finally:
        await _remove_tree(workdir)


async def _finish(
    svc: Services,
    principal: Principal,
    facts: ConversationFacts,
    workdir: Path,
    raw: Path,
    raw_filename: str,
    client_key: str,
) -> Stored:
    """Sniff, check, clean, store and record a received file (see the module doc)."""
    async with svc.db.read() as session:
        existing = await queries.find_by_client_key(session, facts.id, principal, client_key)
    if existing is not None:
        return Stored(attachment_public(existing), False)
    limits = limits_of(svc.settings)
    size = (await asyncio.to_thread(raw.stat)).st_size
    sniffed = await asyncio.to_thread(sniff, raw, raw_filename)
    rules.check_size(sniffed.kind, size, limits)
    prepared = await asyncio.to_thread(_prepare, sniffed.kind, sniffed.mime, raw, workdir)
    filename = _display_name(raw_filename, prepared.ext or sniffed.ext)
    uploader_type, uploader_id = author_of(principal, "")[:2]
    assert uploader_id is not None
    digests = [obj.digest for obj in prepared.objects]
    async with svc.object_locks.hold(digests):
        try:
            for obj in prepared.objects:
                await svc.storage.put(obj.path, obj.digest, obj.mime)
            async with svc.db.write() as session:
                # One upload at a time per portal, so two cannot both fit the last space.
                await session.execute(
                    select(Portal.id).where(Portal.id == facts.portal_id).with_for_update()
                )
                raced = await queries.find_by_client_key(session, facts.id, principal, client_key)
                if raced is not None:
                    result = Stored(attachment_public(raced), False)
                else:
                    used = await queries.portal_usage(session, facts.portal_id)
                    rules.check_quota(used, prepared.main.size, limits.quota)
                    row = prepared.row(
                        conversation_id=facts.id,
                        portal_id=facts.portal_id,
                        uploader_type=uploader_type,
                        uploader_id=uploader_id,
                        client_key=client_key,
                        filename=filename,
                        created_at=svc.clock(),
                    )
                    session.add(row)
                    await session.flush()
                    result = Stored(attachment_public(row), True)
        except BaseException:
            await _release_locked(svc, digests)
            raise
        if not result.created:
            await _release_locked(svc, digests)
    return result


def early_kind(head: bytes) -> str:
    """The kind a file's first bytes announce, so its own limit applies while the rest
    streams in (and a refused type is refused at once). The full ``sniff`` still decides
    at the end; bytes it cannot place yet count as a plain file."""
    found = _detect(head)
    return found.kind if found is not None else Kind.FILE.value


def _display_name(raw_filename: str, ext: str) -> str:
    """The sanitised, redacted name, with the extension of what is actually stored."""
    name = safe_filename(raw_filename)
    stem, dot, current = name.rpartition(".")
    if not dot:
        stem = name
    if ext and current.lower() != ext:
        return f"{stem}.{ext}"
    return name


@dataclass(frozen=True)
class _Object:
    path: Path
    digest: str
    mime: str
    size: int


def _object(path: Path, mime: str) -> _Object:
    return _Object(path, sha256_file(path), mime, path.stat().st_size)


@dataclass(frozen=True)
class _Prepared:
    """What will be stored for one upload, and the row's media columns."""

    kind: str
    main: _Object
    thumbnail: _Object | None = None
    poster: _Object | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    ext: str = ""

    @property
    def objects(self) -> list[_Object]:
        return [obj for obj in (self.main, self.thumbnail, self.poster) if obj is not None]

    def row(self, **columns: object) -> Attachment:
        return Attachment(
            kind=self.kind,
            mime=self.main.mime,
            size=self.main.size,
            sha256=self.main.digest,
            width=self.width,
            height=self.height,
            duration=self.duration,
            thumbnail_sha256=self.thumbnail.digest if self.thumbnail else None,
            thumbnail_mime=self.thumbnail.mime if self.thumbnail else None,
            thumbnail_size=self.thumbnail.size if self.thumbnail else None,
            poster_sha256=self.poster.digest if self.poster else None,
            poster_mime=self.poster.mime if self.poster else None,
            poster_size=self.poster.size if self.poster else None,
            message_seq=None,
            internal=False,
            linked_at=None,
            **columns,
        )


def _preview(path: Path | None) -> _Object | None:
    if path is None:
        return None
    return _object(path, PREVIEW_MIME.get(path.suffix.lower(), "image/webp"))


def _prepare(kind: str, mime: str, raw: Path, workdir: Path) -> _Prepared:
    """Clean the file and make its previews (blocking: runs in a worker thread)."""
    if kind == Kind.IMAGE.value:
        image = process_image(raw, workdir / "clean")
        return _Prepared(
            kind,
            _object(image.path, image.mime),
            thumbnail=_preview(image.thumb_path),
            width=image.width,
            height=image.height,
            ext=image.ext,
        )
    if kind == Kind.VIDEO.value:
        info = probe_video(raw)  # refuses an unreadable video; None without ffprobe
        poster = video_poster(raw, workdir / "poster", info.duration if info else None)
        return _Prepared(
            kind,
            _object(raw, mime),
            poster=_preview(poster),
            width=info.width if info else None,
            height=info.height if info else None,
            duration=info.duration if info else None,
        )
    text = mime.startswith("text/") and "charset" not in mime
    return _Prepared(kind, _object(raw, f"{mime}; charset=utf-8" if text else mime))


async def release_objects(svc: Services, digests: Iterable[str]) -> int:
    """Delete the stored objects no attachment refers to any more; how many went."""
    wanted = sorted(set(digests))
    async with svc.object_locks.hold(wanted):
        return await _release_locked(svc, wanted)


async def _release_locked(svc: Services, digests: Iterable[str]) -> int:
    removed = 0
    for digest in sorted(set(digests)):
        async with svc.db.read() as session:
            if await queries.is_referenced(session, digest):
                continue
        try:
            await svc.storage.delete(digest)
            removed += 1
        except Exception:  # the next collection retries: nothing refers to it
            log.exception("could not delete stored object %s", digest)
    return removed


# --- resumable uploads (tus 1.0.0: core, creation, termination) ---------------------


@dataclass(frozen=True)
class UploadState:
    id: str
    offset: int
    length: int
    attachment_id: int | None
    created: bool = False


def _offset(svc: Services, upload: Upload) -> int:
    if upload.attachment_id is not None:
        return upload.length
    path = part_path(svc.settings, upload.id)
    return path.stat().st_size if path.exists() else 0


async def do_create_upload(
    svc: Services,
    principal: Principal,
    conversation_id: int,
    length_header: str | None,
    metadata_header: str | None,
) -> UploadState:
    """``POST /conversations/{id}/uploads``. The same ``client_key`` again gives the
    same upload back (where it stands), so a client may retry the creation safely."""
    limits = limits_of(svc.settings)
    length = rules.parse_upload_length(length_header, limits)
    metadata = rules.parse_upload_metadata(metadata_header)
    client_key = rules.check_client_key(metadata.get("client_key"))
    filename = metadata.get("filename", "")
    if not filename:
        raise DomainError("upload_filename_required", 400)
    target = await upload_target(svc, principal, conversation_id)
    rules.check_quota(target.used, length, limits.quota)
    uploader_type, uploader_id = author_of(principal, "")[:2]
    assert uploader_id is not None
    async with svc.db.write() as session:
        existing = await session.scalar(
            select(Upload).where(
                Upload.conversation_id == conversation_id,
                Upload.uploader_type == uploader_type,
                Upload.uploader_id == uploader_id,
                Upload.client_key == client_key,
            )
        )
        if existing is not None:
            return UploadState(
                existing.id, _offset(svc, existing), existing.length, existing.attachment_id
            )
        upload = Upload(
            id=secrets.token_hex(16),
            conversation_id=conversation_id,
            portal_id=target.facts.portal_id,
            uploader_type=uploader_type,
            uploader_id=uploader_id,
            client_key=client_key,
            # Kept raw until the upload completes, then sanitised like any upload's name.
            filename=filename[:255],
            length=length,
            attachment_id=None,
            created_at=svc.clock(),
        )
        session.add(upload)
        path = part_path(svc.settings, upload.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return UploadState(upload.id, 0, length, None, created=True)


async def upload_state(svc: Services, principal: Principal, upload_id: str) -> UploadState:
    async with svc.db.read() as session:
        upload = await queries.access_upload_by_id(session, principal, upload_id)
    return UploadState(upload.id, _offset(svc, upload), upload.length, upload.attachment_id)


async def do_append(
    svc: Services,
    principal: Principal,
    upload_id: str,
    offset_header: str | None,
    body: AsyncIterator[bytes],
) -> UploadState:
    """``PATCH /uploads/{id}``: append at ``Upload-Offset``; the last byte completes the
    upload into an attachment (sniffed, checked and stored like any upload). A refused
    file takes its upload with it."""
    async with svc.db.read() as session:
        upload = await queries.access_upload_by_id(session, principal, upload_id)
    if offset_header is None or not offset_header.strip().isdigit():
        raise DomainError(
            "upload_offset_mismatch",
            409,
            params={"offset": _offset(svc, upload), "sent": offset_header},
        )
    if upload.attachment_id is not None:
        raise DomainError(
            "upload_offset_mismatch", 409, params={"offset": upload.length, "sent": offset_header}
        )
    path = part_path(svc.settings, upload.id)
    if not path.exists():
        raise DomainError("not_found", 404)
    offset, problem = await append_body(body, path, int(offset_header), upload.length)
    if problem is not None:
        raise problem
    if int(offset_header) < HEAD_BYTES <= offset or offset == upload.length:
        # The start has arrived: the declared length must fit the kind's own limit.
        try:
            head = await asyncio.to_thread(_read_head, path)
            rules.check_size(early_kind(head), upload.length, limits_of(svc.settings))
        except DomainError:
            await _delete_uploads(svc, [upload.id])
            raise
    if offset < upload.length:
        return UploadState(upload.id, offset, upload.length, None)
    return await _complete(svc, principal, upload, path)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


async def _complete(svc: Services, principal: Principal, upload: Upload, path: Path) -> UploadState:
    workdir = _new_workdir(svc.settings)
    try:
        raw = workdir / "upload"
        await asyncio.to_thread(path.rename, raw)
        try:
            target = await upload_target(svc, principal, upload.conversation_id)
            stored = await _finish(
                svc, principal, target.facts, workdir, raw, upload.filename, upload.client_key
            )
        except DomainError:
            await _delete_uploads(svc, [upload.id])  # refused: nothing may stay behind
            raise
        except BaseException:
            # Storage or database trouble: keep the bytes, so a PATCH with an empty body
            # at the final offset completes it later.
            if raw.exists():
                await asyncio.to_thread(raw.rename, path)
            raise
        async with svc.db.write() as session:
            row = await session.get(Upload, upload.id)
            if row is not None:
                row.attachment_id = stored.attachment.id
    finally:
        await _remove_tree(workdir)
    return UploadState(upload.id, upload.length, upload.length, stored.attachment.id)


async def completed_attachment(
    svc: Services, principal: Principal, upload_id: str
) -> AttachmentPublic:
    async with svc.db.read() as session:
        upload = await queries.access_upload_by_id(session, principal, upload_id)
        if upload.attachment_id is None:
            raise DomainError(
                "upload_not_finished",
                409,
                params={"offset": _offset(svc, upload), "length": upload.length},
            )
        att = await session.get(Attachment, upload.attachment_id)
        if att is None:
            raise DomainError("not_found", 404)
        return attachment_public(att)


async def do_terminate(svc: Services, principal: Principal, upload_id: str) -> None:
    """``DELETE /uploads/{id}``: forget the upload and its bytes (a finished upload's
    attachment stays; it is collected like any unsent one)."""
    async with svc.db.read() as session:
        await queries.access_upload_by_id(session, principal, upload_id)
    await _delete_uploads(svc, [upload_id])


async def _delete_uploads(svc: Services, upload_ids: list[str]) -> None:
    if not upload_ids:
        return
    async with svc.db.write() as session:
        await session.execute(delete(Upload).where(Upload.id.in_(upload_ids)))
    for upload_id in upload_ids:
        part_path(svc.settings, upload_id).unlink(missing_ok=True)


# --- garbage collection --------------------------------------------------------------


@dataclass(frozen=True)
class Collected:
    attachments: int
    uploads: int
    objects: int


async def do_collect_garbage(svc: Services, batch: int = 500) -> Collected:
    """Delete attachments never sent within ``SUPPORTDESK_ATTACHMENT_ORPHAN_HOURS``,
    resumable uploads as old that received nothing for as long (their partial file's
    modification time is their last activity), working files left by a crash, and then
    every stored object nothing refers to any more."""
    cutoff = svc.clock() - timedelta(hours=svc.settings.attachment_orphan_hours)
    attachments = uploads = objects = 0
    while True:
        async with svc.db.write() as session:
            orphans = list(
                await session.scalars(
                    select(Attachment)
                    .where(Attachment.message_seq.is_(None), Attachment.created_at <= cutoff)
                    .order_by(Attachment.id)
                    .limit(batch)
                    .with_for_update()
                )
            )
            orphan_ids = [att.id for att in orphans]
            candidates = list(
                await session.execute(
                    select(Upload.id, Upload.attachment_id)
                    .where((Upload.created_at <= cutoff) | Upload.attachment_id.in_(orphan_ids))
                    .order_by(Upload.created_at)
                    .limit(batch)
                )
            )
            stale = [
                upload_id
                for upload_id, attachment_id in candidates
                if attachment_id is not None or _idle_since(svc.settings, upload_id, cutoff)
            ]
            if stale:
                await session.execute(delete(Upload).where(Upload.id.in_(stale)))
            if orphans:
                await session.execute(
                    delete(Attachment).where(
                        Attachment.id.in_(orphan_ids), Attachment.message_seq.is_(None)
                    )
                )
        for upload_id in stale:
            part_path(svc.settings, upload_id).unlink(missing_ok=True)
        digests = {
            digest
            for att in orphans
            for digest in (att.sha256, att.thumbnail_sha256, att.poster_sha256)
            if digest
        }
        objects += await release_objects(svc, digests)
        attachments += len(orphans)
        uploads += len(stale)
        if len(orphans) < batch and len(candidates) < batch:
            break
    await asyncio.to_thread(_sweep_workdirs, svc.settings, cutoff)
    if attachments or uploads:
        log.info(
            "attachments gc: %d attachments, %d uploads, %d objects removed",
            attachments,
            uploads,
            objects,
        )
    return Collected(attachments, uploads, objects)


def _modified(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None


def _idle_since(settings: Settings, upload_id: str, cutoff: datetime) -> bool:
    modified = _modified(part_path(settings, upload_id))
    return modified is None or modified <= as_utc(cutoff)


def _sweep_workdirs(settings: Settings, cutoff: datetime) -> None:
    """Working directories of uploads that a crash interrupted."""
    folder = incoming_dir(settings)
    if not folder.exists():
        return
    for entry in folder.iterdir():
        modified = _modified(entry)
        if modified is not None and modified <= as_utc(cutoff):
            shutil.rmtree(entry, ignore_errors=True)


def attachment_collector(svc: Services) -> PeriodicTask:
    """The lifespan task: ``do_collect_garbage`` every ``SUPPORTDESK_ATTACHMENT_GC_SECONDS``."""
    return PeriodicTask(
        "attachment-gc",
        lambda: do_collect_garbage(svc),
        lambda: svc.settings.attachment_gc_seconds,
        run_at_start=False,
    )
