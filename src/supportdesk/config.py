"""Settings from ``SUPPORTDESK_*`` environment variables.

There are no import-time globals: ``create_app(settings)`` and the CLI build a
``Settings`` explicitly, so tests can run several differently configured apps in one
process.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never protect a real deployment. The demo may use them.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "demo-identity-secret-for-local-use-only",
        "demo-host-api-key-for-local-use-only",
    }
)
DEMO_IDENTITY_SECRET = "demo-identity-secret-for-local-use-only"
DEMO_HOST_API_KEY = "demo-host-api-key-for-local-use-only"

# Account access: the hard ceilings behind the configurable values.
ACCESS_MAX_MINUTES_CEILING = 7 * 24 * 60  # a grant never lasts longer than 7 days
ACCESS_TOKEN_TTL_CEILING = 15 * 60  # a support access token never lives longer than 15 min
_SCOPE = re.compile(r"[a-z][a-z0-9_.:-]{0,63}")
MB = 1024 * 1024


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

    # Account access (account_access/): scopes a specialist may ask for (comma-separated),
    # the longest grant, how long a request waits for an answer, the support access
    # token's lifetime and how often lapsed grants are swept.
    access_scopes: str = "read,write:settings"
    access_max_minutes: int = Field(default=24 * 60, ge=5, le=ACCESS_MAX_MINUTES_CEILING)
    access_request_ttl_minutes: int = Field(default=12 * 60, ge=1)
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=ACCESS_TOKEN_TTL_CEILING)
    access_sweep_seconds: float = Field(default=30.0, gt=0)
    # The host product's key for POST /api/v1/access-tokens/introspect (unset: refused).
    host_api_key: str = ""
    # Encrypts the service's own signing keys at rest; empty means "derive it from the
    # identity secret" (account_access/keys.py).
    signing_key_secret: str = ""

    # Attachments (attachments/): where stored files live, the limits per kind and per
    # portal, how many a message may carry, and when an unsent upload is collected.
    storage: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = ""  # empty: AWS itself; else any S3-compatible server
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""  # empty: boto3's own credential chain
    s3_secret_access_key: str = ""
    max_image_bytes: int = Field(default=20 * MB, ge=1)
    max_video_bytes: int = Field(default=500 * MB, ge=1)
    max_file_bytes: int = Field(default=20 * MB, ge=1)
    portal_quota_bytes: int = Field(default=5 * 1024 * MB, ge=0)
    max_attachments_per_message: int = Field(default=10, ge=1)
    attachment_orphan_hours: float = Field(default=24.0, ge=0)
    attachment_gc_seconds: float = Field(default=600.0, gt=0)

    # Outbound mail (core/mail.py): smtp://user:pass@host:port (smtps:// for implicit TLS,
    # ?starttls=1 to upgrade a plain connection). Empty: mail is logged as skipped.
    smtp_url: SecretStr = SecretStr("")
    mail_from: str = "supportdesk@localhost"
    # The outbox (core/outbox.py): how often its runner looks for due jobs (it is also
    # woken right after a commit that enqueued one), how long a claimed job is leased,
    # the first retry delay (doubled on every failure, at most an hour) and the attempts.
    outbox_poll_seconds: float = Field(default=10.0, gt=0)
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    outbox_retry_seconds: float = Field(default=30.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    # Outbound webhooks (webhooks/): hosts and CIDRs (comma-separated) that a webhook may
    # reach although they are private, loopback, link-local ... (the SSRF guard refuses
    # those otherwise), and the timeout of one delivery attempt. Retries use the outbox's.
    webhook_allow: str = ""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # A PEM file of CA certificates to verify https receivers with instead of the
    # system's (for internal receivers with a private CA); empty: the system's CAs.
    webhook_ca_file: str = ""

    # Product board (product/): how long a request notice may stay unread in the chat
    # before it is also e-mailed to the customer, and optional plan weights for the
    # ranking score ("pro:2,enterprise:3"; plans not named weigh 1).
    notify_email_after_seconds: float = Field(default=3600.0, ge=0)
    plan_weights: str = ""

    # Scale-out (docs/operations.md). Redis (redis://host:6379/0): pub/sub between app
    # processes, and a readiness check; empty: the in-process bus (one process).
    redis_url: str = ""
    # False: this process leaves the outbox to ``supportdesk worker`` processes. Only
    # honoured on PostgreSQL; the embedded SQLite default always runs it in-process.
    outbox_in_process: bool = True
    # Bearer token that GET /metrics requires; empty: /metrics is open (bind it to a
    # private network, see docs/operations.md).
    metrics_token: SecretStr = SecretStr("")

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # "json": one JSON object per line (time, level, logger, message, request_id).
    log_format: Literal["text", "json"] = "text"

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
        if self.demo and not self.host_api_key:
            self.host_api_key = DEMO_HOST_API_KEY
        if not self.demo:
            # Unset is allowed (introspection then answers 401); weak is not.
            for name, value in (
                ("SUPPORTDESK_HOST_API_KEY", self.host_api_key),
                ("SUPPORTDESK_SIGNING_KEY_SECRET", self.signing_key_secret),
            ):
                if value and (value in PLACEHOLDER_SECRETS or len(value) < 32):
                    raise ValueError(
                        f"{name} is a placeholder or shorter than 32 characters; "
                        "set a real secret or leave it unset"
                    )
        parse_scopes(self.access_scopes)  # a malformed list is refused at start-up
        from supportdesk.product.rules import parse_plan_weights

        parse_plan_weights(self.plan_weights)  # "plan:number,..." or refused at start-up
        from supportdesk.webhooks.guard import parse_allow_list

        parse_allow_list(self.webhook_allow)  # a malformed allow-list is refused too
        if self.webhook_ca_file and not Path(self.webhook_ca_file).is_file():
            raise ValueError("SUPPORTDESK_WEBHOOK_CA_FILE names no file")
        from supportdesk.core.mail import check_address, parse_smtp_url

        if self.smtp_url.get_secret_value():
            parse_smtp_url(self.smtp_url.get_secret_value())  # refused at start-up if malformed
        try:
            check_address(self.mail_from)
        except ValueError:
            raise ValueError(
                "SUPPORTDESK_MAIL_FROM must be one plain address such as support@example.com"
            ) from None
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("SUPPORTDESK_STORAGE=s3 needs SUPPORTDESK_S3_BUCKET")
        return self

    @property
    def access_scope_list(self) -> tuple[str, ...]:
        """The configured scopes, in order; ``read`` is the default choice of a request."""
        return parse_scopes(self.access_scopes)

    @property
    def database_url_resolved(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'supportdesk.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url_resolved.startswith("sqlite")


def parse_scopes(text: str) -> tuple[str, ...]:
    """``"read, write:settings"`` -> ``("read", "write:settings")``; duplicates dropped."""
    scopes = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not scopes or any(not _SCOPE.fullmatch(scope) for scope in scopes):
        raise ValueError(
            "SUPPORTDESK_ACCESS_SCOPES must be a comma-separated list of scopes "
            "(lowercase letters, digits and _ . : -)"
        )
    return scopes


def get_settings(**overrides: object) -> Settings:
    """Read the environment (and apply explicit overrides, used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
