"""The semantic difference of two specs (`specc diff`).

Both sides are loaded and resolved as `specc validate` does (extends/defaults, overrides,
dialects, presets and profiles, `${...}`), validated against the schema, and dumped from
the model, so every default is filled in. The two trees are flattened to key paths and
compared value by value: key order, comments, formatting, quoting, `1e-4` vs `0.0001`, and
a default written out vs left out make no difference. The `hpo` block is compared apart
from the training settings.

A side may be a spec file, a trial of a run (``RUNDIR/trials/<n>``, ``RUNDIR#<n>``: the
trial's ``spec.yaml``), or a run folder (its ``best.yaml``). Spec layer only.
"""

from __future__ import annotations

import math
import os
from dataclasses import field
from typing import Any, Literal

from specc.spec.diagnostics import Collector, dotted
from specc.spec.loader import Loaded, load
from specc.spec.locations import Path
from specc.spec.models import Spec
from specc.spec.records import record
from specc.spec.schema_check import validate_model

ChangeKind = Literal["changed", "added", "removed", "same"]
#: What a trial folder and a run folder hold (see `specc.runtime.outputs`).
TRIAL_SPEC = "spec.yaml"
BEST_SPEC = "best.yaml"
TRIALS = "trials"
#: Keys the loader consumes: never part of the resolved spec.
_CONSUMED = ("extends", "defaults")


@record(frozen=True)
class Where:
    """file:line where a side writes a value."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@record(frozen=True)
class Change:
    """One key path that differs (or, with ``--all``, is the same) between the sides."""

    path: Path
    kind: ChangeKind
    old: Any = None
    new: Any = None
    a: Where | None = None
    b: Where | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": dotted(self.path), "kind": self.kind}
        if self.kind != "added":
            out["old"] = self.old
        if self.kind != "removed":
            out["new"] = self.new
        out["a"] = str(self.a) if self.a else None
        out["b"] = str(self.b) if self.b else None
        return out


@record
class Side:
    """One resolved side of a diff."""

    label: str
    file: str
    loaded: Loaded
    flat: dict[Path, Any]

    @property
    def has_hpo(self) -> bool:
        return any(p[:1] == ("hpo",) and v is not None for p, v in self.flat.items())

    def where(self, path: Path) -> Where | None:
        loc = self.loaded.locations.values.get(path)
        return Where(loc.file, loc.line) if loc is not None and loc.line else None


@record
class SemDiff:
    """The result: training settings and `hpo` changes, apart."""

    a: Side
    b: Side
    settings: list[Change] = field(default_factory=list)
    hpo: list[Change] = field(default_factory=list)
    #: "a" or "b" when only that side has an `hpo` block (a search vs a single run).
    hpo_only_in: Literal["a", "b"] | None = None

    @property
    def identical(self) -> bool:
        return not any(c.kind != "same" for c in [*self.settings, *self.hpo])

    def counts(self) -> dict[str, int]:
        out = {"changed": 0, "added": 0, "removed": 0}
        for c in [*self.settings, *self.hpo]:
            if c.kind != "same":
                out[c.kind] += 1
        return out


def spec_file(arg: str, diags: Collector) -> str | None:
    """The spec file ``arg`` names: a file, ``RUNDIR#<n>``, a trial folder, a run folder."""
    head, sep, number = arg.rpartition("#")
    if sep and number.isdigit() and os.path.isdir(head):
        return _trial(head, int(number), arg, diags)
    if os.path.isdir(arg):
        for name in (TRIAL_SPEC, BEST_SPEC):
            candidate = os.path.join(arg, name)
            if os.path.isfile(candidate):
                return candidate
        diags.add("Y001", f"{arg} is a folder without {TRIAL_SPEC} (a trial) or {BEST_SPEC} "
                  "(a finished run)", file=arg,
                  hint="give a spec file, RUNDIR/trials/<n>, RUNDIR#<n> or a run folder")
        return None
    return arg


def _trial(rundir: str, number: int, arg: str, diags: Collector) -> str | None:
    path = os.path.join(rundir, TRIALS, str(number), TRIAL_SPEC)
    if os.path.isfile(path):
        return path
    trials = os.path.join(rundir, TRIALS)
    have = sorted(int(n) for n in os.listdir(trials) if n.isdigit() and os.path.isfile(
        os.path.join(trials, n, TRIAL_SPEC))) if os.path.isdir(trials) else []
    shown = ", ".join(map(str, have[:20])) + (", ..." if len(have) > 20 else "")
    diags.add("Y001", f"{arg}: the run has no trial {number} ({path} does not exist)",
              file=arg, hint=f"trials with a spec: {shown}" if have else
              f"{rundir} has no {TRIALS}/<n>/{TRIAL_SPEC}: is it a run folder?")
    return None


def resolve_side(arg: str, diags: Collector) -> Side | None:
    """Load, resolve and validate one side; None (with diagnostics) when it cannot be
    resolved into a spec: unreadable, YAML, `extends`, interpolation or schema errors."""
    file = spec_file(arg, diags)
    if file is None:
        return None
    scratch = Collector()
    loaded = load(file, scratch)
    problems = [d for d in scratch if d.severity.value == "error"]
    model = None
    if loaded.data is not None and not problems:
        model = validate_model(loaded.data, scratch.scoped(loaded.locations, file))
    diags.extend(d for d in scratch if d.severity.value == "error")
    if not isinstance(model, Spec):
        return None
    dumped = model.model_dump(warnings=False)
    for key in _CONSUMED:
        dumped.pop(key, None)
    return Side(arg, file, loaded, flatten(dumped))


def flatten(node: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Key path -> value; mappings and lists of mappings open up, scalar lists are values."""
    out: dict[Path, Any] = {}
    if isinstance(node, dict) and node:
        for k, v in node.items():
            out.update(flatten(v, (*prefix, k)))
    elif isinstance(node, list) and any(isinstance(v, dict | list) for v in node):
        for i, v in enumerate(node):
            out.update(flatten(v, (*prefix, i)))
    else:
        out[prefix] = node
    return out


def same(x: Any, y: Any) -> bool:
    """Semantic equality: 1 == 1.0, but true is not 1; lists element by element."""
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    return bool(x == y) and (x is None) == (y is None)


def _prune(flat: dict[Path, Any], other: dict[Path, Any]) -> dict[Path, Any]:
    """Drop a null (absent block) or empty mapping whose path the other side opens up, so
    `generation: null` vs a written block reads as the block's keys added."""
    opened = {p[:i] for p in other for i in range(1, len(p))}
    return {p: v for p, v in flat.items() if not (p in opened and v in (None, {}, []))}


def _order(a: list[Path], b: list[Path]) -> list[Path]:
    """A's paths in order, each path only B has placed after its predecessor in B (so a
    block added in B reads where B writes it, not at the end)."""
    out = list(a)
    index = {p: i for i, p in enumerate(out)}
    after = -1
    for p in b:
        if p in index:
            after = index[p]
            continue
        out.insert(after + 1, p)
        after += 1
        index = {q: i for i, q in enumerate(out)}
    return out


def semantic_diff(a: Side, b: Side, *, include_same: bool = False) -> SemDiff:
    """Compare two resolved sides."""
    fa, fb = _prune(a.flat, b.flat), _prune(b.flat, a.flat)
    out = SemDiff(a, b)
    if a.has_hpo != b.has_hpo:
        out.hpo_only_in = "a" if a.has_hpo else "b"
    for path in _order(list(fa), list(fb)):
        in_a, in_b = path in fa, path in fb
        if in_a and in_b:
            kind: ChangeKind = "same" if same(fa[path], fb[path]) else "changed"
        else:
            kind = "removed" if in_a else "added"
        if kind == "same" and not include_same:
            continue
        change = Change(path, kind, fa.get(path), fb.get(path), a.where(path) if in_a else None,
                        b.where(path) if in_b else None)
        (out.hpo if path[:1] == ("hpo",) else out.settings).append(change)
    return out
