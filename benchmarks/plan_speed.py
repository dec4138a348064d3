"""How long `specc plan` takes on a 1,000-point grid (target: under 2 seconds).

Runs the real command in a fresh interpreter (cold start included), N times, and
prints the median. Usage: .venv/bin/python benchmarks/plan_speed.py [--runs N] [--json]
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

SPEC = """\
specc: 1
name: grid-1000
algorithm: dpo
policy:
  model_name: meta-llama/Llama-3.2-1B-Instruct
  max_total_sequence_length: 1024
  train_global_batch_size: 32
  train_micro_batch_size: 4
  optimizer: {kwargs: {lr: 1.0e-5}}
  scheduler: {type: cosine, warmup_ratio: 0.1}
  lora: {enabled: true, r: 16, alpha: 32}
dpo: {max_num_steps: 500, val_period: 50}
data:
  train: {path: "specc:arith-prefs"}
  validation: {path: "specc:arith-prefs", split: validation}
hardware: {gpu: A100-80GB}
hpo:
  sampler: {type: grid}
  pruner: {type: none}
  n_trials: 1000
  search_space:
    policy.optimizer.kwargs.lr: {type: categorical, choices: [1.0e-6, 3.0e-6, 1.0e-5, 3.0e-5, 1.0e-4]}
    dpo.reference_policy_kl_penalty: {type: categorical, choices: [0.05, 0.1, 0.2, 0.3, 0.5]}
    policy.lora.r: {type: categorical, choices: [4, 8, 16, 32, 64]}
    policy.train_micro_batch_size: {type: categorical, choices: [1, 2, 4, 8]}
    dpo.sft_loss_weight: {type: categorical, choices: [0.0, 0.1]}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "grid.yaml")
        with open(path, "w") as f:
            f.write(SPEC)
        times = []
        trials = 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "specc", "plan", "--format", "json", path],
                                 capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - t0)
            trials = len(json.loads(out.stdout)["trials"])
    median = statistics.median(times)
    figures = {"grid_points": trials, "median_seconds": round(median, 3),
               "min_seconds": round(min(times), 3), "runs": args.runs,
               "target_seconds": 2.0, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"specc plan, {trials}-point grid, cold process: median {median:.2f} s "
              f"(min {min(times):.2f} s over {args.runs} runs; target < 2 s)")
    return 0 if trials == 1000 and median < 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
