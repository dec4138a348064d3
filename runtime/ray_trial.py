"""One Ray Tune trial: the Optuna backend's trial body in a Ray worker process.

Ray Tune chooses the point (its Optuna searcher over the spec's search space, or a
population-based scheduler) and passes it as the trial's config. The trial opens the
study's storage and trains under a record of its own there (user attr ``specc_ray_trial``
holds Ray's trial id), through :class:`specc.runtime.loop.TrialLoop` as the Optuna
backend does: the same compiled description, health rules, outputs under
``trials/<n>/`` and events to the study's display (through a Ray queue). Its evaluations
go to Optuna's record and to Ray (``tune.report``), with the trial's last checkpoint when
checkpoints are handed on (PBT and PB2 exploit them; a restored experiment resumes from
them).

A trial Ray starts again (a restored experiment, a PBT exploit) finds its record by Ray's
trial id: a finished one is reported again, not trained; a running one goes on. After a
PBT exploit the record's ``specc_pbt`` attr lists each step: the step, the trial whose
checkpoint it took, and the values it went on with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.runtime import outputs
from specc.runtime.loop import Reporter, TrialLoop, _Fail
from specc.runtime.setup import Config, Setup, compile_spec, make_setup, open_study

if TYPE_CHECKING:
    import optuna

RAY_TRIAL = "specc_ray_trial"
PBT = "specc_pbt"
SOURCE = "specc_source.json"  # in a checkpoint handed to Ray: which trial, which step


@dataclass
class RayRun:
    """What every trial of a Ray study needs (sent to the workers once)."""

    cfg: Config
    handoff: bool  # checkpoints go to Ray with the reports
    force_checkpoints: int | None = None  # PBT: save a checkpoint every this many steps
    bounds: dict[str, tuple[float, float, bool]] = field(default_factory=dict)


def objective_keys(n: int) -> list[str]:
    """The result keys Ray's searcher and scheduler optimise."""
    return ["objective"] if n == 1 else [f"objective_{i}" for i in range(n)]


class RayReporter(Reporter):
    """Evaluations to Optuna's record (no pruner: Ray's scheduler stops trials) and to Ray;
    with checkpoints handed on, a report waits for the checkpoint of its step."""

    def __init__(self, trial: optuna.Trial, loop: RayTrialLoop, single: bool) -> None:
        super().__init__(trial, loop.setup.objectives[0], single, loop.events)
        self.loop = loop
        self.pending: tuple[int, dict[str, float]] | None = None
        self.total: int | None = None
        self.last: tuple[dict[str, float], Path | None] | None = None

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        self.total = total
        super().log(step, total, metrics)

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        from specc.spec.objective import value_of

        super().report(step, metrics)
        self.flush()
        result: dict[str, float] = {k: float(v) for k, v in metrics.items()
                                    if isinstance(v, int | float) and math.isfinite(v)}
        for key, name in zip(objective_keys(len(self.loop.setup.objectives)),
                             self.loop.setup.objectives, strict=True):
            value = value_of(name, metrics)
            if value is not None and math.isfinite(value):
                result[key] = float(value)
        result["step"] = float(step)
        if self.loop.ray.handoff:
            self.pending = (step, result)
        else:
            self._send(result, None)
        return False

    def saved(self, step: int, path: Path) -> None:
        if self.pending is None or self.pending[0] != step:
            return
        (path / SOURCE).write_text(json.dumps({"number": self.trial.number, "step": step}),
                                   encoding="utf-8")
        result = self.pending[1]
        self.pending = None
        self._send(result, path)

    def flush(self) -> None:
        """A report whose checkpoint never came (the last evaluation): sent without."""
        if self.pending is not None:
            result = self.pending[1]
            self.pending = None
            self._send(result, None)

    def _send(self, result: dict[str, float], checkpoint: Path | None) -> None:
        """To Ray now; the last evaluation's once the record is final (a scheduler may
        stop the trial at any report, and it must not stop one that has finished)."""
        if self.total is not None and result.get("step", 0) >= self.total:
            self.last = (result, checkpoint)
            return
        self._to_ray(result, checkpoint)

    def finish(self) -> None:
        """After the record is final: the held last report."""
        self.flush()
        if self.last is not None:
            result, checkpoint = self.last
            self.last = None
            self._to_ray(result, checkpoint)

    @staticmethod
    def _to_ray(result: dict[str, float], checkpoint: Path | None) -> None:
        from ray import tune

        tune.report(result, checkpoint=tune.Checkpoint.from_directory(str(checkpoint))
                    if checkpoint is not None else None)


class RayTrialLoop(TrialLoop):
    """The trial loop of one Ray worker process, run one trial at a time."""

    def __init__(self, setup: Setup, run: RayRun, study: optuna.Study, events: Any) -> None:
        super().__init__(setup, run.cfg, study, events)
        self.ray = run
        self.config: dict[str, Any] = {}
        self.reporter: RayReporter | None = None

    def _point(self, trial: optuna.Trial) -> dict[str, Any]:
        from specc.compiler.sampling import suggest

        if not trial.params:  # the first attempt: the record's parameters
            suggest(trial, self.setup.dims)
        return dict(self.config)

    def _reporter(self, trial: optuna.Trial, single: bool) -> Reporter:
        self.reporter = RayReporter(trial, self, single)
        return self.reporter

    def _surplus(self, trial: optuna.Trial) -> bool:
        return False  # Ray's num_samples is the budget

    def _resume(self, trial: optuna.Trial, desc: Any, system_attrs: dict[str, Any],
                reporter: Reporter) -> str | None:
        """The checkpoint Ray hands this trial: its own last one (a restored experiment)
        or another trial's (a PBT exploit, recorded in ``specc_pbt``)."""
        from ray import tune

        ckpt = tune.get_checkpoint()
        if ckpt is None:
            return None
        path = Path(ckpt.path)
        try:
            source = json.loads((path / SOURCE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            source = {}
        step = source.get("step")
        trial.set_user_attr(outputs.RESUMED_FROM, {"step": step, "checkpoint": str(path)})
        donor = source.get("number")
        if isinstance(donor, int) and donor != trial.number:
            history = list(trial.user_attrs.get(PBT) or [])
            history.append({"step": step, "exploited": donor, "params": dict(self.config)})
            trial.set_user_attr(PBT, history)
            self.events.message(f"trial {trial.number}: {scheduler_name(self.setup)} exploit "
                                f"at step {step}: took trial {donor}'s checkpoint, explores "
                                f"{self.config}")
        return str(path)


# --- the process's state: compiled once, reused by every trial it runs -------------------------

_STATE: dict[str, Any] = {}


def scheduler_name(setup: Setup) -> str:
    """How messages name the study's Ray scheduler: ASHA, PBT, PB2, ... (FIFO: Ray)."""
    sched = setup.hpo.scheduler if setup.hpo is not None else None
    return sched.type.upper() if sched is not None else "Ray"


def _loop(run: RayRun, events: Any) -> RayTrialLoop:
    key = json.dumps([run.cfg.file, run.cfg.overrides, run.cfg.storage, run.cfg.study_name])
    if _STATE.get("key") != key:
        setup = make_setup(compile_spec(run.cfg.file, run.cfg.overrides))
        with _quiet():
            study = open_study(setup, run.cfg)
        import optuna

        study.pruner = optuna.pruners.NopPruner()  # Ray's scheduler stops trials
        _STATE.update(key=key, loop=RayTrialLoop(setup, run, study, events))
        if run.force_checkpoints:  # after the loop took the study's spec hash
            raw = dict(setup.compiled.raw)
            raw["checkpointing"] = {**(raw.get("checkpointing") or {}), "enabled": True,
                                    "save_period": run.force_checkpoints}
            setup.compiled.raw = raw
    loop: RayTrialLoop = _STATE["loop"]
    loop.events = events
    return loop


def _quiet() -> Any:
    from specc.runtime.storage import quiet_optuna

    return quiet_optuna()


def _clip(point: dict[str, Any], run: RayRun) -> dict[str, Any]:
    """PBT perturbs by factors: values are kept inside their dimension's range (and whole
    for integer dimensions)."""
    out = dict(point)
    for name, (low, high, whole) in run.bounds.items():
        v = out.get(name)
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = min(max(v, low), high)
            out[name] = round(v) if whole else float(v)
    return out


def _record(loop: RayTrialLoop, ray_id: str) -> optuna.Trial | None:
    """This Ray trial's record in the study: the one it had, or a new one; None when it
    finished already (reported again, not trained)."""
    import optuna
    from optuna.trial import TrialState

    study = loop.study
    with _quiet():
        mine = [t for t in study.get_trials(deepcopy=False)
                if t.user_attrs.get(RAY_TRIAL) == ray_id]
    if mine and mine[-1].state.is_finished() and not mine[-1].user_attrs.get(outputs.SURPLUS):
        # finished before Ray saved its state (a restored experiment starts it again):
        # the record stands; a complete one is reported again for the searcher
        if mine[-1].state == TrialState.COMPLETE and mine[-1].values:
            keys = objective_keys(len(mine[-1].values))
            from ray import tune

            tune.report({k: float(v) for k, v in zip(keys, mine[-1].values, strict=True)})
        return None
    if mine and mine[-1].state == TrialState.RUNNING:
        return optuna.Trial(study, mine[-1]._trial_id)
    tid = study._storage.create_new_trial(study._study_id)
    # Ray's choice, not this process's sampler: the record's parameters are the config's
    study._storage.set_trial_system_attr(tid, "fixed_params", dict(loop.config))
    trial = optuna.Trial(study, tid)
    trial.set_user_attr(RAY_TRIAL, ray_id)
    return trial


def trainable(config: dict[str, Any], run: RayRun, queue: Any) -> None:
    """Ray Tune's function trainable: one trial of the study."""
    from optuna.trial import TrialState
    from ray import tune

    from specc.runtime.progress import QueueEvents

    loop = _loop(run, QueueEvents(queue))
    loop.config = _clip(config, run)
    trial = _record(loop, tune.get_context().get_trial_id())
    if trial is None:
        return
    loop.current, loop.current_id, loop.started = trial.number, trial._trial_id, False
    state, values = TrialState.FAIL, None
    import optuna

    try:
        with _quiet():
            result = loop._objective(trial)
        values = result if isinstance(result, list) else [result]
        state = TrialState.COMPLETE
    except optuna.TrialPruned:
        state = TrialState.PRUNED
    except _Fail:
        state = TrialState.FAIL
    with _quiet():
        loop.study.tell(trial, values, state=state)
    loop._finished()
    if loop.reporter is not None:
        loop.reporter.finish()
