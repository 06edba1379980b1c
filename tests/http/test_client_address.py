"""The client's address (kehu.http.client_address): the peer, or what trusted proxies forwarded
for it, read from the right of ``X-Forwarded-For``. tests/api/test_auth.py and
tests/web/test_public_pages.py check the login and public form limits that count by it."""

from __future__ import annotations

import pytest
from fastapi import Request

from kehu.core.config import Settings
from kehu.http.client_address import UNKNOWN, client_address


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        ("203.0.113.5", None, [], "203.0.113.5"),
        ("203.0.113.5", "198.51.100.7", [], "203.0.113.5"),  # nobody is trusted by default
        ("203.0.113.5", "198.51.100.7", ["10.0.0.0/8"], "203.0.113.5"),  # an untrusted peer
        ("10.0.0.2", "198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),
        ("10.0.0.2", "evil, 198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7, 10.1.1.1", ["10.0.0.0/8"], "198.51.100.7"),  # two proxies
        ("10.0.0.2", "10.3.3.3, 10.1.1.1", ["10.0.0.0/8"], "10.3.3.3"),  # all trusted
        ("10.0.0.2", "not-an-address", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::7", ["::1"], "2001:db8::7"),
    ],
)
def test_client_address(
    peer: str, forwarded_for: str | None, trusted: list[str], expected: str
) -> None:
    headers = [] if forwarded_for is None else [(b"x-forwarded-for", forwarded_for.encode())]
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1)}
    )
    assert client_address(request, Settings(trusted_proxies=trusted)) == expected


def request_from(peer: str | None, *forwarded_for: str) -> Request:
    headers = [(b"x-forwarded-for", line.encode()) for line in forwarded_for]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    if peer is not None:
        scope["client"] = (peer, 4711)
    return Request(scope)


PROXIES = Settings(trusted_proxies=["10.0.0.0/8", "2001:db8:ffff::/48"])


def test_a_request_without_a_peer_comes_from_unknown() -> None:
    assert client_address(request_from(None, "198.51.100.7"), PROXIES) == UNKNOWN == "unknown"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("198.51.100.7:443", "198.51.100.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("2001:DB8:0:0::7", "2001:db8::7"),  # written as an address is written
    ],
)
def test_an_address_with_a_port_is_the_address(entry: str, expected: str) -> None:
    assert client_address(request_from("10.0.0.2", entry), PROXIES) == expected


def test_every_header_line_counts_in_order() -> None:
    """Two proxies that each sent a line of their own: the lines are one list, read from the
    right (the last line is the nearest proxy's)."""
    request = request_from("10.0.0.2", "203.0.113.9, 198.51.100.7", "10.1.1.1")
    assert client_address(request, PROXIES) == "198.51.100.7"


def test_trust_ends_at_the_first_untrusted_hop() -> None:
    # 192.0.2.1 is not a proxy of ours: whatever it claims (10.9.9.9 included) is not believed
    request = request_from("10.0.0.2", "10.9.9.9, 192.0.2.1, 10.1.1.1")
    assert client_address(request, PROXIES) == "192.0.2.1"
    ipv6 = request_from("2001:db8:ffff::1", "2001:db8:1::5, 2001:db8:ffff::2")
    assert client_address(ipv6, PROXIES) == "2001:db8:1::5"
