"""`specc tui`: edit a spec with live diagnostics, see its plan, run and follow its study.

Three screens, one per mode (each keeps its state when you switch away): the editor, the
plan and the study. Slow work (validation, planning, reading the study) runs in thread
workers. ctrl+r saves the spec and starts `specc run FILE` as a child process
(:mod:`specc.tui.runner`); the study screen follows it through its storage. Never
imports torch, TRL or ``specc.runtime``; Optuna only when the study screen first reads.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from textual.actions import SkipAction
from textual.app import App
from textual.binding import Binding
from textual.widgets import TextArea

from specc.tui.runner import LOG_NAME, StudyRun, run_command
from specc.tui.screens import EditorScreen, HelpScreen, LogScreen, PlanScreen, StudyScreen
from specc.tui.session import Session

#: Seconds within which a second ctrl+q quits despite unsaved edits or a running study.
CONFIRM_QUIT = 3.0
#: Seconds between looks at the running study's process.
WATCH = 0.5


class SpeccApp(App[int]):
    """The specc terminal app."""

    CSS_PATH = "app.tcss"
    TITLE = "specc"
    MODES = {"editor": EditorScreen, "plan": PlanScreen, "study": StudyScreen}
    BINDINGS = [
        Binding("ctrl+r", "run_study", "Run", priority=True),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f2", "mode('editor')", "Editor"),
        Binding("e", "mode('editor')", "Editor", show=False),
        Binding("f3", "mode('plan')", "Plan"),
        Binding("p", "mode('plan')", "Plan", show=False),
        Binding("f4", "mode('study')", "Study"),
        Binding("s", "mode('study')", "Study", show=False),
        Binding("ctrl+c", "stop_run", "Stop the run", show=False, priority=True),
        Binding("l", "run_log", "Log", show=False),
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
        #: the `specc run` started with ctrl+r (the last one, once it has ended)
        self.study_run: StudyRun | None = None
        self._announced: int | None = None  # the run whose end was announced

    def on_mount(self) -> None:
        self.sub_title = self.session.display_name
        self.switch_mode(self._start)
        self.set_interval(WATCH, self._watch_run)

    def action_mode(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- running the study ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.study_run is not None and self.study_run.running

    def log_path(self) -> Path:
        """Where the next run's log goes: the run's output folder, else a temporary one."""
        out = self.session.output_dir()
        if out is None:
            out = Path(tempfile.mkdtemp(prefix="specc-tui-"))
        return out / LOG_NAME

    def action_run_study(self) -> None:
        """Save the spec and start `specc run FILE` (resuming its study)."""
        session = self.session
        if self.running:
            self.notify("the study is running: ctrl+c (or x on the study screen) stops it",
                        severity="warning")
            return
        if session.file is None:
            self.notify("no spec to run: start with `specc tui FILE`", severity="error")
            return
        if session.dirty or not session.file.exists():
            problem = session.save()
            if problem is not None:
                self.notify(problem, severity="error")
                return
        run = StudyRun(run_command(session.file, storage=session.storage, study=session.study),
                       self.log_path())
        try:
            run.start()
        except OSError as e:
            self.notify(f"cannot start `specc run`: {e}", severity="error")
            return
        self.study_run = run
        self.notify(f"started specc run {session.file} (l shows its log)", timeout=4)
        self.action_mode("study")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_run":  # ctrl+c copies, x is free, when nothing runs
            return self.running
        return True

    def action_stop_run(self) -> None:
        """Stop the running study as Ctrl-C does in a terminal (the running trial is
        marked interrupted; ctrl+r resumes). Without one, or with text selected in the
        editor, ctrl+c keeps its usual job (copy)."""
        run = self.study_run
        if run is None or not run.running:
            raise SkipAction()
        focused = self.focused
        if isinstance(focused, TextArea) and focused.selected_text:
            raise SkipAction()  # the editor's copy: a selection is not a request to stop
        asked = run.stop_asked is not None
        run.stop()
        self.notify("still stopping: the running trial is being marked" if asked else
                    "stopping the study: the running trial is marked interrupted; "
                    "ctrl+r resumes it", timeout=5)

    def action_run_log(self) -> None:
        if isinstance(self.screen, LogScreen):
            return
        path = self.study_run.log if self.study_run is not None else None
        if path is None:
            out = self.session.output_dir()
            path = out / LOG_NAME if out is not None else None
        self.push_screen(LogScreen(path))

    def _watch_run(self) -> None:
        run = self.study_run
        if run is None or run.running or self._announced == id(run):
            return
        self._announced = id(run)
        code = run.returncode
        status = run.status
        if status == "finished":
            self.notify("the study finished", timeout=5)
        elif status == "stopped":
            self.notify("the study stopped: ctrl+r resumes it", timeout=6)
        else:
            self.notify(f"`specc run` ended with status {code}: l shows its log",
                        severity="error", timeout=10)

    async def action_quit(self) -> None:
        now = time.monotonic()
        if (self.session.dirty or self.running) and now - self._quit_asked > CONFIRM_QUIT:
            self._quit_asked = now
            what = "a study is running: ctrl+q again stops it and quits" if self.running \
                else "unsaved edits: ctrl+s saves; ctrl+q again quits without saving"
            self.notify(what, severity="warning", timeout=CONFIRM_QUIT)
            return
        run = self.study_run
        if run is not None and run.running:
            self.notify("stopping the study…", timeout=30)
            await asyncio.to_thread(run.stop_and_wait)
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
