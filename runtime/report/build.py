"""`specc report`: a study's results as a self-contained HTML page, PNGs and a summary.

    specc report runs/quickstart/                 # -> runs/quickstart/report/
    specc report --storage postgresql://host/db --study NAME --output report/

Writes ``report.html`` (every chart interactive, plotly.js inlined once, nothing fetched),
``<chart>.png`` beside it (matplotlib) and ``summary.md`` (settings, counts with the reasons
trials were pruned or failed, the best trial or the Pareto set with its parameters, values
and spec). The study is only read (:mod:`specc.runtime.report.data`); the charts come from
Optuna's visualisation functions (:mod:`specc.runtime.report.charts`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from specc.runtime.outputs import atomic_write
from specc.runtime.report.charts import Chart, draw_html, draw_png, plan
from specc.runtime.report.data import ReportError, StudyData, load, resolve
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

__all__ = ["ReportError", "StudyReport", "build_report"]

#: Specs embedded in summary.md (a large Pareto set lists the rest by path).
MAX_SPECS = 10
_CHART_PNG = re.compile(r"^(history|pareto|importances|parallel|slice|intermediate|timeline)"
                        r"(-\d+)?\.png$")


@dataclass
class StudyReport:
    """What `specc report` wrote."""

    study: str
    output: Path
    html: Path
    summary: Path
    charts: list[Chart]

    @property
    def pngs(self) -> list[Path]:
        return [c.png for c in self.charts if c.png is not None]

    @property
    def notes(self) -> dict[str, str]:
        """Chart id -> why it is not drawn."""
        return {c.id: c.note for c in self.charts if c.note is not None}


def _default_output(run_dir: Path | None, data: StudyData) -> Path:
    if data.run_dir is not None:
        return data.run_dir / "report"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", data.name).strip("-") or "study"
    return (run_dir or Path(".")) / f"report-{slug}"


def build_report(run_dir: str | None = None, *, storage: str | None = None,
                 study: str | None = None, output: str | None = None,
                 say: Callable[[str], None] | None = None) -> StudyReport:
    """Report the study of ``run_dir`` (a `specc run` output folder) or of ``storage``.

    Raises :class:`ReportError` when the folder, storage or study is not there, or the
    study has no trials; ImportError when plotly or matplotlib is missing."""
    import plotly.offline

    note = say or (lambda _msg: None)
    source = resolve(run_dir, storage, study)
    _check_health(source.url)
    try:
        data = load(source, note)
    except ReportError:
        raise
    except Exception as e:  # the storage failing while it is read
        from specc.runtime.storage import display
        from specc.runtime.storage_safety import as_problem, is_storage_error

        if not is_storage_error(e):
            raise
        diag = as_problem(e, display(source.url)).diagnostics[0]
        raise ReportError(f"{diag.code} {diag.message} ({diag.hint})") from None
    out = Path(output) if output else _default_output(source.run_dir, data)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"cannot create {out}: {e.strerror or e}") from None
    charts = plan(data)
    note(f"drawing {sum(c.note is None for c in charts)} of {len(charts)} charts "
         f"({len(data.trials)} trials)")
    draw_html(data, charts)
    drawn = {f"{c.id}.png" for c in charts if c.drawn}
    for old in out.iterdir():  # PNGs of an earlier report that this one does not draw
        if _CHART_PNG.match(old.name) and old.name not in drawn:
            with contextlib.suppress(OSError):
                old.unlink()
    note("writing the PNGs (matplotlib)")
    draw_png(data, charts, out)
    from specc.runtime.report.page import render

    html, summary = out / "report.html", out / "summary.md"
    try:
        _write(html, render(data, charts, plotly.offline.get_plotlyjs(), out))
        _write(summary, markdown(data, charts, out))
    except OSError as e:
        raise ReportError(f"cannot write the report into {out}: {e.strerror or e}") from None
    return StudyReport(data.name, out, html, summary, charts)


def _check_health(url: str) -> None:
    """A damaged SQLite study (the wedge an old `specc run` left) is named as such, with
    the way out, instead of a confusing "2 studies" or an Optuna error. Read-only: the
    report never repairs; `specc run` does."""
    from specc.spec.storage_url import is_journal, local_file
    from specc.spec.study_db import inspect, recovery_hint

    db = local_file(url)
    if db is None or not db.is_file() or is_journal(url):
        return
    health = inspect(str(db))
    if health.ok or (health.error is None and not health.duplicates):
        return
    what = health.error or health.problems()
    raise ReportError(f"T002 {db} is a damaged study database ({what}): `specc run` on its "
                      f"folder checks and repairs it (keeping a backup); or "
                      f"{recovery_hint(str(db))}")


def _write(path: Path, text: str) -> None:
    """Atomically, and readable by others like the PNGs beside it (a report is for
    sharing; the temporary file it is renamed from is private)."""
    atomic_write(path, text)
    os.chmod(path, 0o644)


# --- summary.md ----------------------------------------------------------------------------------

def _cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(_cell(c) for c in r) + " |" for r in rows), ""]


def markdown(data: StudyData, charts: list[Chart], out: Path) -> str:
    word, line = status(data)
    lines = [f"# Study report: {data.name}", "", f"**{word}**: {line}", ""]
    lines += [f"- **{k}**: {v}" for k, v in settings(data)]
    lines.append("")
    space = search_space(data.trials)
    if space:
        lines += ["## Search space", "", *_md_table(["parameter", "distribution"],
                                                    [[k, v] for k, v in space.items()])]
    lines += ["## Trials", "", counts_text(data), ""]
    for state, why, numbers in reasons(data):
        lines.append(f"- {state}: {why} (trial{'s' if len(numbers) > 1 else ''} "
                     f"{', '.join(map(str, numbers))})")
    lines.append("")
    lines += _best_md(data, out)
    lines += ["## Charts", "", "The interactive versions are in [report.html](report.html).",
              ""]
    for c in charts:
        if c.png is not None:
            lines += [f"### {c.title}", "", f"![{c.title}]({c.png.name})", "", c.caption, ""]
        else:
            why = c.note or c.png_note or "unavailable"
            lines += [f"### {c.title}", "", f"Not drawn: {why}.", ""]
    lines += ["## All trials", ""]
    params = list(space)
    versions = len(data.spec_versions()) > 1
    rows = []
    for t in sorted(data.trials, key=lambda t: t.number):
        vals = list(t.values) if t.state.name == "COMPLETE" and t.values else []
        rows.append([str(t.number), t.state.name.lower(),
                     *(fmt(vals[i]) if i < len(vals) else "" for i in
                       range(len(data.objectives))),
                     *(fmt(t.params[p]) if p in t.params else "" for p in params),
                     *([data.spec_version(t)] if versions else []),
                     duration(t), data.reason(t) or ""])
    lines += _md_table(["#", "state", *data.objectives, *params,
                        *(["spec"] if versions else []), "duration", "reason"], rows)
    return "\n".join(lines).rstrip() + "\n"


def _best_md(data: StudyData, out: Path) -> list[str]:
    best = data.best()
    if not best:
        return ["## Best trial", "", "No complete trial yet: no best trial.", ""]
    if data.multi:
        lines = [f"## Pareto set ({len(best)} trials)", "",
                 "No trial of the study is better in every objective than these.", ""]
    else:
        lines = ["## Best trial", ""]
    for k, t in enumerate(best):
        lines += [f"### Trial {t.number}: {values_text(data, t)}", ""]
        if t.params:
            lines += _md_table(["parameter", "value"], [[p, fmt(v)] for p, v in t.params.items()])
        spec = data.spec_of(t.number)
        if spec is None:
            continue
        path, text = spec
        if k >= MAX_SPECS:
            lines += [f"Spec: `{relpath(path, out)}`", ""]
            continue
        lines += [f"<details><summary>Spec: <code>{relpath(path, out)}</code></summary>", "",
                  "```yaml", text.rstrip(), "```", "", "</details>", ""]
    return lines
