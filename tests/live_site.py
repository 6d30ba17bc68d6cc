"""A running site for browser tests: the simulated parti and Daphne as real processes,
configured as `make demo` configures them, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ASGI_APP = "parti_site.asgi:application"
# As the Makefile and deploy/ run it: -v 0 keeps Daphne's access log (visitor addresses) off.
DAPHNE = [sys.executable, "-m", "daphne", "-v", "0"]
SIMULATOR_PORTS = 8  # the simulator's hosts take base..base+7


_handed_out: set[int] = set()


def free_port_block(count: int, avoid: set[int] | frozenset[int] = frozenset()) -> int:
    """A base port with `count` free ports above it, none of them in `avoid` (ports handed
    out already whose servers may not have bound them yet)."""
    for _ in range(200):
        # Below Linux's ephemeral range (32768+), so no outgoing connection of any test can
        # take a port between our check and the server binding it.
        base = random.randrange(20000, 32000 - count)
        if avoid.intersection(range(base, base + count)) or base in _handed_out:
            continue
        try:
            sockets = []
            for offset in range(count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        _handed_out.update(range(base, base + count))
        return base
    raise RuntimeError("no free block of ports")


def wait_until(check, seconds: float = 5.0, step: float = 0.05):
    """Poll `check` until it returns something true (returned), or fail after `seconds`."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def next_kind(ws, kind: str, seconds: float = 5.0) -> dict:
    """The next event of `kind` on a sync websockets client, skipping the others."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        event = json.loads(ws.recv(timeout=give_up - time.monotonic()))
        if event["kind"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def demo_env(sim_base: int, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SECRET_KEY="tests-only-not-a-secret",
        DEBUG="0",
        PARTI_API_URL=f"http://127.0.0.1:{sim_base}/parti_v2",
        PARTI_WS_URL=f"ws://127.0.0.1:{sim_base + 1}/",
        PARTI_VOD_URL=f"http://127.0.0.1:{sim_base + 5}/",
        PARTI_MEDIA_HOSTS=",".join(f"http://127.0.0.1:{sim_base + i}" for i in range(2, 7)),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Site:
    url: str
    sim_base: int
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)
    # Every Daphne's base URL when started with web_processes > 1; url is the first.
    urls: list[str] = field(default_factory=list)

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_base + 7}"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


_migrated: list[Path] = []


def migrated_sqlite(env: dict[str, str]) -> Path:
    """A migrated, empty SQLite database, made once per test run and copied per site."""
    if not _migrated:
        folder = Path(tempfile.mkdtemp(prefix="parti-site-db-"))
        database = folder / "template.sqlite3"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=dict(env, DATABASE_URL=f"sqlite:///{database}"),
            check=True,
            timeout=120,
        )
        _migrated.append(database)
    return _migrated[0]


def start_site(tmp: Path, web_processes: int = 1, **extra_env: str):
    """Start simulator + Daphne (`web_processes` of them, each on its own port, logging to
    daphne.log, daphne-web2.log, ...); returns (Site, [processes])."""
    sim_base = free_port_block(SIMULATOR_PORTS)
    taken = set(range(sim_base, sim_base + SIMULATOR_PORTS))  # not bound until they start
    web_port = free_port_block(1, avoid=taken)
    taken.add(web_port)
    env = demo_env(sim_base, **extra_env)
    if "DATABASE_URL" not in extra_env:
        # Each site gets its own migrated SQLite file, never the demo's db.sqlite3, so an
        # operator's switches in `make demo` cannot leak into the tests.
        database = tmp / "db.sqlite3"
        shutil.copy(migrated_sqlite(env), database)
        env["DATABASE_URL"] = f"sqlite:///{database}"
    python = sys.executable
    sim_log = open(tmp / "simulator.log", "w")  # noqa: SIM115
    web_log = open(tmp / "daphne.log", "w")  # noqa: SIM115
    simulator = subprocess.Popen(
        [python, "manage.py", "simulate_parti", "--port", str(sim_base)],
        cwd=ROOT,
        env=env,
        stdout=sim_log,
        stderr=subprocess.STDOUT,
    )
    web = subprocess.Popen(
        [*DAPHNE, "-b", "127.0.0.1", "-p", str(web_port), ASGI_APP],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    processes = [simulator, web]
    webs = [(web_port, web)]
    for number in range(2, web_processes + 1):
        port = free_port_block(1, avoid=taken)
        taken.add(port)
        log = open(tmp / f"daphne-web{number}.log", "w")  # noqa: SIM115
        other = subprocess.Popen(
            [*DAPHNE, "-b", "127.0.0.1", "-p", str(port), ASGI_APP],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(other)
        webs.append((port, other))
    try:
        wait_for_port(sim_base, simulator)
        wait_for_port(sim_base + 7, simulator)
        for port, process in webs:
            wait_for_port(port, process)
    except RuntimeError:
        stop(processes)
        raise RuntimeError(
            "site did not start:\n"
            + (tmp / "simulator.log").read_text()[-2000:]
            + (tmp / "daphne.log").read_text()[-2000:]
        ) from None
    urls = [f"http://127.0.0.1:{port}" for port, _ in webs]
    return Site(urls[0], sim_base, tmp, env, urls), processes


def start_web(site: Site) -> subprocess.Popen:
    """A Daphne for `site` on its port, as after a server restart (stop the old one first,
    with `stop([web])`); its log goes to daphne-<n>.log."""
    number = len(list(site.log_dir.glob("daphne*.log")))
    log = open(site.log_dir / f"daphne-{number}.log", "w")  # noqa: SIM115
    web = subprocess.Popen(
        [*DAPHNE, "-b", "127.0.0.1", "-p", str(site.port), ASGI_APP],
        cwd=ROOT,
        env=site.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(site.port, web)
    except RuntimeError:
        stop([web])
        raise
    return web


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    site, processes = start_site(tmp_path_factory.mktemp("site"))
    yield site
    stop(processes)


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Debian's chromium is not installed at {CHROMIUM}; .ci/run installs it")
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


class PageErrors(list):
    """Console errors and uncaught exceptions a page logged."""


@pytest.fixture
def page(browser):
    """A fresh page; the test fails if the page logs any JavaScript error."""
    context = browser.new_context()
    page = context.new_page()
    errors = PageErrors()
    page.on(
        "console",
        lambda message: (
            errors.append(f"console.{message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, "the page logged JavaScript errors:\n" + "\n".join(errors)
