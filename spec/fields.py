"""Walk the spec models by key path: which keys exist where, and what type a leaf has.

Used for "did you mean" on unknown keys and to check that search-space paths
exist and that their distributions fit the field.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from specc.spec.locations import Path
from specc.spec.records import record


@record(frozen=True)
class Leaf:
    """What a key path accepts."""

    annotation: Any
    field: FieldInfo | None

    def kinds(self) -> set[str]:
        """Scalar kinds accepted: subset of {'bool','int','float','str','null','other'}."""
        return _kinds(self.annotation)

    def literal_values(self) -> list[Any] | None:
        vals: list[Any] = []
        for t in _arms(self.annotation):
            if get_origin(t) is Literal:
                vals.extend(get_args(t))
            elif t is type(None):
                vals.append(None)
            else:
                return None
        return vals

    def bounds(self) -> tuple[float | None, bool, float | None, bool]:
        """(low, low_inclusive, high, high_inclusive) from Field(ge/gt/le/lt) metadata."""
        lo: float | None = None
        hi: float | None = None
        lo_inc = hi_inc = True
        metas: list[Any] = list(self.field.metadata) if self.field else []
        for t in _arms(self.annotation, keep_annotated=True):
            if get_origin(t) is Annotated:
                metas.extend(get_args(t)[1:])
        for m in metas:
            for attr, is_low, inc in (("ge", True, True), ("gt", True, False),
                                      ("le", False, True), ("lt", False, False)):
                v = getattr(m, attr, None)
                if v is None:
                    continue
                if is_low:
                    lo, lo_inc = float(v), inc
                else:
                    hi, hi_inc = float(v), inc
        return lo, lo_inc, hi, hi_inc


def _arms(t: Any, keep_annotated: bool = False) -> list[Any]:
    """Flatten unions (and Annotated wrappers) into their arms."""
    origin = get_origin(t)
    if origin is Annotated:
        inner = get_args(t)[0]
        arms = _arms(inner, keep_annotated)
        return [t] if keep_annotated and len(arms) == 1 else arms
    if origin in (Union, types.UnionType):
        out: list[Any] = []
        for a in get_args(t):
            out.extend(_arms(a, keep_annotated))
        return out
    return [t]


def _kinds(t: Any) -> set[str]:
    out: set[str] = set()
    for a in _arms(t):
        if a is bool:
            out.add("bool")
        elif a is int:
            out.add("int")
        elif a is float:
            out |= {"float", "int"}
        elif a is str:
            out.add("str")
        elif a is type(None):
            out.add("null")
        elif a is Any or a is typing.Any:
            out |= {"bool", "int", "float", "str", "null", "other"}
        elif get_origin(a) is Literal:
            for v in get_args(a):
                out.add("null" if v is None else type(v).__name__)
        else:
            out.add("other")
    return out


def children(t: Any, part: str | int) -> list[tuple[Any, FieldInfo | None]]:
    """The annotations reachable from ``t`` by one key or index."""
    out: list[tuple[Any, FieldInfo | None]] = []
    for a in _arms(t):
        origin = get_origin(a)
        if isinstance(a, type) and issubclass(a, BaseModel):
            if isinstance(part, str) and part in a.model_fields:
                f = a.model_fields[part]
                out.append((f.annotation, f))
            elif isinstance(part, str) and a.model_config.get("extra") == "allow" \
                    and not getattr(a, "__nemo__", False):
                out.append((Any, None))
        elif origin in (dict, typing.Dict) and isinstance(part, str):  # noqa: UP006
            args = get_args(a)
            out.append((args[1] if len(args) == 2 else Any, None))
        elif origin in (list, typing.List) and isinstance(part, int):  # noqa: UP006
            args = get_args(a)
            out.append((args[0] if args else Any, None))
        elif a is Any:
            out.append((Any, None))
    return out


def leaf(root: type[BaseModel], path: Path) -> Leaf | None:
    """The annotation at ``path`` under ``root``, or None when the path cannot exist."""
    current: list[tuple[Any, FieldInfo | None]] = [(root, None)]
    for part in path:
        nxt: list[tuple[Any, FieldInfo | None]] = []
        for t, _ in current:
            nxt.extend(children(t, part))
        if not nxt:
            return None
        current = nxt
    if len(current) == 1:
        return Leaf(current[0][0], current[0][1])
    union: Any = Union[tuple(t for t, _ in current)]  # noqa: UP007
    return Leaf(union, current[0][1])


def keys_at(root: type[BaseModel], path: Path) -> list[str]:
    """Field names a mapping at ``path`` accepts (for "did you mean")."""
    current: list[Any] = [root]
    for part in path:
        nxt: list[Any] = []
        for t in current:
            nxt.extend(c for c, _ in children(t, part))
        current = nxt
    names: list[str] = []
    for t in current:
        for a in _arms(t):
            if isinstance(a, type) and issubclass(a, BaseModel):
                names.extend(n for n in a.model_fields if not n.startswith("_"))
            elif get_origin(a) is list:
                for b in _arms(get_args(a)[0]):
                    if isinstance(b, type) and issubclass(b, BaseModel):
                        names.extend(b.model_fields)
    return list(dict.fromkeys(names))
