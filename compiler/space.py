"""Points of a search space and whether the rules hold at them.

`validate` checks the corners of the space (every dimension at its low and high, every
categorical choice); `plan` uses the same machinery for grids and previews.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from specc.spec import keypath
from specc.spec.diagnostics import Collector, Diagnostic, Severity
from specc.spec.interpolate import resolve
from specc.spec.models import Spec
from specc.spec.models.hpo import CategoricalDim, FloatDim, IntDim
from specc.spec.records import record
from specc.spec.rules import Context, run_rules
from specc.spec.schema_check import validate_model

Point = dict[str, Any]
MAX_CORNERS = 128


#: Integer dimensions with at most this many values are checked at every value, not
#: only at their ends (batch-size rules bite in the middle of a range).
MAX_INT_VALUES = 33


def dim_corners(dim: FloatDim | IntDim | CategoricalDim) -> list[Any]:
    """The values of a dimension that feasibility is checked at: every choice of a
    categorical, every value of a small integer range, else the two ends."""
    if isinstance(dim, CategoricalDim):
        return list(dim.choices)
    if isinstance(dim, IntDim) and not dim.log and dim.high >= dim.low:
        if (dim.high - dim.low) // dim.step + 1 <= MAX_INT_VALUES:
            return list(range(dim.low, dim.high + 1, dim.step))
    low, high = dim.low, dim.high
    if dim.step and high > low:
        high = low + math.floor((high - low) / dim.step + 1e-9) * dim.step
        if isinstance(dim, FloatDim):
            high = round(high, 12)
    return [low] if high == low else [low, high]


def active(dim: Any, point: Point) -> bool:
    """Whether a conditional dimension is sampled given the other values of ``point``."""
    if not getattr(dim, "when", None):
        return True
    for other, wanted in dim.when.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if other not in point or point[other] not in values:
            return False
    return True


def corners(dims: dict[str, Any], limit: int = MAX_CORNERS, seed: int = 0) -> list[Point]:
    """Every combination of the dimensions' corners, sampled down to ``limit``."""
    names = list(dims)
    grid = [dim_corners(dims[n]) for n in names]
    total = math.prod(len(g) for g in grid) if grid else 0
    if total == 0:
        return []
    if total <= limit:
        combos = list(itertools.product(*grid))
    else:
        rng = random.Random(seed)
        seen: set[tuple[Any, ...]] = set()
        combos = []
        while len(combos) < limit and len(seen) < total:
            c = tuple(rng.choice(g) for g in grid)
            if c not in seen:
                seen.add(c)
                combos.append(c)
    return _distinct(dims, names, combos)


def _distinct(dims: dict[str, Any], names: list[str],
              combos: Iterable[tuple[Any, ...]]) -> list[Point]:
    """Points from value combinations, inactive conditional dimensions dropped, each
    resulting point once."""
    out: list[Point] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for combo in combos:
        point = dict(zip(names, combo, strict=True))
        point = {n: v for n, v in point.items() if active(dims[n], point)}
        key = tuple(sorted((k, repr(v)) for k, v in point.items()))
        if key not in seen:
            seen.add(key)
            out.append(point)
    return out


def copy_tree(node: Any) -> Any:
    """A copy of plain YAML data (dicts, lists, scalars): much faster than deepcopy."""
    if isinstance(node, dict):
        return {k: copy_tree(v) for k, v in node.items()}
    if isinstance(node, list):
        return [copy_tree(v) for v in node]
    return node


def apply_point(raw: dict[str, Any], point: Point) -> dict[str, Any]:
    """A copy of the merged (uninterpolated) tree with the point's values set, interpolated."""
    data = copy_tree(raw)
    for key, value in point.items():
        path = keypath.parse(key)
        if path is not None:
            keypath.set_value(data, path, value)
    resolve(data, Collector())
    return data  # type: ignore[no-any-return]


PointCheck = Callable[[Context], None]


def check_point(raw: dict[str, Any], point: Point, file: str,
                extra: PointCheck | None = None, data: dict[str, Any] | None = None,
                ) -> tuple[Spec | None, list[Diagnostic]]:
    """Validate one point with every rule; return its spec and its errors.

    ``data`` is the point already applied to ``raw`` (see :func:`apply_point`), if the
    caller has it."""
    if data is None:
        data = apply_point(raw, point)
    diags = Collector(default_file=file)
    model = validate_model(data, diags)
    spec = model if isinstance(model, Spec) else None
    if spec is not None:
        ctx = Context(spec=spec, data=data, diags=diags, file=file, point=True)
        run_rules(ctx)
        if extra is not None:
            extra(ctx)
    return spec, [d for d in diags if d.severity is Severity.ERROR]


@record
class Feasibility:
    points: int
    failing: list[tuple[Point, list[Diagnostic]]]


def feasibility(spec: Spec, raw: dict[str, Any], file: str, extra: PointCheck | None = None,
                limit: int = MAX_CORNERS) -> Feasibility:
    assert spec.hpo is not None
    pts = corners(dict(spec.hpo.search_space), limit=limit)
    failing = []
    for p in pts:
        _, errors = check_point(raw, p, file, extra)
        if errors:
            failing.append((p, errors))
    return Feasibility(len(pts), failing)


def report(result: Feasibility, diags: Collector) -> None:
    """H008 (some points break rules) or H009 (all do), with an example per problem."""
    if not result.failing:
        return
    n, total = len(result.failing), result.points
    codes = Counter(code for _, errs in result.failing for code in {x.code for x in errs})
    examples = []
    for code, count in codes.most_common(3):
        point, err = next((p, e) for p, errs in result.failing for e in errs if e.code == code)
        where = ", ".join(f"{k}={_fmt(v)}" for k, v in point.items())
        examples.append(f"{code} at {count} point(s), e.g. {{{where}}}: {err.message}")
    all_fail = n == total
    code = "H009" if all_fail else "H008"
    scope = "every one" if all_fail else f"{n} of {total} ({n / total:.0%})"
    diags.add(code, f"{scope} of the checked points of the search space break a rule: "
              + "; ".join(examples), path=("hpo", "search_space"), on_key=True,
              hint="narrow the ranges so the rules hold everywhere"
              + ("" if all_fail else "; `specc run` skips infeasible points and records why"))


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else str(v)


#: Dimensions with more values than this are not enumerated (a grid over them is refused).
MAX_GRID_VALUES = 100_000


def dim_values(dim: FloatDim | IntDim | CategoricalDim) -> list[Any] | None:
    """Every value of an enumerable dimension; None for a continuous or huge one."""
    if isinstance(dim, CategoricalDim):
        return list(dim.choices)
    if isinstance(dim, IntDim):
        if dim.high < dim.low or (dim.high - dim.low) // dim.step + 1 > MAX_GRID_VALUES:
            return None
        return list(range(dim.low, dim.high + 1, dim.step))
    if dim.step is None or not math.isfinite((dim.high - dim.low) / dim.step):
        return None
    n = math.floor((dim.high - dim.low) / dim.step + 1e-9)
    if n + 1 > MAX_GRID_VALUES or n < 0:
        return None
    return [round(dim.low + k * dim.step, 12) for k in range(n + 1)]


def grid_size(dims: dict[str, Any]) -> int | None:
    """Points in the full grid (before conditional pruning); None when continuous."""
    sizes = [dim_values(d) for d in dims.values()]
    if any(s is None for s in sizes):
        return None
    return math.prod(len(s) for s in sizes if s is not None)


def grid_points(dims: dict[str, Any]) -> list[Point]:
    """Every point of a grid, in a stable order; conditional duplicates removed."""
    names = list(dims)
    values = [dim_values(dims[n]) or [] for n in names]
    return _distinct(dims, names, itertools.product(*values))


def sample_point(dims: dict[str, Any], rng: random.Random) -> Point:
    """One random point (uniform / log-uniform / stepped / categorical), in dimension order,
    skipping dimensions whose `when` is not met."""
    point: Point = {}
    for name, dim in dims.items():
        if not active(dim, point):
            continue
        point[name] = _sample(dim, rng)
    return point


def _sample(dim: Any, rng: random.Random) -> Any:
    if isinstance(dim, CategoricalDim):
        return rng.choice(dim.choices)
    values = dim_values(dim) if not dim.log else None
    if values is not None:
        return rng.choice(values)
    lo, hi = float(dim.low), float(dim.high)
    x = math.exp(rng.uniform(math.log(lo), math.log(hi))) if dim.log and lo > 0 else \
        rng.uniform(lo, hi)
    if isinstance(dim, IntDim):
        return min(max(round(x), dim.low), dim.high)
    return float(f"{x:.6g}")


def sample_points(dims: dict[str, Any], n: int, seed: int | None) -> list[Point]:
    """``n`` points drawn deterministically from ``seed`` (a preview, not Optuna's draw)."""
    rng = random.Random(0 if seed is None else seed)
    return [sample_point(dims, rng) for _ in range(n)]
