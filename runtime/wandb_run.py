"""The W&B run of one sweep trial (`specc agent` under `wandb agent`).

`wandb agent` starts each run's process with the sweep in its environment
(``WANDB_SWEEP_ID``, ``WANDB_RUN_ID``, the project and entity); `wandb.init()` then joins
that run. The objective is logged under the sweep's metric name at every evaluation (W&B's
hyperband counts these reports as iterations, its Bayesian search reads them) and its
final value goes in the run's summary. Without wandb, or outside a sweep, there is no run:
the trial's ``result.json`` still holds the result. A spec that also turns on
`logger.wandb_enabled` logs the trainer's metrics to the same run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from typing import Any

#: Set by `wandb agent` for each run it starts.
SWEEP_ENV = "WANDB_SWEEP_ID"


def in_sweep() -> bool:
    """Whether this process is a W&B sweep's run and wandb is installed."""
    return bool(os.environ.get(SWEEP_ENV)) and importlib.util.find_spec("wandb") is not None


class SweepRun:
    """The live W&B run the objective is logged to."""

    def __init__(self, wandb: Any, run: Any, metric: str) -> None:
        self.wandb = wandb
        self.run = run
        self.metric = metric

    @property
    def id(self) -> str:
        return str(self.run.id)

    @classmethod
    def start(cls, metric: str, params: dict[str, Any], trial: int,
              directory: str) -> SweepRun | None:
        """Join the sweep's run (None outside a sweep)."""
        if not in_sweep():
            return None
        import wandb

        # the agent's run id passed explicitly: a process that used wandb before (a
        # tracked trial) keeps the settings it read then
        run: Any = wandb.init(dir=os.environ.get("WANDB_DIR") or directory,
                              id=os.environ.get("WANDB_RUN_ID") or None)
        run.config.update({"specc": {"trial": trial, "params": params,
                                     "directory": directory}}, allow_val_change=True)
        return cls(wandb, run, metric)

    def evaluation(self, step: int, value: float) -> None:
        if self.wandb.run is not None:
            self.wandb.log({self.metric: value, "specc/step": step})

    def finish(self, state: str, objective: float | None, reason: str | None) -> None:
        """The result in the summary, and the run closed (failed unless COMPLETE)."""
        if self.wandb.run is None:  # `logger.wandb_enabled`: the trial closed it already
            return
        summary: dict[str, Any] = {"specc/state": state, "specc/reason": reason or ""}
        if objective is not None:
            summary[self.metric] = objective
        with contextlib.suppress(Exception):
            self.wandb.run.summary.update(summary)
        self.wandb.finish(exit_code=0 if state == "COMPLETE" else 1)
