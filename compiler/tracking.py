"""Lower the `logger` block to experiment tracking: TRL's `report_to`, the run name, one
folder per trial and the environment variables the transformers integrations read.

transformers 5 has no `logging_dir` argument: TensorBoard's folder is the
`TENSORBOARD_LOGGING_DIR` variable, read when the trainer is built; W&B reads
`WANDB_PROJECT`/`WANDB_ENTITY`/`WANDB_DIR`/`WANDB_RUN_GROUP` and MLflow
`MLFLOW_EXPERIMENT_NAME`/`MLFLOW_TRACKING_URI` when training starts. So a trial's tracking
is data: `specc run` sets `env` (and `env_defaults` where the environment has no value)
around the trial, and `specc plan` shows it.

Every trial is its own tracked run. Per-trial TensorBoard folders sit side by side
(`<output>/tensorboard/trial-<n>` by default), so `tensorboard --logdir` on their parent
compares trials.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import field
from typing import Literal

from specc.spec.models import Spec
from specc.spec.records import record

Backend = Literal["tensorboard", "wandb", "mlflow"]
BACKENDS: tuple[Backend, ...] = ("tensorboard", "wandb", "mlflow")


@record(frozen=True)
class Package:
    """What a backend needs installed: any of ``modules`` importable, else `pip install`."""

    modules: tuple[str, ...]
    pip: str


PACKAGES: dict[Backend, Package] = {
    "tensorboard": Package(("tensorboard", "tensorboardX"), "tensorboard"),
    "wandb": Package(("wandb",), "wandb"),
    "mlflow": Package(("mlflow",), "mlflow"),
}


@record(frozen=True)
class RunRef:
    """Which trial of which study a lowering is for."""

    output: str
    """The run's output folder."""
    study: str
    """The Optuna study name."""
    trial: int
    """The trial number."""


@record
class Tracking:
    """One trial's experiment tracking."""

    backends: list[Backend]
    run_name: str | None = None
    #: The run name each named backend (W&B, MLflow) should show.
    run_names: dict[str, str] = field(default_factory=dict)
    #: Set for the duration of the trial (values the spec decides).
    env: dict[str, str] = field(default_factory=dict)
    #: Set only where the environment has no value (specc's defaults).
    env_defaults: dict[str, str] = field(default_factory=dict)
    tensorboard_dir: str | None = None

    @property
    def report_to(self) -> list[str]:
        return list(self.backends) or ["none"]


def enabled(spec: Spec) -> list[Backend]:
    """The backends the spec switches on, in a fixed order."""
    lg = spec.logger
    if lg is None:
        return []
    flags = {"tensorboard": lg.tensorboard_enabled, "wandb": lg.wandb_enabled,
             "mlflow": lg.mlflow_enabled}
    return [b for b in BACKENDS if flags[b]]


def missing_packages(spec: Spec) -> list[tuple[Backend, Package]]:
    """Enabled backends whose package is not installed. Only `specc run` asks (a lookup of
    top-level module names; nothing is imported)."""
    return [(b, PACKAGES[b]) for b in enabled(spec)
            if not any(_installed(m) for m in PACKAGES[b].modules)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def lower_tracking(spec: Spec, run: RunRef | None = None) -> Tracking:
    """The tracking of trial ``run`` (without ``run``: only the backends)."""
    out = Tracking(enabled(spec))
    lg = spec.logger
    if lg is None or run is None or not out.backends:
        return out
    single = spec.hpo is None
    suffix = "" if single else f"-trial-{run.trial}"
    wandb, mlflow = lg.wandb, lg.mlflow
    given = {"wandb": wandb.name if wandb else None, "mlflow": mlflow.run_name if mlflow else None}
    out.run_names = {b: f"{given[b] or run.study}{suffix}" for b in out.backends if b in given}
    # one TrainingArguments.run_name: W&B's, else MLflow's (specc renames the MLflow run
    # when both are named differently)
    out.run_name = next(iter(out.run_names.values()), f"{run.study}{suffix}")
    if "tensorboard" in out.backends:
        tb = lg.tensorboard.log_dir if lg.tensorboard else None
        trial = "." if single else f"trial-{run.trial}"
        if tb:
            out.tensorboard_dir = os.path.join(tb, run.study, trial)
        elif lg.log_dir:
            out.tensorboard_dir = os.path.join(lg.log_dir, "tensorboard", run.study, trial)
        else:
            out.tensorboard_dir = os.path.join(run.output, "tensorboard", trial)
        out.tensorboard_dir = os.path.normpath(out.tensorboard_dir)
        out.env["TENSORBOARD_LOGGING_DIR"] = out.tensorboard_dir
    if "wandb" in out.backends:
        _put(out, "WANDB_PROJECT", wandb.project if wandb else None, run.study)
        _put(out, "WANDB_ENTITY", wandb.entity if wandb else None, None)
        _put(out, "WANDB_DIR", lg.log_dir, run.output)
        out.env_defaults["WANDB_RUN_GROUP"] = run.study
    if "mlflow" in out.backends:
        _put(out, "MLFLOW_EXPERIMENT_NAME", mlflow.experiment_name if mlflow else None,
             run.study)
        _put(out, "MLFLOW_TRACKING_URI", mlflow.tracking_uri if mlflow else None, None)
    return out


def _put(out: Tracking, name: str, given: str | None, default: str | None) -> None:
    if given:
        out.env[name] = given
    elif default:
        out.env_defaults[name] = default
