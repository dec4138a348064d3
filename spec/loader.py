"""Load a spec: read, follow `extends`/`defaults`, apply overrides, interpolate.

The result is plain data plus the location of every value, ready for the
schema and the rules. Problems are diagnostics; nothing here raises on bad
input.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import field
from typing import Any

from specc.spec import dialects, presets
from specc.spec.diagnostics import Collector, dotted
from specc.spec.extends import clone, load_tree
from specc.spec.interpolate import resolve
from specc.spec.keypath import get as get_value
from specc.spec.keypath import parse_override_path as parse_override_path  # noqa: PLC0414
from specc.spec.keypath import set_value
from specc.spec.keypath import split_override as split_override  # noqa: PLC0414
from specc.spec.locations import Loc, Locations, Path
from specc.spec.records import record
from specc.spec.sources import allowed_roots
from specc.spec.yamlio import MAX_BYTES


@record
class Loaded:
    """A spec after merging and interpolation."""

    file: str
    data: dict[str, Any] | None
    locations: Locations
    #: The merged tree before interpolation (search-space points re-resolve from it).
    raw: dict[str, Any] | None = None
    #: Paths whose interpolation failed (their schema errors would be noise).
    broken: set[Path] = field(default_factory=set)
    #: Every file that contributed, in merge order (parents first).
    sources: list[str] = field(default_factory=list)
    #: Source text per file, for rendering snippets.
    texts: dict[str, str] = field(default_factory=dict)
    #: File -> the files it names in `extends`/`defaults`, in merge order, with the key
    #: that named them (for `specc explain`'s chain of files).
    parents: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def load(
    file: str,
    diags: Collector,
    *,
    overrides: list[str] | None = None,
    max_bytes: int = MAX_BYTES,
    text: str | None = None,
    root: str | Sequence[str] | None = None,
) -> Loaded:
    """Load ``file`` (or ``text`` as if it were that file) into a :class:`Loaded`.

    ``extends``/``defaults`` resolve only inside ``file``'s project root, the folders in
    ``root`` and those in ``$SPECC_ROOT`` (see :mod:`specc.spec.sources`)."""
    texts: dict[str, str] = {}
    sources: list[str] = []
    refused: set[Path] = set()
    parents: dict[str, list[tuple[str, str]]] = {}
    roots = _roots(file, root)
    merged = load_tree(file, diags, texts, sources, stack=[], max_bytes=max_bytes, text=text,
                        refused=refused, parents_of=parents, roots=roots)
    if merged is None:
        return Loaded(file, None, Locations(), texts=texts, sources=sources, parents=parents)
    data, locs = clone(merged[0]), merged[1].copy()  # the merged tree is shared (memo)
    # a whole-file layout (TRL CLI, seed 002) is rewritten first: its overrides use
    # specc's paths; the seed HPO blocks take overrides into the block as written
    late = dialects.rewrites_whole_file(data)
    for i, ov in enumerate([] if late else (overrides or [])):
        texts[f"<override {i + 1}>"] = ov
        _apply_override(data, locs, ov, i, diags)
    sub = diags.scoped(locs, file)
    # seed dialects -> `hpo`, then named presets/profiles -> plain keys, before anything
    # reads the tree (search-space points re-resolve from `raw`)
    refused |= dialects.normalise(data, locs, sub, file, algorithm=dialects.override_algorithm(
        overrides) if late else None)
    for i, ov in enumerate((overrides or []) if late else []):
        texts[f"<override {i + 1}>"] = ov
        _apply_override(data, locs, ov, i, diags)
    presets.apply(data, locs, sub, file)
    raw = clone(data)
    broken = resolve(data, sub) | refused
    return Loaded(file, data, locs, raw=raw, broken=broken, sources=sources, texts=texts,
                  parents=parents)


def reresolve(raw: dict[str, Any], diags: Collector) -> dict[str, Any]:
    """Interpolate a copy of a merged tree (used for search-space points)."""
    data = copy.deepcopy(raw)
    resolve(data, diags)
    return data


def _roots(file: str, root: str | Sequence[str] | None) -> tuple[str, ...]:
    return allowed_roots(file, [root] if isinstance(root, str) else list(root or ()))


def _apply_override(data: dict[str, Any], locs: Locations, ov: str, index: int,
                    diags: Collector) -> None:
    file = f"<override {index + 1}>"
    key = ov.partition("=")[0]
    split = split_override(ov)
    if split is None:
        diags.add("R020", f"override `{ov}` is not `path=value`", file=file, line=1, column=1,
                  hint="for example `-o policy.optimizer.kwargs.lr=1e-5`")
        return
    path, value = split
    if not set_value(data, path, value):
        problem, hint = _override_problem(data, path)
        diags.add("R020", f"override `{ov}`: {problem}", file=file, line=1, column=1,
                  hint=hint)
        return
    loc = Loc(file, 1, len(key) + 2, 1, len(ov) + 1)
    locs.drop_subtree(path)
    locs.values[path] = loc
    locs.keys[path] = Loc(file, 1, 1, 1, len(key) + 1)


def _override_problem(data: dict[str, Any], path: Path) -> tuple[str, str]:
    """Why `set_value` could not write ``path`` (the mappings it creates on the way are
    there now, so the first step that is missing or a scalar is the one that stopped it)."""
    for i in range(1, len(path)):
        found, node = get_value(data, path[:i])
        if not found:
            return f"`{dotted(path[:i])}` is not a mapping or list index that exists", \
                "check the path"
        if not isinstance(node, dict | list):
            return f"`{dotted(path[:i])}` holds a value, not a mapping", "check the path"
    return "list index out of range", "check the index"


def source_texts(file: str, overrides: list[str] | None = None,
                 root: str | Sequence[str] | None = None) -> dict[str, str]:
    """The source text of ``file``, its parents and its overrides, for rendering
    diagnostics with their source lines when only the diagnostics were kept."""
    try:
        return load(file, Collector(), overrides=overrides or [], root=root).texts
    except Exception:  # a rendering aid only: never hide the diagnostics themselves
        return {}
