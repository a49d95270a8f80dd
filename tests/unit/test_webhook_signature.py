"""Webhook signatures (webhooks/signing.py): the header's shape, the HMAC over
``t.body`` recomputed independently, what a receiver's check refuses, the delivery body
built once, and the signing secret sealed at rest."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from supportdesk.config import Settings
from supportdesk.core.errors import DomainError
from supportdesk.webhooks import rules, signing

pytestmark = pytest.mark.unit

SECRET = "test-identity-secret-0123456789abcdef"
BODY = '{"data":{"request":"REQ-1042","status":"fixed"},"event":"request.status_changed"}'


def test_the_header_is_t_and_v1_over_timestamp_dot_body():
    header = signing.signature_header("whsec_abc", 1_700_000_000, BODY)
    expected = hmac.new(b"whsec_abc", f"1700000000.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert signing.parse_signature_header(header) == (1_700_000_000, [expected])


def test_a_receiver_accepts_the_genuine_request_only():
    header = signing.signature_header("whsec_abc", 1_700_000_000, BODY)
    assert signing.verify("whsec_abc", header, BODY, now=1_700_000_010)
    # Another secret, a changed body, a changed timestamp, or too old: refused.
    assert not signing.verify("whsec_xyz", header, BODY, now=1_700_000_010)
    assert not signing.verify(
        "whsec_abc", header, BODY.replace("fixed", "released"), now=1_700_000_010
    )
    moved = header.replace("t=1700000000", "t=1700000001")
    assert not signing.verify("whsec_abc", moved, BODY, now=1_700_000_010)
    assert not signing.verify("whsec_abc", header, BODY, now=1_700_000_000 + 301)
    for broken in ("", "v1=abc", "t=abc,v1=abc", "t=1700000000"):
        assert not signing.verify("whsec_abc", broken, BODY, now=1_700_000_000)


def test_secrets_are_random_and_prefixed():
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and len(first) > 40 and first != second


def test_the_secret_is_sealed_at_rest_and_bound_to_the_configured_key():
    settings = Settings(identity_secret=SECRET)
    secret = signing.new_secret()
    sealed = signing.seal(settings, secret)
    assert secret not in sealed and signing.unseal(settings, sealed) == secret
    other = Settings(
        identity_secret=SECRET, signing_key_secret="another-signing-secret-0123456789abc"
    )
    with pytest.raises(DomainError) as unreadable:
        signing.unseal(other, sealed)
    assert unreadable.value.code == "webhook_secret_unavailable"


def test_the_delivery_body_carries_id_event_time_and_data():
    body = rules.delivery_body(
        "whd_1", "request.created", datetime(2026, 12, 9, 8, 0, tzinfo=UTC), {"title": "日本語"}
    )
    assert json.loads(body) == {
        "id": "whd_1",
        "event": "request.created",
        "created_at": "2026-12-09T08:00:00Z",
        "data": {"title": "日本語"},
    }
    assert "日本語" in body  # UTF-8, not \\u escapes: the signed bytes are the sent bytes


def test_only_2xx_answers_are_deliveries():
    assert rules.delivered(200) and rules.delivered(204)
    assert not any(rules.delivered(code) for code in (301, 302, 400, 410, 500, 503))


def test_events_are_checked():
    assert rules.check_events(["request.title_changed", "request.created", "request.created"]) == [
        "request.created",
        "request.title_changed",
    ]
    for bad in ([], ["request.deleted"], ["webhook.ping"]):
        with pytest.raises(DomainError) as refused:
            rules.check_events(bad)
        assert refused.value.code == "webhook_events_invalid"
