"""Optuna factories: the sampler and pruner a spec names, and how a trial suggests a point.

`specc run` asks these for its study, and `specc plan` for its preview, so a plan
previews the very points a run trains. Optuna is imported inside the functions: importing
this module stays light (`specc validate` never imports Optuna).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from specc.errors import RunError

if TYPE_CHECKING:
    import optuna

    from specc.spec.models.hpo import Hpo

__all__ = ["build_pruner", "build_sampler", "check_sampler", "grid_space", "ordered_dims",
           "startup_trials", "suggest"]

_NEEDS = {"gp": ("scipy", "torch"), "qmc": ("scipy",), "cmaes": ("cmaes",)}


def _kw(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def check_sampler(hpo: Hpo | None) -> None:
    """Optuna's GP and QMC samplers need scipy, CMA-ES the `cmaes` package."""
    import importlib.util

    if hpo is None:
        return
    kind = hpo.sampler.type
    missing = [m for m in _NEEDS.get(kind, ()) if importlib.util.find_spec(m) is None]
    if missing:
        raise RunError(f"sampler `{kind}` needs {' and '.join(missing)}: "
                       f"pip install {' '.join(missing)}")


def build_sampler(hpo: Hpo | None, seed: int | None,
                  grid: dict[str, list[Any]] | None) -> optuna.samplers.BaseSampler:
    """The Optuna sampler the spec names, with every option it sets."""
    import optuna

    if hpo is None:
        return optuna.samplers.RandomSampler(seed=0)
    check_sampler(hpo)
    s = hpo.sampler
    t = s.type
    if t == "grid":
        return optuna.samplers.GridSampler(grid or {}, seed=s.seed)
    if t == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if t == "tpe":
        group = s.group or False
        multivariate = True if group else s.multivariate
        return optuna.samplers.TPESampler(**_kw(
            seed=seed, n_startup_trials=s.n_startup_trials, multivariate=multivariate,
            group=group, constant_liar=s.constant_liar))
    if t == "cmaes":
        return optuna.samplers.CmaEsSampler(**_kw(
            seed=seed, n_startup_trials=s.n_startup_trials, sigma0=s.sigma0,
            popsize=s.population_size))
    if t == "gp":
        return optuna.samplers.GPSampler(**_kw(seed=seed, n_startup_trials=s.n_startup_trials))
    if t == "qmc":
        return optuna.samplers.QMCSampler(**_kw(seed=seed, qmc_type=s.qmc_type,
                                                scramble=s.scramble))
    if t == "nsga2":
        return optuna.samplers.NSGAIISampler(**_kw(
            seed=seed, population_size=s.population_size, mutation_prob=s.mutation_prob,
            crossover_prob=s.crossover_prob))
    raise RunError(f"unknown sampler {t!r}")


def build_pruner(hpo: Hpo | None) -> optuna.pruners.BasePruner:
    """The Optuna pruner the spec names; `none` (and every multi-objective study) is an
    explicit NopPruner, never Optuna's silent MedianPruner default."""
    import optuna

    if hpo is None or len(hpo.objectives) > 1:
        return optuna.pruners.NopPruner()
    p = hpo.pruner

    def percentile_like(kind: str) -> optuna.pruners.BasePruner:
        common = _kw(n_startup_trials=p.n_startup_trials, n_warmup_steps=p.n_warmup_steps,
                     interval_steps=p.interval_steps)
        if kind == "percentile":
            return optuna.pruners.PercentilePruner(
                p.percentile if p.percentile is not None else 25.0, **common)
        return optuna.pruners.MedianPruner(**common)

    if p.type == "none":
        return optuna.pruners.NopPruner()
    if p.type in ("median", "percentile"):
        return percentile_like(p.type)
    if p.type == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(**_kw(
            min_resource=p.min_resource, reduction_factor=p.reduction_factor))
    if p.type == "hyperband":
        return optuna.pruners.HyperbandPruner(**_kw(
            min_resource=p.min_resource, max_resource=p.max_resource,
            reduction_factor=p.reduction_factor))
    if p.type == "threshold":
        return optuna.pruners.ThresholdPruner(**_kw(
            lower=p.lower, upper=p.upper, n_warmup_steps=p.n_warmup_steps,
            interval_steps=p.interval_steps))
    if p.type == "patient":
        wrapped = None if p.wrapped in (None, "none") else percentile_like(p.wrapped)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.PatientPruner(wrapped, p.patience or 1,
                                                **_kw(min_delta=p.min_delta))
    raise RunError(f"unknown pruner {p.type!r}")


# --- the search space ----------------------------------------------------------------------------

def ordered_dims(dims: dict[str, Any]) -> list[tuple[str, Any]]:
    """Dimensions with the ones a `when:` refers to first (declaration order otherwise)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in seen or name not in dims or name in stack:
            return
        for dep in (getattr(dims[name], "when", None) or {}):
            visit(dep, (*stack, name))
        seen.add(name)
        done.append(name)

    for name in dims:
        visit(name, ())
    return [(n, dims[n]) for n in done]


def suggest(trial: optuna.Trial, dims: list[tuple[str, Any]]) -> dict[str, Any]:
    """One point: each active dimension suggested under its dotted path."""
    from specc.compiler.space import active
    from specc.spec.models.hpo import CategoricalDim, FloatDim, IntDim

    point: dict[str, Any] = {}
    for name, dim in dims:
        if not active(dim, point):
            continue
        if isinstance(dim, CategoricalDim):
            point[name] = trial.suggest_categorical(name, list(dim.choices))
        elif isinstance(dim, IntDim):
            point[name] = trial.suggest_int(name, dim.low, dim.high, step=dim.step, log=dim.log)
        elif isinstance(dim, FloatDim):
            point[name] = trial.suggest_float(name, dim.low, dim.high, step=dim.step,
                                              log=dim.log)
        else:  # pragma: no cover - validation rejects unknown kinds
            raise RunError(f"search dimension {name} has an unknown type")
    return point


def grid_space(dims: dict[str, Any]) -> dict[str, list[Any]]:
    from specc.compiler.space import dim_values

    out = {}
    for name, dim in dims.items():
        values = dim_values(dim)
        if values is None:
            raise RunError(f"grid sampler: dimension {name} is continuous; give it a `step` "
                           "or use another sampler")
        out[name] = values
    return out



def startup_trials(hpo: Hpo) -> int | None:
    """How many first points a sampler draws without learning from results (None: it
    never learns, so every point is known before any result)."""
    s = hpo.sampler
    if s.type in ("tpe", "gp"):
        return s.n_startup_trials if s.n_startup_trials is not None else 10
    if s.type == "cmaes":
        return s.n_startup_trials if s.n_startup_trials is not None else 0
    if s.type == "nsga2":
        return s.population_size if s.population_size is not None else 50
    return None
