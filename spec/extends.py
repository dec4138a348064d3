"""`extends`/`defaults`: a spec merged over its parent files, each read and merged once.

A file's merged tree (with its diagnostics, texts and parents) is memoised per process by
real path, checked against the identity of every file it was built from; a diamond of
parents or a parent shared by many specs costs one read, one parse and one merge.
Parents resolve only inside the project root (:mod:`specc.spec.sources`). The trees
handed out are shared: callers copy (:func:`clone`) before they change anything.
"""

from __future__ import annotations

import os
from typing import Any

from specc.spec.diagnostics import Collector, Diagnostic
from specc.spec.locations import Loc, Locations, Path
from specc.spec.records import record
from specc.spec.sources import inside, load_file, stamp
from specc.spec.yamlio import parse

PARENT_KEYS = ("extends", "defaults")
MAX_EXTENDS_DEPTH = 32


def clone(v: Any) -> Any:
    """A deep copy of plain YAML data (mappings, lists, scalars), much faster than
    ``copy.deepcopy``."""
    if isinstance(v, dict):  # scalars are copied inline: most nodes are leaves
        return {k: clone(x) if isinstance(x, dict | list) else x for k, x in v.items()}
    if isinstance(v, list):
        return [clone(x) if isinstance(x, dict | list) else x for x in v]
    return v


@record
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


_MEMO: dict[tuple[str, str, int, tuple[str, ...]], _Tree] = {}
#: The most distinct files (by name) one spec's `extends` graph may build.
MAX_TREE_FILES = 1000


def _key(file: str, real: str, top: bool, max_bytes: int,
         roots: tuple[str, ...]) -> tuple[str, str, int, tuple[str, ...]]:
    """The memo key: the real path and the name (as given for the spec itself, so its
    diagnostics carry that name; normalised for parents, so `./b.yaml` and `b.yaml` are
    one entry). The parse underneath is shared by every name (one parse per file)."""
    return (real, file if top else os.path.normpath(file), max_bytes, roots)


def load_tree(
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
    work: list[int] | None = None,
) -> tuple[dict[str, Any], Locations] | None:
    """``file`` merged over its parents (shared with the memo: callers copy it).
    ``work`` counts the trees built for one spec (a bound on symlink-alias blow-ups)."""
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
    key = _key(file, real, parent_loc is None, max_bytes, roots)
    tree = _MEMO.get(key) if text is None else None
    if tree is None or any(stamp(p) != s for p, s in tree.stamps):
        work = [0] if work is None else work
        work[0] += 1
        if work[0] > MAX_TREE_FILES:
            where = parent_loc or Loc(file, 1, 1)
            diags.add("R002", f"the `extends` graph reaches more than {MAX_TREE_FILES} files",
                      file=where.file, line=where.line, column=where.column,
                      hint="name each parent once, by one path")
            return None
        tree = _Tree(None, [], {}, [], set(), {}, [])
        local = Collector()
        tree.merged = _read_tree(file, real, local, tree, stack=stack, max_bytes=max_bytes,
                                 text=text, parent_loc=parent_loc, roots=roots, work=work)
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
               roots: tuple[str, ...], work: list[int]
               ) -> tuple[dict[str, Any], Locations] | None:
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
        loaded = load_tree(pfile, diags, tree.texts, tree.sources, stack=[*stack, real],
                            max_bytes=max_bytes, parent_loc=ploc, refused=tree.refused,
                            parents_of=tree.parents, roots=roots, work=work)
        preal = _real(pfile)
        sub = _MEMO.get(_key(pfile, preal, False, max_bytes, roots)) if preal else None
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
