"""The spec's search space, sampler and scheduler as Ray Tune objects.

Without a population-based scheduler, Ray Tune's Optuna searcher chooses the points: a
define-by-run space that suggests the spec's dimensions as the Optuna backend does
(conditional dimensions included), with the study's own sampler and seed. PBT and PB2
draw their initial points from the dimensions as Ray domains and perturb the mutable
ones (:mod:`specc.spec.mutable`) at each perturbation interval.
"""

from __future__ import annotations

import importlib
from typing import Any

from specc.runtime.ray_trial import objective_keys
from specc.runtime.setup import Setup, report_period
from specc.spec.models.hpo import CategoricalDim, FloatDim, IntDim, Scheduler
from specc.spec.mutable import default_mutations

POPULATION = ("pbt", "pb2")


def modes(setup: Setup) -> tuple[str | list[str], str | list[str]]:
    """(metric, mode) as Ray's searchers and schedulers take them."""
    keys = objective_keys(len(setup.directions))
    ms = ["min" if d == "minimize" else "max" for d in setup.directions]
    return (keys[0], ms[0]) if len(keys) == 1 else (keys, ms)


class Space:
    """The define-by-run space (picklable: Ray saves the searcher with the experiment)."""

    def __init__(self, dims: list[tuple[str, Any]]) -> None:
        self.dims = dims

    def __call__(self, trial: Any) -> None:
        from specc.compiler.sampling import suggest

        suggest(trial, self.dims)


def searcher(setup: Setup, seed: int | None) -> Any:
    """Ray Tune's Optuna searcher over the spec's space with the spec's sampler."""
    from ray.tune.search.optuna import OptunaSearch

    from specc.compiler.sampling import build_sampler

    metric, mode = modes(setup)
    return OptunaSearch(space=Space(setup.dims), metric=metric, mode=mode,
                        sampler=build_sampler(setup.hpo, seed, setup.grid))


def domain(dim: Any) -> Any:
    """One dimension as a Ray Tune sampling domain."""
    from ray import tune

    if isinstance(dim, CategoricalDim):
        return tune.choice(list(dim.choices))
    if isinstance(dim, IntDim):
        if dim.log:
            return tune.lograndint(dim.low, dim.high + 1)
        return tune.qrandint(dim.low, dim.high, dim.step) if dim.step > 1 else \
            tune.randint(dim.low, dim.high + 1)
    assert isinstance(dim, FloatDim)
    if dim.step:
        return tune.qloguniform(dim.low, dim.high, dim.step) if dim.log else \
            tune.quniform(dim.low, dim.high, dim.step)
    return tune.loguniform(dim.low, dim.high) if dim.log else tune.uniform(dim.low, dim.high)


def bounds(setup: Setup) -> dict[str, tuple[float, float, bool]]:
    """Numeric dimensions' ranges (PBT's perturbations are clipped to them)."""
    return {name: (float(d.low), float(d.high), isinstance(d, IntDim))
            for name, d in setup.dims if isinstance(d, FloatDim | IntDim)}


def mutations(setup: Setup, sched: Scheduler) -> list[str]:
    names = [n for n, _ in setup.dims]
    return list(sched.mutations) if sched.mutations else default_mutations(names)


def param_space(setup: Setup) -> dict[str, Any]:
    return {name: domain(dim) for name, dim in setup.dims}


def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def scheduler(setup: Setup, seed: int | None) -> Any:
    """The spec's Ray scheduler (FIFO when none): counts are in reports
    (``training_iteration``), as the Optuna pruners' are."""
    from ray.tune import schedulers

    rs: Any = schedulers  # untyped in places
    sched = setup.hpo.scheduler if setup.hpo else None
    if sched is None:
        return rs.FIFOScheduler()
    metric, mode = modes(setup)
    common: dict[str, Any] = {"time_attr": "training_iteration", "metric": metric, "mode": mode}
    if sched.type == "asha":
        max_t = sched.max_t or max_reports(setup)
        grace = min(sched.grace_period, max_t) if sched.grace_period else None
        return rs.ASHAScheduler(**common, **_given(
            max_t=max_t, grace_period=grace,
            reduction_factor=sched.reduction_factor, brackets=sched.brackets))
    if sched.type == "hyperband":
        return rs.HyperBandScheduler(**common, **_given(
            max_t=sched.max_t or max_reports(setup),
            reduction_factor=sched.reduction_factor))
    names = mutations(setup, sched)
    dims = dict(setup.dims)
    shared: dict[str, Any] = _given(perturbation_interval=sched.perturbation_interval or 1,
                    quantile_fraction=sched.quantile_fraction, synch=sched.synch)
    if sched.type == "pbt":
        return rs.PopulationBasedTraining(
            **common, **shared, hyperparam_mutations={n: domain(dims[n]) for n in names},
            **_given(resample_probability=sched.resample_probability,
                     perturbation_factors=tuple(sched.perturbation_factors)
                     if sched.perturbation_factors else None))
    pb2: Any = importlib.import_module("ray.tune.schedulers.pb2")  # needs scikit-learn
    return pb2.PB2(**common, **shared, hyperparam_bounds={
        n: [dims[n].low, dims[n].high] for n in names})


def max_reports(setup: Setup) -> int:
    """Reports a trial makes: its steps over its evaluation period."""
    from specc.compiler.derive import derive

    total = derive(setup.compiled.spec).total_steps
    period = report_period(setup.compiled.spec)
    return max(1, (int(total) + period - 1) // period) if total else 100
