"""Every benchmark in one run, one table of ratios: `make bench` (README "Benchmarks").

Each benchmark starts the simulated parti and its own Daphne on loopback (tests/live_site.py,
as `make demo` does), measures a value and its baseline side by side, and stops everything.
About 5 minutes on a 2-core machine. `--only pages,media,layers` runs some of them.
Nothing here fails a build; the exit status is 1 only when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import layers, media, pages  # noqa: E402
from bench.common import Row, say, table  # noqa: E402

BENCHMARKS = {"pages": pages.run, "media": media.run, "layers": layers.run}


def machine() -> str:
    model = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in lscpu.splitlines()
                if ln.startswith("Model name")
            ),
            "",
        )
    except (OSError, subprocess.SubprocessError):
        pass
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model or platform.processor() or 'unknown model'}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load average {load} at the start"
    )


async def main(names: list[str]) -> int:
    started = time.perf_counter()
    say(f"machine: {machine()}")
    rows: list[Row] = []
    failed = []
    for name in names:
        try:
            rows += await BENCHMARKS[name]()
        except Exception:  # noqa: BLE001 - report it, run the others
            traceback.print_exc()
            failed.append(name)
    say("")
    say(table(rows))
    say(f"({time.perf_counter() - started:.0f} s; ratio = value / baseline)")
    if failed:
        say(f"could not run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="e.g. pages,layers")
    chosen = [n.strip() for n in parser.parse_args().only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    sys.exit(asyncio.run(main(chosen)))
