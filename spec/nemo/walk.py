"""Check a document's keys against specc's models and NeMo RL's declaration together.

For every key, specc's model decides where specc acts on the key (pydantic checks it);
where it does not, NeMo RL's declaration decides: a declared key is type-checked against
NeMo RL's type (S002/S005 at its value) and carried through (reported once, R030); a key
neither declares is S001 with "did you mean" over both key sets. `dict[str, Any]` fields
stay open. Keys of specc's closed blocks (`hpo`, `hardware`, ...) are left to pydantic.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from specc.spec.diagnostics import Collector, dotted
from specc.spec.fields import _arms
from specc.spec.interpolate import env_unknown
from specc.spec.locations import Path
from specc.spec.models.policy import NEMO_POLICY_BLOCKS, NEMO_TOP_BLOCKS
from specc.spec.nemo import catalog as cat
from specc.spec.records import record
from specc.spec.schema_check import close_matches, closest_key, key_hint, misspelt_key

Specc = list[Any]  # specc annotations reachable at a path (empty: specc has none)


@record
class Walked:
    """What the walk found: the NeMo RL algorithm the document is, the keys accepted only
    by NeMo RL's declaration, and values read from the environment."""

    master: str
    #: The top-level key that names the algorithm (`distillation`, `eval`, ...).
    master_key: str = ""
    #: Every MasterConfig the document fits, best first.
    masters: list[str] = field(default_factory=list)
    carried: list[Path] = field(default_factory=list)
    env: list[Path] = field(default_factory=list)
    #: Values specc declares but whose shape only NeMo RL's type takes (a list of
    #: datasets): hidden from specc's model and carried through.
    hidden: list[Path] = field(default_factory=list)
    #: Integers written as floats (`8.0`) where specc takes an int: validated as ints,
    #: as NeMo RL's (lax) TypeAdapter and the JSON Schema take them.
    ints: list[Path] = field(default_factory=list)
    #: NeMo RL's type at mapping paths specc's own model also covers (for S001 hints).
    nemo_at: dict[Path, Any] = field(default_factory=dict)

    @property
    def nemo_only(self) -> bool:
        """A NeMo RL algorithm specc does not train (distillation, rm, eval, ...)."""
        return not any(m in cat.SPECC_TRAINS or m in (cat.UNION_MASTER, "single_controller")
                       for m in self.masters)

    def extra_keys(self, parent: Path) -> list[str]:
        t = self.nemo_at.get(parent)
        if t is None:
            return []
        extra = cat.catalog().extra_keys(str(parent[-1])) if parent else []
        return cat.keys(t) + [k for k in extra if k not in cat.keys(t)]


#: The blocks specc declares but carries for NeMo RL (R030): one present makes the document a
#: NeMo RL config, as does any key only NeMo RL declares.
_CARRIED_BLOCKS: frozenset[Path] = frozenset(
    {("policy", b) for b in NEMO_POLICY_BLOCKS} | {(b,) for b in NEMO_TOP_BLOCKS})


def walk(data: dict[str, Any], diags: Collector, root: type[BaseModel] | None) -> Walked:
    """Check ``data`` (resolved) against ``root`` (specc's model; None: NeMo RL's only)."""
    if root is not None and not _needs_nemo(data, [root]):
        return Walked(cat.UNION_MASTER, masters=[cat.UNION_MASTER])  # the catalog stays unread
    c = cat.catalog()
    masters = c.masters_for(data)
    out = Walked(masters[0], _master_key(c, masters[0], data), masters=masters)
    walker = _Walker(diags, out)
    walker.mapping(data, (), [root] if root else [], c.master_type(masters))
    walker.settle(nemo_config=walker.nemo_content or bool(out.carried) or root is None)
    return out


def _needs_nemo(node: Any, specc: Specc) -> bool:
    """Whether any key is one specc does not declare, or lies inside a block specc carries
    open (only then is NeMo RL's catalog read: a plain spec never loads it)."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return False
    for key, value in items:
        declared, below = _specc_child(specc, key)
        if not declared:
            return True
        if not below:
            if isinstance(value, dict | list) and value:
                return True
        elif _needs_nemo(value, below) or (isinstance(value, float) and value.is_integer()):
            return True
    return False


def _master_key(c: cat.Catalog, master: str, data: dict[str, Any]) -> str:
    if master == cat.UNION_MASTER:
        return ""
    fields = c.fields(c.masters[master])
    keys = [k for k in fields if k not in cat.COMMON_BLOCKS and k in data]
    keys.sort(key=lambda k: (not fields[k].required, k != master))
    return keys[0] if keys else ""


def _models(annotations: Specc) -> list[type[BaseModel]]:
    return [a for t in annotations for a in _arms(t)
            if isinstance(a, type) and issubclass(a, BaseModel)]


#: Memo of :func:`_specc_child`, keyed by the annotations' identities (they are the
#: models' own, alive for the process; each entry keeps its key objects alive so an id is
#: never reused) and the key (every list index is alike). The walk asks the same question
#: for every file of a corpus: NeMo RL's 295 configs ask it ~100,000 times.
_CHILD_MEMO: dict[tuple[tuple[int, ...], str | int], tuple[Specc, tuple[bool, Specc]]] = {}


def _specc_child(annotations: Specc, key: str | int,
                 ids: tuple[int, ...] | None = None) -> tuple[bool, Specc]:
    """(whether specc declares ``key`` here, the annotations below it that specc acts on).
    ``ids`` is ``annotations``' identities when the caller has them. The result is shared:
    callers must not change it."""
    memo_key = (tuple(map(id, annotations)) if ids is None else ids,
                key if isinstance(key, str) else 0)
    hit = _CHILD_MEMO.get(memo_key)
    if hit is None:
        hit = _CHILD_MEMO[memo_key] = (annotations, _specc_child_uncached(annotations, key))
    return hit[1]


def _specc_child_uncached(annotations: Specc, key: str | int) -> tuple[bool, Specc]:
    declared = False
    below: Specc = []
    for t in annotations:
        for a in _arms(t):
            origin = get_origin(a)
            if isinstance(a, type) and issubclass(a, BaseModel):
                if isinstance(key, str) and key in a.model_fields:
                    declared = True
                    below.append(a.model_fields[key].annotation)
            elif origin is list and isinstance(key, int):
                declared = True
                below.append(get_args(a)[0] if get_args(a) else Any)
            elif origin is dict and isinstance(key, str):
                declared = True
                args = get_args(a)
                below.append(args[1] if len(args) == 2 else Any)
            elif a is Any:
                declared = True
    # Below an open value (`Any`, `dict[str, Any]`) specc does not act: NeMo RL decides.
    acting = [t for t in below if any(_acts(a) for a in _arms(t))]
    return declared, acting


_SHAPE_MEMO: dict[tuple[tuple[int, ...], type], tuple[Specc, bool]] = {}


def _shape_ok(annotations: Specc, value: Any) -> bool:
    """Whether specc's annotations take a value of this shape (mapping, list, scalar)."""
    shape = dict if isinstance(value, dict) else list if isinstance(value, list) else object
    memo_key = (tuple(map(id, annotations)), shape)
    hit = _SHAPE_MEMO.get(memo_key)
    if hit is None:
        sample: Any = {} if shape is dict else [] if shape is list else None
        hit = _SHAPE_MEMO[memo_key] = (annotations, _shape_ok_uncached(annotations, sample))
    return hit[1]


def _shape_ok_uncached(annotations: Specc, value: Any) -> bool:
    for t in annotations:
        for a in _arms(t):
            origin = get_origin(a)
            if a is Any:
                return True
            if isinstance(value, dict) and (origin is dict or (
                    isinstance(a, type) and issubclass(a, BaseModel))):
                return True
            if isinstance(value, list) and origin is list:
                return True
            if not isinstance(value, dict | list) and origin not in (dict, list) and not (
                    isinstance(a, type) and issubclass(a, BaseModel)):
                return True
    return False


def _int_only(annotations: Specc) -> bool:
    arms = [a for t in annotations for a in _arms(t)]
    return int in arms and float not in arms


def _acts(a: Any) -> bool:
    """Whether specc acts on a value of this (non-union) type: not `Any`, `None` or a
    free-form `dict[str, Any]`."""
    if a is Any or a is type(None):
        return False
    if get_origin(a) is dict:
        args = get_args(a)
        return len(args) == 2 and any(_acts(b) for b in _arms(args[1]))
    return True


_FLAGS_MEMO: dict[tuple[int, ...], tuple[Specc, tuple[bool, bool]]] = {}


def _flags(annotations: Specc) -> tuple[bool, bool]:
    """(:func:`_closed_model`, :func:`_open`) of ``annotations``, memoised by identity."""
    memo_key = tuple(map(id, annotations))
    hit = _FLAGS_MEMO.get(memo_key)
    if hit is None:
        hit = _FLAGS_MEMO[memo_key] = (annotations, (_closed_model(annotations),
                                                     _open(annotations)))
    return hit[1]


def _closed_model(annotations: Specc) -> bool:
    """Whether specc's model here rejects unknown keys itself (pydantic reports them)."""
    ms = _models(annotations)
    return bool(ms) and all(m.model_config.get("extra") == "forbid" for m in ms)


def _open(annotations: Specc) -> bool:
    for t in annotations:
        for a in _arms(t):
            if a is Any or get_origin(a) is dict:
                return True
            if isinstance(a, type) and issubclass(a, BaseModel) \
                    and a.model_config.get("extra") == "allow" \
                    and not getattr(a, "__nemo__", False):
                return True
    return False


def _specc_keys(annotations: Specc) -> list[str]:
    names: list[str] = []
    for m in _models(annotations):
        names.extend(k for k in m.model_fields if k not in names)
    return names


class _Walker:
    def __init__(self, diags: Collector, out: Walked) -> None:
        self.diags = diags
        self.out = out
        self.cat = cat.catalog()
        #: Unknown keys in NeMo RL blocks that misspell nothing: W008 in a NeMo RL config,
        #: S001 in a specc spec (decided when the walk is done, see :meth:`settle`).
        self.dead: list[tuple[str, Path, list[str]]] = []
        #: Whether the document holds a block only NeMo RL reads (it is a NeMo RL config).
        self.nemo_content = False

    def mapping(self, node: dict[str, Any], path: Path, specc: Specc, nemo: Any) -> None:
        if specc and nemo is not None:
            self.out.nemo_at[path] = nemo
        closed, is_open = _flags(specc)
        ids = tuple(map(id, specc))
        for key, value in node.items():
            p = (*path, key)
            if key == "_override_" and isinstance(value, bool):
                continue  # NeMo RL's config loader: replace the parent's block, not merge
            declared, below = _specc_child(specc, key, ids)
            n_child = cat.child(nemo, key) if nemo is not None else None
            if declared and below and n_child is not None and not _shape_ok(below, value) \
                    and cat.accepts(n_child, value):
                # a shape only NeMo RL takes (a list of datasets): NeMo RL decides
                self.out.hidden.append(p)
                self.out.carried.append(p)
                self.descend(value, p, [], n_child, check=True)
                continue
            if declared:
                if below:  # specc acts on the key: pydantic checks the value
                    self.descend(value, p, below, n_child, check=False)
                else:      # specc carries it open: NeMo RL's type (if any) decides inside
                    self.nemo_content |= p in _CARRIED_BLOCKS
                    self.descend(value, p, [], n_child, check=True)
                continue
            if closed:
                continue  # pydantic reports the unknown key (its hint sees NeMo's keys)
            if n_child is None and not path:
                # MasterConfig takes extra blocks: one another algorithm declares is typed so
                # (null drops a block inherited from a parent of another algorithm)
                n_child = cat.child(self.cat.master_type([cat.UNION_MASTER]), key)
                if n_child is not None and value is None:
                    continue
            if n_child is None and nemo is not None and path:
                # read by NeMo RL's code or merged in from another block
                n_child = self.cat.undeclared(path, str(key))
            if n_child is not None:
                if specc and not is_open:
                    self.out.carried.append(p)
                self.descend(value, p, [], n_child, check=True)
                continue
            if is_open and (nemo is None or cat.is_open(nemo)):
                continue
            if not specc and (nemo is None or cat.is_open(nemo)):
                continue
            own = _specc_keys(specc)
            theirs = (cat.keys(nemo) if nemo is not None else []) + (
                self.cat.extra_keys(str(path[-1])) if path else [])
            allowed = own + [k for k in theirs if k not in own]
            self.unknown(str(key), p, allowed, in_nemo=nemo is not None)

    def unknown(self, key: str, path: Path, allowed: list[str], *, in_nemo: bool) -> None:
        parent = path[:-1]
        where = f"in `{dotted(parent)}`" if parent else "at the top level"
        if in_nemo and misspelt_key(key, allowed) is None:
            self.dead.append((key, path, allowed))
            return
        self.diags.add("S001", f"unknown key `{key}` {where}", path=path,
                       hint=key_hint(key, allowed), on_key=True)

    def settle(self, *, nemo_config: bool) -> None:
        """Report the keys that misspell nothing. In a NeMo RL config (it carries keys only
        NeMo RL reads) they are settings NeMo RL drops, W008: NeMo RL's own example configs
        carry them, and they are no typo. In a specc spec they stay unknown keys, S001."""
        for key, path, allowed in self.dead:
            parent = path[:-1]
            where = f"in `{dotted(parent)}`" if parent else "at the top level"
            if not nemo_config:
                self.diags.add("S001", f"unknown key `{key}` {where}", path=path,
                               hint=key_hint(key, allowed), on_key=True)
                continue
            near = closest_key(key, allowed)
            self.diags.add("W008", f"`{key}` {where} has no effect: NeMo RL "
                           f"{self.cat.version} neither declares nor reads it", path=path,
                           hint=(f"if you meant `{near}`, rename it; otherwise " if near
                                 else "") + "remove it (NeMo RL ignores it), or check that "
                           "the NeMo RL you run reads it", on_key=True)

    def descend(self, value: Any, path: Path, specc: Specc, nemo: Any, *, check: bool) -> None:
        if isinstance(value, float) and value.is_integer() and specc and _int_only(specc):
            self.out.ints.append(path)
        if env_unknown(value):
            self.out.env.append(path)
            return
        if check and nemo is not None and not cat.accepts(nemo, value):
            self.wrong(value, path, nemo)
            return
        if isinstance(value, dict):
            self.mapping(value, path, specc, nemo)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                p = (*path, i)
                _, below = _specc_child(specc, i)
                n_item = cat.child(nemo, i) if nemo is not None else None
                self.descend(item, p, below if specc else [], n_item, check=not below)

    def wrong(self, value: Any, path: Path, nemo: Any) -> None:
        declared = cat.describe(nemo)
        if value is None:
            # NeMo RL's configs write null for "leave unset" where a TypedDict says `int`;
            # specc does not act on the key, so it is said, not refused
            self.diags.add("W009", f"`{dotted(path)}` is null where NeMo RL declares "
                           f"`{declared}`", path=path,
                           hint=f"write a value of type `{declared}`, or remove the key if "
                           "null means unset")
            return
        lits = [x for a in cat.arms(nemo) if isinstance(a, dict) and "literal" in a
                for x in a["literal"]]
        shown = _show(value)
        if lits and all((isinstance(a, dict) and "literal" in a) or a == "none"
                        for a in cat.arms(nemo)):
            close = close_matches(str(value), [str(x) for x in lits], cutoff=0.5) \
                if isinstance(value, str) else []
            hint = f"did you mean `{close[0]}`?" if close else \
                "use one of: " + ", ".join(f"`{x}`" for x in lits)
            self.diags.add("S005", f"`{dotted(path)}` must be one of {declared} (NeMo RL "
                           f"declares it so); got {shown}", path=path, hint=hint)
            return
        self.diags.add("S002", f"`{dotted(path)}` must be `{declared}` (NeMo RL declares it "
                       f"so); got {shown}", path=path, hint=f"write a value of type `{declared}`")


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return f"`{text[:57] + '...' if len(text) > 60 else text}`"
