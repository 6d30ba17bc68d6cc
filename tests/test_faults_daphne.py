"""A hanging parti under load, against a real Daphne: many visitors at once all get an
answer within the deadline, the process's threads stay bounded, and once parti is back the
pages are fast again with no restart."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.faults_support import PAGES, clear_faults, fault
from tests.live_site import start_site, stop

DEADLINE = 1.0
# connect timeout + deadline + the page's own slack (api.GATHER_SLACK), and the machine.
# A bound, not a speed target: far below the 30 s hang, with room for a loaded 2-core CI.
LONGEST = 0.5 + DEADLINE + 1.0 + 1.0 + 4.0
VISITORS = 40


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site, processes = start_site(
        tmp_path_factory.mktemp("daphne-faults"),
        PARTI_DEADLINE=str(DEADLINE),
        PARTI_CONNECT_TIMEOUT="0.5",
        PARTI_CIRCUIT_COOLDOWN="1",
    )
    site.pid = processes[1].pid
    yield site
    stop(processes)


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def visit(site, path: str) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.get(site.url + path, timeout=30)
    return response.status_code, time.monotonic() - started


def crowd(site, paths: list[str]) -> list[tuple[str, int, float]]:
    with ThreadPoolExecutor(len(paths)) as pool:
        results = pool.map(lambda path: visit(site, path), paths)
        return [(path, *result) for path, result in zip(paths, results, strict=True)]


def test_a_hanging_parti_with_many_visitors(site):
    for path in PAGES:
        assert visit(site, path)[0] == 200
    before = threads(site.pid)
    fault(site.control_url, "*", mode="hang", seconds=30)
    # Cold pages (other keys than the ones just cached), many visitors at once.
    paths = [
        f"/live?offset={30 * (i % 10 + 1)}" if i % 2 else f"/profile/{i + 1}"
        for i in range(VISITORS)
    ]
    for path, status, elapsed in crowd(site, paths):
        assert status == 503, (path, status)
        assert elapsed < LONGEST, (path, elapsed)
    assert threads(site.pid) <= before + 64 + VISITORS  # api's pool, and one per request
    clear_faults(site.control_url)
    time.sleep(1.1)  # the circuits' cool-down: the next calls are probes
    for path, status, elapsed in crowd(site, PAGES):
        assert status == 200, path
        assert elapsed < 1.0, (path, elapsed)
    time.sleep(1)
    assert threads(site.pid) <= before + 64  # the per-request threads are gone
    log = (site.log_dir / "daphne.log").read_text()
    assert "Traceback" not in log, log[-3000:]
