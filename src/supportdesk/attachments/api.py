"""HTTP: uploads (multipart and tus), the upload's progress, and downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from supportdesk.attachments import actions, queries, rules
from supportdesk.attachments.models import Kind
from supportdesk.attachments.rules import TUS_VERSION, AttachmentPublic
from supportdesk.attachments.storage import Storage
from supportdesk.core.errors import DomainError, not_found
from supportdesk.deps import PrincipalDep, SvcDep

router = APIRouter(prefix="/api/v1", tags=["attachments"])

MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "client_key"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "client_key": {"type": "string", "maxLength": 100},
                    },
                }
            }
        },
    }
}


@router.post(
    "/conversations/{conversation_id}/attachments",
    status_code=201,
    openapi_extra=MULTIPART_BODY,
)
async def upload(
    conversation_id: int, request: Request, principal: PrincipalDep, svc: SvcDep, response: Response
) -> AttachmentPublic:
    """Upload one file (``file``) with a ``client_key``; a retry returns the original
    with 200. The body is streamed to disk; limits apply while it arrives."""
    stored = await actions.do_upload(
        svc, principal, conversation_id, request.headers.get("content-type"), request.stream()
    )
    if not stored.created:
        response.status_code = 200
    return stored.attachment


# --- downloads ------------------------------------------------------------------------

Variant = Literal["download", "inline", "thumbnail", "poster"]


async def _serve(
    request: Request, principal: PrincipalDep, svc: SvcDep, attachment_id: int, variant: Variant
) -> Response:
    async with svc.db.read() as session:
        att = await queries.access_attachment_by_id(session, principal, attachment_id)
    stem = att.filename.rpartition(".")[0] or att.filename
    if variant == "thumbnail":
        digest, mime, size = att.thumbnail_sha256, att.thumbnail_mime, att.thumbnail_size
        filename, disposition = f"{stem}-thumbnail.webp", "inline"
    elif variant == "poster":
        digest, mime, size = att.poster_sha256, att.poster_mime, att.poster_size
        filename, disposition = f"{stem}-poster.jpg", "inline"
    else:
        if variant == "inline" and att.kind not in (Kind.IMAGE.value, Kind.VIDEO.value):
            raise not_found()
        digest, mime, size = att.sha256, att.mime, att.size
        filename = att.filename
        disposition = "inline" if variant == "inline" else "attachment"
    if digest is None or mime is None or size is None:
        raise not_found()
    wanted = rules.parse_range(request.headers.get("range"), size)
    start, end = wanted if wanted is not None else (0, size - 1)
    headers = {
        "Content-Length": str(end - start + 1),
        "Content-Disposition": rules.content_disposition(disposition, filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private",
        "Accept-Ranges": "bytes",
        "ETag": f'"{digest}"',
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = await _opened(svc.storage, digest, start, end)
    return StreamingResponse(
        body, status_code=206 if wanted else 200, headers=headers, media_type=mime
    )


async def _opened(storage: Storage, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
    """Read the first chunk before answering, so a storage failure is a clean error
    response rather than a response cut short after its headers."""
    chunks = storage.read(digest, start, end)
    first = await anext(chunks, b"")

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return body()


@router.get("/attachments/{attachment_id}/download")
async def download(
    attachment_id: int, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    """The file as stored, ``Content-Disposition: attachment``; Range supported."""
    return await _serve(request, principal, svc, attachment_id, "download")


@router.get("/attachments/{attachment_id}/inline")
async def inline(
    attachment_id: int, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    """Images and videos only, ``Content-Disposition: inline`` (for players and viewers)."""
    return await _serve(request, principal, svc, attachment_id, "inline")


@router.get("/attachments/{attachment_id}/thumbnail")
async def thumbnail(
    attachment_id: int, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    return await _serve(request, principal, svc, attachment_id, "thumbnail")


@router.get("/attachments/{attachment_id}/poster")
async def poster(
    attachment_id: int, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    return await _serve(request, principal, svc, attachment_id, "poster")


# --- resumable uploads: tus 1.0.0 (core, creation, termination) -------------------------

TUS_EXTENSIONS = "creation,termination"


def _tus_headers(**more: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **more}


def _check_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise DomainError(
            "tus_version_unsupported",
            412,
            headers={"Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION},
        )


def _state_headers(state: actions.UploadState) -> dict[str, str]:
    headers = _tus_headers(**{"Upload-Offset": str(state.offset)})
    if state.attachment_id is not None:
        headers["Supportdesk-Attachment-Id"] = str(state.attachment_id)
    return headers


@router.options("/uploads")
@router.options("/conversations/{conversation_id}/uploads")
async def tus_options(svc: SvcDep) -> Response:
    """What this server speaks (no authentication: the same for everyone)."""
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(actions.limits_of(svc.settings).largest),
        },
    )


@router.post("/conversations/{conversation_id}/uploads", status_code=201)
async def create_upload(
    conversation_id: int, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    """tus creation: ``Upload-Length`` and ``Upload-Metadata`` (``filename``,
    ``client_key``, Base64). A retried ``client_key`` answers 200 with the same upload."""
    _check_tus(request)
    state = await actions.do_create_upload(
        svc,
        principal,
        conversation_id,
        request.headers.get("upload-length"),
        request.headers.get("upload-metadata"),
    )
    headers = _state_headers(state)
    headers["Location"] = f"/api/v1/uploads/{state.id}"
    return Response(status_code=201 if state.created else 200, headers=headers)


@router.head("/uploads/{upload_id}")
async def upload_offset(
    upload_id: str, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    """Where the upload stands: ``Upload-Offset`` and ``Upload-Length``."""
    _check_tus(request)
    state = await actions.upload_state(svc, principal, upload_id)
    headers = _state_headers(state)
    headers["Upload-Length"] = str(state.length)
    return Response(status_code=200, headers=headers)


@router.patch("/uploads/{upload_id}")
async def append(
    upload_id: str, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    """Append bytes at ``Upload-Offset``. The last byte turns the upload into an
    attachment: the answer then carries ``Supportdesk-Attachment-Id``."""
    _check_tus(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/offset+octet-stream"
    ):
        raise DomainError("upload_content_type", 415)
    state = await actions.do_append(
        svc, principal, upload_id, request.headers.get("upload-offset"), request.stream()
    )
    return Response(status_code=204, headers=_state_headers(state))


@router.get("/uploads/{upload_id}")
async def upload_result(upload_id: str, principal: PrincipalDep, svc: SvcDep) -> AttachmentPublic:
    """The attachment a finished upload became (409 ``upload_not_finished`` before)."""
    return await actions.completed_attachment(svc, principal, upload_id)


@router.delete("/uploads/{upload_id}", status_code=204)
async def terminate(
    upload_id: str, request: Request, principal: PrincipalDep, svc: SvcDep
) -> Response:
    """tus termination: the partial bytes are deleted."""
    _check_tus(request)
    await actions.do_terminate(svc, principal, upload_id)
    return Response(status_code=204, headers=_tus_headers())
