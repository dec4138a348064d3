"""How the report's charts look, over Optuna's plotly figures: a colour-blind-safe scale
that stays readable on a white page, a legend (or a titled colour bar) on every chart, and
axis labels that are not cut.

Optuna's own scale is ``Blues``, whose light end is near-white: the worst trial's line all
but vanished on the page. specc uses viridis (perceptually uniform, made for colour-blind
readers) from its darkest end to :data:`SCALE_END`, so every colour keeps a contrast of at
least 3:1 with white (WCAG's figure for graphics); ``tests/test_report.py`` checks it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from specc.runtime.report.data import StudyData


class Chart(Protocol):
    """What restyling reads of a chart (:class:`specc.runtime.report.charts.Chart`)."""

    caption: str  # restyling may add to it

    @property
    def kind(self) -> str: ...

    @property
    def objective(self) -> int | None: ...

#: How far along viridis the scale goes (beyond it: greens and yellows too light on white).
SCALE_END = 0.58
#: Okabe & Ito's colour-blind-safe colours for trial states.
STATE_COLORS = {"COMPLETE": "#0072B2", "PRUNED": "#E69F00", "FAIL": "#CC79A7",
                "RUNNING": "#009E73", "WAITING": "#999999"}
BEST_COLOR = "#D55E00"  # Okabe-Ito vermillion: the best-so-far line
#: Axis labels longer than this are broken onto two lines (at an underscore).
WRAP = 14


def scale(steps: int = 9) -> list[list[Any]]:
    """The colour scale as plotly takes it: [[position, "rgb(...)"], ...], light to dark
    like Optuna's ``Blues`` (so its "darker: later" and its reversed scales still hold)."""
    return [[i / (steps - 1), color_at(i / (steps - 1))] for i in range(steps)]


def color_at(t: float) -> str:
    """The scale's colour at ``t`` in [0, 1] (0: viridis at :data:`SCALE_END`, a teal;
    1: its darkest purple)."""
    from plotly.colors import sample_colorscale

    return str(sample_colorscale("Viridis", [SCALE_END * (1.0 - min(max(t, 0.0), 1.0))])[0])


def contrast_with_white(rgb: str) -> float:
    """WCAG contrast ratio of ``rgb(r, g, b)`` (or ``#rrggbb``) against white."""
    if rgb.startswith("#"):
        parts = [int(rgb[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        parts = [round(float(x)) for x in re.findall(r"[\d.]+", rgb)[:3]]

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * channel(parts[0]) + 0.7152 * channel(parts[1]) + 0.0722 * channel(parts[2])
    return 1.05 / (lum + 0.05)


def short_labels(names: list[str]) -> dict[str, str]:
    """A readable axis label for each parameter path: its last part (two parts when the
    last is shared), broken onto two lines when long."""
    def last(n: str, k: int) -> str:
        return ".".join(n.split(".")[-k:])

    out: dict[str, str] = {}
    for n in names:
        k = 1
        while k < len(n.split(".")) and sum(last(m, k) == last(n, k) for m in names) > 1:
            k += 1
        out[n] = wrap(last(n, k))
    return out


def wrap(label: str) -> str:
    """``label`` on two lines (``<br>``, broken at the underscore nearest its middle) when
    it is longer than :data:`WRAP`."""
    if len(label) <= WRAP or "_" not in label:
        return label
    cuts = [i for i, ch in enumerate(label) if ch == "_"]
    i = min(cuts, key=lambda c: abs(c - len(label) / 2))
    return label[:i + 1] + "<br>" + label[i + 1:]


def _parallel(fig: Any, data: StudyData, chart: Chart) -> None:
    from optuna.visualization._parallel_coordinate import _truncate_label

    lines = [tr for tr in fig.data if tr.mode == "lines"]
    bar = next((tr for tr in fig.data if tr.mode == "markers"), None)
    reverse = bool(bar.marker.reversescale) if bar is not None else False
    for tr in lines:  # x = 0 is the objective, normalised to [0, 1]: the colour's position
        y0 = tr.y[0] if tr.y and tr.y[0] is not None else 0.5
        tr.line.color = color_at(1.0 - y0 if reverse else y0)
        tr.opacity = 0.85
    if bar is not None:
        bar.marker.colorscale = scale()
    params = list(dict.fromkeys(k for t in data.trials for k in t.params))
    short = short_labels(params)
    by_cut = {_truncate_label(p): p for p in params}
    ticks = list(fig.layout.xaxis.ticktext or [])
    metric = data.objectives[chart.objective or 0]
    fig.layout.xaxis.ticktext = [metric if i == 0 else short.get(by_cut.get(t, ""), t)
                                 for i, t in enumerate(ticks)]
    fig.layout.xaxis.tickfont = {"size": 12}
    names = [by_cut[t] for t in ticks[1:] if t in by_cut]
    named = [f"{short[p].replace('<br>', '')} = {p}" for p in names
             if short[p].replace("<br>", "") != p]
    if named:
        chart.caption += " Axes: " + "; ".join(named) + "."


def _intermediate(fig: Any, data: StudyData) -> None:
    trials = data.snapshot.trials
    n = max(len(trials) - 1, 1)
    for tr in fig.data:
        m = re.fullmatch(r"Trial(\d+)", tr.name or "")
        if m is None:
            continue
        k = int(m.group(1))
        t = trials[k] if k < len(trials) else None
        state = t.state.name.lower() if t is not None else ""
        tr.name = f"trial {k}" + (f" ({state})" if state and state != "complete" else "")
        tr.line.color = color_at(k / n)
        tr.marker.color = tr.line.color
        tr.line.dash = "dot" if state == "pruned" else "solid"
    fig.update_layout(showlegend=True, legend_title_text="trial (dotted: pruned)")
    fig.update_yaxes(title_text=data.objectives[0])


def _pareto(fig: Any) -> None:
    """Optuna draws the front in Reds over the others in Blues: the front becomes one
    vermillion diamond per trial (told apart by shape as well as colour), the others the
    scale by trial number; both named in a legend above the plot."""
    for tr in fig.data:
        marker = tr.marker
        title = str(marker.colorbar.title.text or "") if marker.colorbar else ""
        if title.startswith("Best"):
            tr.update(name="Pareto-optimal trial", showlegend=True,
                      marker={"color": BEST_COLOR, "colorscale": None, "showscale": False,
                              "symbol": "diamond", "size": 11})
        else:
            tr.update(name="other trial (colour: trial number)", showlegend=True)
            marker.colorscale = scale()
    fig.update_layout(showlegend=True, margin_t=60,
                      legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"})


def restyle(fig: Any, data: StudyData, chart: Chart) -> None:
    """Colours, legend and labels of one drawn chart (in place)."""
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if chart.kind == "parallel":
        _parallel(fig, data, chart)
    elif chart.kind == "intermediate":
        _intermediate(fig, data)
    elif chart.kind == "importances":
        metric = data.objectives[0] if not data.multi else "each objective"
        for tr in fig.data:
            tr.showlegend = True
            tr.name = tr.name or f"importance for {metric}"
        fig.update_layout(showlegend=True)
    elif chart.kind == "timeline":
        for tr in fig.data:
            if tr.name in STATE_COLORS:
                tr.marker.color = STATE_COLORS[tr.name]
                tr.name = tr.name.lower()
        fig.update_layout(showlegend=True)
    elif chart.kind == "pareto":
        _pareto(fig)
    elif chart.kind in ("slice", "history"):
        for tr in fig.data:
            marker = getattr(tr, "marker", None)
            if marker is not None and marker.colorscale is not None:
                marker.colorscale = scale()


def restyle_png(fig: Any, data: StudyData, kind: str) -> None:
    """The same look in Optuna's matplotlib charts (the PNGs): its ``Blues`` colour maps
    become :func:`scale`'s, the intermediate values' lines (``tab20``, with its near-white
    tints) are coloured along it by trial, and parallel-coordinate labels are whole."""
    from matplotlib.colors import ListedColormap

    ours = ListedColormap([tuple(int(x) / 255 for x in re.findall(r"[\d.]+", color_at(t))[:3])
                           for t in (i / 63 for i in range(64))], name="specc")
    for m in fig.findobj(lambda a: hasattr(a, "get_cmap") and hasattr(a, "set_cmap")):
        name = getattr(m.get_cmap(), "name", "")
        if name in ("Blues", "Blues_r"):
            m.set_cmap(ours if name == "Blues" else ours.reversed())
    if kind == "intermediate":
        for ax in fig.axes:
            lines = ax.get_lines()
            for i, line in enumerate(lines):
                line.set_color(ours(i / max(len(lines) - 1, 1)))
            if ax.get_legend() is not None:  # drawn before: its keys keep the old colours
                ax.legend(*ax.get_legend_handles_labels(), loc="upper left",
                          bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    if kind == "parallel":
        from optuna.visualization._parallel_coordinate import _truncate_label

        params = list(dict.fromkeys(k for t in data.trials for k in t.params))
        short = {_truncate_label(p): v.replace("<br>", "\n")
                 for p, v in short_labels(params).items()}
        ax = fig.axes[0]
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        if ticks:
            ax.set_xticks(ax.get_xticks(), [short.get(t, t) for t in ticks], rotation=0)
