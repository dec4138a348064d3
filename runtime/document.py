"""A spec file open for editing: ``specc.edit(path)`` and `specc set`.

    doc = specc.edit("examples/grpo_local.yaml")
    doc.set("policy.optimizer.kwargs.lr", 1e-4)       # seed 002: update_param(...)
    doc.set("grpo.max_num_steps", 400)
    doc.save("examples/grpo_local_lr1e-4.yaml")       # seed 002: save_config(...)

Edits splice the new value's text into the file (:mod:`specc.spec.edit`): comments,
quoting and layout stay. ``save`` validates the result like `specc validate` and refuses
(:class:`~specc.runtime.api.SpecError`) when the edits introduce errors; errors the file
already had before the edits are reported by :meth:`SpecDocument.check` but do not
block (a base file meant for ``extends`` is never valid alone). The write is atomic.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from specc.errors import SpecError
from specc.spec import keypath
from specc.spec.diagnostics import Collector, Diagnostic, Severity, dotted
from specc.spec.edit import Change, inherited_from, inherited_note, set_value, write_atomic
from specc.spec.locations import Path


def _key(d: Diagnostic) -> tuple[str, str, str]:
    return (d.code, d.path, d.message)


@dataclass
class Check:
    """The edited text validated at its destination, compared with the original."""

    dest: str
    #: Every diagnostic of the edited text (positions in the edited text).
    diagnostics: list[Diagnostic]
    #: Errors and warnings the edits introduced.
    new_errors: list[Diagnostic] = field(default_factory=list)
    new_warnings: list[Diagnostic] = field(default_factory=list)
    #: Errors the file had before the edits (they do not block a save).
    old_errors: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.new_errors


class SpecDocument:
    """One spec file's text with edits applied in memory until :meth:`save`."""

    def __init__(self, file: str) -> None:
        from specc.spec.yamlio import read_text

        diags = Collector()
        text = read_text(file, diags)
        if text is None:
            raise SpecError(file, diags.items)
        with open(file, "rb") as f:
            self._bom = f.read(3) == b"\xef\xbb\xbf"
        self.file = file
        self.original = text
        self._text = text
        self.changes: list[Change] = []
        #: Info lines about the edits (E003 value came from a parent, E004 link broken).
        self.notes: list[Diagnostic] = []

    @property
    def text(self) -> str:
        """The file's text with the edits so far."""
        return self._text

    @property
    def changed(self) -> bool:
        return self._text != self.original

    # reading ------------------------------------------------------------------------------

    def get(self, path: str | Sequence[str | int]) -> Any:
        """The value at ``path`` in the spec as loaded (``extends`` merged, presets and
        ``${...}`` applied) from the current text. KeyError when there is none."""
        from specc.spec.loader import load

        p = _path(path)
        loaded = load(self.file, Collector(), text=self._text)
        found, node = keypath.get(loaded.data, p)
        if not found:
            raise KeyError(dotted(p))
        return copy.deepcopy(node)

    # editing ------------------------------------------------------------------------------

    def set(self, path: str | Sequence[str | int], value: Any) -> SpecDocument:
        """Set ``path`` to ``value`` (None, bool, int, float, str, list, dict) in the text;
        returns the document, for chaining. Raises :class:`SpecError` when the path cannot
        be edited (E001, E002); whether the result is a valid spec is :meth:`save`'s
        question."""
        p = _path(path)
        diags = Collector()
        edited = set_value(self._text, self.file, p, value, diags)
        if edited is None:
            raise SpecError(self.file, diags.items, {self.file: self._text})
        notes = list(edited.notes)
        if edited.change.kind == "insert":
            parent = inherited_from(self.file, self._text, edited.change.path)
            if parent is not None:
                notes.append(inherited_note(self.file, edited, parent))
        self._shift(edited.change)
        self._text = edited.text
        self.changes.append(edited.change)
        self.notes.extend(notes)
        return self

    update_param = set

    def apply(self, assignments: Sequence[str]) -> SpecDocument:
        """Apply ``path=value`` strings, read exactly like ``-o`` overrides."""
        from specc.spec.keypath import split_override

        for a in assignments:
            split = split_override(a)
            if split is None:
                raise ValueError(f"`{a}` is not `path=value`")
            self.set(split[0], split[1])
        return self

    def _shift(self, change: Change) -> None:
        """Keep earlier changes' ``value_at`` pointing at their value in the new text."""
        delta = len(change.new) - len(change.old)
        if not delta:
            return
        for i, c in enumerate(self.changes):
            if c.value_at >= change.start + len(change.old) and c.kind != "unchanged":
                self.changes[i] = Change(c.path, c.kind, c.start, c.old, c.new,
                                         c.value_at + delta)

    # checking and writing -----------------------------------------------------------------

    def validate(self, dest: str | None = None) -> list[Diagnostic]:
        """Every diagnostic of the edited text, as `specc validate` reports it (``extends``
        resolved from ``dest``'s folder when given)."""
        return self.check(dest).diagnostics

    def check(self, dest: str | None = None) -> Check:
        """Validate the edited text at ``dest`` (default: the file) and compare with the
        file before the edits."""
        from specc.compiler.validate import validate_one

        target = dest or self.file
        after = Collector()
        checked = validate_one(target, after, text=self._text)
        before = Collector()
        validate_one(self.file, before, text=self.original)
        seen = {_key(d) for d in before if d.severity is not Severity.INFO}
        items = sorted(after.items, key=Diagnostic.sort_key)
        return Check(
            dest=target,
            diagnostics=items,
            new_errors=[d for d in items if d.severity is Severity.ERROR and _key(d) not in seen],
            new_warnings=[d for d in items
                          if d.severity is Severity.WARNING and _key(d) not in seen],
            old_errors=[d for d in items if d.severity is Severity.ERROR and _key(d) in seen],
            texts=dict(checked.loaded.texts),
        )

    def diff(self, dest: str | None = None) -> str:
        """A unified diff from the file to the edited text."""
        return "".join(difflib.unified_diff(
            self.original.splitlines(keepends=True), self._text.splitlines(keepends=True),
            fromfile=self.file, tofile=dest or self.file))

    def save(self, dest: str | None = None) -> str:
        """Write the edited text to ``dest`` (default: the file itself), atomically and
        keeping the file's mode. Raises :class:`SpecError` (file untouched) when the edits
        introduce errors. Returns the path written."""
        target = dest or self.file
        result = self.check(target)
        if not result.ok:
            raise SpecError(target, result.new_errors, result.texts)
        if target == self.file and not self.changed:
            return target
        write_atomic(target, self._text, bom=self._bom, mode_from=self.file)
        return target

    save_config = save

    def __repr__(self) -> str:
        return f"SpecDocument({self.file!r}, {len(self.changes)} change(s))"


def _path(path: str | Sequence[str | int]) -> Path:
    if isinstance(path, str):
        p = keypath.parse(path)
        if p is None:
            raise ValueError(f"`{path}` is not a key path (e.g. policy.optimizer.kwargs.lr)")
        return p
    return tuple(path)


def edit(file: str | os.PathLike[str]) -> SpecDocument:
    """Open ``file`` for editing (see :class:`SpecDocument`)."""
    return SpecDocument(os.fspath(file))
