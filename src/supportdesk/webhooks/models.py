"""Webhook endpoints and their delivery log.

An endpoint is a URL an admin registered, the events it wants and its signing secret
(sealed with AES-256-GCM, see ``signing.py``: shown once at creation, never again).
Every delivery attempt, successful or not, is one ``webhook_deliveries`` row; the
attempts of one event share its ``delivery_id``, which receivers use to drop repeats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK, JsonDoc

URL_LENGTH = 2000
DESCRIPTION_LENGTH = 200
SEALED_LENGTH = 200
DELIVERY_ID_LENGTH = 40
EVENT_LENGTH = 60
ERROR_LENGTH = 1000
ADDRESS_LENGTH = 64


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[IdPK]
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH))
    events: Mapped[list[str]] = mapped_column(JsonDoc)
    active: Mapped[bool] = mapped_column(default=True)
    secret_sealed: Mapped[str] = mapped_column(String(SEALED_LENGTH))
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),)

    id: Mapped[IdPK]
    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoints.id"))
    delivery_id: Mapped[str] = mapped_column(String(DELIVERY_ID_LENGTH), index=True)
    event: Mapped[str] = mapped_column(String(EVENT_LENGTH))
    attempt: Mapped[int]
    # None when no HTTP answer came (refused target, DNS failure, timeout, reset ...).
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    # The IP address the request was sent to (the checked, pinned one).
    address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    duration_ms: Mapped[int]
    attempted_at: Mapped[datetime]
