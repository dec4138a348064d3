"""A study's settings, shared by every worker process: the compiled spec, the objectives
and directions, the search space in suggestion order, the budget, the sampler's seed per
worker, and opening (or creating) the Optuna study."""

from __future__ import annotations

import contextlib
import math
import re
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.compiler.sampling import (
    build_pruner,
    build_sampler,
    grid_space,
    ordered_dims,
)
from specc.errors import RunError, SpecError
from specc.runtime import outputs
from specc.runtime.storage import (
    display,
    identity,
    open_storage,
)
from specc.runtime.storage_safety import StorageProblem
from specc.spec.storage_url import is_journal
from specc.spec.study_spec import spec_hash, study_keys

if TYPE_CHECKING:
    import optuna

    from specc.compiler.plan import Plan
    from specc.spec.models import Spec
    from specc.spec.models.hpo import Hpo



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
    except StorageProblem:
        raise
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
        pruner=build_pruner(pruner_in_steps(setup.hpo, report_period(setup.compiled.spec))),
        directions=directions, load_if_exists=True)
    have = [d.name.lower() for d in study.directions]
    if have != setup.directions:
        raise RunError(f"study {cfg.study_name!r} in {display(cfg.storage)} optimises "
                       f"{have}, this spec {setup.directions}: pass another --study-name "
                       "or --output")
    return study




def report_period(spec: Any) -> int:
    """Training steps between two reports of a trial (its evaluation period)."""
    hpo = spec.hpo
    block = spec.block()
    period = (hpo.evaluation.val_period if hpo is not None and hpo.evaluation.val_period
              else getattr(block, "val_period", None))
    return int(period) if period else 1


def pruner_in_steps(hpo: Any, period: int) -> Any:
    """``hpo`` with its pruner's report counts in training steps: trials report at
    training steps (``period``, 2 x ``period``, ...), and the spec counts reports
    (`n_warmup_steps: 2` skips the first two reports, whatever the period)."""
    if hpo is None or period <= 1:
        return hpo
    p = hpo.pruner
    update: dict[str, Any] = {}
    if p.n_warmup_steps is not None:
        update["n_warmup_steps"] = p.n_warmup_steps * period + 1 if p.n_warmup_steps else 0
    for key in ("interval_steps", "min_resource"):
        if getattr(p, key) is not None:
            update[key] = getattr(p, key) * period
    if isinstance(p.max_resource, int):
        update["max_resource"] = p.max_resource * period
    if not update:
        return hpo
    return hpo.model_copy(update={"pruner": p.model_copy(update=update)})


def ledger(setup: Setup, trials: Sequence[optuna.trial.FrozenTrial]) -> outputs.Ledger:
    """The study's trials in budget slots: infeasible points take none, but a grid's do
    (each point is a slot of the grid)."""
    return outputs.Ledger.of(trials, infeasible_in_budget=setup.grid is not None)


def study_info(setup: Setup, cfg: Config) -> outputs.StudyInfo:
    return outputs.StudyInfo(name=cfg.study_name, storage=display(cfg.storage),
                             directions=setup.directions, objectives=setup.objectives,
                             budget=cfg.budget, output=Path(cfg.output),
                             single_run=setup.single_run,
                             spec_hash=spec_hash(study_keys(setup.compiled.raw,
                                                            [n for n, _ in setup.dims])),
                             infeasible_in_budget=setup.grid is not None)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
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
