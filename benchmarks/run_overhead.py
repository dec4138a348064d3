"""The cost of running trials through `specc run` versus a hand-written TRL loop.

In one run, on the same machine:

1. `specc run` on a study of N trials (the quickstart's DPO search, no pruner);
2. a plain loop (one process, timed whole like `specc run`) that builds every trial
   from scratch the way a script would —
   `from_pretrained` from disk, tokenizer, dataset, `DPOConfig`, `DPOTrainer`, train
   (evaluating every 10 steps) — with the same parameters as the trials specc ran;
3. `specc run` again with the median pruner, to show the steps it saves.

It prints wall time for 1 and 2 and their ratio, and the optimizer steps consumed and
the best eval loss with and without the pruner. Usage:

    .venv/bin/python benchmarks/run_overhead.py [--trials N] [--steps S] [--json]
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

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "quickstart.yaml"


def run_specc(out: Path, trials: int, steps: int, pruner: str) -> tuple[float, dict]:  # type: ignore[type-arg]
    cmd = [sys.executable, "-m", "specc", "run", str(SPEC), "--output", str(out), "--quiet",
           "-o", f"hpo.n_trials={trials}", "-o", f"dpo.max_num_steps={steps}",
           "-o", f"hpo.pruner.type={pruner}"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    return elapsed, json.loads((out / "results.json").read_text())


def steps_consumed(out: Path, results: dict) -> int:  # type: ignore[type-arg]
    total = 0
    for t in results["trials"]:
        history = out / "trials" / str(t["number"]) / "metrics.jsonl"
        if history.exists():
            lines = [json.loads(x) for x in history.read_text().splitlines() if x.strip()]
            total += max((x.get("step", 0) for x in lines), default=0)
    return total


def plain_loop(params: list[dict], steps: int) -> float:  # type: ignore[type-arg]
    """Each trial from scratch, as a hand-written script would do it."""
    code = f"""
import os
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TQDM_DISABLE", "1")
import torch
torch.set_num_threads(1)
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer
from specc.compiler import builtin_data
from specc.runtime.tiny_model import materialize
path = str(materialize())
params = {params!r}
for i, p in enumerate(params):
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    keep = ("prompt", "chosen", "rejected")
    train = Dataset.from_list([{{k: r[k] for k in keep}} for r in builtin_data.rows("specc:arith-prefs", "train")])
    val = Dataset.from_list([{{k: r[k] for k in keep}} for r in builtin_data.rows("specc:arith-prefs", "validation")])
    args = DPOConfig(output_dir=f"/tmp/plain-{{i}}", per_device_train_batch_size=4,
                     per_device_eval_batch_size=4, gradient_accumulation_steps=2,
                     learning_rate=p["policy.optimizer.kwargs.lr"],
                     beta=p["dpo.reference_policy_kl_penalty"], max_steps={steps},
                     max_length=64, eval_strategy="steps", eval_steps=10, logging_steps=1,
                     save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
                     weight_decay=0.0, lr_scheduler_type="constant", seed=42)
    trainer = DPOTrainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                         processing_class=tok)
    trainer.train()  # evaluates at steps 10, 20 and 30, as the specc trials do
"""
    t0 = time.perf_counter()  # the whole command, imports included, as for `specc run`
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        plain_out, pruned_out = Path(tmp) / "none", Path(tmp) / "median"
        t_specc, res = run_specc(plain_out, args.trials, args.steps, "none")
        params = [t["params"] for t in res["trials"] if t["state"] == "COMPLETE"]
        t_plain = plain_loop(params, args.steps)
        t_pruned, res_p = run_specc(pruned_out, args.trials, args.steps, "median")

        def best(r: dict) -> float | None:  # type: ignore[type-arg]
            vals = [t["values"][0] for t in r["trials"] if t["state"] == "COMPLETE"]
            return min(vals) if vals else None

        figures = {
            "trials": len(params), "steps_per_trial": args.steps,
            "specc_seconds": round(t_specc, 1), "plain_loop_seconds": round(t_plain, 1),
            "ratio_specc_over_plain": round(t_specc / t_plain, 2),
            "steps_without_pruner": steps_consumed(plain_out, res),
            "steps_with_median_pruner": steps_consumed(pruned_out, res_p),
            "best_eval_loss_without_pruner": best(res),
            "best_eval_loss_with_pruner": best(res_p),
            "seconds_with_pruner": round(t_pruned, 1), "cpus": os.cpu_count(),
        }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['trials']} DPO trials x {args.steps} steps on specc:tiny-llama "
              f"({figures['cpus']} CPUs)")
        print(f"  specc run (no pruner):        {figures['specc_seconds']:>7.1f} s")
        print(f"  plain TRL loop, from scratch: {figures['plain_loop_seconds']:>7.1f} s")
        print(f"  ratio specc / plain:          {figures['ratio_specc_over_plain']:>7.2f}")
        print(f"  steps, no pruner / median:    {figures['steps_without_pruner']} / "
              f"{figures['steps_with_median_pruner']}")
        print(f"  best eval_loss, no pruner / median: {figures['best_eval_loss_without_pruner']}"
              f" / {figures['best_eval_loss_with_pruner']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
