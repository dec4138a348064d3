"""One trial with parameters chosen outside specc: what `specc agent` runs for a W&B sweep.

The point W&B chose is checked against the spec's search space and compiled by
:func:`specc.compiler.trial.compile_trial`, the same description `specc run` compiles for
a point its sampler suggests, and trained by :class:`specc.runtime.trial.Worker`. The
trial gets the next free folder ``<output>/trials/<n>/`` (claimed atomically, so agents
sharing an output folder never collide) with `specc run`'s files and a ``result.json``;
the objective is reported at every evaluation to the live W&B run, when there is one
(:mod:`specc.runtime.wandb_run`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from specc.errors import SpecError
from specc.runtime import outputs
from specc.runtime.wandb_run import SweepRun

__all__ = ["AgentResult", "ParamsError", "claim_trial", "run_agent"]


class ParamsError(SpecError):
    """W&B's parameters do not fit the spec's search space (X015 diagnostics)."""


@dataclass
class AgentResult:
    """How the trial ended (``trials/<n>/result.json``)."""

    trial: int
    state: str  # COMPLETE | PRUNED | FAIL | INFEASIBLE
    metric: str
    objective: float | None
    values: list[float] | None
    objectives: list[str]
    params: dict[str, Any]
    reason: str | None = None
    steps: int = 0
    directory: str = ""
    wandb_run: str | None = None
    #: The objective at each evaluation: [step, value].
    history: list[list[float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def claim_trial(output: Path) -> int:
    """The next free trial number under ``output/trials``, its folder made (atomically:
    `mkdir` fails for every agent but one)."""
    trials = output / "trials"
    trials.mkdir(parents=True, exist_ok=True)
    n = max((int(p.name) for p in trials.iterdir() if p.name.isdigit()), default=-1) + 1
    while True:
        try:
            (trials / str(n)).mkdir()
            return n
        except FileExistsError:
            n += 1


class _Reporter:
    """The trial's evaluations: the objective to the W&B run (never prunes: W&B's early
    termination stops the process)."""

    def __init__(self, objective: str, run: SweepRun | None) -> None:
        self.objective = objective
        self.run = run
        self.history: list[list[float]] = []

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        from specc.spec.objective import reported

        value = reported(self.objective, metrics)
        if value is not None and math.isfinite(value):
            self.history.append([step, value])
            if self.run is not None:
                self.run.evaluation(step, value)
        return False

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        return None


def run_agent(file: str, params: dict[str, Any], *, output: str | None = None,
              overrides: Sequence[str] = (), save: bool = False) -> AgentResult:
    """Train the trial ``params`` select. :class:`SpecError` for errors in the spec,
    :class:`ParamsError` when ``params`` do not fit its search space; an infeasible point
    or a failed training is a result (``state``), written to ``result.json``."""
    from specc.compiler import wandb_sweep
    from specc.compiler.tracking import RunRef
    from specc.compiler.trial import compile_trial
    from specc.runtime.setup import compile_spec, sigterm_as_interrupt
    from specc.runtime.trial import TrialInfo, Worker, detect_world
    from specc.spec import defaults
    from specc.spec.diagnostics import Collector

    compiled = compile_spec(file, overrides)
    spec = compiled.spec
    point: dict[str, Any] = {}
    problems = [wandb_sweep.ParamProblem(("hpo",), "the spec has no `hpo` search space")]
    if spec.hpo is not None and spec.hpo.search_space:
        point, problems = wandb_sweep.point_from_params(spec.hpo, params)
    if problems or spec.hpo is None:
        from specc.spec.loader import source_texts

        diags = Collector().scoped(_locations(file, overrides), file)
        wandb_sweep.report_params(problems, diags)
        raise ParamsError(file, diags.items, source_texts(file, list(overrides)))
    out = Path(output or defaults.output_dir(spec))
    study = defaults.study_name(spec)
    number = claim_trial(out)
    tdir = outputs.trial_dir(out, number)
    desc = compile_trial(file, compiled.raw, point, number=number,
                         run=RunRef(str(out), study, number), world=detect_world())
    outputs.atomic_write(tdir / "spec.yaml", outputs.dump_yaml(desc.data or {}))
    objectives = list(desc.objectives) or [o.metric for o in spec.hpo.objectives]
    metric = wandb_sweep.metric_name(objectives[0])
    run = SweepRun.start(metric, point, number, str(tdir))
    result = AgentResult(number, "INFEASIBLE", metric, None, None, objectives, point,
                         directory=str(tdir), wandb_run=run.id if run else None)
    try:
        with sigterm_as_interrupt():  # W&B's early termination stops a run by SIGTERM
            if desc.model is None or not desc.feasible:
                result.reason = "; ".join(desc.reasons[:3]) or "invalid spec"
                return _finish(result, run, tdir)
            _quiet_hf()
            reporter = _Reporter(objectives[0], run)
            info = TrialInfo(RunRef(str(out), study, number), point, desc.data or {},
                             tdir / "spec.yaml")
            trained = Worker().run_trial(desc, reporter, save=save, info=info)
    except KeyboardInterrupt:  # Ctrl-C, or stopped by the sweep
        result.state, result.reason = "FAIL", "stopped"
        _finish(result, run, tdir)
        raise
    result.state, result.reason, result.steps = trained.state, trained.reason, trained.steps
    result.values = trained.values
    result.metrics = {k: v for k, v in trained.metrics.items() if math.isfinite(v)}
    result.history = reporter.history
    if trained.state == "COMPLETE" and trained.values:
        result.objective = float(trained.values[0])
    return _finish(result, run, tdir)


def _quiet_hf() -> None:
    """No loading progress bars from transformers: stderr is the agent's messages."""
    with contextlib.suppress(Exception):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _locations(file: str, overrides: Sequence[str]) -> Any:
    """Where the spec's keys are written (for X015's file:line:col)."""
    from specc.spec.diagnostics import Collector
    from specc.spec.loader import load

    return load(file, Collector(), overrides=list(overrides)).locations


def _finish(result: AgentResult, run: SweepRun | None, tdir: Path) -> AgentResult:
    import json

    outputs.atomic_write(tdir / "result.json",
                         json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    if run is not None:
        run.finish(result.state, result.objective, result.reason)
    return result
