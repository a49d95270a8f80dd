"""Verification of the host product's identity tokens (JWT).

The host signs a short-lived token for its current user. We accept HS256 with the
shared secret and, when a public key is configured, RS256/ES256/EdDSA. ``alg: none``
and any algorithm we did not configure are refused by construction: the list of
accepted algorithms comes from our settings, never from the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from supportdesk.config import Settings
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import Locale, normalize_locale

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")


class IdentityClaims(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str = Field(min_length=1, max_length=200)
    portal: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "user"]
    plan: str = Field(min_length=1, max_length=40)
    exp: int
    iat: int | None = None
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    locale: Locale = "en"
    # Codes of the marketplace apps the portal has installed (triage matches them first).
    # Absent: the portal's stored list is kept; present (even empty): it replaces it.
    apps: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=100
    )

    @field_validator("sub", "portal", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("locale", mode="before")
    @classmethod
    def _locale(cls, value: object) -> Locale:
        return normalize_locale(value if isinstance(value, str) else None)


def invalid_token() -> DomainError:
    return DomainError("invalid_identity_token", 401)


def _keys(settings: Settings) -> dict[str, str]:
    keys: dict[str, str] = {}
    if settings.identity_secret:
        keys["HS256"] = settings.identity_secret
    if settings.identity_public_key:
        for alg in ASYMMETRIC_ALGORITHMS:
            keys[alg] = settings.identity_public_key
    return keys


def verify_identity_token(token: str, settings: Settings, now: datetime) -> IdentityClaims:
    """Return the token's claims, or raise 401 ``invalid_identity_token``."""
    keys = _keys(settings)
    try:
        alg = jwt.get_unverified_header(token).get("alg")
        if alg not in keys:
            raise invalid_token()
        # Times are checked below against the injected ``now``; pydantic checks ``sub``
        # (PyJWT would refuse an integer user id, which hosts commonly send).
        payload = jwt.decode(
            token,
            keys[alg],
            algorithms=[alg],
            options={
                "require": ["exp", "sub"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_sub": False,
            },
        )
        claims = IdentityClaims.model_validate(payload)
    except (jwt.PyJWTError, ValidationError, ValueError, TypeError) as exc:
        raise invalid_token() from exc
    leeway = settings.identity_leeway_seconds
    timestamp = now.timestamp()
    if claims.exp + leeway <= timestamp:
        raise invalid_token()
    if claims.iat is not None and claims.iat - leeway > timestamp:
        raise invalid_token()
    not_before = payload.get("nbf")
    if isinstance(not_before, int | float) and not_before - leeway > timestamp:
        raise invalid_token()
    # A token that may live longer than the configured maximum is refused, so a leaked
    # token is only good for a short while.
    issued = claims.iat if claims.iat is not None else int(now.timestamp())
    if claims.exp - issued > settings.identity_max_ttl_seconds:
        raise invalid_token()
    return claims


def mint_identity_token(
    settings: Settings,
    *,
    portal: str,
    user: str,
    role: str,
    plan: str,
    now: datetime,
    locale: str = "en",
    name: str = "",
    email: str = "",
    ttl_seconds: int | None = None,
    apps: Sequence[str] | None = None,
) -> str:
    """A development token, as the host product would sign it (``supportdesk token``)."""
    iat = int(now.timestamp())
    ttl = ttl_seconds if ttl_seconds is not None else settings.identity_max_ttl_seconds
    claims = {
        "sub": user,
        "portal": portal,
        "role": role,
        "plan": plan,
        "locale": locale,
        "name": name or user,
        "email": email,
        "iat": iat,
        "exp": iat + ttl,
    }
    if apps is not None:
        claims["apps"] = list(apps)
    return jwt.encode(claims, settings.identity_secret, algorithm="HS256")
