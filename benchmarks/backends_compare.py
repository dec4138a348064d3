"""Optuna TPE + median pruner, Ray ASHA and Ray PBT on the quickstart objective, at the
same trial budget, in one run on this machine.

Each study is the quickstart's DPO search (`examples/quickstart.yaml`: learning rate and
beta, `eval_loss` minimised) with N trials of S steps and 2 trials at a time:

1. `backend: optuna`, TPE sampler, median pruner (the quickstart as written);
2. `backend: ray`, Ray's Optuna searcher with the same TPE settings, ASHA scheduler;
3. `backend: ray`, PBT perturbing the learning rate and beta every report.

It prints, per study, the best `eval_loss`, the optimizer steps the trials trained (each
trial's last reported step: a stopped trial trained to its last report; a PBT trial that
took another's checkpoint continued from that step), and wall time, with the ratios to the
Optuna study. Usage:

    .venv/bin/python benchmarks/backends_compare.py [--trials N] [--steps S] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "quickstart.yaml"

STUDIES: dict[str, list[str]] = {
    "optuna TPE + median": [],
    "ray ASHA": ["hpo.backend=ray", "hpo.pruner.type=none",
                 "hpo.scheduler={type: asha, grace_period: 1}"],
    "ray PBT": ["hpo.backend=ray", "hpo.pruner.type=none",
                "hpo.scheduler={type: pbt, perturbation_interval: 1}"],
}


def run(out: Path, trials: int, steps: int, extra: list[str]) -> tuple[float, dict[str, Any]]:
    cmd = [sys.executable, "-m", "specc", "run", str(SPEC), "--output", str(out), "--quiet",
           "--no-report", "-o", f"hpo.n_trials={trials}", "-o", f"dpo.max_num_steps={steps}",
           "-o", "hpo.parallel=2"]
    for o in extra:
        cmd += ["-o", o]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0, json.loads((out / "results.json").read_text())


def steps_trained(results: dict[str, Any]) -> int:
    return sum(max((int(k) for k in t["intermediate"]), default=0)
               for t in results["trials"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in STUDIES.items():
            wall, res = run(Path(tmp) / name.replace(" ", "_"), args.trials, args.steps,
                            extra)
            best = res.get("best") or {}
            rows[name] = {"best_eval_loss": best.get("value"),
                          "steps": steps_trained(res), "wall_s": round(wall, 1),
                          "counts": res["counts"],
                          "exploits": sum(len(t.get("pbt", [])) for t in res["trials"])}
    base = rows["optuna TPE + median"]
    for r in rows.values():
        r["best_ratio"] = round(r["best_eval_loss"] / base["best_eval_loss"], 3) \
            if r["best_eval_loss"] and base["best_eval_loss"] else None
        r["steps_ratio"] = round(r["steps"] / base["steps"], 3) if base["steps"] else None
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{args.trials} trials x {args.steps} steps, 2 at a time "
          f"(budget {args.trials * args.steps} steps)")
    print("| study | best eval_loss | x optuna | steps trained | x optuna | wall | "
          "PBT exploits |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['best_eval_loss']:.4f} | {r['best_ratio']} | {r['steps']} | "
              f"{r['steps_ratio']} | {r['wall_s']} s | {r['exploits']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
