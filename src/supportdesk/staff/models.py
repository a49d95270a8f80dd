from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[IdPK]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    max_chats: Mapped[int] = mapped_column(default=5)
    presence: Mapped[str] = mapped_column(String(10), default=Presence.OFFLINE.value)
    presence_changed_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class StaffSession(Base):
    """A login. Only a SHA-256 of the opaque token is stored."""

    __tablename__ = "staff_sessions"

    id: Mapped[IdPK]
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """Failed logins, counted per email address within a window to throttle guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"),)

    id: Mapped[IdPK]
    email: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime]
