"""Tables of account access: grants, the service's signing keys, the access log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK


class GrantState(StrEnum):
    PENDING = "pending"  # asked, waiting for a portal administrator
    ACTIVE = "active"  # approved; tokens may be minted until active_until
    DENIED = "denied"
    EXPIRED_UNANSWERED = "expired_unanswered"  # nobody answered before answer_by
    EXPIRED = "expired"  # active_until passed
    REVOKED = "revoked"  # the customer took it back
    COMPLETED = "completed"  # the conversation was resolved


class AccessGrant(Base):
    """One specialist's request for access to a portal's account, and its outcome."""

    __tablename__ = "access_grants"
    __table_args__ = (
        Index("ix_access_grants_conversation", "conversation_id", "id"),
        Index("ix_access_grants_portal", "portal_id", "id"),
        Index("ix_access_grants_state", "state"),
    )

    id: Mapped[IdPK]
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"))
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    specialist_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"))
    state: Mapped[str] = mapped_column(String(20))
    requested_scopes: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)  # granted; [] until approved
    reason: Mapped[str] = mapped_column(Text)
    requested_minutes: Mapped[int]
    granted_minutes: Mapped[int | None]
    requested_at: Mapped[datetime]
    answer_by: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("portal_users.id"))
    active_until: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    first_used_at: Mapped[datetime | None]


class SigningKey(Base):
    """An Ed25519 key the service signs support access tokens with.

    The newest key without ``retired_at`` signs. A retired key's private half is erased
    at once (it never signs again); its public half stays in the JWKS until every token
    it signed has expired.
    """

    __tablename__ = "access_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # RFC 7638 thumbprint
    algorithm: Mapped[str] = mapped_column(String(10))
    public_key: Mapped[str] = mapped_column(String(100))  # base64url, raw 32 bytes
    # base64url(nonce || AES-GCM ciphertext) of the raw private key; None once retired.
    private_key_encrypted: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class AccessLogEntry(Base):
    """One entry of a portal's append-only, hash-chained access log.

    ``hash = sha256(prev_hash + canonical JSON of the entry)``; triggers in the
    migration refuse UPDATE and DELETE.
    """

    __tablename__ = "access_log_entries"
    __table_args__ = (UniqueConstraint("portal_id", "seq"),)

    id: Mapped[IdPK]
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    seq: Mapped[int]  # 1, 2, 3 ... within the portal's chain
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(40))
    actor_type: Mapped[str] = mapped_column(String(20))  # agent | customer | host | system
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    grant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("access_grants.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("conversations.id"))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AccessLogHead(Base):
    """The last entry of each portal's chain. Appending locks this row, which orders
    concurrent appends, and comparing it with the last entry reveals a removed tail."""

    __tablename__ = "access_log_heads"

    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
