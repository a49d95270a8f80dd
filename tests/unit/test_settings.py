"""Settings refuse to protect a real deployment with a missing, placeholder or short
identity secret; only the demo runs with the built-in one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from supportdesk.config import DEMO_IDENTITY_SECRET, PLACEHOLDER_SECRETS, Settings

from ._builders import clear_supportdesk_environment

pytestmark = pytest.mark.unit

STRONG = "s" * 32
PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_supportdesk_environment(monkeypatch)


def test_missing_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="IDENTITY_SECRET"):
        Settings(data_dir=tmp_path)


@pytest.mark.parametrize("secret", sorted(PLACEHOLDER_SECRETS))
def test_placeholder_secret_is_refused(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="IDENTITY_SECRET"):
        Settings(identity_secret=secret, data_dir=tmp_path)


def test_demo_secret_is_refused_outside_the_demo(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(identity_secret=DEMO_IDENTITY_SECRET, data_dir=tmp_path)


@pytest.mark.parametrize("secret", ["short", "a" * 31])
def test_short_secret_is_refused(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(identity_secret=secret, data_dir=tmp_path)


def test_secret_of_32_characters_is_accepted(tmp_path: Path) -> None:
    assert Settings(identity_secret=STRONG, data_dir=tmp_path).identity_secret == STRONG


def test_short_secret_is_refused_even_beside_a_public_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(identity_secret="a" * 31, identity_public_key=PUBLIC_KEY, data_dir=tmp_path)


def test_public_key_alone_is_enough(tmp_path: Path) -> None:
    settings = Settings(identity_public_key=PUBLIC_KEY, data_dir=tmp_path)

    assert settings.identity_secret == ""


def test_demo_gets_the_default_secret(tmp_path: Path) -> None:
    settings = Settings(demo=True, data_dir=tmp_path)

    assert settings.identity_secret == DEMO_IDENTITY_SECRET


def test_demo_keeps_an_explicit_secret(tmp_path: Path) -> None:
    assert Settings(demo=True, identity_secret=STRONG, data_dir=tmp_path).identity_secret == STRONG


def test_secret_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPPORTDESK_IDENTITY_SECRET", STRONG)

    assert Settings(data_dir=tmp_path).identity_secret == STRONG


def test_placeholder_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPPORTDESK_IDENTITY_SECRET", "changeme")

    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("identity_max_ttl_seconds", 59),
        ("identity_leeway_seconds", -1),
        ("login_max_failures", 0),
        ("default_max_chats", 0),
    ],
)
def test_out_of_range_numbers_are_refused(field: str, value: int, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(identity_secret=STRONG, data_dir=tmp_path, **{field: value})


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(identity_secret=STRONG, data_dir=tmp_path)

    assert settings.is_sqlite
    assert settings.database_url_resolved.endswith(str((tmp_path / "supportdesk.db").resolve()))


def test_placeholder_secret_is_refused_even_beside_a_public_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(
            identity_secret=DEMO_IDENTITY_SECRET, identity_public_key=PUBLIC_KEY, data_dir=tmp_path
        )
