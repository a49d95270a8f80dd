"""The webhooks' SSRF guard (webhooks/guard.py): private, loopback, link-local (the cloud
metadata address among them), unique-local, multicast, reserved and unspecified targets
are refused, by literal address, IPv4-mapped IPv6 address or a name resolving to one;
the allow-list admits named hosts and networks; the URL rules refuse what cannot be a
webhook target."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from supportdesk.config import Settings
from supportdesk.core.errors import DomainError
from supportdesk.webhooks import guard, rules

pytestmark = pytest.mark.unit

SECRET = "test-identity-secret-0123456789abcdef"
NONE = guard.AllowList()

REFUSED = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "127.8.9.10",
    "169.254.169.254",  # cloud metadata
    "169.254.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",  # unique-local
    "fc00::5",
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 carrying 169.254.169.254
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_forbidden(address: str):
    assert guard.is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str):
    assert not guard.is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:7f00:1]/hook",  # the same, written in hex
        "https://localhost/hook",  # a name that resolves to 127.0.0.1
        "http://LOCALHOST./hook",
    ],
)
async def test_targets_are_refused_without_the_allow_list(url: str):
    target = rules.parse_url(url)
    with pytest.raises(DomainError) as refused:
        await guard.checked_address(target.host, target.port, NONE)
    assert refused.value.code == "webhook_target_forbidden"
    assert refused.value.status == 422


async def test_a_name_is_refused_if_any_of_its_addresses_is_forbidden(monkeypatch):
    async def two_addresses(host: str, port: int):
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.2.3")]

    monkeypatch.setattr(guard, "resolve", two_addresses)
    with pytest.raises(DomainError) as refused:
        await guard.checked_address("mixed.example", 443, NONE)
    assert refused.value.params["address"] == "10.1.2.3"


async def test_a_public_address_passes_and_is_the_one_to_connect_to():
    assert await guard.checked_address("93.184.216.34", 443, NONE) == "93.184.216.34"


async def test_an_unresolvable_name_is_refused():
    with pytest.raises(DomainError) as refused:
        await guard.checked_address("no-such-host.invalid", 443, NONE)
    assert refused.value.code == "webhook_host_unresolvable"


async def test_the_allow_list_admits_hosts_and_networks():
    by_network = guard.parse_allow_list("127.0.0.0/8, 10.20.0.0/16")
    assert await guard.checked_address("127.0.0.1", 80, by_network) == "127.0.0.1"
    assert await guard.checked_address("localhost", 80, by_network) == "127.0.0.1"
    assert await guard.checked_address("10.20.3.4", 80, by_network) == "10.20.3.4"
    # An IPv4-mapped address is admitted by the IPv4 network it carries.
    assert await guard.checked_address("::ffff:127.0.0.1", 80, by_network) == "::ffff:7f00:1"
    with pytest.raises(DomainError):
        await guard.checked_address("10.0.0.1", 80, by_network)  # outside 10.20.0.0/16
    with pytest.raises(DomainError):
        await guard.checked_address("169.254.169.254", 80, by_network)

    by_name = guard.parse_allow_list("LocalHost, [::1]")
    assert await guard.checked_address("localhost", 80, by_name) == "127.0.0.1"
    assert await guard.checked_address("::1", 80, by_name) == "::1"
    with pytest.raises(DomainError):
        await guard.checked_address("127.0.0.1", 80, by_name)  # the name, not its address


def test_a_malformed_allow_list_is_refused_at_start_up():
    assert guard.parse_allow_list(" , ") == guard.AllowList()
    with pytest.raises(ValueError, match="WEBHOOK_ALLOW"):
        guard.parse_allow_list("hooks.internal, http://x/")
    with pytest.raises(ValidationError, match="WEBHOOK_ALLOW"):
        Settings(identity_secret=SECRET, webhook_allow="10.0.0.0/8, not a host")
    assert Settings(identity_secret=SECRET, webhook_allow="10.0.0.0/8,hooks.internal")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:pass@example.com/hook",
        "http://example.com/hook#fragment",
        "http:///no-host",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://[fe80::1%25eth0]/",
        "https://example.com/" + "x" * 2000,
    ],
)
def test_urls_that_cannot_be_webhook_targets(url: str):
    with pytest.raises(DomainError) as refused:
        rules.parse_url(url)
    assert refused.value.code == "webhook_url_invalid"


def test_the_pinned_url_keeps_the_host_header():
    target = rules.parse_url("https://Hooks.Example.com:8443/in?x=1")
    assert (target.host, target.port, target.target) == ("hooks.example.com", 8443, "/in?x=1")
    assert target.host_header == "hooks.example.com:8443"
    assert target.url_for("93.184.216.34") == "https://93.184.216.34:8443/in?x=1"
    assert target.url_for("2606:4700::1") == "https://[2606:4700::1]:8443/in?x=1"
    assert rules.parse_url("http://example.com").host_header == "example.com"
    assert rules.parse_url("http://[2606:4700::1]/").host_header == "[2606:4700::1]"
