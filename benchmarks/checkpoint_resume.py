"""Kill -9 in the middle of a single run with checkpointing, then the same command: does it
continue from the last checkpoint and end where an uninterrupted run ends?

A DPO run of the built-in tiny model (LoRA, CPU) for ``--steps`` steps with
``checkpointing: {enabled: true, save_period: --period}``; the run is killed (SIGKILL)
once its log shows step ``--kill-at``, then started again. Prints the checkpoint it
resumed from, the first step the second run logged, the final eval_loss of both runs and
their difference, and the wall time of each part. Usage:

    .venv/bin/python benchmarks/checkpoint_resume.py [--steps 400 --period 100 --kill-at 160]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SPEC = """\
specc: 1
name: resume
algorithm: dpo
policy:
  model_name: specc:tiny-llama
  tokenizer: {{name: "${{policy.model_name}}"}}
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 4
  train_micro_batch_size: 2
  optimizer: {{name: torch.optim.AdamW, kwargs: {{lr: 1.0e-4}}}}
  lora: {{enabled: true, r: 4, alpha: 8}}
dpo: {{reference_policy_kl_penalty: 0.1, max_num_steps: {steps}, val_period: {period}, seed: 1}}
data:
  train: {{path: specc:arith-prefs, split: train}}
  validation: {{path: specc:arith-prefs, split: validation, max_samples: 16}}
hardware: {{gpu: CPU}}
checkpointing: {{enabled: true, save_period: {period}}}
"""


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}


def _steps(trial: Path) -> list[int]:
    path = trial / "metrics.jsonl"
    out = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("kind") == "log" and "loss" in row:
            out.append(int(row["step"]))
    return out


def _run(cmd: list[str]) -> float:
    t = time.monotonic()
    subprocess.run(cmd, env=_env(), check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--period", type=int, default=100)
    ap.add_argument("--kill-at", type=int, default=160)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="specc-resume-"))
    spec = tmp / "spec.yaml"
    spec.write_text(SPEC.format(steps=args.steps, period=args.period))
    base = [sys.executable, "-m", "specc", "run", str(spec), "--quiet", "--no-report",
            "--output"]
    plain_s = _run([*base, str(tmp / "plain")])
    plain = json.loads((tmp / "plain" / "results.json").read_text())["best"]["value"]

    out = tmp / "killed"
    t = time.monotonic()
    proc = subprocess.Popen([*base, str(out)], env=_env(), stdout=subprocess.DEVNULL)
    while max(_steps(out / "trials" / "0"), default=0) < args.kill_at:
        if proc.poll() is not None:
            print("the run ended before it could be killed", file=sys.stderr)
            return 1
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_s = time.monotonic() - t
    killed_at = max(_steps(out / "trials" / "0"))
    again_s = _run([*base, str(out)])
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    [trial] = data["trials"]
    resumed = _steps(out / "trials" / str(trial["number"]))
    report = {
        "steps": args.steps, "save_period": args.period, "killed_after_step": killed_at,
        "resumed_from_step": trial.get("resumed_from_step"),
        "first_step_after_resume": resumed[0] if resumed else None,
        "last_step": resumed[-1] if resumed else None,
        "eval_loss_uninterrupted": plain, "eval_loss_resumed": trial["values"][0],
        "difference": abs(plain - trial["values"][0]),
        "seconds": {"uninterrupted": round(plain_s, 1), "until_kill": round(killed_s, 1),
                    "resumed_run": round(again_s, 1)},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
