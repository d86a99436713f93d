"""Who the client is behind TRUSTED_PROXIES: X-Forwarded-For and X-Forwarded-Proto, believed only there."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import falcon

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PEER_KEY = "backroom.peer_addr"  # the socket's address, kept in the WSGI environ after the rewrite


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: Sequence[Network]
) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str | None, networks: Sequence[Network]) -> str:
    """The client's address: the right-most X-Forwarded-For entry that is not a trusted proxy.

    Only when the peer itself is trusted; everything left of the first untrusted hop was
    written by someone we do not trust, so it is never read. A hop that is not an address
    (`unknown`, garbage) ends the walk at the last trusted hop.
    """
    if not forwarded_for or not _trusted(_address(peer), networks):
        return peer
    client = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            return client
        client = str(address)
        if not _trusted(address, networks):
            return client
    return client  # every hop is a proxy of ours: the left-most is as far as we can see


def forwarded_scheme(peer: str, proto: str | None, networks: Sequence[Network], scheme: str) -> str:
    """`http` or `https` as the trusted proxy saw it (its own, right-most value), else the socket's."""
    if not proto or not _trusted(_address(peer), networks):
        return scheme
    nearest = proto.split(",")[-1].strip().lower()
    return nearest if nearest in ("http", "https") else scheme


def apply_forwarding(req: falcon.Request, networks: Sequence[Network]) -> None:
    """Rewrite REMOTE_ADDR and wsgi.url_scheme, so req.remote_addr and req.scheme are the client's
    for every reader (limiter, logs, audit, cookie flags), as werkzeug's ProxyFix does."""
    if not networks:
        return
    peer = req.env.get("REMOTE_ADDR", "127.0.0.1")
    req.env[PEER_KEY] = peer
    req.env["REMOTE_ADDR"] = forwarded_client(peer, req.get_header("X-Forwarded-For"), networks)
    req.env["wsgi.url_scheme"] = forwarded_scheme(
        peer, req.get_header("X-Forwarded-Proto"), networks, req.env.get("wsgi.url_scheme", "http")
    )
