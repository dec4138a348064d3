"""Where each value of a resolved spec came from (`specc explain`).

The loader already keeps, for every key path, the location of whoever set it last
(:mod:`specc.spec.locations`), the merged tree before interpolation (``Loaded.raw``), the
source text of every file and which files each one extends (``Loaded.parents``). From
those this module tells, for one path:

* written in the file itself, or inherited from an `extends`/`defaults` parent (with the
  chain of files, and every parent value the winning one replaced);
* set by a command-line override (``<override N>``);
* added by `hpo.preset` / `hpo.profile` (generated entries carry the location of the
  `preset:` / `profile:` value), or rewritten from a seed dialect block (R031: the
  location is the dialect key it came from);
* a `${...}` interpolation: the template and, recursively, where each reference came from;
* a schema default (the model's default and the field's documentation), or absent
  because an enclosing block is not set;
* whether `hpo.search_space` searches it.

Nothing here re-runs the loader: each file is re-parsed from the recorded text only to
find the values the winning one replaced. Spec layer only (no torch, no Optuna).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from pydantic import BaseModel

from specc.spec.catalog.optim import REQUIRED, Signature, lookup_optimizer, lookup_scheduler
from specc.spec.diagnostics import Collector, dotted
from specc.spec.dialects import DIALECTS
from specc.spec.fields import keys_at, leaf
from specc.spec.interpolate import (
    InterpolationError,
    has_interpolation,
    reference_target,
    references,
)
from specc.spec.keypath import parse as parse_override_path
from specc.spec.keypath import value_at as get_path
from specc.spec.loader import Loaded
from specc.spec.locations import Loc, Locations, Path
from specc.spec.models import Spec
from specc.spec.provenance_paths import (
    _field,
    _field_default,
    _flat_paths,
    _plain,
    describe_dimension,
    field_doc,
    parse_path,
)
from specc.spec.records import record
from specc.spec.schema_check import key_hint
from specc.spec.yamlio import parse

Kind = Literal["file", "inherited", "override", "preset", "profile", "dialect", "default",
               "absent"]
KINDS: tuple[Kind, ...] = ("file", "inherited", "override", "preset", "profile", "dialect",
                           "default", "absent")
SEARCH_SPACE: Path = ("hpo", "search_space")
#: How deep `${...}` references are followed (a cycle is already an R011 error).
__all__ = ["Explanation", "Origin", "Provenance", "Replaced", "Searched", "Site",
           "describe_dimension", "field_doc", "parse_path"]

MAX_DEPTH = 8
_MISSING: Any = object()


@record(frozen=True)
class Site:
    """A place in a file: 1-based line and column, and that line's text."""

    file: str
    line: int
    column: int
    source: str = ""

    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column,
                "source": self.source}


@record(frozen=True)
class Replaced:
    """A value written in another file that the winning one replaced."""

    site: Site
    value: Any


@record(frozen=True)
class Searched:
    """The `hpo.search_space` dimension that sets a path in every trial."""

    key: str
    dimension: dict[str, Any]
    origin: Origin

    def describe(self) -> str:
        return describe_dimension(self.dimension)


@record
class Origin:
    """Where one value came from."""

    path: Path
    value: Any
    kind: Kind
    site: Site | None = None
    #: Files from the explained one to the one that set the value (`inherited`).
    chain: list[str] = field(default_factory=list)
    #: The key naming each next file of ``chain`` (`extends` or `defaults`).
    via: list[str] = field(default_factory=list)
    #: Preset/profile name, the dialect's original key, the override text, or the unset
    #: block (`absent`).
    detail: str = ""
    replaced: list[Replaced] = field(default_factory=list)
    #: The `${...}` text as written, and where each reference it reads came from.
    template: str | None = None
    references: list[Origin] = field(default_factory=list)
    #: The schema's default for the key, and its documentation.
    default: Any = None
    has_default: bool = False
    doc: str = ""
    searched: Searched | None = None
    #: The position is that of an enclosing key (no position was recorded for the value).
    approximate: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": dotted(self.path), "value": self.value,
                               "kind": self.kind,
                               "site": self.site.to_dict() if self.site else None}
        if self.chain:
            out["chain"] = self.chain
            out["via"] = self.via
        if self.detail:
            out["detail"] = self.detail
        if self.replaced:
            out["replaced"] = [{"value": r.value, "site": r.site.to_dict()}
                               for r in self.replaced]
        if self.template is not None:
            out["template"] = self.template
            out["references"] = [r.to_dict() for r in self.references]
        if self.has_default:
            out["default"] = self.default
        if self.doc:
            out["doc"] = self.doc
        if self.searched is not None:
            out["searched"] = {"key": self.searched.key, "dimension": self.searched.dimension,
                               "describe": self.searched.describe(),
                               "origin": self.searched.origin.to_dict()}
        if self.approximate:
            out["approximate"] = True
        return out


@record
class Explanation:
    """One explained path: a single value, or a mapping listed leaf by leaf."""

    path: Path
    value: Any
    mapping: bool
    leaves: list[Origin]
    #: Where the mapping itself was written, in each file that writes it, in merge order
    #: (mappings only).
    sites: list[Site] = field(default_factory=list)


@record
class _Own:
    """One file parsed on its own (before merging)."""

    data: Any
    locations: Locations
    by_loc: dict[Loc, Path]


class Provenance:
    """Explains paths of one loaded spec; ``spec`` is its model when it validated."""

    def __init__(self, loaded: Loaded, spec: Spec | None = None) -> None:
        self.loaded = loaded
        self.spec = spec
        self.data: dict[str, Any] = loaded.data or {}
        self.raw: dict[str, Any] = loaded.raw or {}
        self.locs = loaded.locations
        self._own: dict[str, _Own | None] = {}

    # --- public -------------------------------------------------------------------------

    def explain(self, path: Path) -> Explanation | None:
        """The origin of ``path`` (each leaf for a mapping); None when no such key exists."""
        value = get_path(self.data, path, _MISSING)
        if value is _MISSING and not self.known(path):
            return None
        if value is _MISSING:
            value = self._model_value(path)[1]
        if isinstance(value, dict) or (isinstance(value, list) and any(
                isinstance(v, dict) for v in value)):
            leaves = [self.origin(p) for p in self._leaves(path)]
            return Explanation(path, value, True, leaves, self._mapping_sites(path))
        return Explanation(path, value, False, [self.origin(path)])

    def known(self, path: Path) -> bool:
        """Whether ``path`` is written, or is a key the schema (or, for optimizer and
        scheduler kwargs, the recorded signature) knows."""
        if get_path(self.data, path, _MISSING) is not _MISSING:
            return True
        if not path or leaf(Spec, path) is None:
            return False
        if _field(path)[1] is not None:
            return True
        sig = self._signature(path[:-1])
        return sig is not None and any(p.name == path[-1] for p in sig.params)

    def _signature(self, kwargs: Path) -> Signature | None:
        """The recorded signature whose keyword arguments live at ``kwargs``."""
        if not kwargs or kwargs[-1] != "kwargs":
            return None
        owner = get_path(self.data, kwargs[:-1], None)
        name = owner.get("name") if isinstance(owner, dict) else None
        if not isinstance(name, str):
            return None
        if kwargs[:-1] == ("policy", "optimizer"):
            return lookup_optimizer(name)
        if kwargs[:2] == ("policy", "scheduler"):
            return lookup_scheduler(name)
        return None

    def unknown(self, path: Path, diags: Collector, file: str) -> None:
        """Report an unknown ``path`` (S001) with "did you mean"."""
        for i in range(len(path)):
            if not self.known(path[: i + 1]):
                parent, key = path[:i], path[i]
                break
        else:  # pragma: no cover - only called for unknown paths
            parent, key = path[:-1], path[-1]
        node = get_path(self.data, parent, None)
        allowed = list(dict.fromkeys([*keys_at(Spec, parent), *(
            str(k) for k in node if isinstance(k, str))] if isinstance(node, dict) else
            keys_at(Spec, parent)))
        sig = self._signature(parent)
        if sig is not None:
            allowed += [p.name for p in sig.params if p.name not in allowed]
        where = f"in `{dotted(parent)}`" if parent else "at the top level"
        if isinstance(key, int):
            size = len(node) if isinstance(node, list) else 0
            diags.add("S001", f"`{dotted(parent)}` has no item [{key}]", file=file,
                      hint=f"it has {size} item(s)" if isinstance(node, list)
                      else f"`{dotted(parent)}` is not a list")
            return
        diags.add("S001", f"unknown key `{key}` {where}", file=file,
                  hint=key_hint(key, allowed, otherwise="check the path"))

    def origin(self, path: Path, depth: int = 0, seen: frozenset[Path] = frozenset()
               ) -> Origin:
        """Where the value at ``path`` came from."""
        value = get_path(self.data, path, _MISSING)
        if value is _MISSING:
            out = self._default(path)
        else:
            out = self._written(path, value)
            raw = get_path(self.raw, path, _MISSING)
            if has_interpolation(raw) and depth < MAX_DEPTH and path not in seen:
                out.template = raw
                for ref in references(raw):
                    try:
                        target = reference_target(ref, path)
                    except InterpolationError:
                        continue
                    if self.known(target):
                        out.references.append(self.origin(target, depth + 1, seen | {path}))
        out.doc = out.doc or field_doc(path)
        if depth == 0:
            out.searched = self.searched(path)
        return out

    def searched(self, path: Path) -> Searched | None:
        """The search-space dimension that sets ``path``, if any."""
        hpo = self.data.get("hpo")
        space = hpo.get("search_space") if isinstance(hpo, dict) else None
        if not isinstance(space, dict) or path[:2] == SEARCH_SPACE:
            return None
        for key, dim in space.items():
            if isinstance(key, str) and parse_override_path(key) == path and \
                    isinstance(dim, dict):
                return Searched(key, dim, self.origin((*SEARCH_SPACE, key), depth=1))
        return None

    # --- written values -----------------------------------------------------------------

    def _written(self, path: Path, value: Any) -> Origin:
        loc = self.locs.values.get(path)
        approximate = loc is None
        if loc is None:
            loc = self.locs.find(path)
        if loc is None or not loc.line:
            return Origin(path, value, "file", approximate=True)
        site = self._site(loc)
        root = self.loaded.file
        if loc.file.startswith("<override"):
            return Origin(path, value, "override", site, detail=self.loaded.texts.get(
                loc.file, ""), replaced=self._replaced(path, loc.file), approximate=approximate)
        for name in ("preset", "profile"):
            marker = ("hpo", name)
            if path[:1] == ("hpo",) and path != marker and loc == self._loc(marker):
                kind: Kind = "preset" if name == "preset" else "profile"
                return Origin(path, value, kind, site, detail=str(get_path(
                    self.data, marker, "")), approximate=approximate)
        own = self._parsed(loc.file)
        if own is not None and own.locations.values.get(path) != loc and not approximate:
            came_from = own.by_loc.get(loc)
            if came_from is not None and came_from[:1] != path[:1] and \
                    str(came_from[0]) in DIALECTS:
                return Origin(path, value, "dialect", site, detail=dotted(came_from))
        out = Origin(path, value, "file" if loc.file == root else "inherited", site,
                     replaced=self._replaced(path, loc.file), approximate=approximate)
        if loc.file != root:
            out.chain, out.via = self._chain(loc.file)
        return out

    def _replaced(self, path: Path, winner: str) -> list[Replaced]:
        out: list[Replaced] = []
        for src in self.loaded.sources:
            own = self._parsed(src) if src != winner else None
            if own is None:
                continue
            v = get_path(own.data, path, _MISSING)
            loc = own.locations.values.get(path)
            if v is _MISSING or loc is None or isinstance(v, dict):
                continue
            out.append(Replaced(self._site(loc), v))
        return out

    def _chain(self, target: str) -> tuple[list[str], list[str]]:
        """Files from the explained one down to ``target`` through `extends`/`defaults`."""
        parents = self.loaded.parents

        def walk(f: str, seen: frozenset[str]) -> tuple[list[str], list[str]] | None:
            if f == target:
                return [f], []
            # later parents win a merge, so look for the value's file among them first
            for p, key in reversed(parents.get(f, [])):
                if p in seen:
                    continue
                found = walk(p, seen | {p})
                if found is not None:
                    return [f, *found[0]], [key, *found[1]]
            return None

        return walk(self.loaded.file, frozenset({self.loaded.file})) or ([target], [])

    # --- defaults -----------------------------------------------------------------------

    def _default(self, path: Path) -> Origin:
        sig = self._signature(path[:-1])
        param = next((p for p in sig.params if p.name == path[-1]), None) if sig else None
        if sig is not None and param is not None:
            has = param.default is not REQUIRED
            value = param.default if has else None
            return Origin(path, value, "default", detail=sig.qualname, default=value,
                          has_default=has)
        found, value, null_at = self._model_value(path)
        fi = _field(path)
        default, has = _field_default(fi)
        if null_at is not None:
            return Origin(path, None, "absent", detail=dotted(null_at), default=default,
                          has_default=has)
        return Origin(path, value if found else default, "default", default=default,
                      has_default=has)

    def _model_value(self, path: Path) -> tuple[bool, Any, Path | None]:
        """(found, value, the enclosing path that is null) in the validated model, or from
        the fields' defaults when the spec did not validate."""
        if self.spec is not None:
            node: Any = self.spec
            for i, part in enumerate(path):
                if node is None:
                    return False, None, path[:i]
                if isinstance(node, BaseModel):
                    if isinstance(part, str) and (part in type(node).model_fields or part in (
                            node.model_extra or {})):
                        node = getattr(node, part)
                    else:
                        return False, None, None
                elif isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                    node = node[part]
                else:
                    return False, None, None
            return True, _plain(node), None
        for i in range(1, len(path)):
            value, has = _field_default(_field(path[:i]))
            if has and value is None and get_path(self.data, path[:i], _MISSING) is _MISSING:
                return False, None, path[:i]
        value, has = _field_default(_field(path))
        return has, value, None

    # --- mappings -----------------------------------------------------------------------

    def _leaves(self, path: Path) -> list[Path]:
        out: list[Path] = []
        written = get_path(self.data, path, _MISSING)
        if written is not _MISSING:
            out.extend(_flat_paths(written, path))
        found, value, _ = self._model_value(path)
        if found:
            out.extend(p for p in _flat_paths(value, path) if p not in out)
        return out

    def _mapping_sites(self, path: Path) -> list[Site]:
        out: list[Site] = []
        for src in self.loaded.sources:
            own = self._parsed(src)
            loc = own.locations.values.get(path) if own is not None else None
            if loc is not None:
                out.append(self._site(loc))
        loc = self.locs.values.get(path)
        if loc is not None and loc.file not in self.loaded.sources:  # an override, a preset
            out.append(self._site(loc))
        return out

    # --- helpers ------------------------------------------------------------------------

    def _loc(self, path: Path) -> Loc | None:
        return self.locs.values.get(path) or self.locs.keys.get(path)

    def _parsed(self, file: str) -> _Own | None:
        if file not in self._own:
            text = self.loaded.texts.get(file)
            parsed = parse(text, file, Collector()) if text is not None and not \
                file.startswith("<override") else None
            if parsed is None:
                self._own[file] = None
            else:
                by_loc = {loc: p for p, loc in parsed.locations.keys.items()}
                by_loc.update({loc: p for p, loc in parsed.locations.values.items()})
                self._own[file] = _Own(parsed.data, parsed.locations, by_loc)
        return self._own[file]

    def _site(self, loc: Loc) -> Site:
        text = self.loaded.texts.get(loc.file, "")
        lines = text.splitlines()
        source = lines[loc.line - 1].rstrip() if 0 < loc.line <= len(lines) else ""
        return Site(loc.file, loc.line, loc.column, source)
