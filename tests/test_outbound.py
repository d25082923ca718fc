"""Where outbound requests may go: only to FORUM_HOSTS, and never privately unless listed.

Names resolve through a table here (the resolver is a parameter of
`check_outbound_url`), so no case needs the internet; a few use the
machine's own resolver for names it knows without one.
"""

import pytest
from django.conf import settings

from quest.outbound import (
    OutboundRefused,
    check_outbound_url,
    parse_host_entries,
    resolve_host,
)

DNS = {
    "forums.example.org": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "mixed.example.org": ["93.184.216.34", "10.1.2.3"],  # one answer private
    "forum.lan": ["10.0.0.7"],
    "rebind.example.org": ["127.0.0.1"],
    "meta.example.org": ["169.254.169.254"],  # cloud metadata service
    "cgnat.example.org": ["100.64.0.1"],
    "zero.example.org": ["0.0.0.0"],
    "mapped.example.org": ["::ffff:127.0.0.1"],
    "v6-local.example.org": ["fe80::1%eth0"],
    "v6-private.example.org": ["fd00::1"],
    "multicast.example.org": ["224.0.0.1"],
    "reserved.example.org": ["240.0.0.1"],
    "xn--bcher-kva.example": ["93.184.216.35"],
}


def table(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError(f"unknown host {host}")
    return DNS[host]


def check(url: str, *hosts: str):
    return check_outbound_url(url, allowed_hosts=hosts or list(DNS), resolve=table)


# --- Allowed ---------------------------------------------------------------------------


def test_it_allows_a_listed_public_forum_and_says_where_to_connect():
    target = check("https://forums.example.org/threads/red-alert.123/page-2")

    assert (target.scheme, target.host, target.port) == ("https", "forums.example.org", 443)
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")


@pytest.mark.parametrize(
    "url",
    [
        "http://forums.example.org/",
        "HTTPS://Forums.Example.ORG./threads/1",  # case and a final dot
        "https://forums.example.org:443/threads/1",
        "https://bücher.example/",  # IDNA spelling of the listed name
    ],
)
def test_it_reads_one_host_in_its_several_spellings(url):
    assert check(url, "forums.example.org", "xn--bcher-kva.example").addresses


def test_it_allows_a_private_address_only_when_it_is_listed():
    with pytest.raises(OutboundRefused, match="10.0.0.7, a private"):
        check("https://forum.lan/", "forum.lan")

    assert check("https://forum.lan/", "forum.lan", "10.0.0.7").addresses == ("10.0.0.7",)


def test_it_allows_another_port_only_when_it_is_listed():
    with pytest.raises(OutboundRefused, match="forums.example.org:8080 is not one of"):
        check("http://forums.example.org:8080/", "forums.example.org")

    assert check("http://forums.example.org:8080/", "forums.example.org:8080").port == 8080


def test_it_allows_a_listed_loopback_forum_by_address():
    target = check_outbound_url("http://127.0.0.1:8000/t/1", allowed_hosts=["127.0.0.1:8000"])

    assert target.addresses == ("127.0.0.1",)


# --- Refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://forums.example.org/", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://forums.example.org:70/", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("//forums.example.org/", "Only http and https"),
        ("https://user:pw@forums.example.org/", "user name or password"),
        ("https://forums.example.org@rebind.example.org/", "user name or password"),
        ("https://forums.example.org\\@rebind.example.org/", "backslashes"),
        ("https://forums.example.org /", "spaces"),
        ("https://forums.example.org\n.evil/", "control characters"),
        ("https:///threads/1", "names no host"),
        ("https://forums.example.org:99999/", "host or port cannot be read"),
        ("https://evil.example/", "evil.example is not one of the forums in FORUM_HOSTS"),
        ("https://forums.example.org.evil.example/", "is not one of the forums"),
        ("https://sub.forums.example.org/", "is not one of the forums"),
        ("https://93.184.216.34/", "93.184.216.34 is not one of the forums"),
    ],
)
def test_it_refuses_a_url_outside_the_forums(url, reason):
    with pytest.raises(OutboundRefused, match=reason.replace(".", r"\.")):
        check(url, "forums.example.org")


@pytest.mark.parametrize(
    "host",
    [
        "mixed.example.org",
        "rebind.example.org",
        "meta.example.org",
        "cgnat.example.org",
        "zero.example.org",
        "mapped.example.org",
        "v6-local.example.org",
        "v6-private.example.org",
        "multicast.example.org",
        "reserved.example.org",
    ],
)
def test_it_refuses_a_listed_name_that_resolves_to_a_private_address(host):
    with pytest.raises(OutboundRefused, match="private, loopback or reserved"):
        check(f"https://{host}/", host)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://[::1]/", "http://10.0.0.7/", "http://169.254.169.254/"],
)
def test_it_refuses_a_private_address_that_is_not_listed(url):
    with pytest.raises(OutboundRefused, match="is not one of the forums"):
        check(url)


def test_it_refuses_a_name_that_does_not_resolve():
    with pytest.raises(OutboundRefused, match="could not be resolved"):
        check("https://nowhere.example.org/", "nowhere.example.org")


def test_it_refuses_what_the_system_resolver_finds_on_loopback():
    # localhost resolves from /etc/hosts: the real resolver, and no network needed.
    assert "127.0.0.1" in resolve_host("localhost", 80) or "::1" in resolve_host("localhost", 80)

    with pytest.raises(OutboundRefused, match="private, loopback or reserved"):
        check_outbound_url("http://localhost/", allowed_hosts=["localhost"])


def test_nothing_is_allowed_by_default():
    assert settings.FORUM_HOSTS == []
    with pytest.raises(OutboundRefused, match="is not one of the forums"):
        check_outbound_url("https://forums.example.org/", allowed_hosts=settings.FORUM_HOSTS)


# --- The setting ------------------------------------------------------------------------


def test_it_reads_host_entries():
    entries = parse_host_entries(["Forums.Example.org", "10.0.0.7", "[::1]:8080", "h:81"])

    assert [(e.host, e.port) for e in entries] == [
        ("forums.example.org", None),
        ("10.0.0.7", None),
        ("::1", 8080),
        ("h", 81),
    ]


@pytest.mark.parametrize(
    "entry",
    ["", "https://forums.example.org", "forums.example.org/threads", "a@b", "h:0x50", "h:70000"],
)
def test_it_refuses_a_malformed_host_entry(entry):
    with pytest.raises(ValueError, match="is not a host name"):
        parse_host_entries([entry])
