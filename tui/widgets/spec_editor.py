"""The spec editor: a YAML TextArea that marks the lines diagnostics point at.

Marks are drawn two ways: the diagnostic's span is styled (through the TextArea's
highlight map, so it scrolls and wraps with the text) and the line gets a dot in the
gutter.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult, TextAreaTheme

from specc.spec.diagnostics import Diagnostic, Severity


def yaml_highlighting() -> bool:
    """Whether tree-sitter and its YAML grammar are installed (``textual[syntax]``)."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("tree_sitter", "tree_sitter_yaml"))


#: Where the tree-sitter YAML highlighter stops being safe. Block nesting of about 254
#: levels (indentation, or `- - -` / `? ? ?` on one line) overflows its scanner's indent
#: stack: a segfault that takes the terminal with it (measured by
#: `benchmarks/tui_highlight_limits.py`); deep flow nesting makes highlighting take
#: minutes on the UI thread; every keystroke re-highlights the whole buffer.
HIGHLIGHT_MAX_COLUMN = 200
HIGHLIGHT_MAX_FLOW = 200
HIGHLIGHT_MAX_CHARS = 256 * 1024
_BLOCK_LEAD = re.compile(r"^[ \t]*(?:[-?:](?:[ \t]+|$))*", re.M)
_BRACKETS = re.compile(r"[^\[\]{}]+")


def highlight_safe(text: str) -> bool:
    """Whether ``text`` can be given to the highlighter: small enough, block nesting
    (counted as columns of indentation and compact ``- ``/``? `` prefixes, an upper bound)
    and flow nesting (brackets, quoted or not: an upper bound) under the limits."""
    if len(text) > HIGHLIGHT_MAX_CHARS:
        return False
    if any(m.end() - m.start() >= HIGHLIGHT_MAX_COLUMN for m in _BLOCK_LEAD.finditer(text)):
        return False
    depth = 0
    for ch in _BRACKETS.sub("", text):
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        if depth >= HIGHLIGHT_MAX_FLOW:
            return False
    return True


_STYLES = {
    Severity.ERROR: Style(color="#ff5f5f", bgcolor="#3a1717", underline=True),
    Severity.WARNING: Style(color="#ffd75f", bgcolor="#3a3117", underline=True),
    Severity.INFO: Style(underline=True),
}
_GUTTER = {Severity.ERROR: ("●", "bold #ff5f5f"), Severity.WARNING: ("●", "bold #ffd75f"),
           Severity.INFO: ("·", "#5fafff")}
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _theme() -> TextAreaTheme:
    base = TextAreaTheme.get_builtin_theme("css")
    styles = dict(base.syntax_styles) if base else {}
    styles.update({f"specc.{sev.value}": style for sev, style in _STYLES.items()})
    return TextAreaTheme(name="specc", syntax_styles=styles)


@dataclass(frozen=True)
class Mark:
    """A diagnostic's place in the buffer (0-based line; columns in characters)."""

    line: int
    start: int
    end: int | None
    severity: Severity


def marks_for(diags: list[Diagnostic], file: str) -> list[Mark]:
    """Marks for the diagnostics located in ``file`` (others are listed, not marked)."""
    out = []
    for d in diags:
        if d.line <= 0 or (d.file and d.file != file):
            continue
        start = max(d.column - 1, 0)
        end = d.end_column - 1 if d.end_line == d.line and d.end_column > d.column else None
        out.append(Mark(d.line - 1, start, end, d.severity))
    return out


class SpecEditor(TextArea):
    """A YAML editor with diagnostic marks."""

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(text, language="yaml" if yaml_highlighting() else None,
                         show_line_numbers=True, soft_wrap=False, **kwargs)  # type: ignore[arg-type]
        self._marks: dict[int, list[Mark]] = {}
        self.register_theme(_theme())
        self.theme = "specc"

    def load_spec(self, text: str) -> bool:
        """Load ``text``, highlighted only when :func:`highlight_safe`; returns whether it
        is (the highlighter never sees an unsafe buffer, not even for a moment)."""
        safe = yaml_highlighting() and highlight_safe(text)
        self.language = None
        self.load_text(text)
        if safe:
            self.language = "yaml"
        return safe

    def edit(self, edit: Edit) -> EditResult:
        """Every change of the buffer: highlighting goes off *before* an edit that could
        make the buffer unsafe for the highlighter (a paste of a deeply nested block, a
        line indented past the limit, brackets piling up)."""
        if self.language is not None and self._unsafe_after(edit):
            self.language = None
            self.notify("syntax highlighting is off: the text is too large or too deeply "
                        "nested for the highlighter", severity="warning", timeout=4)
        return super().edit(edit)

    def _unsafe_after(self, edit: Edit) -> bool:
        text = edit.text
        (r0, c0), (r1, c1) = sorted((edit.from_location, edit.to_location))
        lines = self.document.lines
        if len(text) <= 1 and c0 < HIGHLIGHT_MAX_COLUMN - 2 and text not in ("[", "{"):
            return False  # one key on a short line: cannot reach a limit
        if len(self.document.text) + len(text) > HIGHLIGHT_MAX_CHARS:
            return True
        before = lines[r0][:c0] if r0 < len(lines) else ""
        after = lines[r1][c1:] if r1 < len(lines) else ""
        if not highlight_safe(before + text + after):
            return True
        return ("[" in text or "{" in text) and not highlight_safe(self.document.text + text)

    @property
    def marks(self) -> dict[int, list[Mark]]:
        return self._marks

    def set_marks(self, marks: list[Mark]) -> None:
        by_line: dict[int, list[Mark]] = {}
        for m in marks:
            by_line.setdefault(m.line, []).append(m)
        self._marks = by_line
        self._build_highlight_map()
        self.refresh()

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        if not getattr(self, "_marks", None):
            return
        lines = self.document.lines
        for row, marks in self._marks.items():
            if row >= len(lines):
                continue
            text = lines[row]
            # The highlight map counts bytes of the UTF-8 line.
            for m in sorted(marks, key=lambda m: _RANK[m.severity], reverse=True):
                start = len(text[:m.start].encode())
                end = len(text[:m.end].encode()) if m.end is not None else None
                if m.start >= len(text):  # e.g. a missing value at the end of the line
                    start, end = 0, None
                self._highlights[row].append((start, end, f"specc.{m.severity.value}"))

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if not self._marks or not self.show_line_numbers:
            return strip
        absolute = y + self.scroll_offset.y
        if absolute >= self.wrapped_document.height:
            return strip
        row, _ = self.wrapped_document.offset_to_location(Offset(0, absolute))
        marks = self._marks.get(row)
        if not marks or self.wrapped_document.location_to_offset((row, 0)).y != absolute:
            return strip
        worst = min((m.severity for m in marks), key=_RANK.__getitem__)
        char, style = _GUTTER[worst]
        at = max(self.gutter_width - 2, 0)
        under = next(iter(strip.crop(at, at + 1)), None)
        cell_style = (under.style or Style()) + Style.parse(style) if under else Style.parse(style)
        return Strip.join([strip.crop(0, at), Strip([Segment(char, cell_style)], 1),
                           strip.crop(at + 1)])
