"""One worker's loop: fail and retry trials whose worker died, check the stop conditions,
and run one trial at a time with ``study.optimize(n_trials=1)``. A trial's point is
compiled by :func:`specc.compiler.trial.compile_trial` (the same description `specc plan`
shows) and executed by :class:`specc.runtime.trial.Worker`."""

from __future__ import annotations

import contextlib
import importlib
import math
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.compiler.sampling import (
    suggest,
)
from specc.runtime import outputs
from specc.runtime.outputs import (
    INFEASIBLE,
    REASON,
    RESUMED_FROM,
    SAME_AS,
    SURPLUS,
    TRIAL_ID,
)
from specc.runtime.setup import Config, Setup, study_info
from specc.runtime.setup import ledger as budget_ledger
from specc.runtime.storage import (
    FAILED_TRIAL,
    RETRY_HISTORY,
    WORKER,
    identity,
    quiet_optuna,
    reap_dead_trials,
    retry,
)

if TYPE_CHECKING:
    import optuna

    from specc.compiler.trial import World



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
        self.warnings: list[str] = []

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        from specc.spec.objective import reported

        value = reported(self.metric, metrics)
        self.events.evaluation(self.trial.number, step, value)
        if value is None or not self.single:
            return False
        self.trial.report(value, step)  # keyed by the training step
        self.steps.append(step)
        return bool(self.trial.should_prune())

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        self.events.progress(self.trial.number, step, total, metrics)

    def warn(self, step: int, text: str) -> None:
        """A health rule's warning: on the study's display and in the trial's attrs."""
        self.warnings.append(text)
        self.trial.set_user_attr(outputs.HEALTH_WARNINGS, list(self.warnings))
        self.events.message(f"trial {self.trial.number}: {text}")


def stop_reason(setup: Setup, cfg: Config, trials: Sequence[optuna.trial.FrozenTrial], *,
                budget: bool = True) -> str | None:
    """Why the study ends now (None: it goes on), from its records; ``budget=False`` leaves
    out the budget (Ray counts its own trials)."""
    ledger = budget_ledger(setup, trials)
    if cfg.deadline is not None and time.time() >= cfg.deadline:
        return "timeout"
    run = infeasible_run(trials)
    cap = setup.hpo.max_infeasible_in_a_row if setup.hpo else None
    if cap is not None and len(run) >= cap:
        last = run[-1].user_attrs.get(REASON, "infeasible")
        return (f"{len(run)} infeasible points in a row (max_infeasible_in_a_row: "
                f"{cap}): the sampler keeps proposing points that cannot run; last: "
                f"{last}. Narrow the search space")
    finished = ledger.finished()
    if setup.max_failed is not None:
        failed = sum(t.state.name == "FAIL" and not t.user_attrs.get(INFEASIBLE)
                     for t in finished)
        if failed >= setup.max_failed:
            return f"max_failed_trials: {failed} trials failed"
    if setup.patience is not None:
        stale = stale_count(finished, setup.directions)
        if stale >= setup.patience:
            return (f"early stopping: no improvement in the last {stale} finished "
                    "trials")
    if ledger.waiting() or not budget:
        return None
    if ledger.used >= cfg.budget:
        running = ledger.counts()["RUNNING"]
        return "budget reached" + (f" ({running} trial(s) still running in other "
                                   "workers)" if running else "")
    return None


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
        from specc.spec.study_spec import spec_hash, study_keys

        self.spec_hash = spec_hash(study_keys(setup.compiled.raw, [n for n, _ in setup.dims]))

    # --- stop conditions ---------------------------------------------------------------------
    def should_stop(self) -> str | None:
        with quiet_optuna():
            reap_dead_trials(self.study)
        return stop_reason(self.setup, self.cfg, self.study.get_trials(deepcopy=False))

    def _surplus(self, trial: optuna.Trial) -> bool:
        """Whether ``trial`` was created after the budget was full (racing workers)."""
        counted = self.setup.grid is not None
        earlier = sum(
            1 for t in self.study.get_trials(deepcopy=False)
            if t.number < trial.number and FAILED_TRIAL not in t.system_attrs
            and not t.user_attrs.get(SURPLUS)
            and (counted or not t.user_attrs.get(INFEASIBLE)))
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
        info = study_info(self.setup, self.cfg)
        hpo = self.setup.hpo
        outputs.keep_best(self.study.get_trials(deepcopy=False), info,
                          hpo.keep_best_n if hpo is not None else None)

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
        trial.set_user_attr(outputs.TRIAL_SPEC_HASH, self.spec_hash)
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
                     and t.number != trial.number  # and trained under the same study spec
                     and t.user_attrs.get(outputs.TRIAL_SPEC_HASH) in (None, self.spec_hash)),
                    None)

    def _resume(self, trial: optuna.Trial, desc: Any, system_attrs: dict[str, Any],
                reporter: Reporter) -> str | None:
        """The last complete checkpoint of this trial's earlier attempts (a retry of a
        trial whose worker died), when checkpointing is on and the attempts ran the same
        resolved spec; the earlier attempts' reports up to that step are reported again,
        so the pruner sees the whole curve."""
        from specc.runtime import checkpoints

        history = system_attrs.get(RETRY_HISTORY) or []
        if not history or desc.folds is not None or checkpoints.enabled(desc.model) is None:
            return None
        by_number = {t.number: t for t in self.study.get_trials(deepcopy=False)}
        earlier = [by_number[n] for n in reversed(history) if n in by_number
                   and by_number[n].user_attrs.get(TRIAL_ID) == desc.id]
        found = checkpoints.resume_point(
            outputs.trial_dir(self.output, t.number) / "hf" for t in earlier)
        if found is None:
            return None
        step, path = found
        trial.set_user_attr(RESUMED_FROM, {"step": step, "checkpoint": str(path)})
        source = next(t for t in earlier if path.is_relative_to(
            outputs.trial_dir(self.output, t.number)))
        for at, value in sorted(outputs.intermediate(source).items()):
            if at <= step and reporter.single and math.isfinite(value):
                trial.report(value, at)
        return str(path)

    # --- what the Ray backend's trial body (runtime.ray_trial) does differently -------------
    def _point(self, trial: optuna.Trial) -> dict[str, Any]:
        """The trial's point: suggested by the study's sampler."""
        return suggest(trial, self.setup.dims)

    def _reporter(self, trial: optuna.Trial, single: bool) -> Reporter:
        return Reporter(trial, self.setup.objectives[0], single, self.events)

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
        point = self._point(trial)
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
            trial.set_user_attr(REASON, f"infeasible: {shown}")
            import optuna

            # PRUNED without a report: samplers rank it below every trial that ran (TPE
            # puts it among the bad points) and move away; it takes no place in n_trials
            raise optuna.TrialPruned(f"infeasible: {shown}")
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
        single = len(setup.directions) == 1
        reporter = self._reporter(trial, single)
        from specc.runtime.trial import TrialInfo

        info = TrialInfo(RunRef(str(self.output), self.cfg.study_name, trial.number), point,
                         data, tdir / "spec.yaml")
        resume = self._resume(trial, desc, system_attrs, reporter)
        result = self.worker.run_trial(desc, reporter, save=setup.save, info=info,
                                       resume=resume)
        trial.set_user_attr("specc_steps", int(result.steps))
        if result.state == "COMPLETE":
            values = [float(v) for v in (result.values or [])]
            if len(values) != len(setup.directions) or not all(map(math.isfinite, values)):
                raise self._fail(trial, f"trial returned objective values {result.values}")
            return values[0] if len(values) == 1 else values
        if result.state == "PRUNED":
            import optuna

            trial.set_user_attr(REASON, result.reason or "pruned")
            if "health: " in (result.reason or ""):
                trial.set_user_attr(outputs.HEALTH, result.reason)
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


def infeasible_run(trials: Sequence[optuna.trial.FrozenTrial]) -> list[Any]:
    """The infeasible points at the end of the study, in a row (by number, finished
    trials only)."""
    done = sorted((t for t in trials if t.state.name in outputs.FINISHED
                   and not t.user_attrs.get(SURPLUS)), key=lambda t: t.number)
    run: list[Any] = []
    for t in reversed(done):
        if not t.user_attrs.get(INFEASIBLE):
            break
        run.insert(0, t)
    return run


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



