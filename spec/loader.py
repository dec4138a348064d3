"""Load a spec: read, follow `extends`/`defaults`, apply overrides, interpolate.

The result is plain data plus the location of every value, ready for the
schema and the rules. Problems are diagnostics; nothing here raises on bad
input.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from specc.spec import dialects, presets
from specc.spec.diagnostics import Collector, Diagnostic, dotted
from specc.spec.interpolate import resolve
from specc.spec.locations import Loc, Locations, Path
from specc.spec.sources import allowed_roots, inside, load_file, stamp
from specc.spec.yamlio import MAX_BYTES, parse, parse_scalar

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
    merged = _load_tree(file, diags, texts, sources, stack=[], max_bytes=max_bytes, text=text,
                        refused=refused, parents_of=parents, roots=roots)
    if merged is None:
        return Loaded(file, None, Locations(), texts=texts, sources=sources, parents=parents)
    data, locs = clone(merged[0]), merged[1].copy()  # the merged tree is shared (memo)
    for i, ov in enumerate(overrides or []):
        texts[f"<override {i + 1}>"] = ov
        _apply_override(data, locs, ov, i, diags)
    sub = diags.scoped(locs, file)
    # seed dialects -> `hpo`, then named presets/profiles -> plain keys, before anything
    # reads the tree (search-space points re-resolve from `raw`)
    dialects.normalise(data, locs, sub, file)
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


def clone(v: Any) -> Any:
    """A deep copy of plain YAML data (mappings, lists, scalars), much faster than
    ``copy.deepcopy``."""
    if isinstance(v, dict):
        return {k: clone(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clone(x) for x in v]
    return v


@dataclass
class _Tree:
    """What loading one file (and its parents) produced: memoised per process."""

    merged: tuple[dict[str, Any], Locations] | None
    diagnostics: list[Diagnostic]
    texts: dict[str, str]
    sources: list[str]
    refused: set[Path]
    parents: dict[str, list[tuple[str, str]]]
    #: Every file looked at, with its identity then: the memo holds while they are unchanged.
    stamps: list[tuple[str, Any]]


_MEMO: dict[tuple[str, int, tuple[str, ...]], _Tree] = {}


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
    roots: tuple[str, ...] = (),
) -> tuple[dict[str, Any], Locations] | None:
    """``file`` merged over its parents (shared with the memo: callers copy it)."""
    try:
        real = os.path.realpath(file)
        os.fsencode(file)
    except (ValueError, UnicodeError, OSError) as e:
        where = parent_loc or Loc(file.encode("utf-8", "replace").decode(), 1, 1)
        diags.add("R001", f"`{file!a}` is not a usable file name ({type(e).__name__})",
                  file=where.file, line=where.line, column=where.column,
                  hint="file names cannot hold NUL bytes or unpaired surrogates")
        return None
    if real in stack:
        chain = " -> ".join(os.path.basename(s) for s in [*stack, real])
        where = parent_loc or Loc(file, 1, 1)
        diags.add("R002", f"`extends` cycle: {chain}", file=where.file, line=where.line,
                  column=where.column, hint="remove one of the references")
        return None
    if len(stack) > MAX_EXTENDS_DEPTH:
        where = parent_loc or Loc(file, 1, 1)
        diags.add("R002", f"`extends` chain deeper than {MAX_EXTENDS_DEPTH}", file=where.file,
                  line=where.line, column=where.column, hint="flatten the chain")
        return None
    if parent_loc is not None and not inside(file, roots):
        shown = ", ".join(f"`{_shown(r)}`" for r in roots) or "none"
        diags.add("R040", f"`{file}` is outside the project root ({shown}); specc does not "
                  "read it",
                  file=parent_loc.file, line=parent_loc.line, column=parent_loc.column,
                  hint="`extends`/`defaults` name files inside the project (the nearest folder "
                  "with .git, pyproject.toml or .specc); pass --root DIR to allow another folder")
        return None
    # by real path: a file reached under several names is still read and merged once (its
    # diagnostics name it as it was first reached)
    key = (real, max_bytes, roots)
    tree = _MEMO.get(key) if text is None else None
    if tree is None or any(stamp(p) != s for p, s in tree.stamps):
        tree = _Tree(None, [], {}, [], set(), {}, [])
        local = Collector()
        tree.merged = _read_tree(file, real, local, tree, stack=stack, max_bytes=max_bytes,
                                 text=text, parent_loc=parent_loc, roots=roots)
        tree.diagnostics = local.items
        if text is None:
            if len(_MEMO) > 4096:
                _MEMO.clear()
            _MEMO[key] = tree
    diags.extend(tree.diagnostics)
    texts.update(tree.texts)
    sources.extend(s for s in tree.sources if s not in sources)
    if refused is not None:
        refused |= tree.refused
    if parents_of is not None:
        parents_of.update(tree.parents)
    return tree.merged


def _read_tree(file: str, real: str, diags: Collector, tree: _Tree, *, stack: list[str],
               max_bytes: int, text: str | None, parent_loc: Loc | None,
               roots: tuple[str, ...]) -> tuple[dict[str, Any], Locations] | None:
    tree.stamps.append((real, stamp(real)))
    if text is None:
        if parent_loc is not None and not os.path.lexists(file):
            diags.add("R001", f"`{os.path.basename(file)}` not found (looked for {file})",
                      file=parent_loc.file, line=parent_loc.line, column=parent_loc.column,
                      hint="paths in `extends` are relative to the file that names them")
            return None
        text, parsed = load_file(file, diags, max_bytes=max_bytes, where=parent_loc)
        if text is None:
            return None
    else:
        parsed = parse(text, file, diags)
    tree.texts[file] = text
    if parsed is None:
        return None
    if not isinstance(parsed.data, dict):
        diags.add("Y016", "a spec must be a mapping of keys at the top level", file=file,
                  line=1, column=1, hint="start with `specc: 1` and `name: ...`")
        return None
    data = dict(parsed.data)  # the parse is shared (cache): only the top level changes here
    tree.refused |= parsed.refused
    locs = parsed.locations.copy()
    parents: list[tuple[str, Loc]] = []
    named: list[tuple[str, str]] = []
    for key in PARENT_KEYS:
        if key not in data:
            continue
        value = data.pop(key)
        vloc = locs.values.get((key,)) or Loc(file, 1, 1)
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
    if named:
        tree.parents[file] = named
    base: dict[str, Any] = {}
    base_locs = Locations()
    for pfile, ploc in parents:
        loaded = _load_tree(pfile, diags, tree.texts, tree.sources, stack=[*stack, real],
                            max_bytes=max_bytes, parent_loc=ploc, refused=tree.refused,
                            parents_of=tree.parents, roots=roots)
        preal = _real(pfile)
        sub = _MEMO.get((preal, max_bytes, roots)) if preal is not None else None
        if sub is not None:
            tree.stamps.extend(sub.stamps)
        elif preal is not None:
            tree.stamps.append((preal, stamp(preal)))
        if loaded is None:
            continue
        pdata, plocs = loaded
        if not base:  # the first parent: the merge is a copy
            base, base_locs = clone(pdata), plocs.copy()
            continue
        _merge(base, base_locs, pdata, plocs, ())
    tree.sources.append(file)
    if not parents:
        return data, locs
    _merge(base, base_locs, data, locs, ())
    base_locs.values[()] = locs.values.get((), Loc(file, 1, 1))
    return base, base_locs


def _shown(folder: str) -> str:
    """A root as the user would type it: relative to the working directory."""
    try:
        return os.path.relpath(folder)
    except ValueError:
        return folder


def _real(path: str) -> str | None:
    try:
        os.fsencode(path)
        return os.path.realpath(path)
    except (ValueError, UnicodeError, OSError):
        return None


_ABSENT = object()


def _merge(dst: dict[str, Any], dlocs: Locations, src: dict[str, Any], slocs: Locations,
           prefix: Path) -> None:
    """Deep-merge ``src`` into ``dst``: mappings merge, everything else replaces (copied:
    ``src`` is never changed and never shared). Locations follow the values: the work is
    proportional to what is merged, not to the size of the tables."""
    for k, v in src.items():
        p = (*prefix, k)
        old = dst.get(k, _ABSENT)
        if isinstance(v, dict) and isinstance(old, dict):
            _merge(old, dlocs, v, slocs, p)
            if p in slocs.keys:
                dlocs.keys[p] = slocs.keys[p]
            continue
        if old is not _ABSENT:
            _drop_locs(dlocs, old, p)
        dst[k] = clone(v)
        _copy_locs(dlocs, slocs, v, p)


def _drop_locs(locs: Locations, value: Any, path: Path) -> None:
    """Forget the locations of ``value``'s descendants (``value`` sits at ``path``)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for k, v in items:
        p = (*path, k)
        locs.values.pop(p, None)
        locs.keys.pop(p, None)
        _drop_locs(locs, v, p)


def _copy_locs(dst: Locations, src: Locations, value: Any, path: Path) -> None:
    """Copy the locations of ``path`` and of everything below it from ``src``."""
    if path in src.values:
        dst.values[path] = src.values[path]
    if path in src.keys:
        dst.keys[path] = src.keys[path]
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for k, v in items:
        _copy_locs(dst, src, v, (*path, k))


def parse_override_path(text: str) -> Path | None:
    """``policy.scheduler[0].kwargs.lr`` or ``policy.scheduler.0.kwargs.lr`` -> key path.

    A key that holds dots is quoted, as diagnostics print it:
    ``hpo.search_space["policy.lora.r"].low`` or ``hpo.search_space."policy.lora.r".low``.
    """
    if '"' in text or "'" in text:
        return _parse_quoted_path(text)
    parts: list[str | int] = []
    for raw in text.replace("]", "").replace("[", ".").split("."):
        if raw == "":
            return None
        parts.append(int(raw) if raw.isdigit() else raw)
    return tuple(parts) if parts else None


def _parse_quoted_path(text: str) -> Path | None:
    parts: list[str | int] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == "[":
            j = i + 1
            if j < n and text[j] in "\"'":
                close = text.find(text[j], j + 1)
                if close < 0 or close + 1 >= n or text[close + 1] != "]":
                    return None
                part: str | int = text[j + 1:close]
                i = close + 2
            else:
                close = text.find("]", j)
                if close <= j:
                    return None
                inner = text[j:close]
                part = int(inner) if inner.isdigit() else inner
                i = close + 1
        elif i < n and text[i] in "\"'":
            close = text.find(text[i], i + 1)
            if close < 0:
                return None
            part = text[i + 1:close]
            i = close + 1
        else:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            raw = text[i:j]
            if any(q in raw for q in "\"']"):
                return None
            part = int(raw) if raw.isdigit() else raw
            i = j
        if part == "":
            return None
        parts.append(part)
        if i == n:
            return tuple(parts)
        if text[i] == ".":
            i += 1
            if i == n:
                return None
        elif text[i] != "[":
            return None


def split_override(text: str) -> tuple[Path, Any] | None:
    """``path=value`` -> (key path, value parsed as YAML); None when it is not that shape.
    `-o` and `specc set` both read their arguments with this."""
    key, sep, value_text = text.partition("=")
    path = parse_override_path(key.strip().lstrip("+~"))
    if not sep or path is None:
        return None
    return path, (parse_scalar(value_text) if value_text.strip() else None)


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


def source_texts(file: str, overrides: list[str] | None = None,
                 root: str | Sequence[str] | None = None) -> dict[str, str]:
    """The source text of ``file``, its parents and its overrides, for rendering
    diagnostics with their source lines when only the diagnostics were kept."""
    try:
        return load(file, Collector(), overrides=overrides or [], root=root).texts
    except Exception:  # a rendering aid only: never hide the diagnostics themselves
        return {}
