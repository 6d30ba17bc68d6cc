"""A running site for browser tests: the simulated parti and Daphne as real processes,
configured as `make demo` configures them, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ASGI_APP = "parti_site.asgi:application"
SIMULATOR_PORTS = 8  # the simulator's hosts take base..base+7


def free_port_block(count: int) -> int:
    """A base port with `count` free ports above it."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65000:
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
        return base
    raise RuntimeError("no free block of ports")


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

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_base + 7}"


def start_site(tmp: Path, **extra_env: str):
    """Start simulator + Daphne; returns (Site, [processes])."""
    sim_base = free_port_block(SIMULATOR_PORTS)
    web_port = free_port_block(1)
    env = demo_env(sim_base, **extra_env)
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
        [
            python,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(web_port),
            "parti_site.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    processes = [simulator, web]
    try:
        wait_for_port(sim_base, simulator)
        wait_for_port(sim_base + 7, simulator)
        wait_for_port(web_port, web)
    except RuntimeError:
        stop(processes)
        raise RuntimeError(
            "site did not start:\n"
            + (tmp / "simulator.log").read_text()[-2000:]
            + (tmp / "daphne.log").read_text()[-2000:]
        ) from None
    return Site(f"http://127.0.0.1:{web_port}", sim_base, tmp), processes


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
