"""The run log screen: what `specc run`, started with ctrl+r, printed; followed live."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Log

from specc.tui.runner import read_log

if TYPE_CHECKING:
    from specc.tui.app import SpeccApp

#: Seconds between looks at the log file.
FOLLOW = 0.5


class LogScreen(Screen[None]):
    """The log of the run started from the TUI (or of the last one, from its file)."""

    BINDINGS = [
        Binding("escape,l,q", "dismiss", "Close"),
    ]

    app: SpeccApp

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path
        self._offset = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Log(id="run-log", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one(Log)
        log.border_title = f"Run log: {self.path}" if self.path else "Run log"
        log.border_subtitle = "escape closes"
        if self.path is None or not self.path.exists():
            log.write_line("no run log yet: ctrl+r saves the spec and starts `specc run FILE`")
        self._follow()
        self.set_interval(FOLLOW, self._follow)
        log.focus()

    def _follow(self) -> None:
        if self.path is None:
            return
        text, self._offset = read_log(self.path, self._offset)
        if text:
            self.query_one(Log).write(text)

    @property
    def text(self) -> str:
        """What the screen shows (tests read it)."""
        return "\n".join(str(line) for line in self.query_one(Log).lines)
