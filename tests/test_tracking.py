"""Experiment tracking: the `logger` block lowered to `report_to`, run names, per-trial
folders and environment; a real offline `specc run` read back from TensorBoard's event
files; and the diagnostic for a backend whose package is missing."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from specc.cli import main
from specc.compiler.derive import derive
from specc.compiler.lowering import lower
from specc.compiler.plan import build_plan
from specc.compiler.tracking import RunRef, lower_tracking
from specc.spec.models import Spec

SPEC = """\
specc: 1
name: tracked
algorithm: dpo
policy:
  model_name: specc:tiny-llama
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 4
  train_micro_batch_size: 2
  optimizer: {{name: torch.optim.AdamW, kwargs: {{lr: 1.0e-4}}}}
  lora: {{enabled: true, r: 4, alpha: 8}}
dpo:
  reference_policy_kl_penalty: 0.1
  max_num_steps: 3
  val_period: 2
  seed: 1
data:
  train: {{path: specc:arith-prefs, split: train}}
  validation: {{path: specc:arith-prefs, split: validation, max_samples: 8}}
hardware: {{gpu: CPU}}
logger:
{logger}
hpo:
  sampler: {{type: random, seed: 0}}
  objectives: [{{metric: eval_loss, direction: minimize}}]
  n_trials: 2
  search_space:
    policy.optimizer.kwargs.lr: {{type: float, low: 1.0e-5, high: 1.0e-3, log: true}}
"""

LR = "policy.optimizer.kwargs.lr"


def write(path: Path, logger: str) -> Path:
    path.write_text(SPEC.format(logger=logger))
    return path


def spec_of(logger: dict[str, Any], *, hpo: bool = True) -> Spec:
    data: dict[str, Any] = {"name": "s", "policy": {"model_name": "specc:tiny-llama"},
                            "dpo": {"max_num_steps": 2}, "logger": logger}
    if hpo:
        data["hpo"] = {"study_name": "study", "search_space": {
            LR: {"type": "float", "low": 1e-5, "high": 1e-3}}}
    return Spec.model_validate(data)


# --- lowering ------------------------------------------------------------------------------------

RUN = RunRef(output="runs/s", study="study", trial=3)

LOWERING_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("off", {}, {"report_to": ["none"], "env": {}, "tensorboard_dir": None}),
    ("tensorboard under the output", {"tensorboard_enabled": True},
     {"report_to": ["tensorboard"], "run_name": "study-trial-3",
      "env": {"TENSORBOARD_LOGGING_DIR": "runs/s/tensorboard/trial-3"},
      "tensorboard_dir": "runs/s/tensorboard/trial-3"}),
    ("tensorboard under log_dir", {"tensorboard_enabled": True, "log_dir": "logs"},
     {"tensorboard_dir": "logs/tensorboard/study/trial-3"}),
    ("tensorboard.log_dir wins", {"tensorboard_enabled": True, "log_dir": "logs",
                                  "tensorboard": {"log_dir": "/tb"}},
     {"tensorboard_dir": "/tb/study/trial-3"}),
    ("wandb", {"wandb_enabled": True, "wandb": {"project": "p", "name": "n", "entity": "e"}},
     {"report_to": ["wandb"], "run_name": "n-trial-3",
      "env": {"WANDB_PROJECT": "p", "WANDB_ENTITY": "e"},
      "env_defaults": {"WANDB_DIR": "runs/s", "WANDB_RUN_GROUP": "study"}}),
    ("wandb defaults", {"wandb_enabled": True, "log_dir": "logs"},
     {"run_name": "study-trial-3", "env": {"WANDB_DIR": "logs"},
      "env_defaults": {"WANDB_PROJECT": "study", "WANDB_RUN_GROUP": "study"}}),
    ("mlflow", {"mlflow_enabled": True, "mlflow": {
        "experiment_name": "x", "run_name": "r", "tracking_uri": "http://mlflow:5000"}},
     {"report_to": ["mlflow"], "run_name": "r-trial-3",
      "env": {"MLFLOW_EXPERIMENT_NAME": "x", "MLFLOW_TRACKING_URI": "http://mlflow:5000"}}),
    ("all three, W&B names the run", {
        "tensorboard_enabled": True, "wandb_enabled": True, "mlflow_enabled": True,
        "wandb": {"name": "w"}, "mlflow": {"run_name": "m"}},
     {"report_to": ["tensorboard", "wandb", "mlflow"], "run_name": "w-trial-3",
      "run_names": {"wandb": "w-trial-3", "mlflow": "m-trial-3"}}),
]


@pytest.mark.parametrize(("logger", "expected"), [c[1:] for c in LOWERING_CASES],
                         ids=[c[0] for c in LOWERING_CASES])
def test_logger_lowers_to_report_to_dirs_and_env(logger: dict[str, Any],
                                                 expected: dict[str, Any]) -> None:
    spec = spec_of(logger)
    low = lower(spec, derive(spec), "runs/s/trials/3", run=RUN)
    tracking = low.tracking
    assert tracking is not None
    got = {"report_to": low.config["report_to"], "run_name": low.config.get("run_name"),
           "env": tracking.env, "env_defaults": tracking.env_defaults,
           "tensorboard_dir": tracking.tensorboard_dir, "run_names": tracking.run_names}
    for key, value in expected.items():
        assert got[key] == value, key


def test_single_run_has_no_trial_suffix() -> None:
    spec = spec_of({"tensorboard_enabled": True, "wandb_enabled": True}, hpo=False)
    t = lower_tracking(spec, RunRef("out", "s", 0))
    assert t.run_name == "s" and t.tensorboard_dir == "out/tensorboard"


def test_plan_shows_each_trials_tracking(tmp_path: Path) -> None:
    path = write(tmp_path / "spec.yaml", "  tensorboard_enabled: true")
    plan = build_plan(str(path), preview=2, output_dir="out")
    assert plan is not None
    dirs = [t.trainer.to_dict()["tracking"]["tensorboard_dir"] for t in plan.trials
            if t.trainer]
    assert dirs == ["out/tensorboard/trial-0", "out/tensorboard/trial-1"]
    assert plan.trials[1].trainer is not None
    assert plan.trials[1].trainer.config["run_name"] == "tracked-trial-1"


def test_logger_sub_blocks_are_checked(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "spec.yaml", "  wandb: {projet: p}\n  mlflow: {tracking_uri: 3}")
    assert main(["validate", "--format", "json", str(path)]) == 1
    out = capsys.readouterr().out
    assert '"logger.wandb.projet"' in out and '"S001"' in out and "project" in out
    assert '"logger.mlflow.tracking_uri"' in out


def test_trial_env_sets_overrides_keeps_user_defaults_and_restores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from specc.compiler.tracking import Tracking
    from specc.runtime.tracking import trial_env

    monkeypatch.setenv("WANDB_RUN_GROUP", "mine")
    monkeypatch.setenv("WANDB_PROJECT", "shell")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    tb = tmp_path / "tb" / "trial-0"
    t = Tracking(["tensorboard", "wandb"], env={"WANDB_PROJECT": "spec",
                                                "TENSORBOARD_LOGGING_DIR": str(tb)},
                 env_defaults={"WANDB_RUN_GROUP": "study", "WANDB_DIR": str(tmp_path)})
    with trial_env(t):
        assert os.environ["WANDB_PROJECT"] == "spec"  # the spec's value wins
        assert os.environ["WANDB_RUN_GROUP"] == "mine"  # the user's environment wins
        assert os.environ["WANDB_DIR"] == str(tmp_path)
        assert tb.is_dir()
    assert os.environ["WANDB_PROJECT"] == "shell" and "WANDB_DIR" not in os.environ
    assert "TENSORBOARD_LOGGING_DIR" not in os.environ


# --- a missing package ---------------------------------------------------------------------------

def test_missing_wandb_stops_run_before_the_study(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("wandb") is not None:  # pretend it is not installed
        monkeypatch.setattr("specc.compiler.tracking._installed", lambda m: m != "wandb")
    path = write(tmp_path / "spec.yaml", "  tensorboard_enabled: true\n  wandb_enabled: true")
    out = tmp_path / "out"
    assert main(["run", str(path), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error N013" in err and "path: logger.wandb_enabled" in err
    assert "pip install wandb" in err
    assert not out.exists()  # stopped before the study started
    assert main(["validate", str(path)]) == 0  # validate does not look for packages
    capsys.readouterr()
    plan_diags = build_plan(str(path), preview=1)
    assert plan_diags is not None and all(d.code != "N013" for d in plan_diags.diagnostics)


def test_missing_package_diagnostic_location(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from specc.spec.diagnostics import Collector

    monkeypatch.setattr("specc.compiler.tracking._installed", lambda m: False)
    path = write(tmp_path / "spec.yaml", "  mlflow_enabled: true\n  wandb_enabled: true")
    diags = Collector()
    assert build_plan(str(path), diags=diags, for_run=True) is None
    found = {d.path: d for d in diags.items if d.code == "N013"}
    assert set(found) == {"logger.wandb_enabled", "logger.mlflow_enabled"}
    wandb = found["logger.wandb_enabled"]
    line = path.read_text().splitlines().index("  mlflow_enabled: true") + 2
    assert (wandb.line, wandb.column) == (line, 3)
    assert "pip install wandb" in wandb.hint


# --- a real study, read back from TensorBoard ----------------------------------------------------

@pytest.mark.slow
def test_tensorboard_run_logs_each_trial_with_its_spec_and_params(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import (  # type: ignore[import-untyped]
        EventAccumulator,
    )
    from tensorboard.plugins.hparams import (  # type: ignore[import-untyped]
        api_pb2,
        plugin_data_pb2,
    )

    path = write(tmp_path / "spec.yaml", "  tensorboard_enabled: true")
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("TENSORBOARD_LOGGING_DIR", None)
    env["SPECC_CACHE"] = os.environ.get("SPECC_TEST_CACHE") or str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-m", "specc", "run", str(path), "--output",
                           str(out), "--quiet"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    trials = {t["number"]: t for t in results["trials"]}
    assert sorted(trials) == [0, 1]
    assert sorted(p.name for p in (out / "tensorboard").iterdir()) == ["trial-0", "trial-1"]
    for number, trial in trials.items():
        acc = EventAccumulator(str(out / "tensorboard" / f"trial-{number}"),
                               size_guidance={"tensors": 0, "scalars": 0})
        acc.Reload()
        scalars = acc.Tags()["scalars"]
        assert {"train/loss", "eval/loss"} <= set(scalars), scalars
        lr = trial["params"][LR]
        # the resolved trial spec, as YAML, holds this trial's learning rate
        text = acc.Tensors("specc/spec/text_summary")[0].tensor_proto.string_val[0].decode()
        spec = yaml.safe_load(text.removeprefix("```yaml\n").removesuffix("```"))
        assert spec["policy"]["optimizer"]["kwargs"]["lr"] == lr
        assert "hpo" in spec and spec["name"] == "tracked"
        params = acc.Tensors("specc/params/text_summary")[0].tensor_proto.string_val[0]
        assert f"`{LR}` | `{lr}`" in params.decode()
        # the hparams plugin's session: trial number, study and the sampled value
        content = acc.PluginTagToContent("hparams")
        start = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_start_info"]).session_start_info
        assert start.hparams["trial"].number_value == number
        assert start.hparams["study"].string_value == "tracked"
        assert start.hparams[LR].number_value == pytest.approx(lr)
        end = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_end_info"]).session_end_info
        assert trial["state"] == "COMPLETE", trial["reason"]
        assert end.status == api_pb2.Status.Value("STATUS_SUCCESS")
        # the objective, as the study recorded it
        objective = acc.Scalars("specc/objective/eval_loss")
        assert objective[-1].value == pytest.approx(trial["values"][0], rel=1e-5)


# --- W&B and MLflow (dev dependencies, not specc dependencies) -----------------------------------

@pytest.mark.slow
def test_wandb_offline_run_per_trial_with_spec_config(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import wandb  # a dev dependency: this test runs in CI

    import specc

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("SPECC_CACHE", os.environ.get("SPECC_TEST_CACHE") or str(tmp_path / "c"))
    seen: list[dict[str, Any]] = []
    finish = wandb.finish

    def record(*args: Any, **kwargs: Any) -> Any:  # the run as it is closed
        run = wandb.run
        assert run is not None
        seen.append({"name": run.name, "project": run.project, "group": run.group,
                     "config": run.config.as_dict()["specc"],  # type: ignore[no-untyped-call]
                     "objective": run.summary["specc/objective/eval_loss"]})
        return finish(*args, **kwargs)

    monkeypatch.setattr(wandb, "finish", record)
    path = write(tmp_path / "spec.yaml", "  wandb_enabled: true\n  wandb: {project: p}")
    summary = specc.run(str(path), output=str(tmp_path / "out"), progress=False)
    assert [s["name"] for s in seen] == ["tracked-trial-0", "tracked-trial-1"]
    for s, trial in zip(seen, summary.trials, strict=True):
        assert (s["project"], s["group"]) == ("p", "tracked")
        assert s["config"]["trial"] == trial["number"]
        assert s["config"]["params"] == trial["params"]
        assert s["config"]["spec"][LR] == trial["params"][LR]
        assert s["objective"] == pytest.approx(trial["values"][0])
    assert len(list((tmp_path / "out" / "wandb").glob("offline-run-*"))) == 2


@pytest.mark.slow
def test_mlflow_run_per_trial_with_spec_params(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow  # a dev dependency: this test runs in CI

    import specc

    monkeypatch.setenv("SPECC_CACHE", os.environ.get("SPECC_TEST_CACHE") or str(tmp_path / "c"))
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is ./mlruns
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    path = write(tmp_path / "spec.yaml", "  mlflow_enabled: true\n  mlflow: {experiment_name: "
                 f"e, run_name: r, tracking_uri: '{uri}'}}")
    summary = specc.run(str(path), output=str(tmp_path / "out"), progress=False)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("e")
    assert experiment is not None
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == ["r-trial-0", "r-trial-1"]
    for trial in summary.trials:
        run = runs[f"r-trial-{trial['number']}"]
        assert run.info.status == "FINISHED"
        assert run.data.tags["specc.trial"] == str(trial["number"])
        assert float(run.data.params[f"specc.params.{LR}"]) == trial["params"][LR]
        assert float(run.data.params[f"specc.spec.{LR}"]) == trial["params"][LR]
        assert run.data.metrics["specc/objective/eval_loss"] == pytest.approx(
            trial["values"][0])
        artifacts = [a.path for a in client.list_artifacts(run.info.run_id, "specc")]
        assert artifacts == ["specc/spec.yaml"]
