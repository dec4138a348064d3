"""Diagnostics are data: one frozen value type, collected and never raised.

Every check in specc adds :class:`Diagnostic` values to a :class:`Collector`.
Nothing renders or decides the exit status here; ``render.py`` renders and
:func:`exit_code` decides, once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import field, replace
from typing import TYPE_CHECKING

from specc.spec.codes import CODES, UNREADABLE
from specc.spec.keypath import render
from specc.spec.records import record

if TYPE_CHECKING:
    from specc.spec.locations import Locations, Path


class Severity(enum.StrEnum):
    """How bad a diagnostic is. Only errors fail `specc validate`."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ExitCode(enum.IntEnum):
    """The exit status of every specc command, decided in one place."""

    OK = 0
    ERRORS = 1
    USAGE = 2


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@record(frozen=True, slots=True)
class Diagnostic:
    """One problem (or remark) about a spec, with where it is and how to fix it.

    ``line`` and ``column`` are 1-based and always at least 1: a problem of the file as
    a whole (it is empty, unreadable, not a mapping) points at line 1, column 1.
    ``path`` is the dotted key path inside the spec.
    """

    code: str
    severity: Severity
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    path: str = ""
    hint: str = ""
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        if self.line < 1:
            object.__setattr__(self, "line", 1)
        if self.column < 1:
            object.__setattr__(self, "column", 1)

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.file, self.line, self.column, _SEVERITY_ORDER[self.severity], self.code,
                self.path)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "path": self.path,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


#: Render a key path as ``policy.scheduler[1].kwargs.factor`` (:func:`keypath.render`).
dotted = render


@record
class Collector:
    """Collects diagnostics; knows the source locations of the spec it checks.

    ``locations`` maps key paths to where they were written, so a rule only
    says *which key* is wrong and the collector finds file, line and column.
    """

    locations: Locations | None = None
    default_file: str = ""
    items: list[Diagnostic] = field(default_factory=list)
    _seen: set[tuple[str, str, str, int, int, str]] = field(default_factory=set)

    def add(
        self,
        code: str,
        message: str,
        *,
        path: Path = (),
        hint: str = "",
        severity: Severity | None = None,
        on_key: bool = False,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> Diagnostic:
        """Record one diagnostic at ``path`` (its value, or its key with ``on_key``)."""
        info = CODES.get(code)
        if info is None:  # a programming error: every code must be registered
            raise KeyError(f"diagnostic code {code!r} is not registered in codes.py")
        sev = severity or Severity(info.severity)
        f, ln, col, eln, ecol = self.default_file, 0, 0, 0, 0
        if self.locations is not None and path:
            loc = self.locations.find(path, on_key=on_key)
            if loc is not None:
                f, ln, col, eln, ecol = loc.file, loc.line, loc.column, loc.end_line, loc.end_column
        if file is not None:
            f = file
        if line is not None:
            ln, eln = line, 0
        if column is not None:
            col, ecol = column, 0
        diag = Diagnostic(
            code=code, severity=sev, message=message, file=f, line=ln, column=col,
            path=dotted(path), hint=hint, end_line=eln, end_column=ecol,
        )
        key = (f, code, diag.path, ln, col, message)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(diag)
        return diag

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            key = (d.file, d.code, d.path, d.line, d.column, d.message)
            if key not in self._seen:
                self._seen.add(key)
                self.items.append(d)

    def scoped(self, locations: Locations | None, file: str) -> Collector:
        """A collector that adds to this one's list but locates paths in ``locations``."""
        other = Collector(locations=locations, default_file=file, items=self.items)
        other._seen = self._seen
        return other

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def exit_code(diags: Iterable[Diagnostic], *, usage_error: bool = False) -> ExitCode:
    """0 when no errors (warnings allowed), 1 on errors, 2 on usage/unreadable input."""
    items = list(diags)
    if usage_error or any(d.code in UNREADABLE for d in items):
        return ExitCode.USAGE
    if any(d.severity is Severity.ERROR for d in items):
        return ExitCode.ERRORS
    return ExitCode.OK


def with_severity(diag: Diagnostic, severity: Severity) -> Diagnostic:
    return replace(diag, severity=severity)
