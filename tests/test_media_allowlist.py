"""The media host allow-list: what may be fetched, and the many ways to try to sneak past it."""

import socket

import pytest

from parti_site.media import allowlist
from parti_site.media.allowlist import (
    ForbiddenURL,
    check,
    check_redirect,
    check_url,
    is_allowed,
    is_redirect_allowed,
    resolve_and_check,
)

HOSTS = [
    ".live-video.net",
    "watch.parti.com",
    "assets.parti.com",
    "media.parti.com",
    "http://127.0.0.1:8102",
    "http://localhost:8103",
    "http://[::1]:8104",
    "https://sim.example.test:8443",
]


@pytest.fixture(autouse=True)
def media_hosts(settings):
    settings.PARTI_MEDIA_HOSTS = list(HOSTS)
    return settings


SEGMENT = (
    "https://fa723fc1b171.j.cloudfront.hls.live-video.net/v1/segment/CsAAA.ts?dna=Ab%2Fc+d==&x=1"
)


@pytest.mark.parametrize(
    "url, expected",
    [
        (SEGMENT, SEGMENT),
        (
            "https://f89c1a12071a.eu-west-1.playback.live-video.net/api/video/v1/x.m3u8?token=a.b.c",
            "https://f89c1a12071a.eu-west-1.playback.live-video.net/api/video/v1/x.m3u8?token=a.b.c",
        ),
        ("https://watch.parti.com/ivs/v1/1/2/media/hls/master.m3u8", None),
        ("https://assets.parti.com/353044_3f2a.png", None),
        ("https://media.parti.com/stream-screenshots/1.jpg", None),
        # Normalisation: case, trailing dot, explicit default port, empty path.
        ("HTTPS://Watch.PARTI.com/a/B.m3u8", "https://watch.parti.com/a/B.m3u8"),
        ("https://watch.parti.com./x", "https://watch.parti.com/x"),
        ("https://watch.parti.com:443/x", "https://watch.parti.com/x"),
        ("https://watch.parti.com", "https://watch.parti.com/"),
        ("https://watch.parti.com?x=1", "https://watch.parti.com/?x=1"),
        ("https://A.Live-Video.NET/x", "https://a.live-video.net/x"),
        # Explicit scheme://host:port entries.
        ("http://127.0.0.1:8102/hls/live.m3u8", None),
        ("http://127.0.0.1.:8102/x", "http://127.0.0.1:8102/x"),
        ("http://localhost:8103/img/a.png", None),
        ("http://LOCALHOST:8103/", "http://localhost:8103/"),
        ("http://[::1]:8104/x", None),
        ("https://sim.example.test:8443/x", None),
        # Unicode full stops map to "." under IDNA; the returned URL is what gets fetched.
        ("https://watch\u3002parti\u3002com/x", "https://watch.parti.com/x"),
    ],
)
def test_it_allows_listed_hosts(url, expected):
    assert check_url(url) == (expected or url)
    assert is_allowed(url)


@pytest.mark.parametrize(
    "url",
    [
        # Scheme.
        "http://watch.parti.com/x",  # plain http for an https-only entry
        "ftp://watch.parti.com/x",
        "file:///etc/passwd",
        "file://watch.parti.com/etc/passwd",
        "gopher://watch.parti.com:70/_x",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)//https://watch.parti.com/",
        "ws://watch.parti.com/",
        "//watch.parti.com/x",
        "watch.parti.com/x",
        "/x",
        "https:/watch.parti.com/x",
        "https:watch.parti.com/x",
        "https:\\\\watch.parti.com/x",
        "",
        # Userinfo.
        "https://watch.parti.com@evil.com/",
        "https://evil.com@watch.parti.com/",
        "https://user:pass@watch.parti.com/",
        "https://:@watch.parti.com/",
        "https://watch.parti.com%40evil.com/",
        # Fragments and parser confusion.
        "https://evil.com#@watch.parti.com/",
        "https://evil.com#.live-video.net",
        "https://watch.parti.com/x#frag",
        "https://evil.com\\@watch.parti.com/",
        "https://watch.parti.com\\.evil.com/",
        "https://evil.com?@watch.parti.com/",
        "https://evil.com/?.live-video.net",
        # Whitespace and control characters.
        " https://watch.parti.com/x",
        "https://watch.parti.com/x y",
        "https://watch.parti.com/x\n",
        "https://watch.parti.com\t/x",
        "https://watch.parti.com/x\r\nHost: evil",
        "https://watch.parti.com\x00.evil.com/",
        "https://watch.parti.com/\x7f",
        "https://watch.parti.com/\u2028",
        "https://watch.parti.com/\u200b",
        "https://wat\u00a0ch.parti.com/",
        'https://watch.parti.com/a.png"><script>alert(1)</script>',
        "https://watch.parti.com/<x>",
        "https://watch.parti.com/`x`",
        "https://watch.parti.com/{x}|^",
        # Ports.
        "https://watch.parti.com:8443/x",
        "https://watch.parti.com:0/x",
        "https://watch.parti.com:65536/x",
        "https://watch.parti.com:99999999999/x",
        "https://watch.parti.com:+443/x",
        "https://watch.parti.com:-1/x",
        "https://watch.parti.com:/x",
        "https://watch.parti.com:44\u0663/x",  # Arabic-Indic digit
        "https://watch.parti.com:443:443/x",
        "http://127.0.0.1:8103/x",  # listed host, other port
        "http://127.0.0.1/x",
        "https://127.0.0.1:8102/x",  # listed host and port, other scheme
        "https://localhost:8103/",
        "http://sim.example.test:8443/",
        "https://sim.example.test/",
        # Suffix anchoring.
        "https://live-video.net/x",
        "https://evillive-video.net/x",
        "https://live-video.net.evil.com/x",
        "https://a.live-video.net.evil.com/x",
        "https://a.live-video.network/x",
        "https://live-video.net../x",
        "https://.live-video.net/x",
        "https://a..live-video.net/x",
        "https://evilwatch.parti.com/x",
        "https://sub.watch.parti.com/x",  # exact entries do not cover subdomains
        "https://watch.parti.com.evil.com/x",
        "https://parti.com/x",
        # Hostname shapes.
        "https://-a.live-video.net/",
        "https://a-.live-video.net/",
        "https://a_b.evil.com/",
        "https://%77atch.parti.com/x",
        "https://watch.parti.com%2f.evil.com/",
        "https://watch.parti.c%6fm/",
        "https://wаtch.parti.com/x",  # Cyrillic a
        "https://xn--wtch-5cd.parti.com/x",
        "https://watch.parti.com\u3002evil.com/",
        "https://" + "a" * 64 + ".live-video.net/",
        "https:///x",
        "https://:443/x",
        # IP literals in every notation.
        "http://127.0.0.1:8102.evil.com/",
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://0x7f.0.0.1/",
        "https://0x7f.1/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://127.0.1/",
        "https://0/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://1.1.1.1/",
        "https://1.2.3.4.live-video.net.5/",
        "http://2130706433:8102/",
        "http://0177.0.0.1:8102/",
        "http://0x7f.1:8102/",
        "http://127.1:8102/",
        "http://127.000.000.001:8102/",
        "http://[::ffff:127.0.0.1]:8102/",
        "http://[0:0:0:0:0:0:0:1]:8104/",  # exact literal only
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[fe80::1%25eth0]/",
        "https://[fe80::1]/",
        "https://[::]/",
        "https://[watch.parti.com]/",
        "https://[::1/",
        "https://[::1]x/",
        "https://[::1]evil.com/",
    ],
)
def test_it_refuses_attacks(url):
    with pytest.raises(ForbiddenURL):
        check_url(url)
    assert not is_allowed(url)


@pytest.mark.parametrize("value", [None, 42, b"https://watch.parti.com/", ["x"]])
def test_it_refuses_non_strings(value):
    with pytest.raises(ForbiddenURL):
        check_url(value)


def test_it_refuses_overlong_urls():
    with pytest.raises(ForbiddenURL, match="too long"):
        check_url("https://watch.parti.com/" + "a" * 5000)


def test_the_reason_is_readable():
    with pytest.raises(ForbiddenURL) as info:
        check_url("https://evil.com/x")
    assert "evil.com" in info.value.reason and info.value.url == "https://evil.com/x"


def test_it_reads_settings_at_call_time(settings):
    assert not is_allowed("https://cdn.example.org/x")
    settings.PARTI_MEDIA_HOSTS = ["cdn.example.org"]
    assert is_allowed("https://cdn.example.org/x")
    assert not is_allowed(SEGMENT)


def test_an_empty_allow_list_allows_nothing(settings):
    settings.PARTI_MEDIA_HOSTS = []
    assert not is_allowed(SEGMENT)


@pytest.mark.parametrize(
    "entry", ["", "  ", "gopher://x.test:70", "http://x.test:notaport", "http://x.test:8000/path"]
)
def test_malformed_entries_allow_nothing(settings, entry):
    settings.PARTI_MEDIA_HOSTS = [entry]
    for url in ("https://x.test/", "http://x.test:8000/", "gopher://x.test:70/"):
        assert not is_allowed(url)


def test_entries_are_normalised(settings):
    settings.PARTI_MEDIA_HOSTS = [" WATCH.Parti.com. ", ".Live-Video.NET", "HTTP://LocalHost:9000/"]
    assert is_allowed("https://watch.parti.com/")
    assert is_allowed("https://a.live-video.net/")
    assert is_allowed("http://localhost:9000/")


def test_an_idna_entry_matches_its_unicode_and_ascii_forms(settings):
    settings.PARTI_MEDIA_HOSTS = ["bücher.example"]
    assert check_url("https://BÜCHER.example/x") == "https://xn--bcher-kva.example/x"
    assert is_allowed("https://xn--bcher-kva.example/x")


def test_a_bare_ip_entry_allows_only_that_exact_literal_over_https(settings):
    settings.PARTI_MEDIA_HOSTS = ["203.0.113.7"]
    assert check_url("https://203.0.113.7/x") == "https://203.0.113.7/x"
    assert not is_allowed("https://3405803783/x")
    assert not is_allowed("http://203.0.113.7/x")


def test_a_suffix_entry_never_matches_an_ip(settings):
    settings.PARTI_MEDIA_HOSTS = [".1", ".0.1"]
    assert not is_allowed("https://127.0.0.1/")
    assert not is_allowed("https://127.1/")


def test_check_returns_the_parts_a_fetcher_needs():
    target = check("http://[::1]:8104/x?y=1")
    assert (target.url, target.scheme, target.host, target.port, target.explicit) == (
        "http://[::1]:8104/x?y=1",
        "http",
        "::1",
        8104,
        True,
    )
    target = check(SEGMENT)
    assert (target.host, target.port, target.explicit) == (
        "fa723fc1b171.j.cloudfront.hls.live-video.net",
        443,
        False,
    )


# --- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location, base, expected",
    [
        ("/other/x.ts", "https://watch.parti.com/a/b.m3u8", "https://watch.parti.com/other/x.ts"),
        ("c.ts", "https://watch.parti.com/a/b.m3u8", "https://watch.parti.com/a/c.ts"),
        ("https://b.live-video.net/x", "https://a.live-video.net/y", "https://b.live-video.net/x"),
        (
            "//assets.parti.com/i.png",
            "https://media.parti.com/i.png",
            "https://assets.parti.com/i.png",
        ),
        # A listed explicit entry is a valid target wherever the redirect comes from.
        ("http://127.0.0.1:8102/x", "https://watch.parti.com/", "http://127.0.0.1:8102/x"),
    ],
)
def test_it_allows_redirects_within_the_list(location, base, expected):
    assert check_redirect(location, base) == expected
    assert is_redirect_allowed(location, base)


@pytest.mark.parametrize(
    "location, base",
    [
        ("https://evil.com/", "https://watch.parti.com/a"),
        ("//evil.com/x", "https://watch.parti.com/a"),
        ("http://watch.parti.com/a", "https://watch.parti.com/a"),  # downgrade
        ("http://169.254.169.254/latest/meta-data/", "https://a.live-video.net/"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8102/"),  # other port on a listed host
        ("file:///etc/passwd", "https://watch.parti.com/"),
        ("javascript:alert(1)", "https://watch.parti.com/"),
        ("/\\evil.com/", "https://watch.parti.com/"),
        ("\\\\evil.com/", "https://watch.parti.com/"),
        (" //evil.com", "https://watch.parti.com/"),
        ("", "https://watch.parti.com/"),
        ("/x", "https://evil.com/"),  # the base itself must be allowed
        (None, "https://watch.parti.com/"),
    ],
)
def test_it_refuses_redirects_off_the_list(location, base):
    assert not is_redirect_allowed(location, base)
    with pytest.raises(ForbiddenURL):
        check_redirect(location, base)


# --- DNS -----------------------------------------------------------------------------------


def fake_dns(monkeypatch, answers):
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append((host, port))
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result = []
        for address in answers[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            result.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return result

    monkeypatch.setattr(allowlist.socket, "getaddrinfo", getaddrinfo)
    return calls


def test_it_returns_public_addresses_to_pin(monkeypatch):
    fake_dns(monkeypatch, {"a.live-video.net": ["52.1.2.3", "52.1.2.3", "2600:1f18::1"]})
    assert resolve_and_check("a.live-video.net", 443) == ["52.1.2.3", "2600:1f18::1"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.5.5.5",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # cloud metadata
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2001:db8::1",
    ],
)
def test_it_refuses_hosts_resolving_to_non_public_addresses(monkeypatch, address):
    fake_dns(monkeypatch, {"rebind.live-video.net": [address]})
    with pytest.raises(ForbiddenURL, match="non-public"):
        resolve_and_check("rebind.live-video.net", 443)


def test_one_bad_address_spoils_the_host(monkeypatch):
    fake_dns(monkeypatch, {"mixed.live-video.net": ["52.1.2.3", "127.0.0.1"]})
    with pytest.raises(ForbiddenURL):
        resolve_and_check("mixed.live-video.net", 443)


def test_explicit_entries_may_resolve_to_loopback(monkeypatch):
    fake_dns(monkeypatch, {"localhost": ["127.0.0.1", "::1"]})
    assert resolve_and_check("localhost", 8103) == ["127.0.0.1", "::1"]


def test_an_explicit_entry_only_covers_its_own_port(monkeypatch):
    fake_dns(monkeypatch, {"localhost": ["127.0.0.1"]})
    with pytest.raises(ForbiddenURL):
        resolve_and_check("localhost", 8000)


def test_listed_ip_literals_are_not_resolved(monkeypatch):
    calls = fake_dns(monkeypatch, {})
    assert resolve_and_check("127.0.0.1", 8102) == ["127.0.0.1"]
    assert resolve_and_check("[::1]", 8104) == ["::1"]
    assert calls == []


def test_an_unlisted_private_literal_is_refused(monkeypatch, settings):
    settings.PARTI_MEDIA_HOSTS = ["10.0.0.1"]
    fake_dns(monkeypatch, {})
    with pytest.raises(ForbiddenURL):
        resolve_and_check("10.0.0.1", 443)


def test_a_name_that_does_not_resolve_raises_oserror(monkeypatch):
    fake_dns(monkeypatch, {})
    with pytest.raises(OSError):
        resolve_and_check("nx.live-video.net", 443)


def test_check_then_resolve_uses_the_normalised_host(monkeypatch):
    calls = fake_dns(monkeypatch, {"a.live-video.net": ["52.1.2.3"]})
    target = check("https://A.Live-Video.Net./x")
    assert resolve_and_check(target.host, target.port) == ["52.1.2.3"]
    assert calls == [("a.live-video.net", 443)]
