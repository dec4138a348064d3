"""The spec's `hpo` block as a Weights & Biases sweep configuration (`specc export
wandb-sweep`), and the parameters a W&B agent chose back as a point of the search space
(`specc agent`).

Pure data: the same dimensions `specc plan` and `specc run` use (presets and dialects
already resolved), mapped to W&B's parameter distributions; whatever W&B cannot express
is a diagnostic, never silently dropped. Imports neither wandb nor W&B's `sweeps` engine
(:mod:`specc.compiler.wandb_check` validates with it when it is installed).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from specc.compiler import space
from specc.compiler.sampling import ordered_dims
from specc.spec import defaults
from specc.spec.diagnostics import Collector
from specc.spec.models import Spec
from specc.spec.models.hpo import CategoricalDim, FloatDim, Hpo, IntDim
from specc.spec.objective import is_name
from specc.spec.records import record

__all__ = ["METHODS", "OBJECTIVE_KEY", "ParamProblem", "SweepExport", "agent_command",
           "export", "metric_name", "parameter_names", "point_from_params", "report_params"]

#: specc's samplers -> W&B's sweep methods (`bayes` is W&B's Gaussian process).
METHODS: dict[str, str] = {"tpe": "bayes", "gp": "bayes", "cmaes": "bayes", "nsga2": "bayes",
                           "random": "random", "qmc": "random", "grid": "grid"}
#: What each inexact mapping loses (X003).
_NEAREST = {"tpe": "a Gaussian process in place of TPE's density estimates",
            "cmaes": "a Gaussian process in place of CMA-ES's evolving distribution",
            "nsga2": "a Gaussian process over one metric in place of NSGA-II's population",
            "qmc": "independent random draws in place of a low-discrepancy sequence"}
#: The name an objective expression is logged under (a plain metric keeps its own).
OBJECTIVE_KEY = "objective"
#: Study settings whose effect a sweep does not have (X008).
_STUDY_KEYS = ("timeout", "early_stopping_patience", "max_failed_trials", "keep_best_n",
               "max_infeasible_in_a_row")
#: W&B's `parameters` names (its schema's `propertyNames` pattern).
_W_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_BAD = re.compile(r"[^A-Za-z0-9_.-]")
_SPACE = ("hpo", "search_space")


@record(frozen=True)
class SweepExport:
    """A sweep configuration and the spec path of each of its parameters."""

    config: dict[str, Any]
    #: W&B parameter name -> the dimension's dotted spec path.
    names: dict[str, str]


def parameter_names(paths: Iterable[str]) -> dict[str, str]:
    """Spec path -> W&B parameter name: the dotted path itself where W&B's schema accepts
    it (`policy.optimizer.kwargs.lr`), else the path with every other character replaced
    by `_` (`reward.functions[0].weight` -> `reward.functions_0_.weight`), made unique."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    paths = list(paths)
    for p in paths:
        if _W_NAME.match(p):
            out[p] = p
            taken.add(p)
    for p in paths:
        if p in out:
            continue
        base = _BAD.sub("_", p)
        base = base if _W_NAME.match(base) else f"_{base}"
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        out[p] = name
        taken.add(name)
    return out


def metric_name(objective: str) -> str:
    """The W&B metric an objective is logged as: a reported metric under its own name
    (`eval_loss`), an expression of metrics as `objective`."""
    return objective if is_name(objective) else OBJECTIVE_KEY


def agent_command(spec_path: str) -> list[str]:
    """The command a W&B agent runs per trial: `specc agent` with the parameters in a JSON
    file (W&B's `${args_json_file}`: types survive, unlike `--name=value` strings)."""
    return ["${env}", "specc", "agent", spec_path, "--params", "${args_json_file}"]


def export(spec: Spec, diags: Collector, *, spec_path: str) -> SweepExport | None:
    """The sweep configuration of ``spec``'s search; None (X001/X012 in ``diags``) when
    there is none or a dimension cannot be written. ``diags`` locates the spec's keys."""
    hpo = spec.hpo
    if hpo is None or not hpo.search_space:
        diags.add("X001", "the spec has no `hpo` search space: there is nothing to sweep",
                  path=("hpo",) if hpo is not None else (), on_key=True,
                  hint="add `hpo.search_space` (or `hpo.preset`), or train it with "
                  "`specc run`")
        return None
    method = METHODS[hpo.sampler.type]
    dims = dict(ordered_dims(dict(hpo.search_space)))
    names = parameter_names(dims)
    params: dict[str, Any] = {}
    for path, dim in dims.items():
        param = _parameter(dim, grid=method == "grid")
        if isinstance(param, str):
            diags.add("X012", f"`{path}` cannot be written as a W&B parameter: {param}",
                      path=(*_SPACE, path), on_key=True,
                      hint="make `low` and `high` multiples of `step` (W&B's `q_uniform` "
                      "rounds to multiples of `q`), or take a coarser step")
            continue
        params[names[path]] = param
        if names[path] != path:
            diags.add("X010", f"`{path}` is the W&B parameter `{names[path]}`",
                      path=(*_SPACE, path), on_key=True,
                      hint="`specc agent` maps it back to the spec path")
        if dim.when:
            conditions = ", ".join(f"{k}: {json.dumps(v)}" for k, v in dim.when.items())
            diags.add("X007", f"W&B cannot make `{path}` conditional ({conditions}): the "
                      "sweep samples it in every run, and `specc agent` drops it where the "
                      "condition does not hold, as `specc run` does",
                      path=(*_SPACE, path, "when"), on_key=True,
                      hint="W&B's model sees a value that had no effect in those runs; "
                      "narrow the space to unconditional dimensions for a cleaner sweep")
    if len(params) < len(dims):
        return None
    config: dict[str, Any] = {"program": spec_path, "name": defaults.study_name(spec),
                              "method": method, "metric": _metric(hpo, diags),
                              "parameters": params}
    _sampler(hpo, diags)
    early = _early_terminate(hpo, diags)
    if early is not None:
        config["early_terminate"] = early
    config["run_cap"] = hpo.n_trials
    _study(hpo, diags)
    wb = spec.logger.wandb if spec.logger is not None else None
    for key in ("project", "entity"):
        if wb is not None and getattr(wb, key):
            config[key] = getattr(wb, key)
    config["command"] = agent_command(spec_path)
    return SweepExport(config, {w: p for p, w in names.items()})


# --- parameters ---------------------------------------------------------------------------------

def _aligned(x: float, step: float) -> bool:
    k = x / step
    return abs(k - round(k)) < 1e-9


def _parameter(dim: FloatDim | IntDim | CategoricalDim, *, grid: bool) -> dict[str, Any] | str:
    """One dimension as a W&B parameter, or why it cannot be one."""
    if isinstance(dim, CategoricalDim):
        return {"values": list(dim.choices)}
    stepped = dim.step is not None and (isinstance(dim, FloatDim) or dim.step > 1)
    if grid or (stepped and not dim.log):
        values = space.dim_values(dim)
        if values is None:  # (a grid that large is H006 before it gets here)
            return (f"its steps do not fall on W&B's multiples of {dim.step}, and its "
                    f"{(dim.high - dim.low) / (dim.step or 1):,.0f} values are too many to "
                    "list")
        step = dim.step
        if not grid and step is not None and _aligned(dim.low, step) \
                and _aligned(dim.high, step):  # W&B rounds to multiples of q
            return {"distribution": "q_uniform", "min": dim.low, "max": dim.high, "q": step}
        return {"values": values}
    if isinstance(dim, IntDim):
        if dim.log:
            return {"distribution": "q_log_uniform_values", "min": dim.low, "max": dim.high,
                    "q": dim.step}
        return {"distribution": "int_uniform", "min": dim.low, "max": dim.high}
    if dim.log:
        return {"distribution": "log_uniform_values", "min": float(dim.low),
                "max": float(dim.high)}
    return {"distribution": "uniform", "min": float(dim.low), "max": float(dim.high)}


# --- method, metric, early termination, study settings -------------------------------------------

def _metric(hpo: Hpo, diags: Collector) -> dict[str, Any]:
    first = hpo.objectives[0]
    name = metric_name(first.metric)
    if name != first.metric:
        diags.add("X011", f"the objective `{first.metric}` is an expression: `specc agent` "
                  f"logs its value as `{name}`, the metric the sweep optimises",
                  path=("hpo", "objectives", 0, "metric"),
                  hint="W&B's charts show it under that name")
    if len(hpo.objectives) > 1:
        rest = ", ".join(f"`{o.metric}`" for o in hpo.objectives[1:])
        diags.add("X002", f"W&B sweeps optimise one metric: the sweep {first.direction}s "
                  f"`{first.metric}` (the first objective); {rest} "
                  f"{'is' if len(hpo.objectives) == 2 else 'are'} not optimised",
                  path=("hpo", "objectives", 1), on_key=True,
                  hint="keep one objective, or search the Pareto front with `specc run` "
                  "(NSGA-II)")
    return {"name": name, "goal": first.direction}


def _set_keys(block: Any, skip: Iterable[str] = ()) -> list[str]:
    """The keys of ``block`` the spec sets (not left at their defaults), but ``skip``."""
    return [k for k in block.model_fields_set
            if k not in (*skip, "type") and getattr(block, k) is not None]


def _sampler(hpo: Hpo, diags: Collector) -> None:
    kind = hpo.sampler.type
    if kind in _NEAREST:
        diags.add("X003", f"sampler `{kind}` becomes W&B's `{METHODS[kind]}` method: "
                  f"{_NEAREST[kind]}", path=("hpo", "sampler", "type"),
                  hint="the search space is the same; the order points are tried in differs")
    for key in sorted(_set_keys(hpo.sampler)):
        diags.add("X004", f"`hpo.sampler.{key}` is not carried over: W&B's `"
                  f"{METHODS[kind]}` method has no such setting",
                  path=("hpo", "sampler", key), on_key=True,
                  hint="the sweep runs without it; remove it to silence this")


def _scheduler(hpo: Hpo, diags: Collector) -> dict[str, Any] | None:
    """A Ray scheduler's nearest W&B early termination: ASHA and Hyperband become W&B's
    (asynchronous) hyperband; PBT and PB2 have none."""
    sched = hpo.scheduler
    assert sched is not None
    at = ("hpo", "scheduler", "type")
    if sched.type in ("pbt", "pb2"):
        diags.add("X017", f"scheduler `{sched.type}` is not carried over: W&B sweeps have "
                  "no population-based training, so each run keeps its values to the end",
                  path=at, on_key=True,
                  hint="the sweep searches the same space; `scheduler: {type: asha}` would "
                  "carry over as W&B's hyperband")
        return None
    diags.add("X016", f"scheduler `{sched.type}` becomes W&B's hyperband early termination "
              "(`min_iter` from `grace_period`, `eta` from `reduction_factor`)",
              path=at, on_key=True,
              hint="W&B's brackets differ from Ray's; runs are stopped at the same reports "
              "only approximately")
    return {"type": "hyperband", "min_iter": sched.grace_period or 1,
            "eta": round(sched.reduction_factor or (4 if sched.type == "asha" else 3))}


def _early_terminate(hpo: Hpo, diags: Collector) -> dict[str, Any] | None:
    if hpo.scheduler is not None:
        return _scheduler(hpo, diags)
    p = hpo.pruner
    if p.type == "none":
        return None
    if p.type != "hyperband":
        diags.add("X005", f"pruner `{p.type}` is not carried over: W&B's early termination "
                  "is hyperband only, so the sweep trains every run to the end",
                  path=("hpo", "pruner", "type"), on_key=True,
                  hint="use `pruner: {type: hyperband, min_resource: N}` to stop runs early "
                  "in the sweep too, or `pruner: {type: none}`")
        return None
    carried = ("min_resource", "reduction_factor")
    for key in sorted(_set_keys(p, skip=carried)):
        if key == "max_resource" and p.max_resource == "auto":
            continue  # W&B's min_iter form runs the top bracket to the end, as `auto` does
        diags.add("X006", f"`hpo.pruner.{key}` is not carried over: W&B's hyperband takes "
                  "only `min_iter` (from `min_resource`) and `eta` (from `reduction_factor`)",
                  path=("hpo", "pruner", key), on_key=True,
                  hint="the brackets start at `min_resource` reports and run to the end")
    # iterations are the metric's reports: one per evaluation, as Optuna counts them
    return {"type": "hyperband", "min_iter": p.min_resource or 1,
            "eta": p.reduction_factor or 3}


def _study(hpo: Hpo, diags: Collector) -> None:
    for key in _STUDY_KEYS:
        if key in hpo.model_fields_set and getattr(hpo, key) is not None:
            diags.add("X008", f"`hpo.{key}` is not carried over: a W&B sweep has no such "
                      "setting (it ends at `run_cap` runs, or when stopped)",
                      path=("hpo", key), on_key=True,
                      hint="stop the sweep from W&B (`wandb sweep --stop ID`) or its agents "
                      "(`wandb agent --count N`)")
    if hpo.parallel > 1:
        diags.add("X009", f"`hpo.parallel: {hpo.parallel}`: start {hpo.parallel} "
                  "`wandb agent` processes (one per machine or GPU) to run that many trials "
                  "at once", path=("hpo", "parallel"), on_key=True,
                  hint="each agent runs one trial at a time")


# --- W&B's parameters back as a point ----------------------------------------------------------

@record(frozen=True)
class ParamProblem:
    """A parameter W&B passed that does not fit the search space (X015)."""

    path: tuple[str | int, ...]
    message: str


def point_from_params(hpo: Hpo, params: dict[str, Any],
                      ) -> tuple[space.Point, list[ParamProblem]]:
    """The point W&B's ``params`` (by W&B name or spec path) select: each value checked
    against its dimension and snapped onto its step, dimensions whose `when` does not hold
    dropped (as `specc run` never suggests them)."""
    dims = ordered_dims(dict(hpo.search_space))
    names = parameter_names(n for n, _ in dims)
    by_name = {w: p for p, w in names.items()}
    given: dict[str, Any] = {}
    problems: list[ParamProblem] = []
    for key, value in params.items():
        path = by_name.get(key, key if key in names else None)
        if path is None:
            problems.append(ParamProblem(_SPACE, f"W&B passed `{key}`, which is not a "
                                         "dimension of this spec's search space"))
        else:
            given[path] = value
    point: space.Point = {}
    for path, dim in dims:
        if not space.active(dim, point):
            continue
        if path not in given:
            problems.append(ParamProblem((*_SPACE, path), f"no value for `{path}` (W&B "
                                         f"parameter `{names[path]}`)"))
            continue
        value, why = _coerce(dim, given[path])
        if why:
            problems.append(ParamProblem((*_SPACE, path), f"`{path}` = {given[path]!r}: {why}"))
        else:
            point[path] = value
    return point, problems


def report_params(problems: Iterable[ParamProblem], diags: Collector) -> None:
    """X015 for each parameter that does not fit the search space, at its dimension."""
    for p in problems:
        diags.add("X015", p.message, path=p.path, on_key=True,
                  hint="export the sweep again from this spec (`specc export wandb-sweep`): "
                  "the sweep was made from another search space")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _coerce(dim: Any, value: Any) -> tuple[Any, str | None]:
    """``value`` as a value of ``dim`` (a choice, or a number on its step), or why not."""
    if isinstance(dim, CategoricalDim):
        for c in dim.choices:
            same_kind = type(c) is type(value) or (_number(c) and _number(value))
            if same_kind and c == value:
                return c, None
        return None, f"not one of the choices {list(dim.choices)}"
    if not _number(value):
        return None, "not a number"
    step = dim.step or 0
    slack = step if step else 1e-9 * max(1.0, abs(dim.high - dim.low))
    if not dim.low - slack <= value <= dim.high + slack:
        return None, f"outside [{dim.low}, {dim.high}]"
    x = float(value)
    if step:  # W&B rounds to multiples of q; the spec's grid starts at `low`
        top = dim.low + math.floor((dim.high - dim.low) / step + 1e-9) * step
        x = min(max(dim.low + round((x - dim.low) / step) * step, dim.low), top)
    x = min(max(x, dim.low), dim.high)
    if isinstance(dim, IntDim):
        return round(x), None
    return (round(x, 12) if step else x), None
