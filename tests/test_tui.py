"""`specc tui`, driven headless with `App.run_test()` and Pilot."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, cast

import optuna
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from specc.spec.storage_url import read_only_url
from specc.tui import create_app
from specc.tui.app import SpeccApp
from specc.tui.keypath import key_path
from specc.tui.screens import EditorScreen, PlanScreen, StudyScreen
from specc.tui.studydata import StudyReader
from specc.tui.widgets import DiagnosticsList, FieldHelpPanel, SpecEditor, ValuesChart

from conftest import EXAMPLES

QUICKSTART = EXAMPLES / "quickstart.yaml"
SIZE = (100, 30)


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``cond()`` holds (debounce timers and workers need time)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


def codes(app: SpeccApp) -> list[str]:
    return [d.code for d in app.screen.query_one(DiagnosticsList).diagnostics]


def validated(app: SpeccApp) -> bool:
    screen = app.screen
    return isinstance(screen, EditorScreen) and \
        screen._shown_version == app.session.version


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "quickstart.yaml"
    shutil.copyfile(QUICKSTART, path)
    return path


def _line(text: str, needle: str) -> tuple[int, int]:
    for row, line in enumerate(text.split("\n")):
        if needle in line:
            return row, line.index(needle)
    raise AssertionError(needle)


# -- editor ---------------------------------------------------------------------------------

def test_typo_shows_diagnostic_fix_clears_it_and_save_is_exact(spec: Path) -> None:
    original = spec.read_bytes()

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: validated(app))
            assert codes(app) == []
            editor = app.screen.query_one(SpecEditor)
            row, col = _line(editor.text, "max_num_steps")
            editor.move_cursor((row, col + len("max_num_steps")))
            await pilot.press("backspace", "z")
            assert "max_num_stepz: 30" in editor.text
            await wait_for(pilot, lambda: "S001" in codes(app))
            diag = app.screen.query_one(DiagnosticsList).diagnostics[0]
            assert (diag.line, diag.column) == (row + 1, col + 1)
            assert "max_num_stepz" in diag.message
            assert "did you mean `max_num_steps`" in diag.hint
            assert row in editor.marks  # the line is marked
            assert app.session.dirty

            await pilot.press("backspace", "s")
            await wait_for(pilot, lambda: "S001" not in codes(app) and validated(app))
            assert codes(app) == []
            assert editor.marks == {}

            # one more edit, then save: the file is the original but for that edit
            editor.move_cursor((row, len(editor.document.get_line(row))))
            await pilot.press("backspace", "backspace", "4", "0")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not app.session.dirty
        assert spec.read_bytes() == original.replace(b"max_num_steps: 30", b"max_num_steps: 40")
        assert [p.name for p in spec.parent.iterdir()] == [spec.name]  # no temporary left

    run(go())


def test_choosing_a_diagnostic_moves_the_cursor_there(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(QUICKSTART.read_text().replace("val_period:", "val_periodd:"))

    async def go() -> None:
        app = create_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "S001" in codes(app))
            editor = app.screen.query_one(SpecEditor)
            assert editor.cursor_location == (0, 0)
            problems = app.screen.query_one(DiagnosticsList)
            problems.focus()
            problems.highlighted = 0
            await pilot.press("enter")
            d = problems.diagnostics[0]
            assert editor.cursor_location == (d.line - 1, d.column - 1)
            assert editor.has_focus
            help_text = str(app.screen.query_one(FieldHelpPanel).render())
            assert "dpo.val_periodd" in help_text and "not a key" in help_text
            editor.move_cursor((0, 0))
            await pilot.press("f8")  # next problem
            assert editor.cursor_location == (d.line - 1, d.column - 1)

    run(go())


def test_help_panel_describes_the_key_under_the_cursor(spec: Path) -> None:
    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            editor = app.screen.query_one(SpecEditor)
            editor.move_cursor(_line(editor.text, "max_num_steps"))
            await pilot.pause()
            shown = str(app.screen.query_one(FieldHelpPanel).render())
            assert "dpo.max_num_steps" in shown
            assert "Optimizer steps" in shown
            assert "integer" in shown and "≥ 1" in shown
            editor.move_cursor(_line(editor.text, "type: tpe"))
            await pilot.pause()
            shown = str(app.screen.query_one(FieldHelpPanel).render())
            assert "hpo.sampler.type" in shown and "'nsga2'" in shown and "'tpe'" in shown

    run(go())


def test_a_file_changed_on_disk_is_noticed(spec: Path) -> None:
    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            editor = app.screen.query_one(SpecEditor)
            await pilot.pause(0.1)
            # unmodified buffer: reloaded
            spec.write_text(spec.read_text().replace("n_trials: 6", "n_trials: 7"))
            await wait_for(pilot, lambda: "n_trials: 7" in editor.text, timeout=5)
            # modified buffer: kept, with the reload offered
            editor.move_cursor((0, 0))
            await pilot.press("x")
            spec.write_text(spec.read_text().replace("n_trials: 7", "n_trials: 8"))
            await wait_for(pilot, lambda: "changed on disk" in str(editor.border_title),
                           timeout=5)
            assert "n_trials: 7" in editor.text and editor.text.startswith("x")
            await pilot.press("ctrl+o")
            assert "n_trials: 8" in editor.text and not editor.text.startswith("x")

    run(go())


def test_crlf_files_are_saved_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    original = QUICKSTART.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(original)

    async def go() -> None:
        app = create_app(path)
        async with app.run_test(size=SIZE) as pilot:
            editor = app.screen.query_one(SpecEditor)
            row, col = _line(editor.text, "n_trials: 6")
            editor.move_cursor((row, col + len("n_trials: 6")))
            await pilot.press("backspace", "9", "ctrl+s")
            await pilot.pause()
        assert path.read_bytes() == original.replace(b"n_trials: 6", b"n_trials: 9")

    run(go())


def test_quit_asks_again_when_there_are_unsaved_edits(spec: Path) -> None:
    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("x")
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.is_running
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code == 0
        assert spec.read_bytes() == QUICKSTART.read_bytes()

    run(go())


# -- plan -----------------------------------------------------------------------------------

def test_plan_screen_shows_the_trials_of_quickstart() -> None:
    async def go() -> None:
        app = create_app(QUICKSTART)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            assert isinstance(app.screen, PlanScreen)
            table = app.screen.query_one("#plan-trials", DataTable)
            await wait_for(pilot, lambda: table.row_count == 5)
            labels = [str(c.label) for c in table.columns.values()]
            assert labels == ["trial", "feasible", "kwargs.lr", "reference_pol…",
                              "eff.batch", "accum", "steps", "memory"]
            row = [str(c) for c in table.get_row_at(0)]
            assert row[:2] == ["0", "yes"] and row[4:7] == ["8", "2", "30"]
            assert "MiB / " in row[7]
            study = str(app.screen.query_one("#plan-study", Static).render())
            for part in ("tpe", "median", "eval_loss (minimize)", "6",
                         "sqlite:///runs/quickstart/study.db"):
                assert part in study
            # no temporary copy left beside the example
            assert not [p for p in EXAMPLES.iterdir() if "specc-tui" in p.name]

    run(go())


def test_plan_screen_follows_unsaved_edits(spec: Path) -> None:
    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            editor = app.screen.query_one(SpecEditor)
            row, _ = _line(editor.text, "train_micro_batch_size: 4")
            editor.move_cursor((row, len(editor.document.get_line(row))))
            await pilot.press("backspace", "8")
            await pilot.press("f3")
            table = app.screen.query_one("#plan-trials", DataTable)
            await wait_for(pilot, lambda: table.row_count == 5)
            assert [str(c) for c in table.get_row_at(0)][4:6] == ["8", "1"]  # accum 1 now

    run(go())


# -- study ----------------------------------------------------------------------------------

T0 = dt.datetime(2025, 1, 1, 12, 0, 0)


def make_study(url: str, name: str = "quickstart") -> None:
    """A finished study written by Optuna directly: complete, pruned and failed trials."""
    from optuna.distributions import BaseDistribution, FloatDistribution
    from optuna.trial import FrozenTrial, TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=url, study_name=name, direction="minimize")
    dists: dict[str, BaseDistribution] = {
        "policy.optimizer.kwargs.lr": FloatDistribution(1e-5, 2e-2, log=True),
        "dpo.reference_policy_kl_penalty": FloatDistribution(0.05, 0.5)}
    rows = [
        (TrialState.COMPLETE, 0.52, [0.70, 0.61, 0.52], None, 3e-4, 0.2, 95),
        (TrialState.COMPLETE, 0.41, [0.66, 0.50, 0.41], None, 1e-3, 0.3, 101),
        (TrialState.PRUNED, None, [0.93], "pruned at step 10: eval_loss 0.93 is worse than "
         "the median 0.68", 5e-5, 0.1, 31),
        (TrialState.FAIL, None, [], "CUDA out of memory", 1.5e-2, 0.45, 4),
    ]
    for n, (state, value, inter, reason, lr, beta, secs) in enumerate(rows):
        attrs: dict[str, Any] = {"specc_report_steps": [10, 20, 30][:len(inter)]}
        if reason:
            attrs["reason"] = reason
        start = T0 + dt.timedelta(minutes=5 * n)
        study.add_trial(FrozenTrial(
            number=n, state=state, value=value, values=None,
            datetime_start=start, datetime_complete=start + dt.timedelta(seconds=secs),
            params={"policy.optimizer.kwargs.lr": lr, "dpo.reference_policy_kl_penalty": beta},
            distributions=dists, user_attrs=attrs, system_attrs={},
            intermediate_values=dict(enumerate(inter)), trial_id=n))


def test_study_screen_shows_a_study_written_by_optuna(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(QUICKSTART, "quickstart.yaml")
    Path("runs/quickstart").mkdir(parents=True)
    make_study("sqlite:///runs/quickstart/study.db")
    db = Path("runs/quickstart/study.db")
    before = (db.stat().st_mtime_ns, db.read_bytes())

    async def go() -> None:
        app = create_app("quickstart.yaml")  # the spec's default storage
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f4")
            assert isinstance(app.screen, StudyScreen)
            table = app.screen.query_one("#study-trials", DataTable)
            await wait_for(pilot, lambda: table.row_count == 4)
            summary = str(app.screen.query_one("#study-summary", Static).render())
            assert "complete 2" in summary and "pruned 1" in summary and "fail 1" in summary
            assert "best: trial 1" in summary and "eval_loss=0.41" in summary
            assert [str(c.label) for c in table.columns.values()][:3] == ["#", "state",
                                                                          "eval_loss"]
            assert [str(table.get_row_at(i)[0]) for i in range(4)] == ["0", "1", "2", "3"]

            table.move_cursor(row=2)  # the pruned trial
            await pilot.pause()
            detail = str(app.screen.query_one("#trial-detail", Static).render())
            assert "pruned" in detail and "worse than the median" in detail
            assert "31.0s" in detail
            assert app.screen.query_one(ValuesChart).points == ((10, 0.93),)
            table.move_cursor(row=3)
            await pilot.pause()
            assert "CUDA out of memory" in str(
                app.screen.query_one("#trial-detail", Static).render())
            table.move_cursor(row=0)
            await pilot.pause()
            assert app.screen.query_one(ValuesChart).points == ((10, 0.70), (20, 0.61),
                                                                 (30, 0.52))

            await pilot.press("o")  # sort by state
            assert [str(table.get_row_at(i)[1]) for i in range(4)] == [
                "complete", "complete", "pruned", "fail"]
            await pilot.press("o")  # by value: best first, trials without one last
            assert [str(table.get_row_at(i)[0]) for i in range(4)] == ["1", "0", "2", "3"]
            await pilot.press("v")
            assert str(table.get_row_at(0)[0]) == "3"

    run(go())
    assert (db.stat().st_mtime_ns, db.read_bytes()) == before  # read-only
    assert sorted(p.name for p in db.parent.iterdir()) == ["study.db"]


def test_study_screen_follows_new_trials_and_explains_a_missing_study(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import specc.tui.screens.study as study_screen

    monkeypatch.setattr(study_screen, "REFRESH", 0.1)
    url = f"sqlite:///{tmp_path / 'study.db'}"

    async def go() -> None:
        app = create_app(None, storage=url, study="demo")
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.screen, StudyScreen)
            summary = app.screen.query_one("#study-summary", Static)
            await wait_for(pilot, lambda: "no study database" in str(summary.render()))
            make_study(url, "demo")
            table = app.screen.query_one("#study-trials", DataTable)
            await wait_for(pilot, lambda: table.row_count == 4)
            study = optuna.load_study(study_name="demo", storage=url)
            trial = study.ask()
            trial.report(0.8, 0)
            await wait_for(pilot, lambda: table.row_count == 5)
            assert "running 1" in str(summary.render())

    run(go())


WRITER = """
import optuna, sys
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(storage=sys.argv[1], study_name="busy", load_if_exists=True)

def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    for step in range(5):
        trial.report(x * x + 1 / (step + 1), step)
    return x * x

study.optimize(objective, n_trials=int(sys.argv[2]))
print("done", len(study.trials))
"""


def test_study_screen_follows_a_running_writer_without_locking_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process writes trials as fast as it can while the screen reads 20 times a
    second: the writer never sees "database is locked" and the screen ends up with every
    trial."""
    import specc.tui.screens.study as study_screen

    monkeypatch.setattr(study_screen, "REFRESH", 0.05)
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    n = 60
    optuna.create_study(storage=url, study_name="busy")

    async def go() -> None:
        app = create_app(None, storage=url, study="busy")
        async with app.run_test(size=SIZE) as pilot:
            writer = subprocess.Popen([sys.executable, "-c", WRITER, url, str(n)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
            table = app.screen.query_one("#study-trials", DataTable)
            seen = set()
            while writer.poll() is None:
                await pilot.pause(0.05)
                seen.add(table.row_count)
            out, err = writer.communicate()
            assert writer.returncode == 0, err
            assert "locked" not in err and f"done {n}" in out
            await wait_for(pilot, lambda: table.row_count == n)
            assert len(seen) > 2  # it followed the study as it grew

    run(go())


def test_journal_storage_is_read(tmp_path: Path) -> None:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = tmp_path / "study.journal"
    storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(storage=storage, study_name="j", direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    snap = StudyReader(f"journal:{path}", "j").read()
    assert snap.counts["COMPLETE"] == 3 and snap.directions == ("maximize",)
    assert snap.storage == str(path)  # shown as Optuna's CLI and dashboard take it
    assert StudyReader(str(path), "j").read().counts["COMPLETE"] == 3  # and read back
    assert snap.best[0].values == (max(cast(float, t.value) for t in study.trials),)


def test_sqlite_is_opened_read_only() -> None:
    assert read_only_url("sqlite:///runs/x/study.db") == \
        "sqlite:///file:runs/x/study.db?mode=ro&uri=true"
    assert read_only_url("postgresql://u@h/db") == "postgresql://u@h/db"


# -- key paths ------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "column", "path"), [
    ("  max_num_steps: 30", 4, ("dpo", "max_num_steps")),
    ("    kwargs: {lr: 1.0e-4, weight_decay: 0.0}", 15, ("policy", "optimizer", "kwargs",
                                                          "lr")),
    ("    kwargs: {lr: 1.0e-4, weight_decay: 0.0}", 30, ("policy", "optimizer", "kwargs",
                                                          "weight_decay")),
    ("  objectives: [{metric: eval_loss, direction: minimize}]", 20,
     ("hpo", "objectives", 0, "metric")),
    ("    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5,", 36,
     ("hpo", "search_space", "policy.optimizer.kwargs.lr", "type")),
])
def test_key_path_under_the_cursor(line: str, column: int, path: tuple[str | int, ...]) -> None:
    text = QUICKSTART.read_text()
    row, _ = _line(text, line.strip())
    assert key_path(text, row, column) == path


def test_key_path_in_block_lists() -> None:
    text = "hpo:\n  objectives:\n    - metric: eval_loss\n      direction: minimize\n"
    assert key_path(text, 2, 8) == ("hpo", "objectives", 0, "metric")
    assert key_path(text, 3, 8) == ("hpo", "objectives", 0, "direction")


# -- import boundary and start-up -----------------------------------------------------------

PROBE = """
import asyncio, json, sys, time
t0 = time.perf_counter()
from specc.tui import create_app

async def main():
    app = create_app({file!r}, storage={storage!r})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = time.perf_counter() - t0
        for key in ("f3", "f4", "f2"):
            await pilot.press(key)
            await pilot.pause(0.8)
        await pilot.press("ctrl+q")
    print(json.dumps({{"first_screen_s": first, "rc": app.return_code,
                      "modules": sorted(sys.modules)}}))

asyncio.run(main())
"""


def test_tui_never_imports_the_runtime_or_training_stack(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    make_study(url)
    code = PROBE.format(file=str(QUICKSTART), storage=url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    mods = set(result["modules"])
    assert {"specc.compiler.plan", "optuna", "textual"} <= mods  # every screen really ran
    heavy = sorted(m for m in mods if m.split(".")[0] in ("torch", "trl", "transformers",
                                                          "peft", "datasets", "accelerate")
                   or m.startswith("specc.runtime"))
    assert heavy == []
    assert result["rc"] == 0
    # start-up time is measured by benchmarks/tui_startup.py, not asserted here
