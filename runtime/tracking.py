"""Experiment tracking of a trial: the environment the transformers integrations read, and
a callback that logs the trial's resolved spec and search-space parameters as the run's
config, and its objective values at the end.

The callback never opens a second run: it finds the live integrations among the trainer's
callbacks (TensorBoardCallback's writer, WandbCallback's `wandb` module, MLflowCallback's
`mlflow` module) after they have started theirs. What it logs, per backend:

- TensorBoard: text `specc/spec` (the YAML), `specc/params`, `specc/config` (the
  flattened spec), an hparams-plugin session with the trial's parameters, and the
  scalars `specc/objective/<metric>` at the end.
- Weights & Biases: `run.config["specc"]` (study, trial, params, flattened spec), the
  spec file, the objectives in the run summary; the run is finished with the trial.
  Without a network, set `WANDB_MODE=offline`.
- MLflow: params `specc.params.*` / `specc.spec.*` (MLflow's length limits applied),
  tags `specc.study` / `specc.trial`, the spec as the artifact `specc/spec.yaml`, the
  objectives as metrics; the run ends with the trial (FAILED when the trial fails).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from specc.compiler.tracking import RunRef, Tracking

log = logging.getLogger("specc.trial")

OBJECTIVE_TAG = "specc/objective/"
_MLFLOW_KEY = re.compile(r"[^0-9A-Za-z_\-. :/]")


@dataclass
class TrialInfo:
    """What the study knows about a trial that the trainer does not."""

    run: RunRef
    params: dict[str, Any]
    spec: dict[str, Any]
    spec_file: Path | None = None


@contextlib.contextmanager
def trial_env(tracking: Tracking | None) -> Iterator[None]:
    """Set the tracking variables for one trial (``env`` always, ``env_defaults`` where
    unset) and restore the environment after it."""
    wanted: dict[str, str] = {}
    if tracking is not None:
        wanted = {k: v for k, v in tracking.env_defaults.items() if k not in os.environ}
        wanted.update(tracking.env)
    saved = {k: os.environ.get(k) for k in wanted}
    try:
        os.environ.update(wanted)
        for key in ("TENSORBOARD_LOGGING_DIR", "WANDB_DIR"):
            if key in wanted:
                Path(wanted[key]).mkdir(parents=True, exist_ok=True)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists stay values."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def _scalar(v: Any) -> int | float | str | bool:
    if isinstance(v, bool | int | float | str):
        return v
    return json.dumps(v, default=str)


def _table(rows: dict[str, Any]) -> str:
    """A Markdown table (TensorBoard renders text summaries as Markdown)."""
    def cell(v: Any) -> str:
        text = v if isinstance(v, str) else json.dumps(v, default=str)
        return "`" + text.replace("|", "\\|").replace("`", "'") + "`"

    lines = ["| key | value |", "|---|---|"]
    lines += [f"| {cell(k)} | {cell(v)} |" for k, v in rows.items()]
    return "\n".join(lines)


class TrackingCallback(TrainerCallback):
    """Logs the trial's spec and parameters to the trainer's live tracking integrations."""

    def __init__(self, info: TrialInfo, tracking: Tracking, spec_yaml: str,
                 objectives: list[str]) -> None:
        self.info = info
        self.tracking = tracking
        self.spec_yaml = spec_yaml
        self.objectives = objectives
        self.callbacks: list[Any] = []
        self._tb_dir: str | None = None
        self._wandb: Any = None
        self._mlflow: Any = None
        self._done = False

    def attach(self, trainer: Any) -> None:
        """Remember the trainer's callbacks (the integrations live there)."""
        self.callbacks = list(trainer.callback_handler.callbacks)

    def _find(self, name: str) -> Any:
        from transformers.integrations import integration_utils as iu

        cls = getattr(iu, name)
        return next((c for c in self.callbacks if isinstance(c, cls)), None)

    @property
    def header(self) -> dict[str, Any]:
        return {"study": self.info.run.study, "trial": self.info.run.trial}

    # --- train begin: the config -------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        for name, fn in (("TensorBoardCallback", self._tensorboard_begin),
                         ("WandbCallback", self._wandb_begin),
                         ("MLflowCallback", self._mlflow_begin)):
            cb = self._find(name)
            if cb is None:
                continue
            try:
                fn(cb, args)
            except Exception as e:  # tracking never fails a trial
                log.warning("tracking: %s could not log the spec: %s", name, e)

    def _tensorboard_begin(self, cb: Any, args: Any) -> None:
        writer = cb.tb_writer
        if writer is None:
            return
        self._tb_dir = str(cb.logging_dir)
        writer.add_text("specc/spec", "```yaml\n" + self.spec_yaml + "```")
        writer.add_text("specc/params", _table({**self.header, **self.info.params}))
        writer.add_text("specc/config", _table(flatten(self.info.spec)))
        from torch.utils.tensorboard.summary import hparams

        hp = {**self.header, **{k: _scalar(v) for k, v in self.info.params.items()}}
        exp, ssi, _ = hparams(hp, {OBJECTIVE_TAG + m: 0.0  # type: ignore[no-untyped-call]
                                   for m in self.objectives})
        fw = writer._get_file_writer()
        fw.add_summary(exp)
        fw.add_summary(ssi)
        writer.flush()

    def _wandb_begin(self, cb: Any, args: Any) -> None:
        wandb = cb._wandb
        run = getattr(wandb, "run", None) if wandb is not None else None
        if run is None:
            return
        self._wandb = wandb
        run.config.update({"specc": {**self.header, "params": self.info.params,
                                     "spec": flatten(self.info.spec)}},
                          allow_val_change=True)
        if self.info.spec_file is not None and self.info.spec_file.exists():
            run.save(str(self.info.spec_file), base_path=str(self.info.spec_file.parent),
                     policy="now")

    def _mlflow_begin(self, cb: Any, args: Any) -> None:
        mlflow = cb._ml_flow
        if mlflow is None or mlflow.active_run() is None:
            return
        if cb._auto_end_run:  # the run is the trial's: specc ends it after the final eval
            cb._auto_end_run = False
            self._mlflow = mlflow
        params = {f"specc.params.{k}": v for k, v in self.info.params.items()}
        params.update({f"specc.spec.{k}": v for k, v in flatten(self.info.spec).items()})
        limit = getattr(mlflow.utils.validation, "MAX_PARAM_VAL_LENGTH", 250)
        batch = getattr(mlflow.utils.validation, "MAX_PARAMS_TAGS_PER_BATCH", 100)
        clean = {_MLFLOW_KEY.sub("_", k)[:250]: str(_scalar(v))[:limit]
                 for k, v in params.items()}
        items = list(clean.items())
        for i in range(0, len(items), batch):
            mlflow.log_params(dict(items[i:i + batch]))
        tags = {"specc.study": self.info.run.study, "specc.trial": str(self.info.run.trial)}
        wanted = self.tracking.run_names.get("mlflow")
        if wanted and wanted != args.run_name:
            tags["mlflow.runName"] = wanted
        mlflow.set_tags(tags)
        mlflow.log_text(self.spec_yaml, "specc/spec.yaml")

    # --- the end: objectives and closing the runs --------------------------------------------
    def finish(self, state: str, values: list[float] | None, step: int,
               reason: str | None = None) -> None:
        """Log how the trial ended (after its final evaluation) and close its runs."""
        objectives = dict(zip(self.objectives, values or [], strict=False))
        for name, fn in (("TensorBoard", self._tensorboard_end),
                         ("W&B", self._wandb_end), ("MLflow", self._mlflow_end)):
            try:
                fn(state, objectives, step, reason)
            except Exception as e:  # tracking never fails a trial
                log.warning("tracking: %s could not log the result: %s", name, e)
        self._done = True

    def close(self) -> None:
        """After a trial that ended without `finish` (an exception): close the runs."""
        if not self._done:
            self.finish("FAIL", None, 0, "failed")

    def _tensorboard_end(self, state: str, objectives: dict[str, float], step: int,
                         reason: str | None) -> None:
        cb = self._find("TensorBoardCallback")
        if cb is not None and cb.tb_writer is not None:  # reopened by a final evaluate
            cb.tb_writer.close()
            cb.tb_writer = None
        if self._tb_dir is None:
            return
        from torch.utils.tensorboard import SummaryWriter

        writer: Any = SummaryWriter(log_dir=self._tb_dir)
        try:
            for metric, value in objectives.items():
                writer.add_scalar(OBJECTIVE_TAG + metric, value, step)
            writer.add_text("specc/result", f"{state}" + (f": {reason}" if reason else ""),
                            step)
            writer._get_file_writer().add_summary(_session_end(state))
        finally:
            writer.close()

    def _wandb_end(self, state: str, objectives: dict[str, float], step: int,
                   reason: str | None) -> None:
        wandb = self._wandb
        if wandb is None or wandb.run is None:
            return
        wandb.run.summary.update({**{OBJECTIVE_TAG + m: v for m, v in objectives.items()},
                                  "specc/state": state, "specc/reason": reason or ""})
        wandb.finish(exit_code=0 if state != "FAIL" else 1)

    def _mlflow_end(self, state: str, objectives: dict[str, float], step: int,
                    reason: str | None) -> None:
        mlflow = self._mlflow
        if mlflow is None or mlflow.active_run() is None:
            return
        if objectives:
            mlflow.log_metrics({OBJECTIVE_TAG + m: v for m, v in objectives.items()}, step=step)
        mlflow.set_tags({"specc.state": state, "specc.reason": (reason or "")[:5000]})
        mlflow.end_run(status="FAILED" if state == "FAIL" else "FINISHED")


_SESSION_STATUS = {"COMPLETE": "STATUS_SUCCESS", "PRUNED": "STATUS_STOPPED",
                   "FAIL": "STATUS_FAILURE"}


def _session_end(state: str) -> Any:
    """The hparams plugin's end-of-session summary, with the trial's status."""
    from tensorboard.compat.proto.summary_pb2 import (  # type: ignore[import-untyped]
        Summary,
        SummaryMetadata,
    )
    from tensorboard.plugins.hparams import (  # type: ignore[import-untyped]
        api_pb2,
        metadata,
        plugin_data_pb2,
    )

    status = api_pb2.Status.Value(_SESSION_STATUS.get(state, "STATUS_UNKNOWN"))
    content = plugin_data_pb2.HParamsPluginData(
        session_end_info=plugin_data_pb2.SessionEndInfo(status=status),
        version=metadata.PLUGIN_DATA_VERSION)
    smd = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=metadata.PLUGIN_NAME, content=content.SerializeToString()))
    return Summary(value=[Summary.Value(tag=metadata.SESSION_END_INFO_TAG, metadata=smd)])


def spec_yaml(data: dict[str, Any]) -> str:
    from specc.compiler.report import dump_yaml

    return dump_yaml(data)
