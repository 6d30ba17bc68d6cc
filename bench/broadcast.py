"""Broadcast latency of the live pushes on one Daphne process: `make bench`.

Starts the simulated parti and one Daphne as `make demo` does (tests/live_site.py), opens
N browser-protocol WebSocket clients to /ws/live (Origin checked, as a browser sends it),
triggers go-live events through the simulator's control API and times each event from the
trigger to its arrival at every client. Prints p50/p99 for 10 and 1000 clients and the
ratios. Loopback only, bounded loops; it stops by itself in well under a minute.

What is measured: simulator -> the relay's one upstream socket -> channel layer (in memory)
-> one consumer per client -> WebSocket -> client. The clients run in this one process, so
their own reading time is included (an upper bound for the server's share).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from tests.live_site import start_site, stop  # noqa: E402

SIZES = (10, 1000)
EVENTS = 60  # timed go-live events per size
WARMUP = 3  # untimed events first
GAP = 0.1  # seconds between one event's last arrival and the next trigger
EVENT_TIMEOUT = 10.0  # an event not everywhere by then counts its missing arrivals as lost
CONNECTING = 25  # handshakes in flight at once (Twisted listens with a backlog of 50)
MARK = re.compile(r'"title": "bench (\d+)"')


class Clients:
    """N sockets in this process; `arrivals[event]` holds each client's arrival time."""

    def __init__(self, url: str, origin: str, count: int):
        self.url, self.origin, self.count = url, origin, count
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []
        self.arrivals: dict[int, list[float]] = {}
        self.waiting: dict[int, asyncio.Event] = {}
        self.lost_sockets = 0

    async def open(self) -> None:
        gate = asyncio.Semaphore(CONNECTING)

        async def one():
            async with gate:
                return await connect(
                    self.url,
                    origin=self.origin,
                    proxy=None,
                    compression=None,
                    ping_interval=None,
                    open_timeout=30,
                    max_queue=None,
                )

        self.sockets = await asyncio.gather(*(one() for _ in range(self.count)))
        self.readers = [asyncio.create_task(self.read(ws)) for ws in self.sockets]

    async def read(self, ws) -> None:
        try:
            async for text in ws:
                now = time.perf_counter()
                found = MARK.search(text) if '"golive"' in text else None
                if found is None:
                    continue  # prices and other pushes
                event = int(found.group(1))
                times = self.arrivals.setdefault(event, [])
                times.append(now)
                if len(times) == self.count and event in self.waiting:
                    self.waiting[event].set()
        except Exception:  # noqa: BLE001 - a dropped client shows up as lost arrivals
            self.lost_sockets += 1

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_size(site, daphne: int, count: int, first_event: int, events: int) -> dict:
    ws_url = site.url.replace("http://", "ws://") + "/ws/live"
    clients = Clients(ws_url, site.url, count)
    started = time.perf_counter()
    await clients.open()
    connected_in = time.perf_counter() - started
    await asyncio.sleep(0.5)  # let the last consumers join their groups
    latencies: list[float] = []
    slowest: list[float] = []  # per event: until the last client had it
    lost = 0
    server_cpu, client_cpu = cpu_seconds(daphne), time.process_time()
    async with httpx.AsyncClient(base_url=site.control_url, timeout=10, trust_env=False) as api:
        for n in range(WARMUP + events):
            event = first_event + n
            clients.waiting[event] = done = asyncio.Event()
            sent = time.perf_counter()
            response = await api.post("/_sim/ws/golive", json={"event_title": f"bench {event}"})
            response.raise_for_status()
            try:
                await asyncio.wait_for(done.wait(), EVENT_TIMEOUT)
            except TimeoutError:
                pass
            arrived = clients.arrivals.get(event, [])
            if n >= WARMUP:
                latencies.extend(t - sent for t in arrived)
                if arrived:
                    slowest.append(max(arrived) - sent)
                lost += count - len(arrived)
            await asyncio.sleep(GAP)
    server_cpu, client_cpu = cpu_seconds(daphne) - server_cpu, time.process_time() - client_cpu
    await clients.close()
    return {
        "clients": count,
        "events": events,
        "samples": len(latencies),
        "lost": lost,
        "connect_s": connected_in,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "everyone": percentile(slowest, 50),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        # CPU per event (warm-up included), Daphne's and this process's (the clients').
        "server_cpu": server_cpu / (WARMUP + events),
        "client_cpu": client_cpu / (WARMUP + events),
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def raise_open_files(wanted: int) -> None:
    """Each client is a socket here and one in Daphne (a child: it inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def table(rows: list[dict]) -> str:
    lines = [
        f"{'clients':>8} {'events':>6} {'samples':>8} {'lost':>5} {'connect s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'all ms':>8} {'daphne cpu ms/ev':>16} "
        f"{'client cpu ms/ev':>16}"
    ]
    for r in rows:
        lines.append(
            f"{r['clients']:>8} {r['events']:>6} {r['samples']:>8} {r['lost']:>5} "
            f"{r['connect_s']:>9.2f} {r['p50'] * 1e3:>8.1f} {r['p99'] * 1e3:>8.1f} "
            f"{r['max'] * 1e3:>8.1f} {r['everyone'] * 1e3:>8.1f} "
            f"{r['server_cpu'] * 1e3:>16.1f} {r['client_cpu'] * 1e3:>16.1f}"
        )
    return "\n".join(lines)


async def main(sizes: tuple[int, ...], events: int) -> int:
    raise_open_files(2 * max(sizes) + 512)
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        # Every benchmark client is 127.0.0.1: lift the per-client socket limit.
        site, processes = start_site(Path(tmp), LIVE_MAX_SOCKETS_PER_CLIENT="0")
        try:
            async with httpx.AsyncClient(timeout=5, trust_env=False) as api:
                # No timed pushes from the simulator: only our go-lives (and the relay's
                # price fetch at start) reach the clients.
                config = {"interval": 0, "golive_every": 0}
                await api.post(site.control_url + "/_sim/ws/config", json=config)
            rows = []
            next_event = 1
            for count in sizes:
                rows.append(await run_size(site, processes[1].pid, count, next_event, events))
                next_event += WARMUP + events
        finally:
            stop(processes)
    print(f"Broadcast latency, go-live trigger -> every client, one Daphne ({ROOT.name})")
    print(table(rows))
    print("(latency per arrival; all = median over events of the time until every client had it)")
    small, big = rows[0], rows[-1]
    if len(rows) > 1:
        print(
            f"ratio {big['clients']}/{small['clients']} clients: "
            f"p50 x{big['p50'] / small['p50']:.1f}, p99 x{big['p99'] / small['p99']:.1f} "
            f"(clients x{big['clients'] / small['clients']:.0f})"
        )
    lost = sum(r["lost"] for r in rows)
    if lost:
        print(f"{lost} arrivals lost (a client dropped or an event took > {EVENT_TIMEOUT:.0f} s)")
    return 1 if lost else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="e.g. 10,100,1000")
    parser.add_argument("--events", type=int, default=EVENTS, help="timed events per size")
    args = parser.parse_args()
    chosen = tuple(int(x) for x in args.sizes.split(",") if x.strip())
    sys.exit(asyncio.run(main(chosen, max(1, min(args.events, 200)))))
