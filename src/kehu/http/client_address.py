"""The address a request comes from, as the login and public form limits and the session record
see it.

The direct peer is the client, unless it is one of ``settings.trusted_proxies``
(``KEHU_TRUSTED_PROXIES``): only then is ``X-Forwarded-For`` read. Each proxy appends the address
it received the request from, so the header is read from the right, past the trusted proxies; the
first address that is not one of them is the client. Whatever lies left of it was written by the
client itself and is never believed. ``kehu serve`` turns uvicorn's own proxy-header handling
off, so that this function is the one place that decides.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

from starlette.requests import Request

from kehu.core.config import Settings

UNKNOWN = "unknown"


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the peer, or what trusted proxies forwarded for it."""
    if request.client is None:
        return UNKNOWN
    hop = request.client.host
    if not _is_trusted(_parse(hop), settings):
        return hop
    for entry in reversed(_forwarded_for(request)):
        address = _parse(entry)
        if address is None:
            # Not something a proxy writes: trust ends at the proxy that passed it on.
            return hop
        hop = str(address)
        if not _is_trusted(address, settings):
            return hop
    return hop


def _forwarded_for(request: Request) -> list[str]:
    """Every entry of every ``X-Forwarded-For`` header line, in order."""
    entries = ",".join(request.headers.getlist("x-forwarded-for")).split(",")
    return [entry.strip() for entry in entries if entry.strip()]


def _parse(entry: str) -> IPv4Address | IPv6Address | None:
    """An address, also in the ``1.2.3.4:port`` and ``[::1]:port`` forms some proxies write."""
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        return ip_address(entry)
    except ValueError:
        return None


def _is_trusted(address: IPv4Address | IPv6Address | None, settings: Settings) -> bool:
    return address is not None and any(address in network for network in settings.trusted_proxies)
