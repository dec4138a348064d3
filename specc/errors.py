"""specc's exceptions: one hierarchy under :class:`SpeccError`.

A problem in a spec is never raised while it is checked (it is a diagnostic); these are
raised by the Python API and the runtime when a command cannot go on. Catch
:class:`SpeccError` for all of them. This module imports nothing at run time, so every layer
can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specc.spec.diagnostics import Diagnostic

__all__ = ["RunError", "SpecError", "SpeccError"]


class SpeccError(Exception):
    """Base class of every exception specc raises on purpose."""


class RunError(SpeccError, ValueError):
    """The study cannot start as asked (storage, sampler dependencies, a study of another
    shape under the same name)."""


class SpecError(SpeccError, ValueError):
    """A spec with errors. ``diagnostics`` holds every problem found (errors first);
    ``texts`` the source texts, for rendering with positions."""

    def __init__(self, file: str, diagnostics: Sequence[Diagnostic],
                 texts: dict[str, str] | None = None) -> None:
        self.file = file
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.severity.value != "error",
                                                              d.sort_key()))
        self.texts = texts or {}
        errors = [d for d in self.diagnostics if d.severity.value == "error"]
        lines = [f"{d.file or file}:{d.line}:{d.column}: {d.code} {d.message}"
                 for d in errors[:20]]
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{file}: {len(errors)} error(s) in the spec\n" + "\n".join(lines)
                         + more)
