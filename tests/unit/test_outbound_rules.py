"""Which addresses an outside request may reach, and what of an address a
log line may show."""

from __future__ import annotations

import pytest

from stocky.core.outbound import address_kind, is_local_name
from stocky.core.security import mask_url


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("::ffff:10.1.2.3", "private"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.178.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT
        ("not an address", "unreadable"),
        ("1.1.1.1", None),
        ("2a00:1450:4001:80b::200e", None),
    ],
)
def test_only_public_addresses_are_public(address, kind):
    assert address_kind(address) == kind


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("192.168.1.20", True),
        ("::1", True),
        ("localhost", True),
        ("nas", True),
        ("pantry.lan", True),
        ("pantry.local.", True),
        ("grocy.home.arpa", True),
        ("world.openfoodfacts.org", False),
        ("products.example.com", False),
        ("lan.example.com", False),
    ],
)
def test_a_local_name_is_one_of_the_household_s_network(host, local):
    assert is_local_name(host) is local


def test_secrets_in_an_address_are_hidden():
    url = "https://grocy:hunter2@pantry.lan:9283/api/objects?fields=a,b&api_key=xyz&Token=abc"
    assert mask_url(url) == (
        "https://[hidden]@pantry.lan:9283/api/objects?fields=a,b&api_key=[hidden]&Token=[hidden]"
    )
    assert mask_url("https://x.example/hook/sk_abcdefghijkl") == "https://x.example/hook/sk_[hidden]"
    assert mask_url("https://world.openfoodfacts.org/api/v2/product") == (
        "https://world.openfoodfacts.org/api/v2/product"
    )
