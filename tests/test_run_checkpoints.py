"""Checkpoints inside a trial (`checkpointing` block): `kill -9` in the middle of a single
run, then the same command continues from the last checkpoint and ends where an
uninterrupted run ends (real CLI processes, real TRL DPO trainer on the tiny model)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_run_study import TINY, env, results, specc_cache, specc_run

__all__ = ["specc_cache"]

CHECKPOINTING = ("checkpointing: {enabled: true, save_period: 10, keep_top_k: 1, "
                 "metric_name: 'val:loss', higher_is_better: false}\n")


def _spec(path: Path, steps: int = 60) -> Path:
    text = TINY.format(name="ck", steps=steps).replace("val_period: 2", "val_period: 10")
    path.write_text(text + CHECKPOINTING)
    return path


def _logged(trial: Path) -> list[dict[str, Any]]:
    path = trial / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            rows.append(json.loads(line))
    return rows


def _ckpts(folder: Path) -> list[int]:
    from specc.runtime.checkpoints import checkpoints

    return [s for s, _ in checkpoints(folder)]


@pytest.mark.slow
def test_kill_9_mid_run_resumes_from_the_last_checkpoint(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "spec.yaml")
    plain = specc_run(str(spec), "--output", str(tmp_path / "plain"), "--quiet")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    want = results(tmp_path / "plain")["best"]["value"]
    trainer = json.loads((tmp_path / "plain" / "trials" / "0" / "trainer.json").read_text())
    assert trainer["config"]["save_strategy"] == "steps"
    assert trainer["config"]["save_steps"] == 10
    # keep_top_k: 1 by eval_loss (plus the latest, kept for resuming)
    assert len(_ckpts(tmp_path / "plain" / "trials" / "0" / "hf")) <= 2
    # best.yaml (the final full training) checkpoints the same way
    assert "checkpointing" in (tmp_path / "plain" / "best.yaml").read_text()

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "specc", "run", str(spec), "--output", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = out / "trials" / "0"
    deadline = time.time() + 240
    while not (_ckpts(first / "hf") and any(r["kind"] == "log" and r["step"] >= 15
                                            for r in _logged(first))):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline, "timed out waiting for step 15"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    last = max(_ckpts(first / "hf"))
    assert 10 <= last < 60

    again = specc_run(str(spec), "--output", str(out), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    data = results(out)
    [trial] = data["trials"]
    assert trial["state"] == "COMPLETE" and trial["number"] == 1
    assert trial["attempts"] == [{"number": 0, "state": "FAIL", "reason": "worker died"}]
    assert trial["resumed_from_step"] == last
    steps = [r["step"] for r in _logged(out / "trials" / "1") if r["kind"] == "log"]
    assert steps[0] == last + 1 and max(steps) == 60  # continued, not from step 1
    assert "resuming from" in (out / "trials" / "1" / "log.txt").read_text()
    # the study sees the whole curve: the first attempt's reports up to the checkpoint
    assert [int(k) for k in trial["intermediate"]] == [10, 20, 30, 40, 50, 60]
    got = trial["values"][0]
    assert abs(got - want) < 1e-3 * max(1.0, abs(want)), (got, want)
    # the dead attempt's checkpoints went once the retry finished
    assert _ckpts(first / "hf") == []


def _fake_checkpoint(folder: Path, step: int) -> None:
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    for name in ("optimizer.pt", "scheduler.pt"):
        (path / name).write_bytes(b"")
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step,
                                                         "log_history": []}))


def test_keep_best_n_keeps_checkpoints_of_the_best_and_of_pending_retries(
        tmp_path: Path) -> None:
    import optuna

    from specc.runtime.outputs import StudyInfo, keep_best
    from specc.runtime.storage import retry

    study = optuna.create_study()
    for v in (1.0, 0.5, 2.0):
        study.add_trial(optuna.trial.create_trial(value=v))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    dead = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL)
    study.add_trial(dead)
    retry(study, study.trials[4], "worker died")  # trial 5 waits to resume from 4's
    for n in range(5):
        _fake_checkpoint(tmp_path / "trials" / str(n) / "hf", 10)
    # a checkpoint cut short by a kill (no trainer_state.json) is never resumed from
    (tmp_path / "trials" / "0" / "hf" / "checkpoint-20").mkdir()
    assert _ckpts(tmp_path / "trials" / "0" / "hf") == [10]
    info = StudyInfo("s", "mem", ["minimize"], ["eval_loss"], 6, tmp_path, False)
    assert keep_best(study.trials, info, None) == [1, 0, 2]
    assert [n for n in range(5) if _ckpts(tmp_path / "trials" / str(n) / "hf")] == \
        [0, 1, 2, 4]  # the FAIL trial 3 lost its checkpoints, the retried 4 kept them
    assert keep_best(study.trials, info, 1) == [1]
    assert [n for n in range(5) if _ckpts(tmp_path / "trials" / str(n) / "hf")] == [1, 4]
