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

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.compiler.sampling import (
    check_sampler,
)
from specc.errors import RunError, SpecError
from specc.runtime import outputs
from specc.runtime.loop import TrialLoop
from specc.runtime.progress import Display, Hub, make_display
from specc.runtime.setup import (
    Config,
    Setup,
    budget_of,
    compile_spec,
    make_setup,
    open_study,
    parse_timeout,
    sigterm_as_interrupt,
    study_info,
)
from specc.runtime.storage import (
    StorageError,
    check_url,
    default_storage,
    display,
    quiet_optuna,
    reap_dead_trials,
)
from specc.runtime.workers import _run_workers, default_workers
from specc.spec import defaults
from specc.spec.study_spec import changed, refusal, spec_hash, study_keys

if TYPE_CHECKING:
    import optuna


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


# --- the whole study -----------------------------------------------------------------------------

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
            spec = outputs.best_spec(self._trial_spec(best),
                                     spec_dir=os.path.dirname(os.path.abspath(comp.file)),
                                     output=self.info.output, hpo=not self.setup.single_run)
            outputs.write_best(self.info, spec, best["number"], best["values"])
            self.best_written = (best["number"],)
        self.last = data
        return data


    def _trial_spec(self, best: dict[str, Any]) -> dict[str, Any]:
        """The best trial's own resolved spec (``trials/<n>/spec.yaml``, what it ran);
        the current spec with its parameters applied when that file is gone."""
        from specc.compiler.space import apply_point

        path = Path(best["trial_dir"]) / "spec.yaml"
        try:
            from ruamel.yaml import YAML

            data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except Exception:  # unreadable or damaged: fall back to the current spec
            data = None
        if isinstance(data, dict):
            return data
        return apply_point(self.setup.compiled.raw, best["params"])


def run_study(file: str, *, overrides: Sequence[str] | None = None, output: str | None = None,
              storage: str | None = None, workers: int | None = None,
              study_name: str | None = None, n_trials: int | None = None,
              callbacks: Sequence[Any] | None = None, progress: bool = True,
              display_to: Display | None = None, new_study: bool = False,
              allow_changed: bool = False, backend: str | None = None,
              address: str | None = None) -> RunSummary:
    """Run the study of ``file`` (or its single training run) to its total budget.

    Raises :class:`SpecError` for a spec with errors, :class:`RunError` when the study
    cannot start as asked, and KeyboardInterrupt after a clean stop on Ctrl-C/SIGTERM (the
    running trials are marked FAIL "interrupted" and queued again; outputs are written).

    ``workers > 1`` spawns worker processes (multiprocessing "spawn"): a script that calls
    this must guard its entry point with ``if __name__ == "__main__":``.

    A study resumed with a spec that differs outside its searched dimensions is refused
    (:class:`StorageProblem` with T006, naming the changed keys); ``new_study`` starts a
    fresh study beside it instead (name and output folder suffixed with the new spec's
    hash), ``allow_changed`` adds the new trials to it (each trial records its spec
    hash; results.json keeps them apart).

    ``backend`` (default: the spec's `hpo.backend`): ``"ray"`` runs the trials as Ray Tune
    trials (:mod:`specc.runtime.ray_backend`), on the cluster at ``address`` when given."""
    compiled = compile_spec(file, overrides)
    check_sampler(compiled.spec.hpo)
    setup = make_setup(compiled)
    spec, hpo = compiled.spec, compiled.spec.hpo
    n_workers = workers if workers is not None else default_workers(spec)
    if n_workers < 1:
        raise RunError("--workers must be at least 1")
    if setup.single_run:
        n_workers = 1
    chosen = backend or (hpo.backend if hpo is not None else "optuna")
    on_ray = chosen in ("ray", "ray_tune") and not setup.single_run
    if chosen not in ("optuna", "ray", "ray_tune"):
        raise RunError(f"unknown backend {chosen!r}: use optuna or ray")
    if on_ray:
        file = os.path.abspath(file)  # Ray's workers start elsewhere
    out = Path(output or defaults.output_dir(spec))
    if on_ray:
        out = out.resolve()
    name = study_name or defaults.study_name(spec)
    keys = spec_keys(setup)
    if new_study:
        tag = spec_hash(keys)[:8]
        name, out = f"{name}-{tag}", out.with_name(f"{out.name}-{tag}")
    try:
        url = storage or (hpo.storage if hpo else None) or default_storage(out, n_workers)
        check_url(url, n_workers)
    except StorageError as e:
        raise RunError(str(e)) from e
    timeout = parse_timeout(hpo.timeout if hpo else None)
    cfg = Config(file=file, overrides=list(overrides or []), output=str(out), storage=url,
                 study_name=name,
                 budget=budget_of(setup, n_trials), workers=n_workers,
                 deadline=time.time() + timeout if timeout else None, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    outputs.prepare(out)
    with quiet_optuna():
        study = open_study(setup, cfg)
        check_spec(study, setup, cfg, keys, allow_changed=allow_changed)
        if not on_ray:  # under Ray, Ray's experiment knows which trials to start again
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
        with sigterm_as_interrupt():
            if on_ray:
                stop = _on_ray(setup, cfg, study, hub, address)
            elif n_workers == 1:
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


def _on_ray(setup: Setup, cfg: Config, study: optuna.Study, hub: Hub,
            address: str | None) -> str | None:
    try:
        from specc.runtime import ray_backend
    except ImportError as e:
        raise RunError("`backend: ray` needs Ray Tune: pip install 'specc-llm[ray]' "
                       f"({e})") from e
    return ray_backend.execute(setup, cfg, study, hub, address=address,
                               seed=setup.hpo.sampler.seed if setup.hpo else None)


def spec_keys(setup: Setup) -> dict[str, Any]:
    """The flattened spec the study stands for (:mod:`specc.spec.study_spec`)."""
    return study_keys(setup.compiled.raw, [n for n, _ in setup.dims])


def check_spec(study: optuna.Study, setup: Setup, cfg: Config, keys: dict[str, Any], *,
               allow_changed: bool = False) -> None:
    """Record what the study is made from (spec hash, its keys, spec name, algorithm,
    objective names), or refuse a study made from another spec (T006)."""
    from specc.runtime.storage_safety import StorageProblem

    digest = spec_hash(keys)
    attrs = study.user_attrs
    old = attrs.get(outputs.SPEC_HASH)
    if old is not None and old != digest and study.get_trials(deepcopy=False):
        if not allow_changed:
            diffs = changed(attrs.get(outputs.SPEC_KEYS) or {}, keys)
            raise StorageProblem(refusal(cfg.study_name, diffs, setup.compiled.file,
                                         _locations(setup, cfg),
                                         new_name=f"{cfg.study_name}-{digest[:8]}"))
    history = [h for h in attrs.get(outputs.SPEC_HASHES) or ([old] if old else [])
               if h != digest]
    spec = setup.compiled.spec
    for key, value in ((outputs.SPEC_HASH, digest), (outputs.SPEC_KEYS, keys),
                       (outputs.SPEC_HASHES, [*history, digest]),
                       (outputs.SPEC_NAME, spec.name),
                       (outputs.ALGORITHM, str(spec.selected()))):
        if attrs.get(key) != value:
            study.set_user_attr(key, value)
    if study.metric_names != setup.objectives:
        study.set_metric_names(list(setup.objectives))


def _locations(setup: Setup, cfg: Config) -> Any:
    """Where the spec's keys are written (the error path only: validate runs again)."""
    from specc.compiler.validate import validate_one
    from specc.spec.diagnostics import Collector

    checked = validate_one(setup.compiled.file, Collector(), overrides=list(cfg.overrides))
    return checked.loaded.locations if checked.loaded is not None else None


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


