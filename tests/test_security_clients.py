"""The client address: REMOTE_ADDR, unless that is one of our proxies; then the right-most
X-Forwarded-For entry no proxy of ours wrote. What a client writes itself is ignored."""

import logging

import pytest
from django.test import RequestFactory

from parti_site.web.clients import client_address, client_key


@pytest.fixture(autouse=True)
def proxies(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]


def request(remote, forwarded=None):
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


@pytest.mark.parametrize(
    "remote, forwarded, client",
    [
        ("203.0.113.7", None, "203.0.113.7"),
        # A client that connects directly cannot pick its address.
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
        # nginx appends the address it saw; whatever the client sent is to its left.
        ("127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        # Two proxies of ours (a load balancer at 10.1.2.3, then nginx).
        ("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "[2001:db8::5]:4711", "2001:db8::5"),
        ("127.0.0.1", "203.0.113.7:4711", "203.0.113.7"),
        # Only proxies of ours in the header, or none at all: the nearest one.
        ("127.0.0.1", "10.0.0.9", "10.0.0.9"),
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
        # Garbage was not written by a proxy of ours: stop at the last good hop.
        ("127.0.0.1", "203.0.113.7, garbage", "127.0.0.1"),
    ],
)
def test_the_client_address(remote, forwarded, client):
    assert client_address(request(remote, forwarded)) == client


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request("127.0.0.1", "203.0.113.7")) == "127.0.0.1"


def test_a_spoofed_header_does_not_change_the_rate_limit_key():
    honest = client_key(request("127.0.0.1", "203.0.113.7"))
    assert client_key(request("127.0.0.1", "1.2.3.4, 203.0.113.7")) == honest
    assert client_key(request("127.0.0.1", "1.2.3.5, 203.0.113.7")) == honest
    assert client_key(request("127.0.0.1", "198.51.100.1")) != honest
    assert "203.0.113.7" not in honest and len(honest) == 32


def test_a_spoofing_client_gets_limited_like_anyone(client, settings):
    settings.RATE_LIMITS = [("/robots.txt", 2, 60)]
    statuses = [
        client.get(
            "/robots.txt",
            REMOTE_ADDR="127.0.0.1",
            headers={"x-forwarded-for": f"{n}.0.0.1, 7.7.7.7"},
        ).status_code
        for n in range(1, 5)
    ]
    assert statuses == [200, 200, 429, 429]


def test_a_bad_trusted_proxies_setting_refuses_to_start():
    import subprocess
    import sys

    from tests.test_settings import ROOT

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"DEBUG": "1", "TRUSTED_PROXIES": "127.0.0.1/32,nginx", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'nginx' is not an address or CIDR" in result.stderr


def test_the_request_log_has_no_address_unless_asked(client, settings, caplog):
    caplog.set_level(logging.INFO, logger="parti_site.request")
    client.get("/robots.txt?secret=1", REMOTE_ADDR="203.0.113.7")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "parti_site.request"]
    assert line.startswith("GET /robots.txt 200 ") and line.endswith(" ms")
    assert "203.0.113.7" not in line and "secret" not in line
    caplog.clear()
    settings.LOG_CLIENT_IPS = True
    client.get("/robots.txt", REMOTE_ADDR="127.0.0.1", headers={"x-forwarded-for": "203.0.113.7"})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "parti_site.request"]
    assert line.endswith(" ms client=203.0.113.7")


def test_the_request_log_cannot_be_forged_with_a_newline(client, caplog):
    caplog.set_level(logging.INFO, logger="parti_site.request")
    client.get("/nope%0aGET%20/admin/%20200")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "parti_site.request"]
    assert "\n" not in line
    assert line.startswith("GET /nope%0AGET%20/admin/%20200 404 ")
