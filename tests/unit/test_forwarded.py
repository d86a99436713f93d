"""X-Forwarded-For / X-Forwarded-Proto are believed only from TRUSTED_PROXIES, read from the right."""

import ipaddress

from api.proxies import forwarded_client, forwarded_scheme

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


def test_an_untrusted_peer_is_the_client_whatever_it_claims():
    assert forwarded_client("203.0.113.5", "198.51.100.1", PROXIES) == "203.0.113.5"
    assert forwarded_client("203.0.113.5", "198.51.100.1", []) == "203.0.113.5"
    assert forwarded_scheme("203.0.113.5", "https", PROXIES, "http") == "http"


def test_behind_a_proxy_the_right_most_untrusted_hop_is_the_client():
    assert forwarded_client("10.0.0.5", "198.51.100.1", PROXIES) == "198.51.100.1"
    # A client's own spoofed entries sit left of the hop our proxy appended: never read.
    assert forwarded_client("10.0.0.5", "1.2.3.4, 198.51.100.1, 10.0.0.7", PROXIES) == "198.51.100.1"
    assert forwarded_client("fd00::1", "2001:db8::9", PROXIES) == "2001:db8::9"


def test_edge_cases_fall_back_to_what_a_trusted_hop_said():
    assert forwarded_client("10.0.0.5", None, PROXIES) == "10.0.0.5"
    assert forwarded_client("10.0.0.5", "10.0.0.9, 10.0.0.7", PROXIES) == "10.0.0.9"
    assert forwarded_client("10.0.0.5", "198.51.100.1, unknown", PROXIES) == "10.0.0.5"


def test_the_scheme_comes_from_the_nearest_trusted_proxy():
    assert forwarded_scheme("10.0.0.5", "https", PROXIES, "http") == "https"
    assert forwarded_scheme("10.0.0.5", "http, https", PROXIES, "http") == "https"
    assert forwarded_scheme("10.0.0.5", "gopher", PROXIES, "http") == "http"
    assert forwarded_scheme("10.0.0.5", None, PROXIES, "http") == "http"
