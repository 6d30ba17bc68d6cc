# ruff: noqa: F401, F811  (pytest fixtures imported from tests.live_fakes)
"""The access log: one line per answer and one per WebSocket, nothing doubled by Django's
own 4xx warnings, and no timestamp of its own when systemd's journal adds one."""

import asyncio
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import include, path

from parti_site import asgi
from tests.live_fakes import live_settings, run, upstream

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom", boom), path("", include("parti_site.urls"))]


def lines(caplog, logger="parti_site.request") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


@pytest.fixture
def quiet(live_settings, upstream):
    live_settings.LIVE_RELAY = False
    return live_settings


def from_address(address: str):
    """The site's ASGI app as a client at `address` sees it (Daphne fills scope["client"])."""

    async def application(scope, receive, send):
        return await asgi.application({**scope, "client": [address, 50000]}, receive, send)

    return application


async def open_socket(path: str, address: str = "203.0.113.7", headers=ORIGIN):
    communicator = WebsocketCommunicator(from_address(address), path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


# --- HTTP ----------------------------------------------------------------------------------


def test_a_404_is_logged_once(client, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/no-such-page").status_code == 404
    assert lines(caplog, "django.request") == []  # no "Not Found: /no-such-page"
    (line,) = lines(caplog)
    assert line.startswith("GET /no-such-page 404 ")


def test_a_request_for_another_host_is_one_line_without_traceback(client, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/live", HTTP_HOST="10.79.0.2").status_code == 400
    assert lines(caplog, "django.security.DisallowedHost") == []
    (line,) = lines(caplog)
    assert line.startswith("GET /live 400 ")


@pytest.mark.urls(__name__)
def test_a_server_error_still_gets_django_s_line_with_its_traceback(caplog):
    caplog.set_level(logging.INFO)
    response = Client(raise_request_exception=False).get("/boom")
    assert response.status_code == 500
    (error,) = [r for r in caplog.records if r.name == "django.request"]
    assert error.getMessage() == "Internal Server Error: /boom"
    assert error.exc_info and error.exc_info[0] is RuntimeError
    assert lines(caplog)[0].startswith("GET /boom 500 ")


def log_a_line(**env) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    environment.update(SECRET_KEY="tests-only-not-a-secret", **env)
    code = "import logging; logging.getLogger('parti_site.request').info('GET /x 404 3 ms')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


def test_lines_carry_their_time_except_in_the_journal():
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "
    assert re.fullmatch(stamp + "INFO parti_site.request GET /x 404 3 ms", log_a_line())
    # systemd sets JOURNAL_STREAM when output goes to the journal, which stamps each line.
    journal = log_a_line(JOURNAL_STREAM="8:12345")
    assert journal == "INFO parti_site.request GET /x 404 3 ms"


# --- WebSockets ----------------------------------------------------------------------------


def test_a_socket_gets_one_line_when_it_ends(quiet, caplog):
    caplog.set_level(logging.INFO, logger="parti_site.request")

    async def body():
        communicator, connected = await open_socket("/ws/live?token=secret")
        assert connected
        assert lines(caplog) == []  # written when the socket ends
        await communicator.disconnect(code=1001)

    run(body())
    (line,) = lines(caplog)
    assert re.fullmatch(r"WS /ws/live closed 1001 after \d+ s", line)  # no query, no address


def test_a_socket_line_names_the_client_only_when_asked(quiet, caplog):
    quiet.LOG_CLIENT_IPS = True
    caplog.set_level(logging.INFO, logger="parti_site.request")

    async def body():
        communicator, connected = await open_socket("/ws/watch/353044")
        assert connected
        await communicator.disconnect(code=1000)

    run(body())
    (line,) = lines(caplog)
    assert re.fullmatch(r"WS /ws/watch/353044 closed 1000 after \d+ s client=203\.0\.113\.7", line)


def test_refused_handshakes_get_a_line_with_the_reason(quiet, caplog):
    quiet.LIVE_MAX_SOCKETS_PER_CLIENT = 1
    caplog.set_level(logging.INFO, logger="parti_site.request")

    async def body():
        foreign = [(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1:8000")]
        refused, connected = await open_socket("/ws/live", headers=foreign)
        assert not connected
        held, connected = await open_socket("/ws/live")
        assert connected
        second, connected = await open_socket("/ws/live")
        assert not connected
        unknown, connected = await open_socket("/ws/nothing", address="198.51.100.2")
        assert not connected
        for communicator in (refused, second, unknown, held):
            await communicator.disconnect()

    run(body())
    assert lines(caplog)[:3] == [
        "WS /ws/live refused 403 (origin)",
        "WS /ws/live refused 403 (too many sockets)",
        "WS /ws/nothing refused 403",
    ]
    assert re.fullmatch(r"WS /ws/live closed 1000 after \d+ s", lines(caplog)[3])


def test_a_request_cut_off_by_a_restart_leaves_no_asyncio_traceback(caplog):
    from django.core.exceptions import RequestAborted

    async def report(exception):
        asyncio.get_running_loop().call_exception_handler(
            {"message": "Task exception was never retrieved", "exception": exception}
        )

    caplog.set_level(logging.ERROR)
    asyncio.run(report(RequestAborted()))
    assert lines(caplog, "asyncio") == []
    asyncio.run(report(ValueError("a real bug")))  # anything else still shows
    assert lines(caplog, "asyncio") == ["Task exception was never retrieved"]
