"""`hpo.backend: ray`: the study's trials as Ray Tune trials.

The driver (this module, in `specc run`'s process) starts Ray (``ray.init()`` embedded, or
the cluster at ``--address``), and runs a Ray Tune experiment under
``<output>/ray/<study>``: Ray's Optuna searcher chooses the points with the spec's sampler
(PBT and PB2 choose their own), the spec's scheduler stops or perturbs trials, and each
trial reserves its CPUs and GPUs (``hardware.gpus_per_trial``). Every trial runs
:func:`specc.runtime.ray_trial.trainable`, which records it in the study's Optuna storage,
so results.json, best.yaml, ``trials/<n>/``, the report and the TUI read the study as they
do for the Optuna backend.

Ray's experiment state is the resumable record: the same command restores it (trials
that were running start again, from their last checkpoint when they handed one on) and
the study ends with its ``n_trials``. As under the Optuna backend an infeasible point
takes no place in ``n_trials`` (Ray is asked for points while the budget has room), but
under PBT and PB2, whose population is drawn at the start, it does.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray import tune
from ray.tune.progress_reporter import TrialProgressCallback
from ray.tune.search import Searcher

from specc.errors import RunError
from specc.runtime import outputs
from specc.runtime.outputs import REASON, SURPLUS
from specc.runtime.ray_space import (
    POPULATION,
    bounds,
    param_space,
    scheduler,
    searcher,
)
from specc.runtime.ray_trial import RAY_TRIAL, RayRun, objective_keys, scheduler_name, trainable
from specc.runtime.setup import Config, Setup, ledger, report_period
from specc.runtime.storage import quiet_optuna

if TYPE_CHECKING:
    import optuna
    from optuna.trial import TrialState

    from specc.runtime.progress import Hub

@dataclass
class _Driver:
    """The driver's live objects: Ray pickles its callbacks and stopper with the
    experiment, so they hold nothing and find these in ``_Current.driver``."""

    study: optuna.Study
    hub: Hub
    queue: Any  # ray.util.queue.Queue: the trials' events
    setup: Setup
    cfg: Config
    stop: str | None = None  # the study's own stop reason, once one holds
    #: Ray trials suggested or started in this process and not ended: a record RUNNING
    #: outside it was left by a driver that died (Ray knows nothing of it)
    live: set[str] = field(default_factory=set)

    def spent(self) -> int:
        """Budget slots the study's finished trials take (infeasible points take none,
        grids aside, as under the Optuna backend)."""
        return len(_ledger(self.study, self.setup).finished())


class _Current:
    """The experiment this process drives (None between experiments)."""

    driver: _Driver | None = None


def start(address: str | None) -> None:
    """Ray on this machine (embedded), or the cluster at ``address`` (``auto``: the one
    ``ray start`` began here; ``ray://HOST:PORT``: a remote one)."""
    if ray.is_initialized():
        return
    env = {"RAY_CHDIR_TO_TRIAL_DIR": "0", "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1",
           "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "0"),
           "TQDM_DISABLE": "1",
           # a reused process waits for the stopped trial's thread to unwind (the trainer's
           # clean-up), not Ray's 2 s
           "TUNE_FUNCTION_THREAD_TIMEOUT_S": "120"}
    import logging

    try:
        # "local": always a new instance here, never one `ray start` left running
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=True,
                 runtime_env={"env_vars": env})
    except Exception as e:  # no cluster there, a refused connection
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunError(f"cannot start Ray{f' at {address}' if address else ''}: "
                       f"{first}") from e


def resources(setup: Setup) -> dict[str, float]:
    """What one trial reserves: a CPU, and its GPUs when the spec trains on CUDA."""
    spec = setup.compiled.spec
    gpus = spec.hardware.gpus_per_trial if spec.hardware is not None else None
    have: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    if gpus and have.get("GPU", 0) < gpus:
        raise RunError(f"hardware.gpus_per_trial is {gpus} but the Ray cluster has "
                       f"{int(have.get('GPU', 0))} GPU(s)")
    return {"cpu": 1, **({"gpu": float(gpus)} if gpus and have.get("GPU") else {})}


def execute(setup: Setup, cfg: Config, study: optuna.Study, hub: Hub, *,
            address: str | None, seed: int | None) -> str | None:
    """Run the study's remaining trials as a Ray Tune experiment; the stop reason."""
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")  # Ray's resumable record
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    start(address)
    from ray.util.queue import Queue

    hpo = setup.hpo
    sched = hpo.scheduler if hpo is not None else None
    population = sched is not None and sched.type in POPULATION
    period = report_period(setup.compiled.spec)
    run = RayRun(cfg=cfg, handoff=population or _checkpointing(setup),
                 force_checkpoints=period if population else None,
                 bounds=bounds(setup) if population else {})
    queue = Queue()
    body = tune.with_resources(tune.with_parameters(trainable, run=run, queue=queue),
                               resources(setup))
    root = Path(cfg.output).resolve() / "ray"
    path = root / cfg.study_name
    _Current.driver = driver = _Driver(study, hub, queue, setup, cfg)
    if tune.Tuner.can_restore(str(path)):
        hub.message(f"ray: restoring the experiment in {path}")
        tuner = tune.Tuner.restore(str(path), body, resume_unfinished=True,
                                   restart_errored=True,
                                   param_space=param_space(setup) if population else None)
    else:
        remaining = cfg.budget - _used(study, setup)
        if remaining <= 0:
            return "budget reached"
        tuner = tune.Tuner(
            body, param_space=param_space(setup) if population else None,
            tune_config=tune.TuneConfig(
                search_alg=_first_points(seed) if population else
                _Budget(_quietly(searcher, setup, seed)),
                # PBT's population is drawn at once; otherwise _Budget asks for points
                # while the budget has room, so an infeasible point takes no place in it
                scheduler=scheduler(setup, seed), num_samples=remaining if population else -1,
                # PBT's population runs together, as the resources allow
                max_concurrent_trials=None if population else cfg.workers,
                # a trial's process runs the next one: the compiled spec, base weights and
                # datasets stay cached (a stopped trial's thread ends first: Ray's
                # tune.report exits it). Not under PBT: Ray's reuse there restarts a
                # paused trial in place, which a trainer mid-step cannot take
                reuse_actors=not population,
                time_budget_s=max(cfg.deadline - _now(), 1) if cfg.deadline else None),
            run_config=tune.RunConfig(
                name=cfg.study_name, storage_path=str(root), verbose=0,
                callbacks=[_Events(), _Silent()], stop=_Stop(),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=None if population
                                                        else 2),
                failure_config=tune.FailureConfig(max_failures=0)))
    try:
        with quiet_optuna(), warnings.catch_warnings():  # the searcher's own study says
            # nothing; nor does Ray's advice to reuse processes under PBT (see reuse_actors)
            warnings.filterwarnings("ignore", message="Consider boosting PBT performance")
            grid = tuner.fit()
    finally:
        _drain()
    unfinished = [i for i in range(len(grid)) if grid[i].metrics is None]
    _orphans(study)
    stop = driver.stop
    if stop is None and unfinished and _used(study, setup) < cfg.budget:
        raise KeyboardInterrupt
    return stop or "budget reached"


def _first_points(seed: int | None) -> Any:
    """PBT/PB2: the population's first values drawn from the space, with the spec's
    seed."""
    from ray.tune.search import BasicVariantGenerator

    return BasicVariantGenerator(random_state=seed)


def _quietly(fn: Any, *args: Any) -> Any:
    with quiet_optuna():
        return fn(*args)


def _now() -> float:
    import time

    return time.time()


def _checkpointing(setup: Setup) -> bool:
    from specc.runtime import checkpoints

    return checkpoints.enabled(setup.compiled.spec) is not None


def _ledger(study: optuna.Study, setup: Setup) -> outputs.Ledger:
    with quiet_optuna():
        return ledger(setup, study.get_trials(deepcopy=False))


def _used(study: optuna.Study, setup: Setup) -> int:
    """Budget slots the study's trials take (an earlier Optuna-backend run's included)."""
    return _ledger(study, setup).used


def _orphans(study: optuna.Study) -> None:
    """Records still RUNNING when the experiment ended belong to Ray trials the driver
    lost (it stopped before Ray recorded them): Ray ran others in their place. They are
    marked FAIL and left out of every count."""
    from optuna.trial import TrialState

    with quiet_optuna():
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in running:
        if t.user_attrs.get(RAY_TRIAL):
            _close(study, t, TrialState.FAIL, "lost with the Ray driver that ran it; Ray ran "
                   "another trial in its place", surplus=True)


def _close(study: optuna.Study, t: optuna.trial.FrozenTrial, state: TrialState,
           why: str, *, values: list[float] | None = None, surplus: bool = False) -> None:
    """End a record Ray's trial left RUNNING, with the reason (``surplus``: out of every
    count)."""
    storage = study._storage
    with quiet_optuna():
        if surplus:
            storage.set_trial_user_attr(t._trial_id, SURPLUS, True)
        storage.set_trial_user_attr(t._trial_id, REASON, why)
        storage.set_trial_state_values(t._trial_id, state, values)


def _drain() -> None:
    """The trials' events (progress, evaluations, ends) to the study's display."""
    driver = _Current.driver
    if driver is None:
        return
    try:
        n = driver.queue.size()
        events = driver.queue.get_nowait_batch(n) if n else []
    except Exception:  # the queue's actor is gone (Ray shutting down)
        return
    for event in events:
        driver.hub.dispatch(event)


def _finish(ray_trial: Any, why: str) -> None:
    """A Ray trial that ended without finishing its record (a scheduler stopped it, or its
    process died): PRUNED or FAIL with the reason."""
    from optuna.trial import TrialState

    driver = _Current.driver
    if driver is None:
        return
    with quiet_optuna():
        mine = [t for t in driver.study.get_trials(deepcopy=False)
                if t.user_attrs.get(RAY_TRIAL) == ray_trial.trial_id]
    if not mine or mine[-1].state != TrialState.RUNNING:
        return
    t = mine[-1]
    state = TrialState.PRUNED if why.startswith("stopped") else TrialState.FAIL
    values = None
    if state == TrialState.PRUNED and t.intermediate_values:
        values = [t.intermediate_values[max(t.intermediate_values)]]
    _close(driver.study, t, state, why, values=values)
    driver.hub.trial_end(t.number, state.name, None, why)


class _Budget(Searcher):
    """Ray's searcher, asked for a point only while the budget has room: the finished
    trials that count plus the trials running stay within ``n_trials``. An infeasible
    point ends at once and frees its place; when the finished trials fill the budget Ray
    hears FINISHED. It holds only the searcher it wraps (Ray pickles it with the
    experiment); the counts come from the study."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        super().__init__(metric=searcher.metric, mode=searcher.mode)

    def set_search_properties(self, metric: str | None, mode: str | None,
                              config: dict[str, Any], **spec: Any) -> bool:
        done = self.searcher.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = self.searcher.metric, self.searcher.mode
        return bool(done)

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:  # type: ignore[override]
        # (Ray types it dict | None, yet its own end marker, Searcher.FINISHED, is a str)
        driver = _Current.driver
        if driver is None:
            return self.searcher.suggest(trial_id)
        spent = driver.spent()
        if spent >= driver.cfg.budget:
            return Searcher.FINISHED
        if spent + len(driver.live) >= driver.cfg.budget:
            return None  # wait: a running trial may yet turn out infeasible
        point = self.searcher.suggest(trial_id)
        if isinstance(point, dict):
            driver.live.add(trial_id)
        return point

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None,
                          error: bool = False) -> None:
        if _Current.driver is not None:  # Ray tells the searcher of every end, errors too
            _Current.driver.live.discard(trial_id)
        self.searcher.on_trial_complete(trial_id, result=result, error=error)

    # a wrapper's state is saved apart from the searcher it wraps (Ray saves that itself)
    def get_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        pass


class _Events(tune.Callback):
    """Forwards the trials' events; finishes the records of stopped trials. Ray pickles
    it with the experiment: it holds nothing (the live objects are in ``_Current.driver``)."""

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def on_step_end(self, iteration: int, trials: list[Any], **info: Any) -> None:
        _drain()

    def on_trial_start(self, iteration: int, trials: list[Any], trial: Any,
                       **info: Any) -> None:
        if _Current.driver is not None:  # a restored trial too: Ray runs it again
            _Current.driver.live.add(trial.trial_id)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any,
                          **info: Any) -> None:
        _drain()
        last = trial.last_result or {}
        driver = _Current.driver
        name = scheduler_name(driver.setup) if driver is not None else "Ray"
        _finish(trial, f"stopped by {name} after "
                f"{last.get('training_iteration', 0)} report(s)")

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any,
                       **info: Any) -> None:
        _drain()
        _finish(trial, f"the trial's Ray worker failed (see {trial.path or 'ray logs'})")


class _Silent(TrialProgressCallback):
    """In place of Ray's own trial printer, which prints "Trial ... completed" for a
    trial that never reported (an infeasible point) whatever the verbosity: the study's
    display says what happened."""

    def on_trial_result(self, *args: Any, **info: Any) -> None:
        pass

    def on_trial_error(self, *args: Any, **info: Any) -> None:
        pass

    def on_trial_complete(self, *args: Any, **info: Any) -> None:
        pass


class _Stop(tune.Stopper):
    """The study's own stop conditions (timeout, failures, patience, infeasible points in
    a row), checked against its records."""

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        return False

    def stop_all(self) -> bool:
        from specc.runtime.loop import stop_reason

        driver = _Current.driver
        if driver is None:
            return False
        with quiet_optuna():
            trials = driver.study.get_trials(deepcopy=False)
        why = stop_reason(driver.setup, driver.cfg, trials, budget=False)
        if why:
            driver.stop = why
        return why is not None


__all__ = ["execute", "objective_keys", "start"]
