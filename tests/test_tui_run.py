"""`specc tui` runs studies: ctrl+r saves the spec and starts `specc run FILE` as a child
process, the study screen follows it, ctrl+c stops it cleanly and ctrl+r resumes it.

Driven headless with Textual's `App.run_test()` and Pilot; the study is a real `specc run`
(real TRL trials of the built-in tiny model, a real SQLite storage). The TUI process
itself never imports the runtime (tests/test_layers.py, tests/test_tui.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from test_run_study import env, specc_cache, write_spec
from test_tui import run, wait_for
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from specc.tui import create_app
from specc.tui.app import SpeccApp
from specc.tui.screens import EditorScreen, LogScreen, StudyScreen
from specc.tui.widgets import SpecEditor, ValuesChart

pytestmark = pytest.mark.slow
__all__ = ["specc_cache"]  # the session's tiny-model cache (an autouse fixture)

SIZE = (120, 36)
#: Seconds a tiny study may take on a busy machine.
STUDY_TIMEOUT = 240.0


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory (where `specc run` puts runs/<name>), offline."""
    monkeypatch.chdir(tmp_path)
    for k, v in env().items():
        monkeypatch.setenv(k, v)
    return tmp_path


def states(db: Path, name: str = "tiny") -> list[tuple[int, str]]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    return [(t.number, t.state.name) for t in study.trials]


def run_status(app: SpeccApp) -> str:
    """The state of the run started with ctrl+r, with its log when it did not finish."""
    run_ = app.study_run
    assert run_ is not None
    return run_.status


def table_rows(app: SpeccApp) -> list[list[str]]:
    table = app.screen.query_one("#study-trials", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, SpeccApp)
    screen = app.screen
    assert isinstance(screen, EditorScreen)
    await wait_for(pilot, lambda: screen._shown_version == app.session.version, 30)


def test_ctrl_r_saves_runs_the_study_and_the_study_screen_follows_it(workdir: Path) -> None:
    spec = write_spec(workdir / "spec.yaml", steps=2, n_trials=3)
    db = workdir / "runs" / "tiny" / "study.db"

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            # an unsaved edit: 3 trials -> 2; ctrl+r saves it before the run
            editor = app.screen.query_one(SpecEditor)
            row = editor.text.split("\n").index("  n_trials: 3")
            editor.replace("2", (row, 12), (row, 13))
            await wait_for(pilot, lambda: app.session.dirty)
            await pilot.press("ctrl+r")
            assert app.study_run is not None and isinstance(app.screen, StudyScreen)
            assert "n_trials: 2" in spec.read_text() and not app.session.dirty
            summary = app.screen.query_one("#study-summary", Static)
            await wait_for(pilot, lambda: "run: running" in str(summary.border_subtitle))
            await wait_for(pilot, lambda: not app.running, STUDY_TIMEOUT)
            assert run_status(app) == "finished", app.study_run.log.read_text()
            await wait_for(pilot, lambda: str(summary.border_subtitle) == "run: finished")
            # the screen reads the storage at once when the run ends: both trials listed
            await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] ==
                           ["complete", "complete"], 10)
            shown = str(summary.render())
            assert "complete 2" in shown and "best: trial" in shown and "eval_loss=" in shown
            assert "lr=" in shown  # the best trial's parameters
            assert app.screen.query_one(ValuesChart).points  # intermediate values, by step
            # the run's log, in the run's folder
            await pilot.press("l")
            assert isinstance(app.screen, LogScreen)
            log = app.screen
            await wait_for(pilot, lambda: "trial 1 " in log.text)
            assert f"specc run {spec}" in log.text and "study tiny" in log.text
            await pilot.press("escape")
            assert isinstance(app.screen, StudyScreen)
            await pilot.press("ctrl+q")
        assert app.return_code == 0

    run(go())
    assert states(db) == [(0, "COMPLETE"), (1, "COMPLETE")]
    assert (workdir / "runs" / "tiny" / "tui-run.log").is_file()


def test_ctrl_c_stops_the_run_cleanly_and_ctrl_r_resumes_it(workdir: Path) -> None:
    spec = write_spec(workdir / "spec.yaml", steps=40, n_trials=1)
    db = workdir / "runs" / "tiny" / "study.db"
    metrics = workdir / "runs" / "tiny" / "trials" / "0" / "metrics.jsonl"

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            await pilot.press("ctrl+r")
            assert app.study_run is not None
            # a trial is training (it has logged a step): stop the study as Ctrl-C does
            await wait_for(pilot, lambda: metrics.exists() and metrics.stat().st_size > 0,
                           STUDY_TIMEOUT)
            await pilot.press("ctrl+c")
            await wait_for(pilot, lambda: not app.running, 120)
            assert run_status(app) == "stopped", app.study_run.log.read_text()
            summary = app.screen.query_one("#study-summary", Static)
            await wait_for(pilot, lambda: "ctrl+r resumes" in str(summary.border_subtitle))
            # the trial is marked, with its reason, and queued again
            await wait_for(pilot, lambda: [r[1] for r in table_rows(app)][:1] == ["fail"], 10)
            await pilot.press("home")
            detail = str(app.screen.query_one("#trial-detail", Static).render())
            assert "reason: interrupted" in detail
            assert states(db) == [(0, "FAIL"), (1, "WAITING")]
            # ctrl+r resumes the same study: the queued trial runs, the budget holds
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.study_run is not None and not app.running,
                           STUDY_TIMEOUT)
            assert run_status(app) == "finished", app.study_run.log.read_text()
            await pilot.press("ctrl+q")
        assert app.return_code == 0

    run(go())
    assert states(db) == [(0, "FAIL"), (1, "COMPLETE")]
    assert "interrupted: run the same command to resume" in \
        (workdir / "runs" / "tiny" / "tui-run.log").read_text()


def test_quit_while_running_asks_then_stops_the_run(workdir: Path) -> None:
    # long enough that it cannot finish on its own before the quit stops it
    spec = write_spec(workdir / "spec.yaml", steps=400, n_trials=1)

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            await pilot.press("ctrl+r")
            run_ = app.study_run
            assert run_ is not None and run_.running
            # in the editor, ctrl+c with text selected copies: the run goes on
            await pilot.press("f2")
            editor = app.screen.query_one(SpecEditor)
            editor.select_all()
            await pilot.press("ctrl+c")
            await pilot.pause(0.3)
            assert run_.running and run_.stop_asked is None
            await pilot.press("ctrl+q")  # asks first
            await pilot.pause(0.2)
            assert run_.running and app.is_running
            await pilot.press("ctrl+q")
        assert app.return_code == 0
        assert not run_.running and run_.status in ("stopped", "failed")

    run(go())


def test_ctrl_r_on_the_plan_screen_with_a_broken_spec_shows_why_in_the_log(
        workdir: Path) -> None:
    """`specc run` refuses the spec: the run ends failed, its diagnostics in the log."""
    spec = write_spec(workdir / "spec.yaml", steps=2, n_trials=1)
    spec.write_text(spec.read_text().replace("max_num_steps:", "max_num_stepz:"))

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            await pilot.press("f3")
            await pilot.press("ctrl+r")
            assert app.study_run is not None
            await wait_for(pilot, lambda: not app.running, 120)
            code = app.study_run.returncode
            assert run_status(app) == "failed" and code not in (0, None)
            summary = app.screen.query_one("#study-summary", Static)
            await wait_for(pilot, lambda: f"run: failed (status {code})" in
                           str(summary.border_subtitle))
            await pilot.press("l")
            log = app.screen
            assert isinstance(log, LogScreen)
            await wait_for(pilot, lambda: "S001" in log.text and "max_num_steps" in log.text)
            await pilot.press("escape", "ctrl+q")
        assert app.return_code == 0

    run(go())


def test_the_run_takes_sigint_even_when_started_with_sigint_ignored(workdir: Path) -> None:
    """The TUI stops a run with SIGINT; a TUI (or test) started as a background job of a
    non-interactive shell has SIGINT ignored, and its child would inherit that."""
    import signal
    import time

    from specc.tui.runner import StudyRun

    spec = write_spec(workdir / "spec.yaml", steps=5000, n_trials=1)
    run_ = StudyRun([sys.executable, "-m", "specc", "run", str(spec), "--quiet",
                     "--no-report"], log=workdir / "run.log", cwd=workdir)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run_.start()
    finally:
        signal.signal(signal.SIGINT, before)
    trial = workdir / "runs" / "tiny" / "trials" / "0"
    deadline = time.monotonic() + 120
    while not trial.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # training has begun
    assert run_.running
    assert run_.stop_and_wait(60) is not None
    assert run_.status == "stopped", (workdir / "run.log").read_text()[-2000:]
