"""The HTML page of `specc report`: one self-contained file.

plotly.js is inlined once; each chart's figure is JSON in the page, drawn by one small
script. Nothing is fetched: no CDN, no web fonts, no images, and a Content-Security-Policy
that forbids any request, so the page opens the same with no network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from specc.runtime.report.facts import (
    counts_text,
    duration,
    fmt,
    reasons,
    relpath,
    search_space,
    settings,
    status,
    values_text,
)

if TYPE_CHECKING:
    from specc.runtime.report.charts import Chart
    from specc.runtime.report.data import StudyData

#: No request of any kind; inline scripts and styles only.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src 'none'; connect-src 'none'")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 1.6em; } h2 { font-size: 1.2em; margin: 0 0 8px; }
.sub { color: #666; margin: 0 0 20px; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 16px;
          margin: 0 0 18px; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #eee; padding: 4px 10px; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
.plot { width: 100%; min-height: 420px; }
.caption { color: #555; font-size: 0.9em; margin: 6px 0 0; }
.unavailable { border: 1px dashed #bbb; background: #f7f7f7; color: #444; padding: 24px;
               text-align: center; border-radius: 4px; }
.state-COMPLETE { color: #2a7d2a; } .state-PRUNED { color: #8a6d00; }
.state-FAIL { color: #b00020; } .state-RUNNING, .state-WAITING { color: #1f5fa8; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 0.85em; }
.scroll { overflow-x: auto; }
header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; margin: 0 0 12px; }
header .sub { margin: 0; }
#overview { display: flex; gap: 28px; flex-wrap: wrap; align-items: flex-start; }
#overview > div { flex: 1 1 300px; min-width: 0; }
#status { font-size: 1.05em; margin: 0 0 10px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; color: #fff;
         font-weight: 600; margin-right: 6px; }
.status-finished { background: #006e4f; } .status-running { background: #0057a0; }
.status-stopped { background: #8a5a00; } .status-idle { background: #555; }
.best-value { font-size: 1.5em; font-weight: 600; margin: 2px 0 8px; }
.pareto td:first-child, .pareto th:first-child { font-weight: 600; }
"""

#: Pareto-optimal trials listed on the first screen (the rest: the chart and the table).
PARETO_ROWS = 8

BOOT = """
(function () {
  var figures = JSON.parse(document.getElementById("specc-figures").textContent);
  Object.keys(figures).forEach(function (id) {
    var f = figures[id];
    Plotly.newPlot("plot-" + id, f.data, f.layout,
                   {responsive: true, displaylogo: false});
  });
})();
"""


def _script_json(text: str) -> str:
    """JSON safe inside a <script> element."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _table(head: list[str] | None, rows: list[list[str]], raw: bool = False) -> str:
    cells = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>" if head else ""
    body = "".join("<tr>" + "".join(f"<td>{c if raw else escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f'<div class="scroll"><table>{cells}{body}</table></div>'


def _best(data: StudyData, folder: Path) -> str:
    """The best trial (its value, parameters and spec) or the Pareto set, for the first
    screen."""
    best = data.best()
    if not best:
        return '<h2 id="best-title">Best trial</h2><p>No complete trial yet: no best trial.</p>'
    if data.multi:
        params = list(dict.fromkeys(k for t in best for k in t.params))
        shown = sorted(best, key=lambda t: t.values[0] if t.values else 0.0)[:PARETO_ROWS]
        rows = [[str(t.number), *(fmt(v) for v in t.values or []),
                 *(fmt(t.params[k]) if k in t.params else "" for k in params)] for t in shown]
        more = len(best) - len(shown)
        goal = ", ".join(f"{m} ({d})" for m, d in zip(data.objectives, data.directions,
                                                       strict=True))
        return (f'<h2 id="best-title">Pareto set: {len(best)} trials</h2>'
                f'<p class="caption">no other trial is at least as good in every objective: '
                f"{escape(goal)}</p>"
                f'<div class="pareto">{_table(["trial", *data.objectives, *params], rows)}'
                "</div>" + (f'<p class="caption">and {more} more (by {escape(data.objectives[0])}'
                            "): see the Pareto front and the trial table below</p>"
                            if more else ""))
    t = best[0]
    out = [f'<h2 id="best-title">Best trial: {t.number}</h2>',
           f'<p class="best-value" id="best-value">{escape(values_text(data, t))}</p>'
           f'<p class="caption">{escape(data.directions[0])} {escape(data.objectives[0])}</p>']
    if t.params:
        rows = [[k, fmt(v)] for k, v in t.params.items()]
        out.append(f'<div id="best-params">{_table(["parameter", "value"], rows)}</div>')
    spec = data.spec_of(t.number)
    if spec is not None:
        path, text = spec
        out.append(f"<details><summary>spec: {escape(relpath(path, folder))}</summary>"
                   f"<pre>{escape(text)}</pre></details>")
    return "\n".join(out)


def _overview(data: StudyData, folder: Path) -> str:
    """The first screen: the study's state and its best trial."""
    word, line = status(data)
    return (f'<section id="overview"><div><p id="status"><span class="badge status-{word}">'
            f"{word}</span> {escape(line)}</p>"
            f'<p id="counts-line">{escape(counts_text(data))}</p>'
            f'<p class="caption">storage <code>{escape(data.url)}</code></p></div>'
            f'<div id="best">{_best(data, folder)}</div></section>')


def _chart(c: Chart, figures: dict[str, str]) -> str:
    head = f'<section class="chart" id="chart-{c.id}"><h2>{escape(c.title)}</h2>'
    if c.drawn:
        figures[c.id] = c.figure.to_json()
        png = f' <a href="{escape(c.png.name)}">PNG</a>' if c.png else \
            (f" ({escape(c.png_note)})" if c.png_note else "")
        body = (f'<div class="plot" id="plot-{c.id}"></div>'
                f'<p class="caption">{escape(c.caption)}{png}</p>')
    else:
        body = (f'<div class="unavailable" id="note-{c.id}">Not drawn: '
                f"{escape(c.note or 'unavailable')}.</div>")
    return head + body + "</section>"


def _trials(data: StudyData) -> str:
    params = list(search_space(data.trials))
    versions = len(data.spec_versions()) > 1  # a column only when the spec changed
    head = ["#", "state", *data.objectives, *params, *(["spec"] if versions else []),
            "duration", "reason"]
    rows = []
    for t in sorted(data.trials, key=lambda t: t.number):
        vals = list(t.values) if t.state.name == "COMPLETE" and t.values else []
        state = t.state.name
        rows.append([
            str(t.number), f'<span class="state-{state}">{state.lower()}</span>',
            *(escape(fmt(vals[i])) if i < len(vals) else "" for i in
              range(len(data.objectives))),
            *(escape(fmt(t.params[p])) if p in t.params else "" for p in params),
            *([escape(data.spec_version(t))] if versions else []),
            escape(duration(t)), escape(data.reason(t) or "")])
    return _table(head, rows, raw=True)


def render(data: StudyData, charts: list[Chart], plotly_js: str, folder: Path) -> str:
    """The whole page, to be written into ``folder``."""
    figures: dict[str, str] = {}
    sections = [_chart(c, figures) for c in charts]
    space = search_space(data.trials)
    why = reasons(data)
    why_html = "".join(
        f"<li>{state}: {escape(r)} (trial{'s' if len(ns) > 1 else ''} "
        f"{', '.join(map(str, ns))})</li>" for state, r, ns in why)
    why_section = (f'<section id="counts"><h2>Why trials were pruned or failed</h2>'
                   f"<ul>{why_html}</ul></section>") if why_html else ""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figure_json = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in figures.items()) + "}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>specc report: {escape(data.name)}</title>
<style>{STYLE}</style></head>
<body><main>
<header><h1>Study {escape(data.name)}</h1><p class="sub">specc report, {now}</p></header>
{_overview(data, folder)}
{why_section}
{"".join(sections)}
<section id="settings"><h2>Settings</h2>
{_table(None, [[k, v] for k, v in settings(data)])}
{"<h3>Search space</h3>" + _table(["parameter", "distribution"],
                                  [[k, v] for k, v in space.items()]) if space else ""}
</section>
<section id="trials"><h2>All trials</h2>{_trials(data)}</section>
</main>
<script>{plotly_js}</script>
<script type="application/json" id="specc-figures">{_script_json(figure_json)}</script>
<script>{BOOT}</script>
</body></html>
"""
