"""`specc run`: an Optuna study whose trials are TRL training runs.

The flow: compile the spec (:func:`specc.compiler.plan.build_plan`), open the study in its
storage (:mod:`specc.runtime.storage`), then in each worker process loop: fail and retry
trials whose worker died, check the stop conditions, and run one trial with
``study.optimize(n_trials=1)`` (Optuna's heartbeat and stale-trial handling included).
A spec without ``hpo`` is a study of one trial that saves its model.

A trial: suggest every dimension of the search space (dotted spec paths as parameter names,
conditional dimensions only when their condition holds), apply the point to the spec, check
it with every rule and the memory/context checks of `specc plan`. An infeasible point is
never launched: it is recorded as FAIL with ``reason: "infeasible: <code> <message>"``
(user attr ``specc_infeasible``). A feasible one runs in the process's
:class:`specc.runtime.trial.Worker`; its evaluations are reported to Optuna (the first
objective, one report per evaluation, step = the report's index, so pruner settings count
reports as the spec documents) and the pruner decides.

Budget: ``n_trials`` is the study's total across restarts and workers. A trial whose worker
died is retried with the same parameters and keeps its place in the budget (see
:class:`specc.runtime.outputs.Ledger`). Before each trial a worker counts the budgeted
trials (finished, running, queued); a trial created after the budget was full (two workers
racing for the last place) is marked surplus (FAIL, user attr ``specc_surplus``) without
running and excluded from every count and from results.json.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import multiprocessing
import os
import queue as queue_mod
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.compiler.sampling import (
    build_pruner,
    build_sampler,
    check_sampler,
    grid_space,
    ordered_dims,
    suggest,
)
from specc.errors import RunError, SpecError
from specc.runtime import outputs
from specc.runtime.outputs import (
    INFEASIBLE,
    REASON,
    REPORT_STEPS,
    SAME_AS,
    SURPLUS,
    TRIAL_ID,
    Ledger,
)
from specc.runtime.progress import Display, Hub, QueueEvents, make_display
from specc.runtime.storage import (
    FAILED_TRIAL,
    WORKER,
    StorageError,
    check_url,
    default_storage,
    display,
    identity,
    open_storage,
    quiet_optuna,
    reap_dead_trials,
    retry,
)
from specc.spec import defaults
from specc.spec.storage_url import is_journal

if TYPE_CHECKING:
    import optuna

    from specc.compiler.plan import Plan
    from specc.compiler.trial import World
    from specc.spec.models import Spec
    from specc.spec.models.hpo import Hpo

__all__ = ["RunError", "RunSummary", "SpecError", "run_study"]


@dataclass
class RunSummary:
    """What a study produced (also written to ``<output>/results.json``)."""

    study: str
    output: Path
    storage: str
    directions: list[str]
    objectives: list[str]
    n_trials: int
    trials: list[dict[str, Any]]
    counts: dict[str, int]
    best_params: dict[str, Any] | None = None
    best_value: float | None = None
    best_values: list[float] | None = None
    best_number: int | None = None
    pareto: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    interrupted: bool = False

    @property
    def finished(self) -> int:
        return sum(self.counts.get(s, 0) for s in outputs.FINISHED)


# --- compiling -----------------------------------------------------------------------------------

@dataclass
class Compiled:
    file: str
    plan: Plan
    spec: Spec
    raw: dict[str, Any]


def compile_spec(file: str, overrides: Sequence[str] | None = None) -> Compiled:
    """Validate and compile ``file``; :class:`SpecError` on errors."""
    from specc.compiler.plan import build_plan
    from specc.spec.diagnostics import Collector

    diags = Collector()
    plan = build_plan(file, overrides=list(overrides or []), diags=diags, for_run=True,
                      preview=0)  # the run compiles the points its sampler suggests
    if plan is None or plan.spec is None or plan.raw is None:
        from specc.spec.loader import source_texts

        raise SpecError(file, diags.items, source_texts(file, list(overrides or [])))
    return Compiled(file, plan, plan.spec, plan.raw)


def parse_timeout(value: int | str | None) -> float | None:
    """Seconds from ``3600``, ``"30m"``, ``"2h"``, ``"1d"`` (or ``"90s"``)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value))
    if not m:
        raise RunError(f"cannot read timeout {value!r}: use seconds or 30m, 2h, 1d")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


# --- the study's settings, shared by every worker process ----------------------------------------

@dataclass
class Config:
    file: str
    overrides: list[str]
    output: str
    storage: str
    study_name: str
    budget: int
    workers: int = 1
    deadline: float | None = None
    index: int = 0
    progress: bool = True


@dataclass
class Setup:
    """A compiled spec and its study settings."""

    compiled: Compiled
    directions: list[str]
    objectives: list[str]
    dims: list[tuple[str, Any]]
    grid: dict[str, list[Any]] | None
    single_run: bool
    save: bool
    keep_best_n: int | None
    patience: int | None
    max_failed: int | None

    @property
    def hpo(self) -> Hpo | None:
        return self.compiled.spec.hpo


def make_setup(compiled: Compiled) -> Setup:
    from specc.compiler.trial import objective_metrics

    spec = compiled.spec
    hpo = spec.hpo
    dims = dict(hpo.search_space) if hpo else {}
    grid = grid_space(dims) if hpo and hpo.sampler.type == "grid" and dims else None
    keep = hpo.keep_best_n if hpo else None
    objectives = objective_metrics(spec)
    return Setup(
        compiled=compiled,
        directions=[o.direction for o in hpo.objectives] if hpo else
        ["maximize" if "reward" in objectives[0] else "minimize"],
        objectives=objectives,
        dims=ordered_dims(dims),
        grid=grid,
        single_run=hpo is None,
        save=hpo is None or bool(keep),
        keep_best_n=keep if keep else None,
        patience=hpo.early_stopping_patience if hpo else None,
        max_failed=hpo.max_failed_trials if hpo else None,
    )


def budget_of(setup: Setup, n_trials: int | None) -> int:
    hpo = setup.hpo
    if hpo is None:
        return 1
    budget = n_trials if n_trials is not None else hpo.n_trials
    if setup.grid is not None:
        budget = min(budget, math.prod(len(v) for v in setup.grid.values()))
    return max(budget, 1)


def _seed(setup: Setup, cfg: Config, n_existing: int) -> int | None:
    """The sampler's seed in this worker. A fresh study in one local worker uses the spec's
    seed as is (reproducible); a resumed study or another worker shifts it, so restarted and
    parallel workers do not replay the same suggestions. Workers sharing a database across
    machines also mix in their process identity (which machine asks first is not
    reproducible anyway)."""
    hpo = setup.hpo
    seed = hpo.sampler.seed if hpo else 0
    if seed is None or (setup.grid is not None):
        return seed
    remote = not (is_journal(cfg.storage) or cfg.storage.startswith("sqlite"))
    if n_existing == 0 and cfg.index == 0 and not remote:
        return seed
    mixed = seed + 1 + n_existing + 10007 * cfg.index
    if remote:
        me = identity()
        mixed += hash((me["host"], me["pid"])) % 1_000_003
    return mixed % (2**31)


def open_study(setup: Setup, cfg: Config) -> optuna.Study:
    import optuna

    try:
        storage = open_storage(cfg.storage)
    except ImportError as e:
        raise RunError(f"cannot open {display(cfg.storage)}: {e}") from e
    except Exception as e:  # unreachable database, bad URL
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunError(f"cannot open storage {display(cfg.storage)}: {first}") from e
    try:
        sid = storage.get_study_id_from_name(cfg.study_name)
        n_existing = len(storage.get_all_trials(sid, deepcopy=False))
    except KeyError:
        n_existing = 0
    sampler = build_sampler(setup.hpo, _seed(setup, cfg, n_existing), setup.grid)
    directions = [optuna.study.StudyDirection.MINIMIZE if d == "minimize"
                  else optuna.study.StudyDirection.MAXIMIZE for d in setup.directions]
    study = optuna.create_study(
        storage=storage, study_name=cfg.study_name, sampler=sampler,
        pruner=build_pruner(setup.hpo), directions=directions, load_if_exists=True)
    have = [d.name.lower() for d in study.directions]
    if have != setup.directions:
        raise RunError(f"study {cfg.study_name!r} in {display(cfg.storage)} optimises "
                       f"{have}, this spec {setup.directions}: pass another --study-name "
                       "or --output")
    return study


# --- one worker's loop ---------------------------------------------------------------------------

class _Fail(Exception):
    """End the current trial as FAIL (the reason is already stored)."""


class Reporter:
    """The trial body's reporter: evaluations go to Optuna (pruning) and to the hub."""

    def __init__(self, trial: optuna.Trial, metric: str, single: bool, events: Any) -> None:
        self.trial = trial
        self.metric = metric
        self.single = single
        self.events = events
        self.steps: list[int] = []

    def _value(self, metrics: dict[str, float]) -> float | None:
        from specc.spec.metrics import ALIASES

        for key in (self.metric, ALIASES.get(self.metric), f"eval_{self.metric}"):
            if key and key in metrics:
                return float(metrics[key])
        return None

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        value = self._value(metrics)
        self.events.evaluation(self.trial.number, step, value)
        if value is None or not self.single:
            return False
        self.trial.report(value, len(self.steps))
        self.steps.append(step)
        return bool(self.trial.should_prune())

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        self.events.progress(self.trial.number, step, total, metrics)


class TrialLoop:
    """Runs trials in this process until a stop condition holds."""

    def __init__(self, setup: Setup, cfg: Config, study: optuna.Study, events: Any) -> None:
        self.setup = setup
        self.cfg = cfg
        self.study = study
        self.events = events
        self.output = Path(cfg.output)
        self.worker: Any = None
        self.world: World | None = None
        self.current: int | None = None
        self.current_id: int | None = None
        self.started = False
        self.ran = 0

    # --- stop conditions ---------------------------------------------------------------------
    def should_stop(self) -> str | None:
        with quiet_optuna():
            reap_dead_trials(self.study)
        trials = self.study.get_trials(deepcopy=False)
        ledger = Ledger.of(trials)
        if self.cfg.deadline is not None and time.time() >= self.cfg.deadline:
            return "timeout"
        finished = ledger.finished()
        if self.setup.max_failed is not None:
            failed = sum(t.state.name == "FAIL" and not t.user_attrs.get(INFEASIBLE)
                         for t in finished)
            if failed >= self.setup.max_failed:
                return f"max_failed_trials: {failed} trials failed"
        if self.setup.patience is not None:
            stale = stale_count(finished, self.setup.directions)
            if stale >= self.setup.patience:
                return (f"early stopping: no improvement in the last {stale} finished "
                        "trials")
        if ledger.waiting():
            return None
        if ledger.used >= self.cfg.budget:
            running = ledger.counts()["RUNNING"]
            return "budget reached" + (f" ({running} trial(s) still running in other "
                                       "workers)" if running else "")
        return None

    def _surplus(self, trial: optuna.Trial) -> bool:
        """Whether ``trial`` was created after the budget was full (racing workers)."""
        earlier = sum(
            1 for t in self.study.get_trials(deepcopy=False)
            if t.number < trial.number and FAILED_TRIAL not in t.system_attrs
            and not t.user_attrs.get(SURPLUS))
        return earlier >= self.cfg.budget

    # --- the loop ----------------------------------------------------------------------------
    def run(self) -> str:
        while True:
            stop = self.should_stop()
            if stop:
                return stop
            self.current = self.current_id = None
            self.started = False
            try:
                with quiet_optuna():
                    self.study.optimize(self._objective, n_trials=1, catch=(_Fail,))
            except KeyboardInterrupt:
                self._interrupted()
                raise
            self._finished()

    def _finished(self) -> None:
        if self.current_id is None:
            return
        t = self.study._storage.get_trial(self.current_id)
        if t.user_attrs.get(SURPLUS):
            return
        self.ran += 1
        state = t.state.name
        values = list(t.values) if state == "COMPLETE" and t.values else None
        self.events.trial_end(t.number, state, values, outputs.reason(t))
        if self.setup.keep_best_n:
            info = study_info(self.setup, self.cfg)
            outputs.keep_best(self.study.get_trials(deepcopy=False), info,
                              self.setup.keep_best_n)

    def _interrupted(self) -> None:
        """Ctrl-C: the running trial is FAIL "interrupted" and queued to run again."""
        if self.current_id is None:
            return
        from optuna.trial import TrialState

        storage = self.study._storage
        with contextlib.suppress(Exception), quiet_optuna():
            t = storage.get_trial(self.current_id)
            if t.state == TrialState.RUNNING:
                storage.set_trial_user_attr(t._trial_id, REASON, "interrupted")
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
                t = storage.get_trial(self.current_id)
            if t.state == TrialState.FAIL and t.user_attrs.get(REASON) == "interrupted":
                retry(self.study, t, "interrupted", capped=False)
        if self.started:
            with contextlib.suppress(Exception):
                self.events.trial_end(self.current, "FAIL", None, "interrupted")

    def _objective(self, trial: optuna.Trial) -> float | list[float]:
        self.current, self.current_id = trial.number, trial._trial_id
        trial.set_user_attr(WORKER, identity())
        try:
            return self._body(trial)
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):
                trial.set_user_attr(REASON, "interrupted")
            raise
        except (_Fail, _pruned()):
            raise
        except Exception as e:  # failure isolation: a bug here fails one trial, not the study
            why = f"{type(e).__name__}: {e}".strip().splitlines()[0]
            with contextlib.suppress(Exception):
                trial.set_user_attr(REASON, why)
                (self.output / "trials" / str(trial.number)).mkdir(parents=True,
                                                                    exist_ok=True)
                with open(self.output / "trials" / str(trial.number) / "log.txt", "a",
                          encoding="utf-8") as f:
                    f.write(traceback.format_exc())
            raise _Fail(why) from e

    def _twin(self, trial: optuna.Trial, tid: str) -> Any:
        """An earlier complete trial with the same resolved spec (plan's trial id), if any:
        grids with conditional dimensions and samplers over small categorical spaces
        propose such repeats, and training one again gives the same run."""
        from optuna.trial import TrialState

        trial.set_user_attr(TRIAL_ID, tid)
        done = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return next((t for t in done if t.user_attrs.get(TRIAL_ID) == tid and t.values
                     and t.number != trial.number), None)

    def _fail(self, trial: optuna.Trial, why: str) -> _Fail:
        trial.set_user_attr(REASON, why)
        return _Fail(why)

    def _body(self, trial: optuna.Trial) -> float | list[float]:
        from specc.compiler.tracking import RunRef
        from specc.compiler.trial import compile_trial

        setup, comp = self.setup, self.setup.compiled
        system_attrs = self.study._storage.get_trial_system_attrs(trial._trial_id)
        if FAILED_TRIAL not in system_attrs and self._surplus(trial):
            trial.set_user_attr(SURPLUS, True)
            if setup.grid is not None:  # give the grid point back to the grid
                self.study._storage.set_trial_system_attr(trial._trial_id, "grid_id", -1)
            raise self._fail(trial, "surplus: the budget was already taken by other workers")
        point = suggest(trial, setup.dims)
        if self.world is None:
            from specc.runtime.trial import detect_world

            self.world = detect_world()
        # the one compiled description of this trial: what `specc plan` shows for the point
        desc = compile_trial(comp.file, comp.raw, point, number=trial.number,
                             run=RunRef(str(self.output), self.cfg.study_name, trial.number),
                             world=self.world)
        data = desc.data or {}
        tdir = outputs.trial_dir(self.output, trial.number)
        outputs.atomic_write(tdir / "spec.yaml", outputs.dump_yaml(data))
        self.started = True
        self.events.trial_start(trial.number, point)
        if desc.model is None or not desc.feasible:
            trial.set_user_attr(INFEASIBLE, True)
            shown = "; ".join(f"{e.code} {e.message}" for e in desc.errors[:3]) or \
                "invalid spec"
            raise self._fail(trial, f"infeasible: {shown}")
        twin = self._twin(trial, desc.id)
        if twin is not None:  # the same run again: its result, not a second training
            trial.set_user_attr(SAME_AS, twin.number)
            with open(tdir / "log.txt", "a", encoding="utf-8") as f:
                f.write(f"same resolved spec as trial {twin.number} (a point that differs "
                        "only in inactive dimensions, or a repeat): its values are copied, "
                        "nothing is trained\n")
            values = [float(v) for v in twin.values]
            return values[0] if len(values) == 1 else values
        if self.worker is None:
            from specc.runtime.trial import Worker

            _quiet_hf()
            self.worker = Worker()
        single = len(setup.directions) == 1 and not setup.single_run
        reporter = Reporter(trial, setup.objectives[0], single, self.events)
        from specc.runtime.trial import TrialInfo

        info = TrialInfo(RunRef(str(self.output), self.cfg.study_name, trial.number), point,
                         data, tdir / "spec.yaml")
        result = self.worker.run_trial(desc, reporter, save=setup.save, info=info)
        if reporter.steps:
            trial.set_user_attr(REPORT_STEPS, reporter.steps)
        trial.set_user_attr("specc_steps", int(result.steps))
        if result.state == "COMPLETE":
            values = [float(v) for v in (result.values or [])]
            if len(values) != len(setup.directions) or not all(map(math.isfinite, values)):
                raise self._fail(trial, f"trial returned objective values {result.values}")
            return values[0] if len(values) == 1 else values
        if result.state == "PRUNED":
            import optuna

            trial.set_user_attr(REASON, result.reason or "pruned")
            raise optuna.TrialPruned(result.reason or "pruned")
        raise self._fail(trial, result.reason or "failed")


def _quiet_hf() -> None:
    """No per-trial download/loading progress bars from transformers and datasets: the
    study's display shows progress, the trial's log.txt the details."""
    for module, name in (("transformers.utils.logging", "disable_progress_bar"),
                         ("datasets", "disable_progress_bars")):
        with contextlib.suppress(Exception):
            getattr(importlib.import_module(module), name)()


def _pruned() -> type[Exception]:
    import optuna

    return optuna.TrialPruned


def stale_count(finished: Sequence[optuna.trial.FrozenTrial], directions: list[str]) -> int:
    """Finished trials since the last one that improved the best (one objective) or joined
    the Pareto front (several), in completion order."""
    sg = outputs.signs(directions)
    order = sorted(finished, key=lambda t: (t.datetime_complete or t.datetime_start, t.number))
    best: list[list[float]] = []
    stale = 0
    for t in order:
        vals = list(t.values) if t.state.name == "COMPLETE" and t.values else None
        if vals is None or not all(map(math.isfinite, vals)):
            stale += 1
            continue
        if len(directions) == 1:
            improved = not best or sg[0] * vals[0] < sg[0] * best[0][0]
            if improved:
                best = [vals]
        else:
            improved = not any(outputs.dominates(b, vals, sg) or b == vals for b in best)
            if improved:
                best = [b for b in best if not outputs.dominates(vals, b, sg)] + [vals]
        stale = 0 if improved else stale + 1
    return stale


# --- the whole study -----------------------------------------------------------------------------

def study_info(setup: Setup, cfg: Config) -> outputs.StudyInfo:
    return outputs.StudyInfo(name=cfg.study_name, storage=display(cfg.storage),
                             directions=setup.directions, objectives=setup.objectives,
                             budget=cfg.budget, output=Path(cfg.output),
                             single_run=setup.single_run)


class Writer:
    """results.json after every trial; best.yaml whenever the best trial changes."""

    def __init__(self, setup: Setup, cfg: Config, study: optuna.Study) -> None:
        self.setup, self.cfg, self.study = setup, cfg, study
        self.info = study_info(setup, cfg)
        self.best_written: tuple[int, ...] | None = None
        self.stop_reason: str | None = None
        self.last: dict[str, Any] = {}

    def __call__(self) -> dict[str, Any]:
        with quiet_optuna():
            trials = self.study.get_trials(deepcopy=False)
        data = outputs.results(trials, self.info, self.stop_reason)
        outputs.write_results(self.info, data)
        best = data.get("best") or (data.get("pareto") or [None])[0]
        if best is not None and self.best_written != (best["number"],):
            comp = self.setup.compiled
            from specc.compiler.space import apply_point

            spec = outputs.best_spec(apply_point(comp.raw, best["params"]),
                                     spec_dir=os.path.dirname(os.path.abspath(comp.file)),
                                     output=self.info.output, hpo=not self.setup.single_run)
            outputs.write_best(self.info, spec, best["number"], best["values"])
            self.best_written = (best["number"],)
        self.last = data
        return data


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's preemption) stops like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_study(file: str, *, overrides: Sequence[str] | None = None, output: str | None = None,
              storage: str | None = None, workers: int | None = None,
              study_name: str | None = None, n_trials: int | None = None,
              callbacks: Sequence[Any] | None = None, progress: bool = True,
              display_to: Display | None = None) -> RunSummary:
    """Run the study of ``file`` (or its single training run) to its total budget.

    Raises :class:`SpecError` for a spec with errors, :class:`RunError` when the study
    cannot start as asked, and KeyboardInterrupt after a clean stop on Ctrl-C/SIGTERM (the
    running trials are marked FAIL "interrupted" and queued again; outputs are written).

    ``workers > 1`` spawns worker processes (multiprocessing "spawn"): a script that calls
    this must guard its entry point with ``if __name__ == "__main__":``."""
    compiled = compile_spec(file, overrides)
    check_sampler(compiled.spec.hpo)
    setup = make_setup(compiled)
    spec, hpo = compiled.spec, compiled.spec.hpo
    n_workers = workers if workers is not None else (hpo.parallel if hpo else 1)
    if n_workers < 1:
        raise RunError("--workers must be at least 1")
    if setup.single_run:
        n_workers = 1
    out = Path(output or defaults.output_dir(spec))
    try:
        url = storage or (hpo.storage if hpo else None) or default_storage(out, n_workers)
        check_url(url, n_workers)
    except StorageError as e:
        raise RunError(str(e)) from e
    timeout = parse_timeout(hpo.timeout if hpo else None)
    cfg = Config(file=file, overrides=list(overrides or []), output=str(out), storage=url,
                 study_name=study_name or defaults.study_name(spec),
                 budget=budget_of(setup, n_trials), workers=n_workers,
                 deadline=time.time() + timeout if timeout else None, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    with quiet_optuna():
        study = open_study(setup, cfg)
        reap_dead_trials(study)
    writer = Writer(setup, cfg, study)
    hub = Hub(display_to or make_display(not progress), callbacks or [], setup.directions,
              on_trial_end=writer)
    data = writer()
    hub.study_start({
        "study": cfg.study_name, "storage": display(url), "output": str(out),
        "n_trials": cfg.budget, "finished": data["finished"], "workers": n_workers,
        "directions": setup.directions, "objectives": setup.objectives,
        "single_run": setup.single_run, "file": file,
        "best_value": (data.get("best") or {}).get("value"),
        "best_number": (data.get("best") or {}).get("number"),
    })
    for d in compiled.plan.diagnostics:
        if d.severity.value == "warning":
            hub.message(f"warning: {d.code} {d.message}")
    interrupted = False
    stop: str | None = None
    try:
        with _sigterm_as_interrupt():
            if n_workers == 1:
                stop = TrialLoop(setup, cfg, study, hub).run()
            else:
                stop = _run_workers(setup, cfg, hub)
                # a worker that died took its trial with it: retry it here, so the
                # study still ends with its whole budget
                loop = TrialLoop(setup, cfg, study, hub)
                after = loop.run()
                stop = after if loop.ran else stop
    except KeyboardInterrupt:
        interrupted = True
        stop = "interrupted"
    writer.stop_reason = stop
    data = writer()
    summary = _summary(cfg, setup, data, stop, interrupted)
    hub.study_end(summary)
    if interrupted:
        raise KeyboardInterrupt
    return summary


def _summary(cfg: Config, setup: Setup, data: dict[str, Any], stop: str | None,
             interrupted: bool) -> RunSummary:
    best = data.get("best")
    return RunSummary(
        study=cfg.study_name, output=Path(cfg.output), storage=data["storage"],
        directions=list(setup.directions), objectives=list(setup.objectives),
        n_trials=cfg.budget, trials=data["trials"], counts=data["counts"],
        best_params=best["params"] if best else None,
        best_value=best["value"] if best else None,
        best_values=best["values"] if best else None,
        best_number=best["number"] if best else None,
        pareto=data.get("pareto", []), stop_reason=stop, interrupted=interrupted)


# --- several local worker processes --------------------------------------------------------------

def _run_workers(setup: Setup, cfg: Config, hub: Hub) -> str | None:
    """``cfg.workers`` processes (spawned) run the loop against the shared storage; their
    events come back through a queue to ``hub``."""
    spec = setup.compiled.spec
    if spec.policy.model_name.startswith("specc:"):  # materialise once, not racing
        from specc.runtime.tiny_model import materialize

        materialize(spec.policy.model_name)
    ctx = multiprocessing.get_context("spawn")
    q: Any = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(replace(cfg, index=i), q),
                         name=f"specc-worker-{i}") for i in range(cfg.workers)]
    for p in procs:
        p.start()
    reasons: dict[int, str | None] = {}
    errors: list[str] = []
    interrupted = False
    grace_until: float | None = None
    while True:
        try:
            try:
                event = q.get(timeout=0.2)
            except queue_mod.Empty:
                if all(not p.is_alive() for p in procs):
                    # drain what is left, then stop
                    with contextlib.suppress(queue_mod.Empty):
                        while True:
                            _handle(q.get(timeout=0.2), hub, reasons, errors)
                    break
                if grace_until is not None and time.time() > grace_until:
                    for p in procs:
                        if p.is_alive():
                            p.terminate()
                continue
            _handle(event, hub, reasons, errors)
        except KeyboardInterrupt:
            # the workers got the same Ctrl-C: let them mark their trials, then collect
            interrupted = True
            grace_until = time.time() + 60
    for p in procs:
        p.join(timeout=5)
    if interrupted or any(p.exitcode == 130 for p in procs):
        raise KeyboardInterrupt
    if errors:
        raise RuntimeError("a worker process failed:\n" + "\n".join(errors))
    last = [r for r in reasons.values() if r]  # in the order the workers ended
    return last[-1] if last else None


def _handle(event: tuple[Any, ...], hub: Hub, reasons: dict[int, str | None],
            errors: list[str]) -> None:
    if event[0] == "worker_done":
        _, index, reason, error = event
        reasons[index] = reason
        if error:
            errors.append(error)
        return
    hub.dispatch(event)


def _worker_main(cfg: Config, q: Any) -> None:
    """A worker process: the same loop, events to the parent."""
    events = QueueEvents(q)
    try:
        with _sigterm_as_interrupt():
            setup = make_setup(compile_spec(cfg.file, cfg.overrides))
            with quiet_optuna():
                study = open_study(setup, cfg)
            reason = TrialLoop(setup, cfg, study, events).run()
        q.put(("worker_done", cfg.index, reason, None))
    except KeyboardInterrupt:
        q.put(("worker_done", cfg.index, "interrupted", None))
        q.close()
        q.join_thread()
        sys.exit(130)
    except BaseException:
        q.put(("worker_done", cfg.index, None, traceback.format_exc()))
        q.close()
        q.join_thread()
        sys.exit(1)
    q.close()
    q.join_thread()
