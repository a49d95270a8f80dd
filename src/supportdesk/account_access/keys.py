"""The service's own Ed25519 signing keys for support access tokens, and the JWKS.

- **Shared by every process.** Keys live in ``access_signing_keys``; the first token
  minted on a fresh database generates one (PostgreSQL serialises that with an
  advisory lock, SQLite with its single writer).
- **Encrypted at rest.** The private key is stored as AES-256-GCM ciphertext (random
  96-bit nonce, the ``kid`` as associated data, so a ciphertext cannot be moved to
  another row) under a key derived with HKDF-SHA256 from
  ``SUPPORTDESK_SIGNING_KEY_SECRET``, or, when that is unset, from
  ``SUPPORTDESK_IDENTITY_SECRET`` (with its own HKDF ``info``, so the identity secret is
  never used as the encryption key itself). If the secret changes, the stored private
  key can no longer be read: the service then retires it and generates a new one
  (tokens already issued stay verifiable, which needs only the public half).
- **Rotation** (``supportdesk keys rotate``): the current key is retired and its private
  half erased at once, since it will never sign again; its public half stays in the
  JWKS until every token it signed has expired, i.e. ``retired_at`` + 15 minutes (the
  ceiling of ``SUPPORTDESK_ACCESS_TOKEN_TTL_SECONDS``, so lowering the setting later
  never drops a key too early).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.account_access.models import SigningKey
from supportdesk.config import ACCESS_TOKEN_TTL_CEILING, Settings
from supportdesk.core.errors import DomainError

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
KEY_LOCK = 0x5D_4B45  # pg_advisory_xact_lock key shared by every process
RETIRED_KEY_KEPT = timedelta(seconds=ACCESS_TOKEN_TTL_CEILING)
_HKDF_INFO = b"supportdesk access signing keys: AES-256-GCM v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def encryption_key(settings: Settings) -> bytes:
    """The AES key for private keys at rest, derived from the configured secret."""
    secret = settings.signing_key_secret or settings.identity_secret
    if not secret:
        # Only a deployment with a public identity key and no signing secret gets here.
        log.error("set SUPPORTDESK_SIGNING_KEY_SECRET to enable support access tokens")
        raise DomainError("access_signing_unavailable", 503)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )


def thumbprint(public_raw: bytes) -> str:
    """RFC 7638 JWK thumbprint: the key id."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64(public_raw)}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_key(settings: Settings, now: datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    public_raw = _public_raw(private.public_key())
    kid = thumbprint(public_raw)
    nonce = os.urandom(12)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sealed = AESGCM(encryption_key(settings)).encrypt(nonce, raw, kid.encode())
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        public_key=_b64(public_raw),
        private_key_encrypted=_b64(nonce + sealed),
        created_at=now,
        retired_at=None,
    )


def _open(settings: Settings, row: SigningKey) -> Ed25519PrivateKey | None:
    """The private key, or ``None`` when it cannot be decrypted (the secret changed)."""
    if row.private_key_encrypted is None:
        return None
    blob = _unb64(row.private_key_encrypted)
    try:
        raw = AESGCM(encryption_key(settings)).decrypt(blob[:12], blob[12:], row.kid.encode())
    except InvalidTag:
        return None
    return Ed25519PrivateKey.from_private_bytes(raw)


def _retire(row: SigningKey, now: datetime) -> None:
    row.retired_at = now
    row.private_key_encrypted = None  # it never signs again


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private: Ed25519PrivateKey


async def _lock(session: AsyncSession) -> None:
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_LOCK})


async def _current_rows(session: AsyncSession) -> list[SigningKey]:
    rows = await session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
    )
    return list(rows)


async def signing_key(session: AsyncSession, settings: Settings, now: datetime) -> ActiveKey:
    """The key to sign with now, generated on first use, inside the caller's write
    transaction."""
    rows = await _current_rows(session)
    if rows and (private := _open(settings, rows[0])) is not None:
        return ActiveKey(rows[0].kid, private)
    await _lock(session)
    rows = await _current_rows(session)  # another process may have made one meanwhile
    if rows and (private := _open(settings, rows[0])) is not None:
        return ActiveKey(rows[0].kid, private)
    for row in rows:
        log.warning("signing key %s cannot be decrypted with the configured secret", row.kid)
        _retire(row, now)
    row = new_key(settings, now)
    session.add(row)
    await session.flush()
    private = _open(settings, row)
    assert private is not None
    return ActiveKey(row.kid, private)


async def rotate(session: AsyncSession, settings: Settings, now: datetime) -> tuple[str, list[str]]:
    """Retire the current key(s) and make a new one: (new kid, retired kids)."""
    await _lock(session)
    retired = []
    for row in await _current_rows(session):
        _retire(row, now)
        retired.append(row.kid)
    row = new_key(settings, now)
    session.add(row)
    await session.flush()
    return row.kid, retired


async def published_keys(session: AsyncSession, now: datetime) -> list[SigningKey]:
    """Keys that may have signed a token still valid at ``now``: the current one and
    those retired less than 15 minutes ago."""
    rows = await session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now - RETIRED_KEY_KEPT))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
    )
    return list(rows)


def jwk(row: SigningKey) -> dict[str, Any]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": row.public_key,
        "kid": row.kid,
        "use": "sig",
        "alg": ALGORITHM,
    }


def public_key(row: SigningKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(row.public_key))
