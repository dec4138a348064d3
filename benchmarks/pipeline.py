"""The three-stage pipeline of `examples/pipeline/` (ORPO -> RS-SFT -> GRPO) end to end,
as the README runs it: `specc run` on each stage in a scratch folder, each stage
starting from the previous stage's best model. Prints each stage's wall time (the whole
command: interpreter start, model load, training, evaluation), its objective and where
its policy came from. Usage:

    .venv/bin/python benchmarks/pipeline.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("stage1_orpo.yaml", "stage2_rs_sft.yaml", "stage3_grpo.yaml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env.setdefault("SPECC_CACHE", str(home / "cache"))
        shutil.copytree(ROOT / "examples" / "pipeline", home / "examples" / "pipeline")
        for i, stage in enumerate(STAGES, start=1):
            start = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "specc", "run",
                                   f"examples/pipeline/{stage}", "--quiet"], cwd=home,
                                  env=env, capture_output=True, text=True, check=False)
            seconds = time.monotonic() - start
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr, file=sys.stderr)
                return 1
            out = home / "runs" / f"web4-pipeline-stage{i}"
            results = json.loads((out / "results.json").read_text())
            best = results["best"]
            log = (out / "trials" / str(best["number"]) / "log.txt").read_text()
            origin = next((line.split("stage: ", 1)[1].removeprefix("starting from ")
                           for line in log.splitlines()
                           if "stage: " in line), "specc:tiny-llama")
            rows.append({"stage": stage, "seconds": round(seconds, 1),
                         "objective": results["objectives"][0], "value": best["value"],
                         "from": origin.replace(str(home) + "/", "")})
    total = round(sum(r["seconds"] for r in rows), 1)
    if opts.json:
        print(json.dumps({"stages": rows, "total_seconds": total, "cpus": os.cpu_count()}))
        return 0
    for r in rows:
        print(f"{r['stage']:<20} {r['seconds']:>6.1f} s  {r['objective']}={r['value']:.4g}  "
              f"from {r['from']}")
    print(f"{'total':<20} {total:>6.1f} s  ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
