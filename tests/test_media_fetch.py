"""The media fetcher: only allow-listed hosts, pinned addresses, checked redirects, caps,
timeouts, no cookies and no visitor headers. Runs against a small local upstream."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter

import pytest
from aiohttp import web

from parti_site.media import allowlist, fetch
from parti_site.media.fetch import FetchError, Kind
from tests.live_site import free_port_block

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def run(coroutine):
    """Run a coroutine in a fresh loop, closing that loop's media session afterwards."""

    async def main():
        try:
            return await coroutine
        finally:
            await fetch.close()

    return asyncio.run(main())


class Upstream:
    """A local HTTP server standing in for a media host (and for attackers' servers).

    Routes are coroutines set per test in `routes`; every request is counted per path and
    its headers kept, so tests can prove a request was never made or what it carried.
    """

    def __init__(self):
        self.port = free_port_block(1)
        self.base = f"http://127.0.0.1:{self.port}"
        self.routes: dict[str, object] = {}
        self.counts: Counter = Counter()
        self.headers: list[dict[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fake-upstream")
        self._thread.start()
        self._ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request):
        path = "/" + request.match_info["path"]
        self.counts[path] += 1
        self.headers.append(dict(request.headers))
        handler = self.routes.get(path)
        if handler is None:
            return web.Response(status=404, text="no such route")
        return await handler(request)

    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self):
        self.routes.clear()
        self.counts.clear()
        self.headers.clear()

    def stop(self):
        async def shutdown():
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def reply(body: bytes | str = b"", status: int = 200, content_type: str = "text/plain", **headers):
    async def handler(request):
        data = body.encode() if isinstance(body, str) else body
        return web.Response(body=data, status=status, content_type=content_type, headers=headers)

    return handler


def redirect(location: str, status: int = 302):
    async def handler(request):
        return web.Response(status=status, headers={"Location": location})

    return handler


@pytest.fixture(scope="session")
def upstream_server():
    server = Upstream()
    yield server
    server.stop()


@pytest.fixture
def upstream(upstream_server, settings):
    """The local upstream, allowed by an explicit entry (as the demo allows its hosts)."""
    upstream_server.reset()
    settings.PARTI_MEDIA_HOSTS = [upstream_server.base, ".live-video.net", "watch.parti.com"]
    return upstream_server


# --- the allow-list is applied before any connection -------------------------------------------


ATTACK_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://0/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://localhost/",
    "https://watch.parti.com@127.0.0.1/",
    "https://127.0.0.1#@watch.parti.com/",
    "https://evil.example#@watch.parti.com/",
    "https://watch.parti.com.evil.example/",
    "https://watch-parti.com/",
    "https://wаtch.parti.com/",  # Cyrillic "а"
    "https://evillive-video.net/",
    "https://live-video.net.evil.example/",
    "https://live-video.net/",
    "https://watch.parti.com:8443/",
    "http://watch.parti.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://watch.parti.com/",
    "//watch.parti.com/x",
    "https:/\\watch.parti.com/",
    "https://watch.parti.com\\@evil.example/",
    "https://watch.parti.com /x",
    "",
]


@pytest.mark.parametrize("url", ATTACK_URLS)
def test_it_refuses_urls_off_the_list_without_connecting(upstream, url):
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(url, max_bytes=1000))
    assert caught.value.kind == Kind.FORBIDDEN
    assert caught.value.http_status == 403
    assert upstream.total() == 0


def test_it_fetches_an_allowed_url(upstream):
    upstream.routes["/a.m3u8"] = reply("#EXTM3U\n", content_type="application/vnd.apple.mpegurl")
    body = run(fetch.fetch_bytes(upstream.base + "/a.m3u8", max_bytes=1000))
    assert body.content == b"#EXTM3U\n"
    assert body.status == 200
    assert body.content_type == "application/vnd.apple.mpegurl"


def test_it_keeps_query_tokens_verbatim(upstream):
    seen = []

    async def handler(request):
        seen.append(request.raw_path)
        return web.Response(body=b"ok")

    upstream.routes["/seg.ts"] = handler
    run(fetch.fetch_bytes(upstream.base + "/seg.ts?dna=Ab%2Fc+d==&x=1", max_bytes=100))
    assert seen == ["/seg.ts?dna=Ab%2Fc+d==&x=1"]


def test_an_explicit_entry_on_another_port_is_not_allowed(upstream):
    other = f"http://127.0.0.1:{upstream.port + 1}/"
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(other, max_bytes=100))
    assert caught.value.kind == Kind.FORBIDDEN


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:{other}/",
        "http://[::1]:{port}/",
        "http://localhost:{port}/ok",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/",
        "https://evil.example/",
        "//169.254.169.254/",
    ],
)
def test_it_refuses_redirects_off_the_list(upstream, location):
    location = location.format(port=upstream.port, other=upstream.port + 1)
    upstream.routes["/r"] = redirect(location)
    upstream.routes["/ok"] = reply("secret")
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(upstream.base + "/r", max_bytes=100))
    assert caught.value.kind == Kind.FORBIDDEN
    assert upstream.counts == Counter({"/r": 1})


def test_it_follows_allowed_redirects_up_to_three(upstream):
    upstream.routes["/r1"] = redirect("/r2", 301)
    upstream.routes["/r2"] = redirect(upstream.base + "/r3", 307)
    upstream.routes["/r3"] = redirect("ok", 308)
    upstream.routes["/ok"] = reply("done")
    body = run(fetch.fetch_bytes(upstream.base + "/r1", max_bytes=100))
    assert body.content == b"done"
    assert body.url == upstream.base + "/ok"


def test_it_gives_up_after_three_redirects(upstream):
    for n in range(5):
        upstream.routes[f"/r{n}"] = redirect(f"/r{n + 1}")
    upstream.routes["/r5"] = reply("too far")
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(upstream.base + "/r0", max_bytes=100))
    assert caught.value.http_status == 502
    assert upstream.counts["/r5"] == 0


# --- statuses, caps and timeouts ---------------------------------------------------------------


@pytest.mark.parametrize("status, ours", [(404, 404), (410, 404), (403, 502), (500, 502)])
def test_upstream_errors_map_to_clear_statuses(upstream, status, ours):
    upstream.routes["/x"] = reply("nope", status=status)
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(upstream.base + "/x", max_bytes=100))
    assert caught.value.kind == Kind.HTTP_STATUS
    assert caught.value.status == status
    assert caught.value.http_status == ours


def test_it_stops_reading_at_the_cap(upstream):
    async def endless(request):
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            for _ in range(1000):
                await response.write(b"#" * 65536)
        except (ConnectionError, RuntimeError):
            pass
        return response

    upstream.routes["/huge"] = endless
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(upstream.base + "/huge", max_bytes=200_000))
    assert caught.value.kind == Kind.TOO_LARGE
    assert caught.value.http_status == 502


def test_it_refuses_a_declared_length_over_the_cap(upstream):
    upstream.routes["/big"] = reply(b"x" * 5000)
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(upstream.base + "/big", max_bytes=1000))
    assert caught.value.kind == Kind.TOO_LARGE


def test_a_slow_upstream_times_out(upstream, settings):
    settings.PARTI_DEADLINE = 0.3

    async def slow(request):
        await asyncio.sleep(2)
        return web.Response(text="late")

    upstream.routes["/slow"] = slow
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(upstream.base + "/slow", max_bytes=100))
    assert caught.value.kind == Kind.TIMEOUT
    assert caught.value.http_status == 504


def test_an_unreachable_host_is_a_502(settings):
    port = free_port_block(1)  # nothing listens there
    settings.PARTI_MEDIA_HOSTS = [f"http://127.0.0.1:{port}"]
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes(f"http://127.0.0.1:{port}/", max_bytes=100))
    assert caught.value.kind == Kind.UNREACHABLE
    assert caught.value.http_status == 502


# --- what is sent ------------------------------------------------------------------------------


def test_it_sends_no_cookies_and_only_its_own_headers(upstream):
    async def set_cookie(request):
        response = web.Response(text="ok")
        response.set_cookie("session", "tracking-id")
        return response

    upstream.routes["/c"] = set_cookie

    async def twice():
        await fetch.fetch_bytes(upstream.base + "/c", max_bytes=100)
        await fetch.fetch_bytes(upstream.base + "/c", max_bytes=100)

    run(twice())
    second = {name.lower() for name in upstream.headers[1]}
    assert "cookie" not in second
    assert "authorization" not in second
    assert second <= {"host", "accept", "accept-encoding", "user-agent"}
    assert upstream.headers[1]["User-Agent"] == fetch.USER_AGENT


def test_streams_pass_range_and_nothing_else(upstream):
    async def ranged(request):
        return web.Response(
            body=b"0123456789"[:4],
            status=206,
            headers={"Content-Range": "bytes 0-3/10", "Content-Type": "video/mp2t"},
        )

    upstream.routes["/seg.ts"] = ranged

    async def read():
        stream = await fetch.open_stream(upstream.base + "/seg.ts", range_header="bytes=0-3")
        return stream.status, b"".join([chunk async for chunk in stream.chunks()])

    assert run(read()) == (206, b"0123")
    sent = upstream.headers[0]
    assert sent["Range"] == "bytes=0-3"
    assert sent["Accept-Encoding"] == "identity"
    assert {name.lower() for name in sent} <= {
        "host",
        "accept",
        "accept-encoding",
        "user-agent",
        "range",
    }


def test_a_stream_over_its_cap_fails(upstream):
    upstream.routes["/seg.ts"] = reply(b"x" * 300_000, content_type="video/mp2t")

    async def read():
        stream = await fetch.open_stream(upstream.base + "/seg.ts", max_bytes=100_000)
        return b"".join([chunk async for chunk in stream.chunks()])

    with pytest.raises(FetchError) as caught:
        run(read())
    assert caught.value.kind == Kind.TOO_LARGE


# --- the pinned resolver -----------------------------------------------------------------------


def fake_dns(monkeypatch, table: dict[str, str]):
    real = socket.getaddrinfo
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(allowlist.socket, "getaddrinfo", getaddrinfo)
    return calls


def test_connections_go_to_the_addresses_the_allowlist_resolved(upstream, settings, monkeypatch):
    # "media.sim.test" exists only in our fake DNS: reaching the server proves aiohttp used
    # the allow-list's resolver and connected to the address it returned.
    calls = fake_dns(monkeypatch, {"media.sim.test": "127.0.0.1"})
    settings.PARTI_MEDIA_HOSTS = [f"http://media.sim.test:{upstream.port}"]
    upstream.routes["/ok"] = reply("pinned")
    body = run(fetch.fetch_bytes(f"http://media.sim.test:{upstream.port}/ok", max_bytes=100))
    assert body.content == b"pinned"
    assert calls == ["media.sim.test"]
    assert upstream.headers[0]["Host"] == f"media.sim.test:{upstream.port}"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "0.0.0.0"])
def test_a_listed_name_that_resolves_to_a_private_address_is_refused(monkeypatch, address):
    fake_dns(monkeypatch, {"rebind.live-video.net": address})
    with pytest.raises(FetchError) as caught:
        run(fetch.fetch_bytes("https://rebind.live-video.net/x.m3u8", max_bytes=100))
    assert caught.value.kind == Kind.FORBIDDEN
    assert caught.value.http_status == 403


def test_the_resolver_refuses_private_answers(monkeypatch):
    fake_dns(monkeypatch, {"rebind.live-video.net": "127.0.0.1"})
    with pytest.raises(allowlist.ForbiddenURL):
        run(fetch.AllowlistResolver().resolve("rebind.live-video.net", 443))


def test_the_resolver_returns_checked_public_addresses(monkeypatch):
    fake_dns(monkeypatch, {"edge.live-video.net": "93.184.215.14"})
    results = run(fetch.AllowlistResolver().resolve("edge.live-video.net", 443))
    assert [(r["host"], r["port"], r["family"]) for r in results] == [
        ("93.184.215.14", 443, socket.AF_INET)
    ]


def test_the_session_keeps_no_cookies_and_ignores_proxy_environment(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")

    async def inspect():
        session = fetch.session()
        return session.cookie_jar, session.trust_env, session.connector._resolver

    jar, trust_env, resolver = run(inspect())
    assert type(jar).__name__ == "DummyCookieJar"
    assert trust_env is False
    assert isinstance(resolver, fetch.AllowlistResolver)
