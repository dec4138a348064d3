"""Time from process start to the TUI's first screen (target: under a second).

Starts `specc.tui` headless (Textual's `run_test`) on examples/quickstart.yaml in a
fresh interpreter, N times, and prints the median. Usage:
    .venv/bin/python benchmarks/tui_startup.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import asyncio, time
t0 = time.perf_counter()
from specc.tui import create_app

async def main():
    app = create_app({file!r})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        print(time.perf_counter() - t0)
        await pilot.press("ctrl+q")

asyncio.run(main())
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    code = PROBE.format(file=str(ROOT / "examples" / "quickstart.yaml"))
    times = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout.strip().splitlines()[0]))
    median = statistics.median(times)
    if args.json:
        print(json.dumps({"median_seconds": round(median, 3), "runs": args.runs}))
    else:
        print(f"specc tui, process start to first screen: median {median:.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, {args.runs} runs; target < 1 s)")
    return 0 if median < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
