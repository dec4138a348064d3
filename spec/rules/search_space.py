"""The `hpo` block as a whole: paths exist, distributions fit their fields, the sampler and
pruner go together, objectives are reported. Feasibility at the space's points is checked
by the compiler (`specc.compiler.space`), which can estimate memory."""

from __future__ import annotations

import math
from typing import Any

from specc.spec.catalog import optim as catalog
from specc.spec.diagnostics import Severity
from specc.spec.fields import Leaf, keys_at, leaf
from specc.spec.keypath import parse as parse_override_path
from specc.spec.locations import Path
from specc.spec.models import Spec
from specc.spec.models.hpo import CategoricalDim, FloatDim, IntDim
from specc.spec.presets import PRESET_NAMES, PROFILE_NAMES
from specc.spec.rules.context import Context
from specc.spec.rules.runs import check_objectives
from specc.spec.schema_check import close_matches

PRESETS = PRESET_NAMES
PROFILES = PROFILE_NAMES


#: The largest grid specc enumerates.
MAX_GRID = 100_000
#: The most choices one categorical may list (checked before anything looks at them).
MAX_CHOICES = 10_000


def target_leaf(spec_data: dict[str, Any], path: Path) -> Leaf | catalog.Param | None:
    """What the search-space path points at: a model field, or an optimizer/scheduler kwarg."""
    if path[:3] == ("policy", "optimizer", "kwargs") and len(path) == 4:
        name = (spec_data.get("policy", {}).get("optimizer", {}) or {}).get(
            "name", "torch.optim.AdamW")
        sig = catalog.lookup_optimizer(str(name))
        return _param(sig, str(path[3]))
    if path[:2] == ("policy", "scheduler") and len(path) == 5 and path[3] == "kwargs":
        sched = spec_data.get("policy", {}).get("scheduler")
        if isinstance(sched, list) and isinstance(path[2], int) and path[2] < len(sched):
            entry = sched[path[2]]
            sig = catalog.lookup_scheduler(str(entry.get("name", ""))) if isinstance(
                entry, dict) else None
            return _param(sig, str(path[4]))
        return None
    return leaf(Spec, path)


def _param(sig: catalog.Signature | None, name: str) -> catalog.Param | None:
    if sig is None:
        return None
    return next((p for p in sig.params if p.name == name), None)


def check(ctx: Context) -> None:
    hpo = ctx.spec.hpo
    if hpo is None:
        return
    base: Path = ("hpo", "search_space")
    dims = hpo.search_space
    for key, dim in dims.items():
        at: Path = (*base, key)
        path = parse_override_path(key)
        target = target_leaf(ctx.data, path) if path else None
        if path is None or target is None:
            ctx.diags.add("H001", f"`{key}` is not a key of the spec", path=at, on_key=True,
                          hint=_path_hint(ctx, path or ()))
            continue
        if isinstance(dim, FloatDim | IntDim):
            _numeric(ctx, key, dim, target, at)
        elif isinstance(dim, CategoricalDim):
            if len(dim.choices) > MAX_CHOICES:
                ctx.diags.add("R044", f"`{key}` lists {len(dim.choices)} choices; the limit is "
                              f"{MAX_CHOICES}", path=(*at, "choices"),
                              hint="search a numeric range (`type: int`/`float`) instead")
                continue
            _categorical(ctx, key, dim, target, at)
        if dim.when:
            _when(ctx, key, dim.when, dims, (*at, "when"))
        _no_effect(ctx, key, path, dims, at)
    _study(ctx)


def _no_effect(ctx: Context, key: str, path: Path, dims: dict[str, Any], at: Path) -> None:
    """W003: searching a setting that does nothing wastes the budget."""
    from specc.spec.facts import GENERATES
    from specc.spec.models.algorithms import ALGORITHM_BLOCKS

    algo = ctx.algorithm
    why = None
    if (path[:2] == ("policy", "lora") and path[2:] != ("enabled",)
            and not ctx.spec.policy.lora.enabled and "policy.lora.enabled" not in dims):
        why = "LoRA is disabled"
    elif path[:2] == ("policy", "generation") and algo and algo not in GENERATES:
        why = f"`{algo}` does not generate"
    elif path[0] in ALGORITHM_BLOCKS and algo and path[0] != algo:
        why = f"the algorithm is `{algo}`"
    if why:
        ctx.diags.add("W003", f"searching `{key}` has no effect: {why}", path=at, on_key=True,
                      hint="remove the dimension, or enable what it configures")


def _path_hint(ctx: Context, path: Path) -> str:
    if not path:
        return "write a dotted path such as `policy.optimizer.kwargs.lr`"
    if path[:3] == ("policy", "optimizer", "kwargs") and len(path) == 4:
        sig = catalog.lookup_optimizer(ctx.spec.policy.optimizer.name)
        names = [p.name for p in sig.params] if sig else []
        close = close_matches(str(path[3]), names, n=1)
        return f"did you mean `policy.optimizer.kwargs.{close[0]}`?" if close else \
            "the optimizer accepts: " + ", ".join(names)
    for i in range(len(path), 0, -1):
        if leaf(Spec, path[: i - 1]) is not None:
            options = keys_at(Spec, path[: i - 1])
            close = close_matches(str(path[i - 1]), options, n=1)
            if close:  # spelled as a search-space key (dots only), not keypath.render
                fixed = ".".join(str(p) for p in (*path[: i - 1], close[0], *path[i:]))
                return f"did you mean `{fixed}`?"
            return f"`{'.'.join(map(str, path[: i - 1])) or 'the spec'}` has: " + ", ".join(
                options[:15])
    return "paths are dotted keys into this spec"


def _kinds(target: Leaf | catalog.Param) -> set[str]:
    if isinstance(target, catalog.Param):
        return {"float": {"float", "int"}, "int": {"int"}, "bool": {"bool"}, "str": {"str"},
                }.get(target.kind, {"bool", "int", "float", "str", "null", "other"})
    return target.kinds()


def _bounds(target: Leaf | catalog.Param) -> tuple[float | None, bool, float | None, bool]:
    if isinstance(target, catalog.Param):
        return target.low, target.low_inclusive, target.high, target.high_inclusive
    return target.bounds()


def _outside(v: float, b: tuple[float | None, bool, float | None, bool]) -> str | None:
    lo, lo_inc, hi, hi_inc = b
    if lo is not None and (v < lo or (v == lo and not lo_inc)):
        return f"{'>=' if lo_inc else '>'} {lo:g}"
    if hi is not None and (v > hi or (v == hi and not hi_inc)):
        return f"{'<=' if hi_inc else '<'} {hi:g}"
    return None


def _numeric(ctx: Context, key: str, dim: FloatDim | IntDim, target: Leaf | catalog.Param,
             at: Path) -> None:
    kinds = _kinds(target)
    want = "float" if isinstance(dim, FloatDim) else "int"
    if want not in kinds:
        fix = "int" if "int" in kinds else ("categorical" if kinds & {"bool", "str"} else "?")
        ctx.diags.add("H002", f"`{key}` takes {_kind_text(kinds)}; a `{want}` distribution does "
                      "not fit", path=(*at, "type"),
                      hint=f"use `type: {fix}`" if fix != "?" else "remove this dimension")
        return
    if dim.log and dim.low <= 0:
        ctx.diags.add("H003", f"`{key}`: a log-scaled range needs low > 0, got {dim.low:g}",
                      path=(*at, "low"), hint="use a small positive low, e.g. 1e-6")
    if dim.low >= dim.high:
        ctx.diags.add("H004", f"`{key}`: low {dim.low:g} is not below high {dim.high:g}",
                      path=(*at, "low"), hint="swap them, or use a categorical with one value")
    if isinstance(dim, FloatDim) and dim.log and dim.step is not None:
        ctx.diags.add("H011", f"`{key}`: `step` and `log` cannot be combined (Optuna)",
                      path=(*at, "step"), hint="drop one of them")
    b = _bounds(target)
    for side, v in (("low", dim.low), ("high", dim.high)):
        bad = _outside(float(v), b)
        if bad:
            ctx.diags.add("H012", f"`{key}`: {side} {v:g} is outside the field's range (must be "
                          f"{bad})", path=(*at, side), hint=f"keep the range {bad}")
    step = dim.step
    if step and dim.low < dim.high:
        span = (dim.high - dim.low) / step
        if abs(span - round(span)) > 1e-9:
            ctx.diags.add("H013", f"`{key}`: step {step:g} does not divide "
                          f"{dim.low:g}..{dim.high:g}"
                          f"; the top value will be {dim.low + math.floor(span) * step:g}",
                          path=(*at, "step"), hint="pick a step that divides the range")


def _kind_text(kinds: set[str]) -> str:
    names = {"bool": "true/false", "int": "integers", "float": "numbers", "str": "strings",
             "null": "null", "other": "structured values"}
    return " or ".join(names[k] for k in sorted(kinds) if k in names)


def _categorical(ctx: Context, key: str, dim: CategoricalDim, target: Leaf | catalog.Param,
                 at: Path) -> None:
    kinds = _kinds(target)
    literals = target.literal_values() if isinstance(target, Leaf) else None
    b = _bounds(target)
    for i, choice in enumerate(dim.choices):
        kind = "null" if choice is None else type(choice).__name__
        ok = kind in kinds or (kind == "int" and "float" in kinds)
        if literals is not None and choice not in literals:
            ok = False
        if not ok:
            allowed = ", ".join(f"`{v}`" for v in literals) if literals else _kind_text(kinds)
            ctx.diags.add("H002", f"`{key}`: choice {choice!r} does not fit the field (takes "
                          f"{allowed})", path=(*at, "choices", i), hint=f"use {allowed}")
            continue
        if isinstance(choice, int | float) and not isinstance(choice, bool):
            bad = _outside(float(choice), b)
            if bad:
                ctx.diags.add("H012", f"`{key}`: choice {choice!r} is outside the field's range "
                              f"(must be {bad})", path=(*at, "choices", i),
                              hint=f"keep choices {bad}")
    if len(set(map(repr, dim.choices))) != len(dim.choices):
        ctx.diags.add("H004", f"`{key}`: choices repeat", path=(*at, "choices"),
                      hint="list each value once")


def _when(ctx: Context, key: str, when: dict[str, Any], dims: dict[str, Any], at: Path) -> None:
    for other, values in when.items():
        if other == key or other not in dims:
            close = close_matches(other, [d for d in dims if d != key], n=1)
            ctx.diags.add("H010", f"`{key}` depends on `{other}`, which is not another "
                          "dimension of the search space", path=(*at, other), on_key=True,
                          hint=f"did you mean `{close[0]}`?" if close else
                          "`when` names another search-space dimension")
            continue
        d = dims[other]
        wanted = values if isinstance(values, list) else [values]
        for v in wanted:
            possible = (v in d.choices) if isinstance(d, CategoricalDim) else (
                isinstance(v, int | float) and not isinstance(v, bool) and d.low <= v <= d.high)
            if not possible:
                ctx.diags.add("H010", f"`{key}` depends on `{other}` = {v!r}, a value `{other}` "
                              "never takes", path=(*at, other),
                              hint="use one of its choices" if isinstance(d, CategoricalDim)
                              else "use a value inside its range")


def _study(ctx: Context) -> None:
    hpo = ctx.spec.hpo
    assert hpo is not None
    multi = len(hpo.objectives) > 1
    if multi and hpo.pruner.type != "none" and hpo.backend == "optuna":  # Ray: W022, H026
        ctx.diags.add("H005", f"pruner `{hpo.pruner.type}` works on one objective; this study "
                      f"has {len(hpo.objectives)}", path=("hpo", "pruner", "type"),
                      hint="set `pruner: {type: none}` or keep one objective")
    if multi and hpo.sampler.type == "cmaes":
        ctx.diags.add("H015", "CMA-ES optimises one objective", path=("hpo", "sampler", "type"),
                      hint="use `nsga2` or `tpe` for several objectives")
    dims = hpo.search_space
    if hpo.sampler.type == "grid":
        count = 1
        for key, dim in dims.items():
            if isinstance(dim, FloatDim) and dim.step is None:
                ctx.diags.add("H006", f"grid search cannot enumerate the continuous `{key}`",
                              path=("hpo", "search_space", key),
                              hint="give it a `step`, or make it `categorical`")
                count = 0
            elif isinstance(dim, FloatDim | IntDim) and dim.step and dim.high >= dim.low:
                span = (dim.high - dim.low) / dim.step
                count *= math.floor(span + 1e-9) + 1 if math.isfinite(span) else MAX_GRID + 1
            elif isinstance(dim, CategoricalDim):
                count *= len(dim.choices)
            count = min(count, MAX_GRID + 1)
        if count > MAX_GRID:
            ctx.diags.add("H006", f"the grid has more than {MAX_GRID} points",
                          path=("hpo", "search_space"), on_key=True,
                          hint="use coarser steps or fewer choices, or a `tpe`/`random` sampler")
            count = 0
        if count and dims and ctx.written(("hpo", "n_trials")) and hpo.n_trials != count:
            ctx.diags.add("H016", f"the grid has {count} points but n_trials is {hpo.n_trials}",
                          path=("hpo", "n_trials"),
                          hint=f"set n_trials: {count} to run the whole grid once")
    if hpo.sampler.type == "cmaes" and any(isinstance(d, CategoricalDim) for d in dims.values()):
        ctx.diags.add("H011", "CMA-ES samples categorical dimensions at random, not by its model",
                      path=("hpo", "sampler", "type"), severity=Severity.WARNING,
                      hint="use `tpe` for mixed spaces")
    check_objectives(ctx)
    if hpo.preset is not None and hpo.preset not in PRESETS:
        ctx.diags.add("H014", f"unknown preset `{hpo.preset}`", path=("hpo", "preset"),
                      hint="presets: " + ", ".join(PRESETS))
    if hpo.profile is not None and hpo.profile not in PROFILES:
        ctx.diags.add("H014", f"unknown profile `{hpo.profile}`", path=("hpo", "profile"),
                      hint="profiles: " + ", ".join(PROFILES))
