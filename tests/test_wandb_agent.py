"""`specc agent`: one trial at a point W&B chose, and the round trip offline with W&B's own
sweep engine (`sweeps.next_run`) choosing the points and the W&B agent's own code writing
the parameters file (`${args_json_file}`)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_run_study import TINY, env, specc_cache  # noqa: F401  (the shared tiny-model cache)

from specc.cli import main
from specc.commands.export import export_file
from specc.compiler.wandb_check import for_engine
from specc.runtime.agent import claim_trial

SPACE = """\
hpo:
  sampler: {type: tpe}
  pruner: {type: hyperband, min_resource: 1, reduction_factor: 3}
  objectives: [{metric: eval_loss, direction: minimize}]
  n_trials: 3
  search_space:
    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
    dpo.reference_policy_kl_penalty: {type: float, low: 0.05, high: 0.5}
    policy.train_micro_batch_size: {type: categorical, choices: [2, 4]}
"""


def write(tmp_path: Path, space: str = SPACE, steps: int = 4) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.format(name="sweep", steps=steps) + space)
    return spec


def agent(spec: Path, *args: str, cwd: Path | None = None,
          extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specc", "agent", str(spec), *args],
                          cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True,
                          text=True, timeout=300, check=False)


def last_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


@pytest.mark.slow
def test_round_trip_with_w_and_b_s_engine_choosing_the_points(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sweeps import RunState, SweepRun, next_run
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

    spec = write(tmp_path)
    exported = export_file(str(spec))
    assert exported.result is not None, exported.diagnostics
    config = exported.result.config
    assert config["method"] == "bayes" and config["metric"] == {"name": "eval_loss",
                                                                "goal": "minimize"}
    assert config["early_terminate"] == {"type": "hyperband", "min_iter": 1, "eta": 3}
    out = tmp_path / "out"
    runs: list[Any] = []
    infos: list[dict[str, Any]] = []
    for i in range(3):
        suggestion = next_run(for_engine(config), runs, validate=True)
        assert suggestion is not None
        infos.append(suggestion.search_info or {})
        # the file W&B's agent writes for `${args_json_file}`
        args = create_sweep_command_args({"args": {k: {"value": _plain(v["value"])}
                                                   for k, v in suggestion.config.items()}})
        params = tmp_path / f"config-{i}.json"
        params.write_text(args["args_json"][0])
        command = [c for c in config["command"][1:] if c != "${args_json_file}"]
        assert command[:3] == ["specc", "agent", str(spec)]
        proc = agent(spec, "--params", str(params), "--output", str(out))
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        result = last_json(proc)
        assert result["trial"] == i and result["state"] == "COMPLETE"
        assert math.isfinite(result["objective"])
        assert result["steps"] == 4 and len(result["history"]) == 2  # val_period 2
        chosen = json.loads(params.read_text())
        assert result["params"]["policy.train_micro_batch_size"] == \
            chosen["policy.train_micro_batch_size"]
        assert result["params"]["policy.optimizer.kwargs.lr"] == \
            pytest.approx(chosen["policy.optimizer.kwargs.lr"])
        tdir = out / "trials" / str(i)
        assert json.loads((tdir / "result.json").read_text()) == result
        assert {"spec.yaml", "trainer.json", "metrics.jsonl", "log.txt"} <= \
            {p.name for p in tdir.iterdir()}
        # what the W&B run would hold: the metric at each evaluation, then the summary
        runs.append(SweepRun(name=f"run-{i}", state=RunState.finished,
                             config=suggestion.config,
                             sampledHistory=[{result["metric"]: v}
                                             for _, v in result["history"]],
                             summaryMetrics={result["metric"]: result["objective"]}))
        assert runs[-1].metric_extremum(config["metric"]["name"], "minimum") == \
            pytest.approx(min(v for _, v in result["history"]))
    # the Bayesian search had the history: no model before the first result, a fitted
    # Gaussian process (finite predictions) once two runs had reported
    assert math.isnan(infos[0]["predicted_value_std_dev"])
    assert math.isfinite(infos[2]["predicted_value_std_dev"])
    assert math.isfinite(infos[2]["expected_improvement"])


def _plain(v: Any) -> Any:
    """numpy scalars from the engine as the JSON W&B's service sends the agent."""
    return v.item() if hasattr(v, "item") else v


def test_infeasible_point_params_mismatch_and_usage(tmp_path: Path) -> None:
    """Points that cannot run end with a message and a non-zero exit, no traceback."""
    space = SPACE.replace("choices: [2, 4]", "choices: [2, 3]")  # 3 does not divide 4
    spec = write(tmp_path, space)
    out = tmp_path / "out"
    point = {"policy.optimizer.kwargs.lr": 1e-3, "dpo.reference_policy_kl_penalty": 0.1,
             "policy.train_micro_batch_size": 3}
    params = tmp_path / "p.json"
    params.write_text(json.dumps(point))
    proc = agent(spec, "--params", str(params), "--output", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "infeasible" in proc.stderr and "B001" in proc.stderr
    result = last_json(proc)
    assert result["state"] == "INFEASIBLE" and result["objective"] is None
    assert json.loads((out / "trials" / "0" / "result.json").read_text())["state"] == \
        "INFEASIBLE"
    # a value outside the space (a sweep exported from another spec): X015 at the key
    proc = agent(spec, "policy.optimizer.kwargs.lr=0.5", "dpo.reference_policy_kl_penalty=0.1",
                 "policy.train_micro_batch_size=2", "--output", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "error X015 `policy.optimizer.kwargs.lr` = 0.5: outside" in proc.stderr
    assert "spec.yaml:" in proc.stderr and not (out / "trials" / "1").exists()
    params.write_text("{not json")
    proc = agent(spec, "--params", str(params))
    assert proc.returncode == 2 and "is not JSON" in proc.stderr


def test_agent_logs_the_objective_to_the_sweep_s_w_and_b_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Under `wandb agent` (WANDB_SWEEP_ID set), offline: the objective is logged under the
    sweep's metric at every evaluation, its final value is in the summary, and the run is
    finished with exit code 0."""
    import wandb

    spec = write(tmp_path)
    for k, v in {"WANDB_MODE": "offline", "WANDB_SWEEP_ID": "sweep1", "WANDB_RUN_ID": "run7",
                 "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true",
                 **{k: v for k, v in env().items() if k.endswith("OFFLINE")}}.items():
        monkeypatch.setenv(k, v)
    logged: list[dict[str, Any]] = []
    ended: list[tuple[int, dict[str, Any]]] = []
    run_cls = wandb.sdk.wandb_run.Run  # (wandb.init rebinds the module's `log` to its run)
    log, finish = run_cls.log, run_cls.finish

    def record_log(self: Any, data: dict[str, Any], *a: Any, **kw: Any) -> None:
        logged.append(dict(data))
        log(self, data, *a, **kw)

    def record_finish(self: Any, *a: Any, **kw: Any) -> None:
        ended.append((kw.get("exit_code", 0), dict(self.summary)))
        finish(self, *a, **kw)

    monkeypatch.setattr(run_cls, "log", record_log)
    monkeypatch.setattr(run_cls, "finish", record_finish)
    rc = main(["agent", str(spec), "policy.optimizer.kwargs.lr=0.001",
               "dpo.reference_policy_kl_penalty=0.2", "policy.train_micro_batch_size=4",
               "--output", str(tmp_path / "out")])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and result["wandb_run"] == "run7"
    assert [d["eval_loss"] for d in logged] == [v for _, v in result["history"]]
    assert [d["specc/step"] for d in logged] == [2, 4]
    assert len(ended) == 1 and ended[0][0] == 0
    summary = ended[0][1]
    assert summary["eval_loss"] == pytest.approx(result["objective"])
    assert (summary["specc/state"], summary["specc/reason"]) == ("COMPLETE", "")
    runs = list((tmp_path / "wandb").glob("offline-run-*-run7"))
    assert len(runs) == 1 and (runs[0] / "run-run7.wandb").stat().st_size > 0


def test_trial_numbers_never_collide(tmp_path: Path) -> None:
    (tmp_path / "trials" / "0").mkdir(parents=True)
    (tmp_path / "trials" / "4").mkdir()
    (tmp_path / "trials" / "notes").mkdir()
    assert [claim_trial(tmp_path) for _ in range(2)] == [5, 6]
    assert os.path.isdir(tmp_path / "trials" / "6")


@pytest.mark.slow
def test_stopped_by_the_sweep_sigterm_ends_the_trial_cleanly(tmp_path: Path) -> None:
    """W&B's early termination stops a run with SIGTERM: the trial ends as `stopped` in
    its result.json, exit status 130, no traceback."""
    import signal
    import time

    spec = write(tmp_path, steps=400)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "specc", "agent", str(spec), "policy.optimizer.kwargs.lr=0.001",
         "dpo.reference_policy_kl_penalty=0.2", "policy.train_micro_batch_size=4",
         "--output", str(out)], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    history = out / "trials" / "0" / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and \
            not (history.exists() and history.read_text().strip()):
        time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "stopped" in stderr
    result = json.loads((out / "trials" / "0" / "result.json").read_text())
    assert (result["state"], result["reason"]) == ("FAIL", "stopped")
