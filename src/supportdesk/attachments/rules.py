"""Pure decisions about attachments: limits, who may download, which attachments a
message may carry, the public shape, HTTP Range and tus header parsing. No I/O."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from supportdesk.attachments.models import Kind
from supportdesk.conversations.rules import can_view
from supportdesk.core.auth import CustomerPrincipal, Principal
from supportdesk.core.errors import DomainError, invalid
from supportdesk.core.i18n import ATTACHMENT_KIND_NAMES
from supportdesk.realtime.events import ConversationFacts

API = "/api/v1/attachments"
TUS_VERSION = "1.0.0"
MAX_CLIENT_KEY = 100


class AttachmentPublic(BaseModel):
    id: int
    conversation_id: int
    kind: str
    mime: str
    filename: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    has_thumbnail: bool
    has_poster: bool
    url: str
    inline_url: str | None
    thumbnail_url: str | None
    poster_url: str | None
    created_at: datetime


def attachment_public(row: Any) -> AttachmentPublic:
    """The wire shape of an ``Attachment`` (or a row with its columns)."""
    base = f"{API}/{row.id}"
    media = row.kind in (Kind.IMAGE.value, Kind.VIDEO.value)
    return AttachmentPublic(
        id=row.id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        mime=row.mime,
        filename=row.filename,
        size=row.size,
        sha256=row.sha256,
        width=row.width,
        height=row.height,
        duration=row.duration,
        has_thumbnail=row.thumbnail_sha256 is not None,
        has_poster=row.poster_sha256 is not None,
        url=f"{base}/download",
        inline_url=f"{base}/inline" if media else None,
        thumbnail_url=f"{base}/thumbnail" if row.thumbnail_sha256 else None,
        poster_url=f"{base}/poster" if row.poster_sha256 else None,
        created_at=row.created_at,
    )


# --- limits -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    image: int
    video: int
    file: int
    quota: int
    per_message: int

    def for_kind(self, kind: str) -> int:
        return {Kind.IMAGE.value: self.image, Kind.VIDEO.value: self.video}.get(kind, self.file)

    @property
    def largest(self) -> int:
        """The cap while the kind is still unknown (the bytes are sniffed at the end)."""
        return max(self.image, self.video, self.file)


SETTING_OF_KIND = {
    Kind.IMAGE.value: "SUPPORTDESK_MAX_IMAGE_BYTES",
    Kind.VIDEO.value: "SUPPORTDESK_MAX_VIDEO_BYTES",
    Kind.FILE.value: "SUPPORTDESK_MAX_FILE_BYTES",
}


def human_size(size: int) -> str:
    """``20 MB``, ``1.5 GB``, ``900 bytes`` (binary multiples, as the limits are set)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{size} bytes"
            return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def too_large(kind: str, size: int, limit: int) -> DomainError:
    """413 ``attachment_too_large`` naming the kind's limit and its value."""
    return DomainError(
        "attachment_too_large",
        413,
        params={
            "kind": ATTACHMENT_KIND_NAMES.get(kind, kind),
            "size": human_size(size),
            "limit": human_size(limit),
        },
        extra={"kind": kind, "limit_bytes": limit, "setting": SETTING_OF_KIND.get(kind, "")},
    )


def check_size(kind: str, size: int, limits: Limits) -> None:
    if size > limits.for_kind(kind):
        raise too_large(kind, size, limits.for_kind(kind))


def check_stream_size(received: int, limits: Limits) -> None:
    """While the bytes stream in, before the kind is known: the largest kind's limit."""
    if received > limits.largest:
        kind = max(SETTING_OF_KIND, key=limits.for_kind)
        raise too_large(kind, received, limits.largest)


def check_quota(used: int, size: int, quota: int) -> None:
    if used + size > quota:
        raise DomainError(
            "portal_quota_exceeded",
            413,
            params={"used": human_size(used), "quota": human_size(quota), "size": human_size(size)},
            extra={
                "used_bytes": used,
                "quota_bytes": quota,
                "setting": "SUPPORTDESK_PORTAL_QUOTA_BYTES",
            },
        )


def check_attachment_count(count: int, limit: int) -> None:
    if count > limit:
        raise DomainError(
            "too_many_attachments",
            422,
            params={"count": count, "limit": limit},
            extra={"limit": limit, "setting": "SUPPORTDESK_MAX_ATTACHMENTS_PER_MESSAGE"},
        )


def check_client_key(client_key: str | None) -> str:
    if not client_key or len(client_key) > MAX_CLIENT_KEY:
        raise invalid("client_key_invalid")
    return client_key


# --- who may see and use an attachment --------------------------------------------


@dataclass(frozen=True, slots=True)
class AttachmentFacts:
    id: int
    conversation_id: int
    uploader_type: str
    uploader_id: int
    message_seq: int | None
    internal: bool


def can_download(principal: Principal, conv: ConversationFacts, att: AttachmentFacts) -> bool:
    """Whoever may see the conversation, once the attachment is sent; before that only
    its uploader. Attachments of internal notes are staff-only."""
    if att.conversation_id != conv.id or not can_view(principal, conv):
        return False
    if att.message_seq is None:
        return is_uploader(principal, att)
    return not (att.internal and isinstance(principal, CustomerPrincipal))


def is_uploader(principal: Principal, att: AttachmentFacts) -> bool:
    if isinstance(principal, CustomerPrincipal):
        return att.uploader_type == "customer" and att.uploader_id == principal.user_id
    return att.uploader_type == "agent" and att.uploader_id == principal.agent_id


def check_linkable(
    att: AttachmentFacts | None,
    attachment_id: int,
    conversation_id: int,
    author: tuple[str, int | None],
) -> None:
    """A message may carry attachments its author uploaded into the same conversation
    that no other message carries yet."""
    if (
        att is None
        or att.conversation_id != conversation_id
        or (att.uploader_type, att.uploader_id) != author
        or att.message_seq is not None
    ):
        raise invalid("attachment_not_linkable", id=attachment_id)


# --- downloads --------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for a single ``bytes=`` range, ``None`` for the whole
    file (no header, or one we do not serve such as several ranges), or 416."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise range_not_satisfiable(size)
        return max(0, size - length), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # syntactically invalid: ignored, as RFC 9110 says
    if start >= size:
        raise range_not_satisfiable(size)
    return start, min(int(last), size - 1) if last else size - 1


def range_not_satisfiable(size: int) -> DomainError:
    return DomainError(
        "range_not_satisfiable",
        416,
        params={"size": size},
        headers={"Content-Range": f"bytes */{size}"},
    )


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename="a.png"; filename*=UTF-8''%E2...``: an ASCII fallback with
    quotes and backslashes dropped, and the exact name percent-encoded."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{disposition}; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(filename)}"


# --- tus --------------------------------------------------------------------------


def parse_upload_metadata(header: str | None) -> dict[str, str]:
    """tus ``Upload-Metadata``: ``key base64,key base64``; 400 when malformed."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise DomainError("upload_metadata_invalid", 400, params={"key": key}) from None
    return found


def parse_upload_length(header: str | None, limits: Limits) -> int:
    if header is None or not header.strip().isdigit():
        raise DomainError("upload_length_invalid", 400)
    length = int(header)
    if length == 0:
        raise DomainError("attachment_empty", 422)
    if length > limits.largest:
        kind = max(SETTING_OF_KIND, key=limits.for_kind)
        raise too_large(kind, length, limits.largest)
    return length
