"""SVG snapshots of each screen of `specc tui` (pytest-textual-snapshot).

After an intended change of the look: `make snapshots`, then review the SVGs in
tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna  # noqa: F401  (the study screen needs it: a missing one fails here)
import pytest
import pytest_textual_snapshot  # noqa: F401  (the snap_compare fixture)
from test_tui import make_study, wait_for
from textual.pilot import Pilot
from textual.widgets import DataTable

from specc.tui import create_app
from specc.tui.screens import EditorScreen
from specc.tui.widgets import SpecEditor
from specc.tui.widgets.spec_editor import yaml_highlighting

from conftest import EXAMPLES

SIZE = (100, 30)
Snap = Callable[..., bool]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the quickstart spec and its finished study, as the current directory
    (so every path on screen is the same on every machine). The quickstart's `gpu: CPU`
    fits the host's memory: pinned to the figure the snapshots show, so they do not
    depend on the RAM of the machine they run on."""
    monkeypatch.setattr("specc.compiler.fit.host_memory_bytes", lambda: int(23.6 * 1024**3))
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(EXAMPLES / "quickstart.yaml", "quickstart.yaml")
    Path("runs/quickstart").mkdir(parents=True)
    make_study("sqlite:///runs/quickstart/study.db")
    return tmp_path


async def _editor_settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    editor = app.screen.query_one(SpecEditor)
    editor.cursor_blink = False
    screen = app.screen
    assert isinstance(screen, EditorScreen)
    await wait_for(pilot, lambda: screen._shown_version == app.session.version)  # type: ignore[attr-defined]


@pytest.mark.skipif(not yaml_highlighting(), reason="snapshot taken with YAML highlighting")
def test_editor_with_a_typo(workdir: Path, snap_compare: Snap) -> None:
    spec = Path("quickstart.yaml")
    spec.write_text(spec.read_text().replace("max_num_steps", "max_num_stepz"))

    async def before(pilot: Pilot[Any]) -> None:
        await _editor_settled(pilot)
        await pilot.press("f8")  # to the problem: the help panel and the mark in view

    assert snap_compare(create_app("quickstart.yaml"), terminal_size=SIZE, run_before=before)


def test_plan(workdir: Path, snap_compare: Snap) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _editor_settled(pilot)
        await pilot.press("f3")
        table = pilot.app.screen.query_one("#plan-trials", DataTable)
        await wait_for(pilot, lambda: table.row_count == 5)

    assert snap_compare(create_app("quickstart.yaml"), terminal_size=SIZE, run_before=before)


def test_study(workdir: Path, snap_compare: Snap) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _editor_settled(pilot)
        await pilot.press("f4")
        table = pilot.app.screen.query_one("#study-trials", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.press("down", "down")  # the pruned trial: its reason and chart

    assert snap_compare(create_app("quickstart.yaml"), terminal_size=SIZE, run_before=before)


def test_help(workdir: Path, snap_compare: Snap) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _editor_settled(pilot)
        await pilot.press("f1")

    assert snap_compare(create_app("quickstart.yaml"), terminal_size=(80, 24),
                        run_before=before)
