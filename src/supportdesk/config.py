"""Settings from ``SUPPORTDESK_*`` environment variables.

There are no import-time globals: ``create_app(settings)`` and the CLI build a
``Settings`` explicitly, so tests can run several differently configured apps in one
process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never protect a real deployment. The demo may use them.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "demo-identity-secret-for-local-use-only"}
)
DEMO_IDENTITY_SECRET = "demo-identity-secret-for-local-use-only"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPORTDESK_", extra="ignore")

    data_dir: Path = Path("./var")
    # Empty means "a SQLite file in data_dir"; see ``database_url_resolved``.
    database_url: str = ""
    demo: bool = False

    # Customer identity tokens, signed by the host product.
    identity_secret: str = ""
    # Optional PEM public key (RS256 / ES256 / EdDSA) instead of, or beside, the shared secret.
    identity_public_key: str = ""
    identity_max_ttl_seconds: int = Field(default=3600, ge=60)
    identity_leeway_seconds: int = Field(default=30, ge=0)

    # Staff sessions and login throttling.
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)
    cookie_secure: bool = False

    # Chat.
    message_max_chars: int = 10_000
    presence_grace_seconds: float = Field(default=30.0, ge=0)
    default_max_chats: int = Field(default=5, ge=1)

    # Links shown when someone may not open a chat.
    pricing_url: str = "https://example.com/pricing"
    help_center_url: str = "/kb"

    # CSP frame-ancestors of the widget page (/widget): the host origins allowed to embed it.
    widget_frame_ancestors: str = "'self'"

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.demo and not self.identity_secret:
            self.identity_secret = DEMO_IDENTITY_SECRET
        if not self.demo:
            # With a public key the shared secret may be left empty (HS256 is then off),
            # but a placeholder never protects a real deployment.
            missing = not self.identity_secret and not self.identity_public_key
            if missing or (self.identity_secret and self.identity_secret in PLACEHOLDER_SECRETS):
                raise ValueError(
                    "SUPPORTDESK_IDENTITY_SECRET is missing or a placeholder; set a real secret "
                    "(at least 32 characters) or run the demo"
                )
        if not self.demo and self.identity_secret and len(self.identity_secret) < 32:
            raise ValueError("SUPPORTDESK_IDENTITY_SECRET must be at least 32 characters")
        return self

    @property
    def database_url_resolved(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'supportdesk.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url_resolved.startswith("sqlite")


def get_settings(**overrides: object) -> Settings:
    """Read the environment (and apply explicit overrides, used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
