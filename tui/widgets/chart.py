"""A small column chart of a trial's intermediate values (one column per report)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def plot(points: tuple[tuple[int, float], ...], width: int, height: int) -> Text:
    """Columns for ``points`` ((step, value) pairs) in ``width`` x ``height`` cells: the
    value range on the left, the first and last step below."""
    if not points:
        return Text("no intermediate values reported", style="dim")
    rows = max(height - 1, 1)
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    labels = [_fmt(hi), _fmt(lo) if hi != lo else ""]
    label_w = max(len(x) for x in labels)
    plot_w = max(width - label_w - 1, 1)
    if len(points) > plot_w:  # more reports than columns: keep evenly spaced ones
        points = tuple(points[round(i * (len(points) - 1) / (plot_w - 1 or 1))]
                       for i in range(plot_w))
        values = [v for _, v in points]
    col_w = max(min(plot_w // len(points), 6), 1)
    bar_w = col_w - 1 if col_w > 2 else col_w
    span = hi - lo
    eighths = [round(1 + (v - lo) / span * (rows * 8 - 1)) if span else rows * 4 for v in values]
    out = Text()
    for r in range(rows):
        label = labels[0] if r == 0 else labels[1] if r == rows - 1 else ""
        out.append(f"{label:>{label_w}} ", style="dim")
        floor = (rows - 1 - r) * 8
        for e in eighths:
            cells = min(max(e - floor, 0), 8)
            out.append(_EIGHTHS[cells] * bar_w, style="#5fafff")
            out.append(" " * (col_w - bar_w))
        out.append("\n")
    first, last = f"step {points[0][0]}", f"{points[-1][0]}"
    used = col_w * len(points)
    gap = max(used - len(first) - len(last), 1)
    out.append(" " * (label_w + 1) + first + " " * gap + (last if len(points) > 1 else ""),
               style="dim")
    return out


class ValuesChart(Widget):
    """Shows :func:`plot` of its ``points``, sized to the widget."""

    DEFAULT_CSS = "ValuesChart { height: 7; }"

    points: reactive[tuple[tuple[int, float], ...]] = reactive(())

    def render(self) -> Text:
        size = self.content_size
        return plot(self.points, size.width, size.height)
