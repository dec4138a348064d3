"""Load a spec: read, follow `extends`/`defaults`, apply overrides, interpolate.

The result is plain data plus the location of every value, ready for the
schema and the rules. Problems are diagnostics; nothing here raises on bad
input.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any

from specc.spec import dialects, presets
from specc.spec.diagnostics import Collector, dotted
from specc.spec.interpolate import resolve
from specc.spec.keypath import parse_override_path as parse_override_path  # noqa: PLC0414
from specc.spec.keypath import split_override as split_override  # noqa: PLC0414
from specc.spec.locations import Loc, Locations, Path
from specc.spec.yamlio import MAX_BYTES, parse, read_text

PARENT_KEYS = ("extends", "defaults")
MAX_EXTENDS_DEPTH = 32


@dataclass
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
) -> Loaded:
    """Load ``file`` (or ``text`` as if it were that file) into a :class:`Loaded`."""
    texts: dict[str, str] = {}
    sources: list[str] = []
    refused: set[Path] = set()
    parents: dict[str, list[tuple[str, str]]] = {}
    merged = _load_tree(file, diags, texts, sources, stack=[], max_bytes=max_bytes, text=text,
                        refused=refused, parents_of=parents)
    if merged is None:
        return Loaded(file, None, Locations(), texts=texts, sources=sources, parents=parents)
    data, locs = merged
    for i, ov in enumerate(overrides or []):
        texts[f"<override {i + 1}>"] = ov
        _apply_override(data, locs, ov, i, diags)
    sub = diags.scoped(locs, file)
    # seed dialects -> `hpo`, then named presets/profiles -> plain keys, before anything
    # reads the tree (search-space points re-resolve from `raw`)
    dialects.normalise(data, locs, sub, file)
    presets.apply(data, locs, sub, file)
    raw = copy.deepcopy(data)
    broken = resolve(data, sub) | refused
    return Loaded(file, data, locs, raw=raw, broken=broken, sources=sources, texts=texts,
                  parents=parents)


def reresolve(raw: dict[str, Any], diags: Collector) -> dict[str, Any]:
    """Interpolate a copy of a merged tree (used for search-space points)."""
    data = copy.deepcopy(raw)
    resolve(data, diags)
    return data


def _load_tree(
    file: str,
    diags: Collector,
    texts: dict[str, str],
    sources: list[str],
    *,
    stack: list[str],
    max_bytes: int,
    text: str | None = None,
    parent_loc: Loc | None = None,
    refused: set[Path] | None = None,
    parents_of: dict[str, list[tuple[str, str]]] | None = None,
) -> tuple[dict[str, Any], Locations] | None:
    try:
        real = os.path.realpath(file)
        os.fsencode(file)
    except (ValueError, UnicodeError, OSError) as e:
        where = parent_loc or Loc(file.encode("utf-8", "replace").decode(), 0, 0)
        diags.add("R001", f"`{file!a}` is not a usable file name ({type(e).__name__})",
                  file=where.file, line=where.line, column=where.column,
                  hint="file names cannot hold NUL bytes or unpaired surrogates")
        return None
    if real in stack:
        chain = " -> ".join(os.path.basename(s) for s in [*stack, real])
        where = parent_loc or Loc(file, 0, 0)
        diags.add("R002", f"`extends` cycle: {chain}", file=where.file, line=where.line,
                  column=where.column, hint="remove one of the references")
        return None
    if len(stack) > MAX_EXTENDS_DEPTH:
        diags.add("R002", f"`extends` chain deeper than {MAX_EXTENDS_DEPTH}", file=file,
                  hint="flatten the chain")
        return None
    if text is None:
        if parent_loc is not None and not os.path.isfile(file):
            diags.add("R001", f"`{os.path.basename(file)}` not found (looked for {file})",
                      file=parent_loc.file, line=parent_loc.line, column=parent_loc.column,
                      hint="paths in `extends` are relative to the file that names them")
            return None
        text = read_text(file, diags, max_bytes=max_bytes)
        if text is None:
            return None
    texts[file] = text
    parsed = parse(text, file, diags)
    if parsed is None:
        return None
    data = parsed.data
    if refused is not None:
        refused |= parsed.refused
    if not isinstance(data, dict):
        diags.add("Y016", "a spec must be a mapping of keys at the top level", file=file,
                  line=1, column=1, hint="start with `specc: 1` and `name: ...`")
        return None
    locs = parsed.locations
    parents: list[tuple[str, Loc]] = []
    named: list[tuple[str, str]] = []
    for key in PARENT_KEYS:
        if key not in data:
            continue
        value = data.pop(key)
        vloc = locs.values.get((key,)) or Loc(file, 0, 0)
        names: list[Any] = value if isinstance(value, list) else [value]
        for i, name in enumerate(names):
            nloc = locs.values.get((key, i), vloc) if isinstance(value, list) else vloc
            if not isinstance(name, str) or not name.strip():
                diags.add("R003", f"`{key}` must name spec files, got {name!r}", file=nloc.file,
                          line=nloc.line, column=nloc.column,
                          hint=f"`{key}: base.yaml` or `{key}: [a.yaml, b.yaml]`")
                continue
            parents.append((os.path.join(os.path.dirname(file), name), nloc))
            named.append((parents[-1][0], key))
        locs.drop_subtree((key,))
        locs.values.pop((key,), None)
        locs.keys.pop((key,), None)
    if parents_of is not None and named:
        parents_of[file] = named
    base: dict[str, Any] = {}
    base_locs = Locations()
    for pfile, ploc in parents:
        loaded = _load_tree(pfile, diags, texts, sources, stack=[*stack, real],
                            max_bytes=max_bytes, parent_loc=ploc, refused=refused,
                            parents_of=parents_of)
        if loaded is None:
            continue
        pdata, plocs = loaded
        _merge(base, base_locs, pdata, plocs, ())
    sources.append(file)
    if not parents:
        return data, locs
    _merge(base, base_locs, data, locs, ())
    base_locs.values[()] = locs.values.get((), Loc(file, 1, 1))
    return base, base_locs


def _merge(dst: dict[str, Any], dlocs: Locations, src: dict[str, Any], slocs: Locations,
           prefix: Path) -> None:
    """Deep-merge ``src`` into ``dst``: mappings merge, everything else replaces."""
    for k, v in src.items():
        p = (*prefix, k)
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], dlocs, v, slocs, p)
            if p in slocs.keys:
                dlocs.keys[p] = slocs.keys[p]
            continue
        dst[k] = copy.deepcopy(v)
        dlocs.set_subtree(p, slocs, p)
        for table, mine in ((slocs.values, dlocs.values), (slocs.keys, dlocs.keys)):
            if p in table:
                mine[p] = table[p]


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
    node: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int)
            and 0 <= part < len(node) else None)
        if nxt is None:
            if not isinstance(node, dict):
                diags.add("R020", f"override `{ov}`: `{dotted(path[: i + 1])}` is not a mapping "
                          "or list index that exists", file=file, line=1, column=1,
                          hint="check the path")
                return
            nxt = {}
            node[part] = nxt
        elif not isinstance(nxt, dict | list):
            diags.add("R020", f"override `{ov}`: `{dotted(path[: i + 1])}` holds a value, not a "
                      "mapping", file=file, line=1, column=1, hint="check the path")
            return
        node = nxt
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or not 0 <= last < len(node):
            diags.add("R020", f"override `{ov}`: list index out of range", file=file, line=1,
                      column=1, hint="check the index")
            return
        node[last] = value
    else:
        node[last] = value
    loc = Loc(file, 1, len(key) + 2, 1, len(ov) + 1)
    locs.drop_subtree(path)
    locs.values[path] = loc
    locs.keys[path] = Loc(file, 1, 1, 1, len(key) + 1)


def source_texts(file: str, overrides: list[str] | None = None) -> dict[str, str]:
    """The source text of ``file``, its parents and its overrides, for rendering
    diagnostics with their source lines when only the diagnostics were kept."""
    try:
        return load(file, Collector(), overrides=overrides or []).texts
    except Exception:  # a rendering aid only: never hide the diagnostics themselves
        return {}
