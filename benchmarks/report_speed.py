"""Time `specc report` on the quickstart study (HTML, PNGs and summary.md).

Runs `specc run examples/quickstart.yaml` once into a temporary folder (or uses
`--run-dir`), then times the whole `specc report` command in a fresh process N times and
prints the median, with the size of what it wrote. Usage:
    .venv/bin/python benchmarks/report_speed.py [--runs N] [--run-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECC = [sys.executable, "-m", "specc.cli"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--run-dir", default=None,
                    help="an existing `specc run` folder (default: run the quickstart first)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(args.run_dir or Path(tmp) / "quickstart")
        if args.run_dir is None:
            subprocess.run([*SPECC, "run", str(ROOT / "examples" / "quickstart.yaml"),
                            "--output", str(run_dir), "--quiet"], check=True, env=env,
                           stdout=subprocess.DEVNULL)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([*SPECC, "report", str(run_dir), "-q"], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        out = run_dir / "report"
        html_mb = (out / "report.html").stat().st_size / 1e6
        pngs = sorted(out.glob("*.png"))
    median = statistics.median(times)
    if args.json:
        print(json.dumps({"median_seconds": round(median, 3), "runs": args.runs,
                          "html_mb": round(html_mb, 2), "pngs": len(pngs)}))
    else:
        print(f"specc report on the quickstart study: median {median:.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, {args.runs} cold runs); "
              f"report.html {html_mb:.1f} MB, {len(pngs)} PNGs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
