"""The editor screen: the spec, its diagnostics as you type, and help for the key under
the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, TextArea

from specc.tui.files import Stamp
from specc.tui.keypath import key_path
from specc.tui.widgets import DiagnosticsList, FieldHelpPanel, SpecEditor
from specc.tui.widgets.diagnostics import summary
from specc.tui.widgets.spec_editor import marks_for, yaml_highlighting

if TYPE_CHECKING:
    from specc.spec.diagnostics import Diagnostic
    from specc.spec.models import Spec
    from specc.tui.app import SpeccApp

#: Seconds of quiet typing before the buffer is validated.
DEBOUNCE = 0.3
#: Seconds between looks at the file on disk.
POLL = 1.0


@dataclass
class Validated(Message):
    """A validation of buffer ``version`` finished."""

    version: int
    diagnostics: list[Diagnostic]
    spec: Spec | None


class EditorScreen(Screen[None]):
    """Edit the spec; validation runs in a worker after each pause in typing."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+o", "reload", "Reload", show=False),
        Binding("f8", "next_problem", "Next problem"),
        Binding("shift+f8", "next_problem(-1)", "Previous problem", show=False),
        Binding("escape", "focus_editor", "Editor", show=False),
    ]

    app: SpeccApp

    def __init__(self) -> None:
        super().__init__()
        self._debounce: Timer | None = None
        self._changed_on_disk = False
        self._shown_version = -1

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="editor-body"):
            yield SpecEditor(id="spec")
            yield FieldHelpPanel(id="field-help")
        yield DiagnosticsList(id="problems")
        yield Footer()

    @property
    def editor(self) -> SpecEditor:
        return self.query_one(SpecEditor)

    @property
    def problems(self) -> DiagnosticsList:
        return self.query_one(DiagnosticsList)

    def on_mount(self) -> None:
        self.query_one(FieldHelpPanel).border_title = "Key"
        self.problems.border_title = "Problems"
        self._load(from_disk=False)  # create_app has read it
        self.set_interval(POLL, self._check_disk)
        self.editor.focus()
        self.call_after_refresh(self._cursor_moved)  # the schema loads after the first paint

    # -- loading, saving, noticing changes ------------------------------------------------

    def _load(self, *, from_disk: bool = True) -> None:
        session = self.app.session
        if from_disk:
            session.load()
        self._changed_on_disk = False
        editor = self.editor
        highlighted = editor.load_spec(session.text)
        if editor.text != session.text:  # the TextArea keeps one newline style per document
            self.notify("mixed line endings: saving writes one style", severity="warning")
        editor.read_only = session.file is None or bool(session.refused)
        self._update_title()
        if session.refused:  # validate's limits refused the file: say why, read nothing
            self._shown_version = session.version
            self.problems.show(session.refused, str(session.file))
            self.editor.set_marks([])
            self.editor.border_subtitle = summary(session.refused)
            self.notify(f"not opened: {session.refused[0].message} (read-only)",
                        severity="error", timeout=8)
            return
        if not highlighted and session.text and yaml_highlighting():
            self.notify("syntax highlighting is off: the file is too large or too deeply "
                        "nested for the highlighter", severity="warning", timeout=4)
        self._validate_now()

    def action_save(self) -> None:
        session = self.app.session
        problem = session.save(self.editor.text)
        if problem is not None:
            self.notify(problem, severity="error")
            return
        self.saved()
        self.notify(f"saved {session.file}", timeout=2)

    def saved(self) -> None:
        self._changed_on_disk = False
        self._update_title()

    def on_screen_resume(self) -> None:
        self._update_title()  # ctrl+r may have saved the buffer meanwhile

    def action_reload(self) -> None:
        if self.app.session.file is None:
            return
        self._load()
        self.notify(f"reloaded {self.app.session.file}", timeout=2)

    def _check_disk(self) -> None:
        session = self.app.session
        if session.file is None:
            return
        stamp = Stamp.of(session.file)
        if stamp == session.stamp or self._changed_on_disk:
            return
        if not session.dirty and stamp is not None:
            self._load()
            self.notify(f"{session.file} changed on disk: reloaded", timeout=3)
            return
        self._changed_on_disk = True
        self._update_title()
        self.notify(f"{session.file} changed on disk. ctrl+o reloads it (drops your edits); "
                    "ctrl+s keeps yours.", severity="warning", timeout=10)

    def _update_title(self) -> None:
        session = self.app.session
        mark = " ●" if session.dirty else ""
        if self._changed_on_disk:
            mark += " (changed on disk)"
        if session.refused:
            mark += " (not opened: read-only)"
        self.editor.border_title = f"{session.display_name}{mark}"
        self.sub_title = session.display_name

    # -- validation -----------------------------------------------------------------------

    @on(TextArea.Changed, "#spec")
    def _changed(self) -> None:
        session = self.app.session
        text = self.editor.text
        if text == session.text:  # e.g. the Changed that loading posts
            return
        session.text = text
        session.version += 1
        self._update_title()
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, self._validate_now)

    def _validate_now(self) -> None:
        session = self.app.session
        if session.file is None:
            return
        self._validate(str(session.file), session.text, session.version)

    @work(thread=True, group="validate", exit_on_error=False)
    def _validate(self, file: str, text: str, version: int) -> None:
        from specc.compiler.validate import validate_one
        from specc.spec.diagnostics import Collector, Diagnostic
        from specc.spec.yamlio import MAX_BYTES

        diags = Collector()
        if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:  # validate's own limit
            diags.add("Y002", f"the buffer is over the limit of {MAX_BYTES} bytes: not "
                      "validated", file=file, line=1, column=1,
                      hint="specs are small; `specc validate --max-bytes` checks bigger ones")
            self.post_message(Validated(version, diags.items, None))
            return
        try:
            checked = validate_one(file, diags, text=text)
        except Exception as e:  # a bug in a check must not take the editor down
            self.app.call_from_thread(self.notify, f"validation failed: {e!r}",
                                      severity="error")
            return
        self.post_message(Validated(version, sorted(diags.items, key=Diagnostic.sort_key),
                                    checked.spec))

    @on(Validated)
    def _validated(self, event: Validated) -> None:
        session = self.app.session
        if event.spec is not None:
            session.spec = event.spec
        if event.version < self._shown_version:
            return
        self._shown_version = event.version
        file = str(session.file)
        self.problems.show(event.diagnostics, file)
        self.editor.set_marks(marks_for(event.diagnostics, file))
        self.editor.border_subtitle = summary(event.diagnostics)
        self._cursor_moved()

    @on(DiagnosticsList.Jump)
    def _jump(self, event: DiagnosticsList.Jump) -> None:
        editor = self.editor
        editor.move_cursor((event.line - 1, event.column - 1), center=True)
        editor.focus()

    # -- help for the key under the cursor -------------------------------------------------

    @on(TextArea.SelectionChanged, "#spec")
    def _cursor_moved(self) -> None:
        from specc.spec.keypath import render
        from specc.tui.fieldhelp import describe  # the spec models: not at start

        row, col = self.editor.cursor_location
        path = key_path(self.editor.text, row, col)
        here = str(self.app.session.file)
        on_line = [d for d in self.problems.diagnostics
                   if d.line == row + 1 and (not d.file or d.file == here)]
        self.query_one(FieldHelpPanel).show(describe(path), render(path), on_line)

    def action_next_problem(self, step: int = 1) -> None:
        """Move the cursor to the next (``step`` 1) or previous (-1) located problem."""
        diags = self.problems.diagnostics
        here = str(self.app.session.file)
        located = [(i, d) for i, d in enumerate(diags)
                   if d.line and (not d.file or d.file == here)]
        if not located:
            self.notify("no problems to go to", timeout=2)
            return
        row, col = self.editor.cursor_location
        cursor = (row + 1, col + 1)
        ahead = [x for x in located if (x[1].line, max(x[1].column, 1)) > cursor] if step > 0 \
            else [x for x in located if (x[1].line, max(x[1].column, 1)) < cursor]
        index, d = (ahead[0] if ahead else located[0]) if step > 0 else \
            (ahead[-1] if ahead else located[-1])
        self.problems.highlighted = index
        self.editor.move_cursor((d.line - 1, max(d.column, 1) - 1), center=True)
        self.editor.focus()

    def action_focus_editor(self) -> None:
        self.editor.focus()
