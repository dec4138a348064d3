"""How fast is `specc validate`, cold, compared with `import torch`?

Run from the repository root:

    .venv/bin/python benchmarks/validate_speed.py            # Markdown table + machine info
    .venv/bin/python benchmarks/validate_speed.py --json     # the same figures as JSON

What it measures, each in a fresh subprocess of this same interpreter
(``sys.executable``), so every run pays the full interpreter start-up and import cost:

1. ``python -m specc validate <one spec>`` and ``python -c "import torch"`` (the
   yardstick: specc's validate must stay well below the cost of merely importing torch;
   target ratio <= 0.15), each the median of N runs taken alternately.
2. ``python -m specc validate <200 generated specs> --format json``: one call; specs/s.
3. The whole NeMo RL corpus (``../shared/corpora/nemo-rl/examples/configs``, recipes
   included) in one ``specc validate`` call against ``yamllint -d relaxed`` on the same
   files, each the median of N runs taken alternately in this one run, as a ratio (target
   <= 1.0). Skipped when the corpus or yamllint (the dev extra) is missing.

Standard library only (subprocess, statistics, tempfile).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.15
#: specc on the NeMo RL corpus against yamllint on the same files.
TARGET_CORPUS_RATIO = 1.0
CORPUS = ROOT.parent / "shared" / "corpora" / "nemo-rl"

# The generated specs vary the valid minimal spec; every fifth one carries an error.
_ALGORITHMS = ["sft", "dpo", "orpo", "kto"]
_LRS = ["1.0e-6", "5.0e-6", "1.0e-5", "2.0e-5", "5.0e-5", "1.0e-4"]
_BATCHES = [(8, 1), (16, 2), (32, 4), (64, 8), (128, 16)]
_ERRORS = ["lr", "batch", "dropout", "precision", "unknown_key"]


def _spec(i: int) -> str:
    algorithm = _ALGORITHMS[i % len(_ALGORITHMS)]
    lr = _LRS[i % len(_LRS)]
    global_batch, micro = _BATCHES[i % len(_BATCHES)]
    gpu = "A100-80GB"
    precision = "bfloat16"
    dropout = "0.05"
    extra = ""
    if i % 5 == 4:  # an error
        kind = _ERRORS[(i // 5) % len(_ERRORS)]
        if kind == "lr":  # out of range
            lr = "-1.0e-5"
        elif kind == "batch":  # global batch is not micro x grad accumulation x world
            global_batch, micro = 30, 4
        elif kind == "dropout":  # out of range
            dropout = "1.5"
        elif kind == "precision":  # bf16 on a V100
            gpu = "V100-16GB"
        else:  # unknown key, with a "did you mean"
            extra = "  lerning_rate: 1.0e-5\n"
    block = {
        "sft": "sft:\n  max_num_steps: 100\n",
        "dpo": "dpo:\n  reference_policy_kl_penalty: 0.1\n  max_num_steps: 100\n",
        "orpo": "",
        "kto": "",
    }[algorithm]
    return (
        "specc: 1\n"
        f"name: bench-{i:03d}\n"
        f"algorithm: {algorithm}\n"
        "policy:\n"
        "  model_name: specc:tiny-llama\n"
        f"  precision: {precision}\n"
        "  max_total_sequence_length: 512\n"
        f"  train_global_batch_size: {global_batch}\n"
        f"  train_micro_batch_size: {micro}\n"
        f"{extra}"
        "  optimizer:\n"
        "    name: torch.optim.AdamW\n"
        f"    kwargs: {{lr: {lr}, weight_decay: 0.01}}\n"
        f"  lora: {{enabled: true, r: 16, alpha: 32, dropout: {dropout}}}\n"
        f"{block}"
        "data:\n"
        "  train: {path: \"specc:arith-prefs\"}\n"
        f"hardware: {{gpu: {gpu}, gpus_per_node: 1, num_nodes: 1}}\n"
    )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("NO_COLOR", "1")
    return env


#: CPU seconds (user + system) of the last command :func:`_time` ran: on a shared machine
#: they move less than wall time when other work competes for the cores.
_cpu: list[float] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cmd: list[str], *,
          ok: tuple[int, ...] = (0,)) -> tuple[float, subprocess.CompletedProcess[str]]:
    cpu_before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - start
    _cpu.append(_children_cpu() - cpu_before)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n"
                         f"{proc.stderr[-2000:]}")
    return elapsed, proc


@dataclass(frozen=True)
class Timing:
    """One command's runs: the median wall and CPU seconds, and its last run's output."""
    median_s: float
    runs_s: list[float]
    cpu_s: float
    last: subprocess.CompletedProcess[str]


def _alternate(runs: int, *cmds: list[str]) -> list[Timing]:
    """The commands in turn, `runs` times each after one uncounted warm-up of each (page
    cache, .pyc files); on a shared machine a busy spell then slows them all alike."""
    for cmd in cmds:
        _time(cmd, ok=(0, 1))
    walls: list[list[float]] = [[] for _ in cmds]
    cpus: list[list[float]] = [[] for _ in cmds]
    last: list[subprocess.CompletedProcess[str]] = []
    for _ in range(runs):
        last = []
        for i, cmd in enumerate(cmds):
            t, proc = _time(cmd, ok=(0, 1))
            walls[i].append(t)
            cpus[i].append(_cpu[-1])
            last.append(proc)
    return [Timing(statistics.median(w), w, statistics.median(c), p)
            for w, c, p in zip(walls, cpus, last, strict=True)]


def _single_spec() -> Path:
    for candidate in (ROOT / "examples" / "quickstart.yaml",
                      ROOT / "tests" / "cases" / "valid_minimal" / "spec.yaml"):
        if candidate.is_file():
            return candidate
    raise SystemExit("neither examples/quickstart.yaml nor tests/cases/valid_minimal/spec.yaml")


def measure(runs: int, n_specs: int) -> dict[str, Any]:
    py = sys.executable
    torch_available = _time([py, "-c", "import importlib.util as u, sys; "
                             "sys.exit(0 if u.find_spec('torch') else 3)"],
                            ok=(0, 3))[1].returncode == 0
    figures: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "runs": runs,
    }

    # baseline: the interpreter alone
    (bare,) = _alternate(runs, [py, "-c", "pass"])
    figures["python_startup"] = {"median_s": bare.median_s, "runs_s": bare.runs_s}

    spec = _single_spec()
    cmd = [py, "-m", "specc", "validate", str(spec.relative_to(ROOT))]
    torch_median: float | None = None
    if torch_available:  # taken alternately, so a busy spell slows both sides alike
        one, torch_ = _alternate(runs, cmd, [py, "-c", "import torch"])
        version = _time([py, "-c", "import torch; print(torch.__version__)"])[1].stdout.strip()
        torch_median = torch_.median_s
        figures["import_torch"] = {"median_s": torch_.median_s, "runs_s": torch_.runs_s,
                                   "cpu_s": torch_.cpu_s, "torch_version": version}
    else:
        (one,) = _alternate(runs, cmd)
        figures["import_torch"] = None
    one_median = one.median_s
    rc = one.last.returncode
    figures["validate_one"] = {"file": str(spec.relative_to(ROOT)), "median_s": one_median,
                               "runs_s": one.runs_s, "cpu_s": one.cpu_s, "exit": rc}
    # validate must not import torch: check in the same way it is run
    probe = _time([py, "-c", "import json, sys; sys.argv = ['specc', 'validate', "
                   f"{str(spec.relative_to(ROOT))!r}]; "
                   "import specc.cli as c; rc = c.main(sys.argv[1:]); "
                   "heavy = [m for m in ('torch', 'trl', 'transformers', 'optuna', 'peft', "
                   "'textual') if m in sys.modules]; print(json.dumps(heavy))"], ok=(0,))[1]
    figures["validate_one"]["heavy_modules_imported"] = json.loads(
        probe.stdout.strip().splitlines()[-1])
    figures["ratio_validate_to_torch"] = (one_median / torch_median) if torch_median else None
    figures["cpu_ratio_validate_to_torch"] = (
        figures["validate_one"]["cpu_s"] / figures["import_torch"]["cpu_s"]
        if figures["import_torch"] else None)
    figures["target_ratio"] = TARGET_RATIO

    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        files = []
        for i in range(n_specs):
            p = Path(tmp) / f"spec_{i:03d}.yaml"
            p.write_text(_spec(i), encoding="utf-8")
            files.append(str(p))
        cmd = [py, "-m", "specc", "validate", *files, "--format", "json"]
        _time(cmd, ok=(0, 1))  # warm-up, not counted
        elapsed, proc = _time(cmd, ok=(0, 1))
        diags = json.loads(proc.stdout)["diagnostics"]
        errors = sum(d["severity"] == "error" for d in diags)
        with_errors = len({d["file"] for d in diags if d["severity"] == "error"})
    figures["corpus"] = _corpus(py, runs)
    expected = sum(1 for i in range(n_specs) if i % 5 == 4)
    figures["validate_batch"] = {
        "specs": n_specs,
        "expected_specs_with_errors": expected,
        "seconds": elapsed,
        "specs_per_second": n_specs / elapsed,
        "exit": proc.returncode,
        "diagnostics": len(diags),
        "errors": errors,
        "specs_with_errors": with_errors,
    }
    return figures


def _corpus(py: str, runs: int) -> dict[str, Any] | None:
    """specc and yamllint on the whole NeMo RL corpus, one call each, alternately."""
    configs = CORPUS / "examples" / "configs"
    yamllint = Path(py).parent / "yamllint"
    if not configs.is_dir() or not yamllint.exists():
        return None
    files = sorted(str(p) for p in configs.rglob("*.yaml"))
    specc_cmd = [py, "-m", "specc", "validate", "--format", "json", "--root", str(CORPUS),
                 *files]
    lint_cmd = [str(yamllint), "-d", "relaxed", *files]
    specc_, lint = _alternate(runs, specc_cmd, lint_cmd)
    diags = json.loads(specc_.last.stdout)["diagnostics"]
    return {"files": len(files), "specc_s": specc_.median_s, "specc_runs_s": specc_.runs_s,
            "yamllint_s": lint.median_s, "yamllint_runs_s": lint.runs_s,
            "ratio": specc_.median_s / lint.median_s, "specc_cpu_s": specc_.cpu_s,
            "yamllint_cpu_s": lint.cpu_s, "cpu_ratio": specc_.cpu_s / lint.cpu_s,
            "target_ratio": TARGET_CORPUS_RATIO, "diagnostics": len(diags),
            "files_with_errors": len({d["file"] for d in diags if d["severity"] == "error"})}


def markdown(f: dict[str, Any]) -> str:
    """The figures as a Markdown table for the README, plus a line of machine info."""
    m, one, batch = f["machine"], f["validate_one"], f["validate_batch"]
    torch_, ratio = f["import_torch"], f["ratio_validate_to_torch"]
    rows = [
        "| measurement (cold, fresh process each run) | wall time | CPU time |",
        "|---|---|---|",
        f"| `python -c pass` (interpreter start-up) | {f['python_startup']['median_s']:.3f} s "
        "| |",
    ]
    if torch_:
        rows.append(f"| `python -c \"import torch\"` (torch {torch_['torch_version']}) "
                    f"| {torch_['median_s']:.3f} s | {torch_['cpu_s']:.2f} s |")
    rows.append(f"| `specc validate {one['file']}` | {one['median_s']:.3f} s "
                f"| {one['cpu_s']:.2f} s |")
    if ratio is not None:
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        rows.append(f"| validate / import torch | **{ratio:.2f}** ({verdict} the "
                    f"<= {TARGET_RATIO} target) | {f['cpu_ratio_validate_to_torch']:.2f} |")
    rows.append(f"| `specc validate` on {batch['specs']} specs, one call, `--format json` "
                f"| {batch['seconds']:.3f} s = **{batch['specs_per_second']:.0f} specs/s** "
                "| |")
    corpus = f.get("corpus")
    if corpus:
        verdict = "meets" if corpus["ratio"] <= TARGET_CORPUS_RATIO else "misses"
        rows.append(f"| NeMo RL corpus, {corpus['files']} files, one call: `specc validate` "
                    f"| {corpus['specc_s']:.3f} s | {corpus['specc_cpu_s']:.2f} s |")
        rows.append(f"| the same files: `yamllint -d relaxed` | {corpus['yamllint_s']:.3f} s "
                    f"| {corpus['yamllint_cpu_s']:.2f} s |")
        rows.append(f"| specc / yamllint | **{corpus['ratio']:.2f}** ({verdict} the "
                    f"<= {TARGET_CORPUS_RATIO} target) | {corpus['cpu_ratio']:.2f} |")
    info = [
        f"Median of {f['runs']} runs each, after one uncounted warm-up run; validate and "
        "import torch taken alternately, as are specc and yamllint.",
        f"Machine: {m['cpu_count']} CPUs ({m['processor']}), {m['implementation']} "
        f"{m['python']}, {m['platform']}.",
        "Heavy modules imported by `validate`: "
        f"{', '.join(one['heavy_modules_imported']) or 'none'}.",
        f"Batch: {batch['specs_with_errors']} of {batch['specs']} specs reported with errors "
        f"({batch['expected_specs_with_errors']} were generated with one), "
        f"{batch['diagnostics']} diagnostics, exit {batch['exit']}.",
    ]
    if batch["specs_with_errors"] != batch["expected_specs_with_errors"]:
        info.append("WARNING: some generated errors were not reported.")
    info.append("Reproduce: `.venv/bin/python benchmarks/validate_speed.py` (`--json` for JSON).")
    return "\n".join(rows) + "\n\n" + " ".join(info)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--runs", type=int, default=9, help="runs per cold measurement (median)")
    ap.add_argument("--specs", type=int, default=200, help="specs in the batch measurement")
    args = ap.parse_args(argv)
    if not (ROOT / "specc" / "__init__.py").exists():
        raise SystemExit("run from a specc checkout")
    figures = measure(args.runs, args.specs)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(markdown(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
