"""The charts of `specc report`, drawn by Optuna's visualisation functions.

Each chart is drawn twice: with ``optuna.visualization`` (plotly, for the HTML page) and
with ``optuna.visualization.matplotlib`` (a PNG beside it; matplotlib's ``Agg`` backend,
no browser needed). A chart that cannot be drawn for this study (importances with fewer
than two complete trials or one parameter, no intermediate values, ...) keeps its place
with a note saying why, so the report never silently leaves it out.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from specc.runtime.report import style as looks
from specc.runtime.storage import quiet_optuna

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from specc.runtime.report.data import StudyData

ChartKind = Literal["history", "pareto", "importances", "parallel", "slice", "intermediate",
                    "timeline"]

#: Optuna's function name for each kind (the same in both backends).
FUNCTIONS: dict[ChartKind, str] = {
    "history": "plot_optimization_history", "pareto": "plot_pareto_front",
    "importances": "plot_param_importances", "parallel": "plot_parallel_coordinate",
    "slice": "plot_slice", "intermediate": "plot_intermediate_values",
    "timeline": "plot_timeline",
}

BEST_COLOR = looks.BEST_COLOR
PRUNED_COLOR = "#7f7f7f"


@dataclass
class Chart:
    """One chart of the report: drawn (``figure``), or a note saying why not."""

    id: str
    kind: ChartKind
    title: str
    caption: str
    objective: int | None = None
    note: str | None = None
    figure: Any = None  # plotly Figure
    png: Path | None = None
    png_note: str | None = None

    @property
    def drawn(self) -> bool:
        return self.figure is not None


def _finite(t: FrozenTrial, objective: int | None) -> bool:
    if t.state.name != "COMPLETE" or not t.values:
        return False
    vals = t.values if objective is None else t.values[objective:objective + 1]
    return all(math.isfinite(v) for v in vals)


def _done(data: StudyData, objective: int | None = None) -> list[FrozenTrial]:
    return [t for t in data.trials if _finite(t, objective)]


def _params(trials: list[FrozenTrial]) -> list[str]:
    seen: dict[str, None] = {}
    for t in trials:
        seen.update(dict.fromkeys(t.params))
    return list(seen)


def _none_complete(data: StudyData) -> str:
    c = data.ledger.counts()
    rest = ", ".join(f"{c[s]} {s.lower()}" for s in ("PRUNED", "FAIL", "RUNNING") if c.get(s))
    return "no complete trial yet" + (f" ({rest})" if rest else "")


def plan(data: StudyData) -> list[Chart]:
    """The charts this study gets, each with a note when it cannot be drawn."""
    objs = data.objectives
    per = list(range(len(objs))) if data.multi else [None]
    counts = data.ledger.counts()
    out: list[Chart] = []

    def suffix(i: int | None) -> str:
        return "" if i is None else f"-{i}"

    def name(i: int | None) -> str:
        return objs[0] if i is None else objs[i]

    if data.multi:
        n = len(objs)
        note = None if n in (2, 3) else f"a Pareto front is drawn for 2 or 3 objectives; " \
            f"this study has {n}"
        out.append(Chart("pareto", "pareto", "Pareto front",
                         "Every complete trial by its objective values; the Pareto-optimal "
                         "ones (no other trial is at least as good in every objective) are "
                         "highlighted.", note=note or (None if _done(data) else
                                                        _none_complete(data))))
    for i in per:
        others = []
        if counts.get("PRUNED") and not data.multi:
            others.append("pruned trials are marked at the last value they reported")
        if counts.get("FAIL"):
            others.append(f"{counts['FAIL']} failed trial(s) have no value (see the timeline "
                          "and the trial table)")
        direction = data.directions[0 if i is None else i]
        out.append(Chart(
            f"history{suffix(i)}", "history",
            "Optimisation history" + (f": {name(i)}" if i is not None else ""),
            f"Each point is a complete trial's {name(i)}; the line is the best so far "
            f"({direction})." + ("".join(f" {s[0].upper()}{s[1:]}." for s in others)),
            objective=i, note=None if _done(data, i) else _none_complete(data)))
    done, params = _done(data), _params(_done(data))
    imp_note = None
    if len(done) < 2:
        imp_note = f"importances need at least 2 complete trials; this study has {len(done)}"
    elif len(params) < 2:
        imp_note = ("importances need at least 2 searched parameters; this study searches "
                    + (f"only {params[0]}" if params else "none (a single run)"))
    out.append(Chart("importances", "importances", "Parameter importances",
                     "How much of the variation in the objective each parameter explains, "
                     "over the complete trials (Optuna's PED-ANOVA evaluator); with few "
                     "trials, a rough guide.", note=imp_note))
    for kind, title, caption in (
            ("parallel", "Parallel coordinates",
             "Each line is a complete trial through its parameter values, coloured by {m}."),
            ("slice", "Slice plots", "{m} against each parameter, one point per complete "
             "trial (darker: later trials).")):
        for i in per:
            done_i = _done(data, i)
            note = None
            if not done_i:
                note = _none_complete(data)
            elif not _params(done_i):
                note = "this study searches no parameters (a single run)"
            out.append(Chart(f"{kind}{suffix(i)}", kind,  # type: ignore[arg-type]
                             title + (f": {name(i)}" if i is not None else ""),
                             caption.format(m=name(i)), objective=i, note=note))
    has_steps = any(t.intermediate_values for t in data.trials
                    if t.state.name in ("COMPLETE", "PRUNED", "RUNNING"))
    out.append(Chart(
        "intermediate", "intermediate", "Intermediate values",
        f"{objs[0]} at every evaluation of each trial, by training step, pruned trials "
        "included: a pruned trial's line ends where the pruner stopped it.",
        note=None if has_steps else (
            "multi-objective trials report no intermediate values (pruning is "
            "single-objective)" if data.multi else "no trial reported an intermediate value")))
    started = any(t.datetime_start for t in data.trials)
    out.append(Chart("timeline", "timeline", "Trial timeline",
                     "When each trial ran and how it ended: complete, pruned, failed or "
                     "still running.", note=None if started else "no trial has started"))
    return out


def _kwargs(data: StudyData, chart: Chart) -> dict[str, Any]:
    i = chart.objective
    if chart.kind == "pareto":
        return {"target_names": list(data.objectives)}
    if chart.kind == "importances":
        return {} if data.multi else {"target_name": data.objectives[0]}
    if chart.kind in ("history", "parallel", "slice"):
        if i is None:
            return {"target_name": data.objectives[0]}
        return {"target": _value(i), "target_name": data.objectives[i]}
    return {}


def _value(i: int) -> Callable[[FrozenTrial], float]:
    return lambda t: float(t.values[i])


def best_so_far(data: StudyData, i: int) -> tuple[list[int], list[float]]:
    """(trial numbers, running best of objective ``i``) over the complete trials."""
    sign = 1.0 if data.directions[i] == "minimize" else -1.0
    xs, ys, best = [], [], math.inf
    for t in sorted(_done(data, i), key=lambda t: t.number):
        best = min(best, sign * t.values[i])
        xs.append(t.number)
        ys.append(sign * best)
    return xs, ys


def pruned_points(data: StudyData) -> tuple[list[int], list[float]]:
    """(trial numbers, last reported value) of the pruned trials."""
    xs, ys = [], []
    for t in data.trials:
        if t.state.name == "PRUNED" and t.intermediate_values:
            v = t.intermediate_values[max(t.intermediate_values)]
            if math.isfinite(v):
                xs.append(t.number)
                ys.append(v)
    return xs, ys


def _extras(data: StudyData, chart: Chart) -> list[tuple[str, list[int], list[float], str]]:
    """Traces Optuna leaves out of the history: the best so far of one objective of
    several, and the pruned trials."""
    out: list[tuple[str, list[int], list[float], str]] = []
    if chart.kind != "history":
        return out
    if chart.objective is not None:
        xs, ys = best_so_far(data, chart.objective)
        out.append(("Best so far", xs, ys, "line"))
    else:
        xs, ys = pruned_points(data)
        if xs:
            out.append(("Pruned (last reported value)", xs, ys, "marker"))
    return out


def draw_html(data: StudyData, charts: list[Chart]) -> None:
    """Plotly figures for the charts that can be drawn (a failure becomes a note)."""
    import optuna.visualization as vis

    with quiet_optuna(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # advice meant for interactive use
        for c in charts:
            if c.note is not None:
                continue
            try:
                fig = getattr(vis, FUNCTIONS[c.kind])(data.snapshot, **_kwargs(data, c))
                for label, xs, ys, style in _extras(data, c):
                    if style == "line":
                        fig.add_scatter(x=xs, y=ys, mode="lines", name=label,
                                        line={"color": BEST_COLOR, "shape": "hv"})
                    else:
                        fig.add_scatter(x=xs, y=ys, mode="markers", name=label,
                                        marker={"color": PRUNED_COLOR, "symbol": "x",
                                                "size": 9})
                # the page's heading names the chart: no second title inside it
                fig.update_layout(title_text="", height=460 if c.kind != "slice" else 420,
                                  margin={"l": 60, "r": 30, "t": 30, "b": 50})
                looks.restyle(fig, data, c)
                c.figure = fig
            except Exception as e:
                c.note = f"Optuna could not draw it: {_first_line(e)}"


def draw_png(data: StudyData, charts: list[Chart], folder: Path) -> None:
    """A PNG for every drawn chart, ``<folder>/<id>.png`` (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import optuna.visualization.matplotlib as mvis

    with quiet_optuna(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # singular axes of a one-point study
        for c in charts:
            if not c.drawn:
                continue
            try:
                ax = getattr(mvis, FUNCTIONS[c.kind])(data.snapshot, **_kwargs(data, c))
            except Exception as e:
                c.png_note = f"no PNG: {_first_line(e)}"
                plt.close("all")
                continue
            axes = np.asarray(ax).ravel()
            fig = axes[0].figure
            try:
                looks.restyle_png(fig, data, c.kind)
                for label, xs, ys, style in _extras(data, c):
                    if style == "line":
                        axes[0].step(xs, ys, where="post", color=BEST_COLOR, label=label)
                    else:
                        axes[0].scatter(xs, ys, marker="x", color=PRUNED_COLOR, label=label)
                    axes[0].legend()
                width = {"parallel": 10.0, "slice": min(4.0 * len(axes) + 1.5, 24.0)}
                fig.set_size_inches(width.get(c.kind, 8.0), 4.8)
                path = folder / f"{c.id}.png"
                fig.savefig(path, dpi=100, bbox_inches="tight")
                c.png = path
            except Exception as e:
                c.png_note = f"no PNG: {_first_line(e)}"
            finally:
                plt.close(fig)
        plt.close("all")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__
