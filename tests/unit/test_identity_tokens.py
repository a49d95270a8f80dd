"""Verification of the host product's identity tokens, with a fixed clock.

``verify_identity_token(token, settings, now)`` decides with the given ``now``; every
refused token is answered with 401 ``invalid_identity_token`` and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from supportdesk.config import Settings
from supportdesk.core.errors import DomainError
from supportdesk.identity.tokens import IdentityClaims, mint_identity_token, verify_identity_token

from ._builders import clear_supportdesk_environment

pytestmark = pytest.mark.unit

SECRET = "x" * 40
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
IAT = int(NOW.timestamp())


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_supportdesk_environment(monkeypatch)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(identity_secret=SECRET, data_dir=tmp_path)


@pytest.fixture(scope="module")
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def public_pem(rsa_private_key: rsa.RSAPrivateKey) -> str:
    return (
        rsa_private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid payload issued at ``NOW`` for ten minutes; ``None`` removes a claim."""
    payload: dict[str, Any] = {
        "sub": "user-1",
        "portal": "portal-1",
        "role": "admin",
        "plan": "standard",
        "locale": "ja",
        "name": "Hanako",
        "email": "hanako@example.com",
        "iat": IAT,
        "exp": IAT + 600,
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def hs256(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def segment(data: dict[str, Any]) -> str:
    return b64url(json.dumps(data, separators=(",", ":")).encode())


def assert_refused(token: str, settings: Settings) -> None:
    with pytest.raises(DomainError) as caught:
        verify_identity_token(token, settings, NOW)
    assert caught.value.code == "invalid_identity_token"
    assert caught.value.status == 401


# --- accepted ---------------------------------------------------------------------


def test_valid_token_yields_its_claims(settings: Settings) -> None:
    result = verify_identity_token(hs256(claims()), settings, NOW)

    assert isinstance(result, IdentityClaims)
    assert (result.sub, result.portal, result.role, result.plan) == (
        "user-1",
        "portal-1",
        "admin",
        "standard",
    )
    assert result.locale == "ja"
    assert result.exp == IAT + 600
    assert result.iat == IAT


def test_minted_token_round_trips(settings: Settings) -> None:
    token = mint_identity_token(
        settings, portal="p-9", user="u-9", role="user", plan="basic", now=NOW, locale="ja-JP"
    )

    result = verify_identity_token(token, settings, NOW)

    assert (result.sub, result.portal, result.role, result.plan) == ("u-9", "p-9", "user", "basic")
    assert result.locale == "ja"
    assert result.exp - (result.iat or 0) == settings.identity_max_ttl_seconds


def test_integer_portal_id_is_coerced_to_text(settings: Settings) -> None:
    result = verify_identity_token(hs256(claims(portal=7)), settings, NOW)

    assert result.portal == "7"


def test_integer_subject_is_coerced_to_text(settings: Settings) -> None:
    result = verify_identity_token(hs256(claims(sub=42)), settings, NOW)

    assert result.sub == "42"


def test_unknown_locale_falls_back_to_english(settings: Settings) -> None:
    result = verify_identity_token(hs256(claims(locale="fr-FR")), settings, NOW)

    assert result.locale == "en"


def test_rs256_token_verifies_with_the_configured_public_key(
    tmp_path: Path, rsa_private_key: rsa.RSAPrivateKey, public_pem: str
) -> None:
    settings = Settings(identity_secret=SECRET, identity_public_key=public_pem, data_dir=tmp_path)
    token = jwt.encode(claims(), rsa_private_key, algorithm="RS256")

    result = verify_identity_token(token, settings, NOW)

    assert result.sub == "user-1"


# --- refused ----------------------------------------------------------------------


def test_expired_token_is_refused(settings: Settings) -> None:
    leeway = settings.identity_leeway_seconds
    token = hs256(claims(iat=IAT - 900, exp=IAT - leeway - 60))

    assert_refused(token, settings)


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30"],
)
def test_malformed_token_is_refused(token: str, settings: Settings) -> None:
    assert_refused(token, settings)


def test_unsigned_alg_none_token_is_refused(settings: Settings) -> None:
    token = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims())}."

    assert_refused(token, settings)


def test_token_signed_with_another_secret_is_refused(settings: Settings) -> None:
    assert_refused(hs256(claims(), secret="y" * 40), settings)


def test_tampered_payload_is_refused(settings: Settings) -> None:
    header, _payload, signature = hs256(claims(role="user")).split(".")
    forged = f"{header}.{segment(claims(role='admin'))}.{signature}"

    assert_refused(forged, settings)


def test_token_living_longer_than_the_maximum_is_refused(settings: Settings) -> None:
    token = hs256(claims(iat=IAT, exp=IAT + settings.identity_max_ttl_seconds + 1))

    assert_refused(token, settings)


def test_token_living_exactly_the_maximum_is_accepted(settings: Settings) -> None:
    token = hs256(claims(iat=IAT, exp=IAT + settings.identity_max_ttl_seconds))

    assert verify_identity_token(token, settings, NOW).sub == "user-1"


def test_token_without_iat_and_a_far_expiry_is_refused(settings: Settings) -> None:
    far = IAT + settings.identity_max_ttl_seconds + 120
    token = hs256(claims(iat=None, exp=far))

    assert_refused(token, settings)


def test_token_without_iat_and_a_near_expiry_is_accepted(settings: Settings) -> None:
    token = hs256(claims(iat=None, exp=IAT + 300))

    assert verify_identity_token(token, settings, NOW).iat is None


@pytest.mark.parametrize("role", ["owner", "Admin", "", "supervisor"])
def test_role_other_than_admin_or_user_is_refused(role: str, settings: Settings) -> None:
    assert_refused(hs256(claims(role=role)), settings)


@pytest.mark.parametrize("missing", ["portal", "sub", "exp", "role", "plan"])
def test_token_missing_a_required_claim_is_refused(missing: str, settings: Settings) -> None:
    assert_refused(hs256(claims(**{missing: None})), settings)


def test_rs256_token_is_refused_when_no_public_key_is_configured(
    settings: Settings, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    assert_refused(jwt.encode(claims(), rsa_private_key, algorithm="RS256"), settings)


def test_rs256_token_signed_by_another_key_is_refused(tmp_path: Path, public_pem: str) -> None:
    settings = Settings(identity_secret=SECRET, identity_public_key=public_pem, data_dir=tmp_path)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert_refused(jwt.encode(claims(), stranger, algorithm="RS256"), settings)


def forge_hs256_with_public_key(payload: dict[str, Any], public_pem: str) -> str:
    """The algorithm-confusion attack: HMAC-sign with the (public) PEM text as secret."""
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(payload)}"
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def test_hs256_token_forged_with_the_public_key_is_refused(tmp_path: Path, public_pem: str) -> None:
    settings = Settings(identity_secret=SECRET, identity_public_key=public_pem, data_dir=tmp_path)

    assert_refused(forge_hs256_with_public_key(claims(), public_pem), settings)


def test_hs256_token_forged_with_the_public_key_is_refused_without_a_secret(
    tmp_path: Path, public_pem: str
) -> None:
    settings = Settings(identity_public_key=public_pem, data_dir=tmp_path)

    assert_refused(forge_hs256_with_public_key(claims(), public_pem), settings)


def test_refusal_does_not_depend_on_which_check_failed(settings: Settings) -> None:
    """Callers learn nothing about why: every refusal carries the same code and text."""
    refusals = [
        "garbage",
        hs256(claims(), secret="z" * 40),
        hs256(claims(role="root")),
        hs256(claims(exp=IAT - 3600, iat=IAT - 4000)),
    ]
    bodies = set()
    for token in refusals:
        with pytest.raises(DomainError) as caught:
            verify_identity_token(token, settings, NOW)
        bodies.add(json.dumps(caught.value.body("en"), sort_keys=True))

    assert len(bodies) == 1


def test_clock_used_is_the_given_now(settings: Settings) -> None:
    """The same token is valid at issue time and refused two hours later."""
    token = hs256(claims(iat=IAT, exp=IAT + 600))

    assert verify_identity_token(token, settings, NOW).sub == "user-1"
    with pytest.raises(DomainError):
        verify_identity_token(token, settings, NOW + timedelta(hours=2))


def test_token_not_yet_valid_is_refused() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    settings = Settings(identity_secret="n" * 40)
    issued = int(now.timestamp())
    claims = {
        "sub": "u",
        "portal": "p",
        "role": "admin",
        "plan": "basic",
        "iat": issued,
        "exp": issued + 600,
        "nbf": issued + 300,
    }
    token = jwt.encode(claims, "n" * 40, algorithm="HS256")
    with pytest.raises(DomainError) as refused:
        verify_identity_token(token, settings, now)
    assert refused.value.code == "invalid_identity_token"
