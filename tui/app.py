"""`specc tui`: edit a spec with live diagnostics, see its plan, follow its study.

Three screens, one per mode (each keeps its state when you switch away): the editor, the
plan and the study. Slow work (validation, planning, reading the study) runs in thread
workers. Never imports torch, TRL or ``specc.runtime``; Optuna only when the study
screen first reads.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from specc.tui.screens import EditorScreen, HelpScreen, PlanScreen, StudyScreen
from specc.tui.session import Session

#: Seconds within which a second ctrl+q quits despite unsaved edits.
CONFIRM_QUIT = 3.0


class SpeccApp(App[int]):
    """The specc terminal app."""

    CSS_PATH = "app.tcss"
    TITLE = "specc"
    MODES = {"editor": EditorScreen, "plan": PlanScreen, "study": StudyScreen}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f2", "mode('editor')", "Editor"),
        Binding("e", "mode('editor')", "Editor", show=False),
        Binding("f3", "mode('plan')", "Plan"),
        Binding("p", "mode('plan')", "Plan", show=False),
        Binding("f4", "mode('study')", "Study"),
        Binding("s", "mode('study')", "Study", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, session: Session, *, start: str = "editor",
                 preview: int | None = None) -> None:
        super().__init__()
        self.session = session
        self.preview = preview
        self._start = start
        self._quit_asked = 0.0

    def on_mount(self) -> None:
        self.sub_title = self.session.display_name
        self.switch_mode(self._start)

    def action_mode(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        now = time.monotonic()
        if self.session.dirty and now - self._quit_asked > CONFIRM_QUIT:
            self._quit_asked = now
            self.notify("unsaved edits: ctrl+s saves; ctrl+q again quits without saving",
                        severity="warning", timeout=CONFIRM_QUIT)
            return
        self.exit(0)


def create_app(file: str | Path | None = None, *, storage: str | None = None,
               study: str | None = None, preview: int | None = None,
               start: str | None = None) -> SpeccApp:
    """The app for ``file`` (tests build it here and drive it with ``run_test``).

    Starts on the editor, or on the study screen when only a storage is given."""
    session = Session(Path(file) if file is not None else None, storage=storage, study=study)
    session.load()
    if start is None:
        start = "study" if file is None and storage else "editor"
    return SpeccApp(session, start=start, preview=preview)
