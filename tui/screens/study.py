"""The study screen: a study's trials, read from its storage every two seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from specc.tui.session import StudyTarget
from specc.tui.studydata import STATES, StudyReader, StudySnapshot, StudyUnavailable, TrialRow
from specc.tui.widgets import ValuesChart

if TYPE_CHECKING:
    from specc.tui.app import SpeccApp

#: Seconds between reads of the storage.
REFRESH = 2.0
#: Seconds between looks at the run started from the TUI.
RUN_WATCH = 0.5
STATE_STYLE = {"COMPLETE": "green", "PRUNED": "yellow", "FAIL": "red", "RUNNING": "cyan",
               "WAITING": "dim"}
SORTS = ("number", "state", "value", "duration")


@dataclass
class StudyRead(Message):
    """One read of the storage: a snapshot, or why there is none this time."""

    snapshot: StudySnapshot | None
    problem: str = ""
    transient: bool = False  # e.g. "database is locked": keep what is shown, retry


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def short_label(path: str, width: int = 14) -> str:
    """A column label for a parameter path: its last part, cut to ``width``."""
    name = path.rsplit(".", maxsplit=1)[-1]
    return name if len(name) <= width else name[:width - 1] + "…"


def _duration(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(s), 60)
    return f"{m}m{sec:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


def sort_key(column: str, directions: tuple[str, ...]) -> Any:
    sign = -1.0 if directions and directions[0] == "maximize" else 1.0

    def key(t: TrialRow) -> tuple[Any, ...]:
        if column == "state":
            return (STATES.index(t.state) if t.state in STATES else 9, t.number)
        if column == "value":
            v = t.values[0] if t.values else None
            return (v is None, sign * v if v is not None else 0.0, t.number)
        if column == "duration":
            return (t.duration_s is None, t.duration_s or 0.0, t.number)
        return (t.number,)

    return key


class StudyScreen(Screen[None]):
    """Counts by state, the best trial, a sortable table and the highlighted trial."""

    BINDINGS = [
        Binding("o", "sort", "Sort"),
        Binding("v", "reverse", "Reverse"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("x", "app.stop_run", "Stop"),
        Binding("l", "app.run_log", "Log"),
    ]

    app: SpeccApp

    def __init__(self) -> None:
        super().__init__()
        self._reader: StudyReader | None = None
        self._snapshot: StudySnapshot | None = None
        self._sort = "number"
        self._reverse = False
        self._reading = False
        self._run_line = ""
        self._run_state: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="study-summary")
        with Horizontal(id="study-body"):
            yield DataTable(id="study-trials", cursor_type="row", zebra_stripes=True)
            with Vertical(id="study-side"):
                yield Static(id="trial-detail")
                yield ValuesChart(id="trial-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#study-summary", Static).border_title = "Study"
        self.query_one("#study-trials", DataTable).border_title = "Trials"
        self.query_one("#trial-detail", Static).border_title = "Trial"
        self.query_one("#trial-chart", ValuesChart).border_title = "Intermediate values"
        self.query_one("#study-summary", Static).update(Text("reading the study…", style="dim"))
        self.set_interval(REFRESH, self._tick)
        self.set_interval(RUN_WATCH, self._show_run)
        self._show_run()
        self._tick()

    def on_screen_resume(self) -> None:
        self.query_one(DataTable).focus()
        self._tick()

    def on_unmount(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def _show_run(self) -> None:
        """The run started with ctrl+r, on the summary's border: what it is doing and the
        keys for it; the storage is read at once when it starts or ends."""
        run = self.app.study_run
        state = run.status if run is not None else None
        if run is None:
            line = "ctrl+r runs the study"
        elif state in ("running", "stopping"):
            took = _duration(run.elapsed())
            line = f"run: {state} {took} (pid {run.pid}) · x stops · l log"
        else:
            line = {"finished": "run: finished", "stopped": "run: stopped · ctrl+r resumes",
                    "failed": f"run: failed (status {run.returncode}) · l log"}[str(state)]
        if line != self._run_line:
            self._run_line = line
            self.query_one("#study-summary", Static).border_subtitle = line
        if state != self._run_state:
            self._run_state = state
            self.refresh_bindings()
            self._tick()

    # -- reading --------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._reading or not self.is_active:
            return
        self._reading = True
        self._read()

    def _reader_for(self, target: StudyTarget) -> StudyReader:
        reader = self._reader
        if reader is None or (reader.url, reader.study) != (target.storage, target.study):
            if reader is not None:
                reader.close()
            reader = self._reader = StudyReader(target.storage, target.study,
                                                pick_only_study=target.pick_only_study)
        return reader

    @work(thread=True, group="study", exit_on_error=False)
    def _read(self) -> None:
        session = self.app.session
        try:
            session.ensure_spec()
            target = session.study_target()
            if target is None:
                raise StudyUnavailable("no study to show: open a spec, or pass --storage URL "
                                       "(and --study NAME)")
            snap = self._reader_for(target).read()
        except StudyUnavailable as e:
            self.post_message(StudyRead(None, str(e)))
        except Exception as e:  # "database is locked", a network hiccup: retry next tick
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.post_message(StudyRead(None, first, transient=True))
        else:
            self.post_message(StudyRead(snap))

    @on(StudyRead)
    def _study_read(self, event: StudyRead) -> None:
        self._reading = False
        if event.snapshot is None:
            if event.transient and self._snapshot is not None:
                self.query_one("#study-trials", DataTable).border_subtitle = (
                    f"storage busy ({event.problem[:40]}); retrying")
                return
            self._show_problem(event.problem)
            return
        changed = event.snapshot != self._snapshot
        self._snapshot = event.snapshot
        self.query_one("#study-trials", DataTable).border_subtitle = ""
        if changed:
            self._show()

    def action_refresh_now(self) -> None:
        self._tick()

    # -- showing --------------------------------------------------------------------------

    def _show_problem(self, problem: str) -> None:
        self._snapshot = None
        self.query_one("#study-summary", Static).update(Text(problem, style="yellow"))
        self.query_one(DataTable).clear(columns=True)

    def _metrics(self, snap: StudySnapshot) -> list[str]:
        if snap.metrics:
            return list(snap.metrics)
        spec = self.app.session.spec
        if spec is not None and spec.hpo is not None and \
                len(spec.hpo.objectives) == len(snap.directions):
            return [o.metric for o in spec.hpo.objectives]
        return [f"value{i}" if len(snap.directions) > 1 else "value"
                for i in range(len(snap.directions))]

    def _show(self) -> None:
        snap = self._snapshot
        assert snap is not None
        metrics = self._metrics(snap)
        summary = Text.assemble(("study ", "dim"), (snap.name, "bold"), ("  ", ""),
                                (snap.storage, "dim"), "\n")
        for state in STATES:
            n = snap.counts.get(state, 0)
            if n or state in ("COMPLETE", "PRUNED", "FAIL"):
                summary.append(f"{state.lower()} ", style="dim")
                summary.append(f"{n}", style=STATE_STYLE[state])
                summary.append("  ")
        best = snap.best
        summary.append("\nbest: ", style="dim")
        if not best:
            summary.append("none yet")
        elif len(best) == 1 and len(snap.directions) == 1:
            b = best[0]
            summary.append(f"trial {b.number}  {metrics[0]}={_fmt((b.values or (None,))[0])} "
                           f"({snap.directions[0]})", style="bold green")
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in b.params.items())
            summary.append(f"  {params}")
        else:
            summary.append(f"Pareto front: trials {', '.join(str(t.number) for t in best)}",
                           style="bold green")
        self.query_one("#study-summary", Static).update(summary)
        self._fill_table(snap, metrics)

    def _fill_table(self, snap: StudySnapshot, metrics: list[str]) -> None:
        table = self.query_one(DataTable)
        keep = None
        if table.row_count and table.cursor_row < table.row_count:
            keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        params = list(dict.fromkeys(k for t in snap.trials for k in t.params))
        table.clear(columns=True)
        table.add_column("#", key="number")
        table.add_column("state", key="state")
        for i, m in enumerate(metrics):
            table.add_column(m, key="value" if i == 0 else f"value{i}")
        table.add_column("time", key="duration")
        for p in params:
            table.add_column(short_label(p), key=f"p:{p}")
        rows = sorted(snap.trials, key=sort_key(self._sort, snap.directions),
                      reverse=self._reverse)
        now = datetime.now()
        for t in rows:
            values = list(t.values or ()) + [None] * (len(metrics) - len(t.values or ()))
            took = _duration(t.duration_s)
            if t.state == "RUNNING" and t.started is not None:  # Optuna's local time
                took = _duration((now - t.started).total_seconds()) + "…"
            table.add_row(str(t.number), Text(t.state.lower(), style=STATE_STYLE.get(t.state, "")),
                          *(_fmt(v) for v in values[:len(metrics)]),
                          took, *(_fmt(t.params.get(p)) for p in params), key=str(t.number))
        arrow = "↓" if self._reverse else "↑"
        table.border_title = f"Trials (sorted by {self._sort} {arrow})"
        index = next((i for i, t in enumerate(rows) if str(t.number) == keep), 0)
        if rows:
            table.move_cursor(row=index)
            self._detail(rows[index])

    def _detail(self, t: TrialRow) -> None:
        out = Text.assemble((f"trial {t.number}", "bold"), "  ",
                            (t.state.lower(), STATE_STYLE.get(t.state, "")))
        if t.values:
            out.append("\nvalues: ", style="dim")
            out.append(", ".join(_fmt(v) for v in t.values))
        if t.duration_s is not None:
            out.append("\nduration: ", style="dim")
            out.append(_duration(t.duration_s))
        if t.reason:
            out.append("\nreason: ", style="dim")
            out.append(t.reason, style=STATE_STYLE.get(t.state, ""))
        for k, v in t.params.items():
            out.append(f"\n{k}: ", style="dim")
            out.append(_fmt(v))
        self.query_one("#trial-detail", Static).update(out)
        self.query_one(ValuesChart).points = t.intermediate

    @on(DataTable.RowHighlighted, "#study-trials")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._snapshot is None or event.row_key.value is None:
            return
        t = next((t for t in self._snapshot.trials if str(t.number) == event.row_key.value),
                 None)
        if t is not None:
            self._detail(t)

    @on(DataTable.HeaderSelected, "#study-trials")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        column = key if key in SORTS else "value" if key.startswith("value") else "number"
        if column == self._sort:
            self._reverse = not self._reverse
        self._sort = column
        self._resort()

    def action_sort(self) -> None:
        self._sort = SORTS[(SORTS.index(self._sort) + 1) % len(SORTS)]
        self._resort()

    def action_reverse(self) -> None:
        self._reverse = not self._reverse
        self._resort()

    def _resort(self) -> None:
        if self._snapshot is not None:
            self._fill_table(self._snapshot, self._metrics(self._snapshot))
