"""NeMo RL's declared config schema, read from the generated `catalog.json`.

The catalog is loaded on first use (one JSON file, about 100 kB) and cached; a spec that
has only specc's own keys never loads it. Types are the JSON expressions documented in
`generate.py`. Regenerate with `make nemo-catalog` (see docs/nemo-rl.md).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from specc.spec.records import record

Type = Any
CATALOG_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")
#: Top-level blocks every algorithm shares; the others name the algorithm.
COMMON_BLOCKS = frozenset({"policy", "data", "logger", "cluster", "checkpointing", "env",
                           "loss_fn"})
#: NeMo RL algorithms specc trains (its own lowering), by MasterConfig name.
SPECC_TRAINS = frozenset({"dpo", "grpo", "sft", "ppo"})
UNION_MASTER = "*"


@record(frozen=True)
class Field:
    type: Type
    required: bool


class Catalog:
    """Lookups over the catalog: which keys a NeMo RL block declares, and their types."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw["version"]
        self.commit: str = raw["commit"]
        self.masters: dict[str, str] = raw["masters"]
        self.types: dict[str, Any] = raw["types"]
        self._master_types: dict[tuple[str, ...], Type] = {}
        self.generation_backends: tuple[str, ...] = tuple(raw.get("generation_backends", ()))
        #: Keys NeMo RL's code reads from a block (by the block's key) that no TypedDict
        #: declares; accepted as carried, with any type.
        self.reads: dict[str, list[str]] = raw.get("reads", {})
        #: Blocks NeMo RL merges under another (their keys are valid in it).
        self.merges: dict[str, list[str]] = raw.get("merges", {})
        #: Blocks handed whole to another library's config class: any key is valid.
        self.passthrough: frozenset[str] = frozenset(raw.get("passthrough", ()))
        self._blocks: dict[str, Type] | None = None
        self._fields: dict[str, dict[str, Field]] = {}

    @property
    def stamp(self) -> str:
        return f"NeMo RL {self.version} ({self.commit[:12]})"

    def fields(self, ref: str) -> dict[str, Field]:
        """A TypedDict's or model's keys, with those of its subclasses (a field typed as a
        base accepts any subclass: `policy.generation` is a `GenerationConfig` and NeMo RL
        passes a `VllmConfig`)."""
        hit = self._fields.get(ref)
        if hit is not None:
            return hit
        out: dict[str, Field] = {}
        todo, seen = [ref], set()
        while todo:
            r = todo.pop(0)
            if r in seen or r not in self.types:
                continue
            seen.add(r)
            entry = self.types[r]
            for name, f in entry["fields"].items():
                if name in out:
                    if out[name].type != f["type"]:
                        out[name] = Field(_union(out[name].type, f["type"]), out[name].required)
                else:
                    out[name] = Field(f["type"], bool(f.get("required")) and r == ref)
            todo.extend(entry.get("subclasses", ()))
        self._fields[ref] = out
        return out

    def block_type(self, name: str) -> Type | None:
        """The type of a block by its key (every field of that name, united)."""
        if self._blocks is None:
            blocks: dict[str, Type] = {}
            for entry in self.types.values():
                for fname, f in entry["fields"].items():
                    blocks[fname] = _union(blocks[fname], f["type"]) if fname in blocks \
                        else f["type"]
            self._blocks = blocks
        return self._blocks.get(name)

    def undeclared(self, path: tuple[str | int, ...], key: str) -> Type | None:
        """The type of a key no TypedDict of the block at ``path`` declares but NeMo RL's
        code reads (any type), merges in from another block, or hands on whole to another
        library (any key); None: unknown."""
        block = str(path[-1])
        if block in self.passthrough or ".".join(map(str, path[-2:])) in self.passthrough:
            return "any"
        if key in self.reads.get(block, ()):
            return "any"
        for other in self.merges.get(block, ()):
            t = self.block_type(other)
            found = child(t, key) if t is not None else None
            if found is not None:
                return found
        return None

    def extra_keys(self, block: str) -> list[str]:
        out = list(self.reads.get(block, ()))
        for other in self.merges.get(block, ()):
            t = self.block_type(other)
            out.extend(keys(t) if t is not None else [])
        return out

    def master_type(self, names: list[str]) -> Type:
        """The union of the named MasterConfigs (`*`: all of them)."""
        hit = self._master_types.get(tuple(names))
        if hit is None:  # one object per question, so `child`'s memo sees it again
            refs = list(self.masters.values()) if names == [UNION_MASTER] else \
                [self.masters[n] for n in names]
            hit = self._master_types[tuple(names)] = {"union": [{"ref": r} for r in refs]} \
                if len(refs) > 1 else {"ref": refs[0]}
        return hit

    def masters_for(self, data: dict[str, Any]) -> list[str]:
        """The MasterConfigs a document's top-level blocks fit, best first: every one whose
        required algorithm blocks are all present (a recipe merged over a parent can fit
        two, such as `grpo` and `single_controller`); `["*"]` when none fits."""
        scored: list[tuple[tuple[int, int, int], str]] = []
        for name, ref in self.masters.items():
            fields = self.fields(ref)
            signature = [k for k in fields if k not in COMMON_BLOCKS]
            required = [k for k in signature if fields[k].required]
            if not required or not all(k in data for k in required):
                continue
            undeclared = sum(1 for k in data if k not in fields)
            present = sum(1 for k in signature if k in data)
            scored.append(((-undeclared, present, -len(signature)), name))
        scored.sort(key=lambda x: x[0], reverse=True)
        return [n for _, n in scored] or [UNION_MASTER]


def _union(a: Type, b: Type) -> Type:
    arms: list[Type] = []
    for t in (a, b):
        for x in (t["union"] if isinstance(t, dict) and "union" in t else [t]):
            if x not in arms:
                arms.append(x)
    return arms[0] if len(arms) == 1 else {"union": arms}


@functools.cache
def catalog() -> Catalog:
    with open(CATALOG_FILE, encoding="utf-8") as fh:
        return Catalog(json.load(fh))


# --- walking types ----------------------------------------------------------------------

def arms(t: Type) -> list[Type]:
    return list(t["union"]) if isinstance(t, dict) and "union" in t else [t]


def is_open(t: Type) -> bool:
    """Whether a mapping of type ``t`` takes any key (`dict[str, ...]`, `Any`)."""
    types = catalog().types
    return any(a == "any" or (isinstance(a, dict) and "dict" in a) or (
        isinstance(a, dict) and "ref" in a and types.get(a["ref"], {}).get("open"))
        for a in arms(t))


def is_mapping(t: Type) -> bool:
    return any(a == "any" or (isinstance(a, dict) and ("dict" in a or "ref" in a))
               for a in arms(t))


#: Memo of :func:`child` by the identity of ``t`` (every ``t`` a walk holds comes from the
#: catalog or from this memo, so the same question recurs for every file; each entry keeps
#: ``t`` alive so its id is never reused) and the key (every list index is alike).
_CHILD_MEMO: dict[tuple[int, str | int], tuple[Type, Type | None]] = {}


def child(t: Type, key: str | int) -> Type | None:
    """The type of ``key`` inside a value of type ``t``; None when ``t`` declares no such
    key (an unknown key). The result is shared: callers must not change it."""
    memo_key = (id(t), key if isinstance(key, str) else 0)
    hit = _CHILD_MEMO.get(memo_key)
    if hit is None:
        hit = _CHILD_MEMO[memo_key] = (t, _child(t, key))
    return hit[1]


def _child(t: Type, key: str | int) -> Type | None:
    found: list[Type] = []
    cat = catalog()
    for a in arms(t):
        if a == "any":
            return "any"
        if not isinstance(a, dict):
            continue
        if "dict" in a and isinstance(key, str):
            found.append(a["dict"])
        elif "list" in a and isinstance(key, int):
            found.append(a["list"])
        elif "ref" in a and isinstance(key, str):
            f = cat.fields(a["ref"]).get(key)
            if f is not None:
                found.append(f.type)
            elif cat.types.get(a["ref"], {}).get("open"):
                found.append("any")
    if not found:
        return None
    out = found[0]
    for x in found[1:]:
        out = _union(out, x)
    return out


def keys(t: Type) -> list[str]:
    """Every key a mapping of type ``t`` declares (for "did you mean")."""
    names: list[str] = []
    cat = catalog()
    for a in arms(t):
        if isinstance(a, dict) and "ref" in a:
            names.extend(k for k in cat.fields(a["ref"]) if k not in names)
    return names


def accepts(t: Type, value: Any) -> bool:
    """Whether a scalar/list/mapping ``value`` has NeMo RL type ``t`` at its top level
    (pydantic's lax mode, as NeMo RL's `TypeAdapter` checks: `8.0` is an int, `"1e-5"` a
    float). Mapping contents and list items are checked by the caller, key by key."""
    # memoised like `child`: a mapping or list by its shape alone, a scalar by its value
    shaped = isinstance(value, dict | list)
    memo_key = (id(t), type(value), None if shaped else value)
    try:
        hit = _ACCEPTS_MEMO.get(memo_key)
    except TypeError:  # an unhashable scalar (no YAML scalar is, but be safe)
        return any(_accepts_arm(a, value) for a in arms(t))
    if hit is None:
        hit = (t, any(_accepts_arm(a, value) for a in arms(t)))
        if len(_ACCEPTS_MEMO) < _ACCEPTS_MEMO_MAX:
            _ACCEPTS_MEMO[memo_key] = hit
    return hit[1]


_ACCEPTS_MEMO: dict[tuple[int, type, Any], tuple[Type, bool]] = {}
_ACCEPTS_MEMO_MAX = 200_000


def _accepts_arm(a: Type, v: Any) -> bool:
    if a == "any":
        return True
    if a == "none":
        return v is None
    if a == "bool":
        return isinstance(v, bool) or v in (0, 1) or (
            isinstance(v, str) and v.lower() in ("true", "false", "yes", "no", "on", "off"))
    if a == "int":
        if isinstance(v, bool):
            return False
        if isinstance(v, int):
            return True
        if isinstance(v, float):
            return v.is_integer()
        return isinstance(v, str) and v.strip().lstrip("+-").isdigit()
    if a == "float":
        if isinstance(v, bool):
            return False
        if isinstance(v, int | float):
            return True
        return isinstance(v, str) and _numeric(v)
    if a == "str":
        return isinstance(v, str)
    if isinstance(a, dict):
        if "literal" in a:
            return any(v == x and type(v) is type(x) for x in a["literal"])
        if "list" in a:
            return isinstance(v, list)
        if "dict" in a or "ref" in a:
            return isinstance(v, dict)
    return False


def _numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def describe(t: Type) -> str:
    """``t`` as a reader would write it: `int | None`, `Literal['a', 'b']`, `list[str]`."""
    parts: list[str] = []
    for a in arms(t):
        if isinstance(a, str):
            parts.append("None" if a == "none" else a)
        elif "literal" in a:
            parts.append("Literal[" + ", ".join(repr(x) for x in a["literal"]) + "]")
        elif "list" in a:
            parts.append(f"list[{describe(a['list'])}]")
        elif "dict" in a:
            parts.append(f"dict[str, {describe(a['dict'])}]")
        elif "ref" in a:
            parts.append(a["ref"].rpartition(":")[2])
    return " | ".join(dict.fromkeys(parts))
