"""`hpo.backend: ray`: real Ray Tune studies of the built-in tiny model on this machine's
CPUs (Ray embedded in `specc run`'s process), recorded in the study's Optuna storage like
the Optuna backend's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

# one xdist worker runs them all: the cluster test's `ray stop` ends every Ray on the machine
pytestmark = pytest.mark.xdist_group("ray")

HERE = Path(__file__).parent / "data" / "ray"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
       "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def _run(spec: Path, out: Path, *extra: str, timeout: int = 900,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specc", "run", str(spec), "--output",
                           str(out), "--no-report", *extra], capture_output=True,
                          text=True, env=env or ENV, timeout=timeout, check=False)


def _interval(trial: dict[str, object], out: Path) -> tuple[datetime, datetime]:
    import optuna

    from specc.runtime.storage import open_storage

    study = optuna.load_study(study_name=None, storage=open_storage(str(out / "study.journal")))
    t = study.trials[int(str(trial["number"]))]
    assert t.datetime_start is not None and t.datetime_complete is not None
    return t.datetime_start, t.datetime_complete


@pytest.fixture(scope="module")
def asha(tmp_path_factory: pytest.TempPathFactory,
         ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("ray") / "out"
    return out, _run(HERE / "asha.yaml", out)


def test_ray_study_runs_trials_concurrently_with_the_optuna_backends_outputs(
        asha: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = asha
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    results = json.loads((out / "results.json").read_text())
    trials = results["trials"]
    assert len(trials) == 4 and results["finished"] == 4
    assert {t["state"] for t in trials} <= {"COMPLETE", "PRUNED"}
    assert any(t["state"] == "COMPLETE" for t in trials)
    for t in trials:  # each trained under its own folder, as the Optuna backend's do
        assert (out / "trials" / str(t["number"]) / "spec.yaml").is_file()
        assert (out / "trials" / str(t["number"]) / "metrics.jsonl").is_file()
        assert t["intermediate"], t
    # two trials ran at the same time: some pair of [start, end] intervals overlaps, and
    # the study took clearly less time than its trials one after another
    spans = [_interval(t, out) for t in trials]
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans)
               for b in spans[i + 1:]), spans
    wall = (max(e for _, e in spans) - min(s for s, _ in spans)).total_seconds()
    serial = sum((e - s).total_seconds() for s, e in spans)
    assert wall < 0.8 * serial, (wall, serial, spans)
    assert "hpo:" not in (out / "best.yaml").read_text()  # a runnable spec of one run
    check = subprocess.run([sys.executable, "-m", "specc", "validate", str(out / "best.yaml")],
                           capture_output=True, text=True, env=ENV, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    # the record's parameters are the points Ray's searcher chose (shown at trial start)
    for t in trials:
        lr = t["params"]["policy.optimizer.kwargs.lr"]
        assert f"lr={lr:.4g}" in proc.stdout, (lr, proc.stdout[-2000:])


def test_ray_study_run_again_is_already_complete(
        asha: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, first = asha
    assert first.returncode == 0
    again = _run(HERE / "asha.yaml", out, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert len(results["trials"]) == 4  # restored, nothing trained twice


@pytest.mark.parametrize("name", ["pbt", "pb2"])
def test_population_study_exploits_and_explores(tmp_path: Path, name: str) -> None:
    """PBT perturbs the donor's values; PB2's explore step is a GP bandit (scikit-learn)
    over the dimensions' bounds. Either way a trial resumes from another's checkpoint."""
    out = tmp_path / "out"
    proc = _run(HERE / f"{name}.yaml", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "Consider boosting" not in proc.stderr
    results = json.loads((out / "results.json").read_text())
    trials = results["trials"]
    assert len(trials) == 2 and all(t["state"] == "COMPLETE" for t in trials)
    steps = [e for t in trials for e in t.get("pbt", [])]
    assert steps, trials  # at least one exploit/explore step, recorded
    step = steps[0]
    assert step["exploited"] in {t["number"] for t in trials}
    assert step["step"] and step["params"]
    assert f"{name.upper()} exploit" in proc.stdout
    for e in steps:  # explored values stay inside the search space
        lr = e["params"].get("policy.optimizer.kwargs.lr")
        beta = e["params"].get("dpo.reference_policy_kl_penalty")
        assert lr is None or 1.0e-5 <= lr <= 2.0e-2, e
        assert beta is None or 0.05 <= beta <= 0.5, e


def test_infeasible_points_take_no_place_in_n_trials(tmp_path: Path) -> None:
    """As under the Optuna backend: Ray is asked for points while the budget has room, so
    an infeasible point (B001 here) is recorded and another is drawn in its place."""
    out = tmp_path / "out"
    proc = _run(HERE / "infeasible.yaml", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "Trial trainable" not in proc.stdout
    results = json.loads((out / "results.json").read_text())
    feasible = [t for t in results["trials"] if not t.get("infeasible")]
    infeasible = [t for t in results["trials"] if t.get("infeasible")]
    assert results["n_trials"] == 3 and results["finished"] == 3
    assert len(feasible) == 3 and all(t["state"] == "COMPLETE" for t in feasible)
    assert infeasible and all(t["reason"].startswith("infeasible: B001") for t in infeasible)
    assert results["counts"]["infeasible"] == len(infeasible)


def _finished(out: Path) -> int:
    try:
        return int(json.loads((out / "results.json").read_text())["finished"])
    except (OSError, ValueError, KeyError):
        return 0


def test_killed_driver_resumes_to_the_same_total(tmp_path: Path) -> None:
    """kill -9 of the driver (and Ray with it) after its first finished trial; the same
    command restores Ray's experiment and ends with n_trials, the lost trials left out."""
    out = tmp_path / "out"
    log = (tmp_path / "first.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "specc", "run", str(HERE / "asha.yaml"),
                             "--output", str(out), "--no-report"], stdout=log,
                            stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    deadline = time.monotonic() + 600
    while _finished(out) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert proc.poll() is None, "the study ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _finished(out) < 4
    again = _run(HERE / "asha.yaml", out)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "restoring the experiment" in again.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["finished"] == 4 and len(results["trials"]) == 4
    assert results["counts"]["RUNNING"] == 0


def test_a_ray_cluster_started_with_ray_start_runs_the_study(tmp_path: Path) -> None:
    """A head and a worker node started by `ray start` on this machine; `specc run
    --address` runs two trials at once there; `ray stop` ends both nodes."""
    ray = str(Path(sys.executable).with_name("ray"))
    # this cluster's own folder (other tests' Ray never finds it), short: Ray's socket
    # paths under it must fit in 107 bytes
    temp = Path(tempfile.mkdtemp(prefix="specc-ray-", dir="/tmp"))
    port = 6390 + os.getpid() % 500
    # a loopback cluster of this test's own: no token (Ray's token lives in ~/.ray, shared
    # with every other Ray on the machine)
    env = {**ENV, "RAY_DISABLE_USAGE_STATS": "1", "RAY_AUTH_MODE": "disabled"}
    head = subprocess.run([ray, "start", "--head", f"--port={port}", "--num-cpus=1",
                           f"--temp-dir={temp}", "--include-dashboard=false",
                           "--disable-usage-stats"],
                          capture_output=True, text=True, env=env, timeout=180, check=False)
    try:
        assert head.returncode == 0, head.stdout + head.stderr
        worker = subprocess.run([ray, "start", f"--address=127.0.0.1:{port}",
                                 "--num-cpus=1", f"--temp-dir={temp}"],
                                capture_output=True, text=True, env=env, timeout=180,
                                check=False)
        assert worker.returncode == 0, worker.stdout + worker.stderr
        out = tmp_path / "out"
        proc = _run(HERE / "asha.yaml", out, "--address", f"127.0.0.1:{port}",
                    "--n-trials", "2", env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results = json.loads((out / "results.json").read_text())
        assert results["finished"] == 2
        hosts = {t.get("host") for t in results["trials"]}
        assert hosts and None not in hosts
    finally:
        stop = subprocess.run([ray, "stop", "--force"], capture_output=True, text=True,
                              env=env, timeout=180, check=False)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    left = subprocess.run(["pgrep", "-f", str(temp)], capture_output=True, text=True,
                          check=False)
    shutil.rmtree(temp, ignore_errors=True)
    assert left.stdout.strip() == "", left.stdout


def test_more_gpus_per_trial_than_the_cluster_has_is_one_line(tmp_path: Path) -> None:
    """Each trial reserves `hardware.gpus_per_trial` GPUs; this machine's Ray has none."""
    proc = _run(HERE / "asha.yaml", tmp_path / "out", "-o", "hardware.gpu=A100-80GB",
                "-o", "hardware.gpus_per_trial=1", "-o", "policy.precision=bfloat16",
                timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "hardware.gpus_per_trial is 1 but the Ray cluster has 0 GPU(s)" in proc.stderr
