"""Signing deliveries, and the signing secrets at rest.

Signature header (Stripe-like, so receivers know the shape)::

    X-Supportdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

The timestamp is inside the signed text, so a receiver that rejects old timestamps
(``verify(..., tolerance_seconds=300)``) also rejects a replayed request; the delivery
id header lets it drop a genuine retry it has already processed.

Secrets are generated here (``whsec_`` + 32 random bytes), shown to the admin once, and
stored sealed with AES-256-GCM under a key derived with HKDF-SHA256 from
``SUPPORTDESK_SIGNING_KEY_SECRET`` (or the identity secret), with its own HKDF ``info``
so the key is not the one that protects the access signing keys; the endpoint's row
holds only the ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from supportdesk.config import Settings
from supportdesk.core.errors import DomainError

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Supportdesk-Signature"
EVENT_HEADER = "X-Supportdesk-Event"
DELIVERY_HEADER = "X-Supportdesk-Delivery"
_HKDF_INFO = b"supportdesk webhook secrets: AES-256-GCM v1"
_AAD = b"webhook-secret"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: str) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def parse_signature_header(header: str) -> tuple[int, list[str]] | None:
    """``(timestamp, [v1 signatures])``, or None when the header is malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(secret: str, header: str, body: str, *, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: the header is well formed, recent, and one ``v1`` matches."""
    parsed = parse_signature_header(header)
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


# --- the secret at rest ------------------------------------------------------------------


def _key(settings: Settings) -> bytes:
    secret = settings.signing_key_secret or settings.identity_secret
    if not secret:
        raise DomainError("webhook_secret_unavailable", 503)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )


def seal(settings: Settings, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(settings)).encrypt(nonce, secret.encode(), _AAD)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(settings: Settings, sealed: str) -> str:
    """The secret; ``webhook_secret_unavailable`` when the configured secret changed
    since it was sealed (the admin then deletes and re-creates the endpoint)."""
    blob = base64.urlsafe_b64decode(sealed)
    try:
        return AESGCM(_key(settings)).decrypt(blob[:12], blob[12:], _AAD).decode()
    except InvalidTag:
        raise DomainError("webhook_secret_unavailable", 503) from None
