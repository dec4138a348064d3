"""What the schema says about a key path: description, type, default, allowed range.

Read from the spec models (``specc.spec.fields`` walks them by path; the descriptions are
the docstrings under each field, as in the exported JSON Schema).
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from specc.spec.fields import _arms, children, leaf
from specc.spec.keypath import render as dotted
from specc.spec.models import Spec
from specc.spec.schema import field_docs
from specc.tui.keypath import Path

SEARCH_SPACE = ("hpo", "search_space")


@dataclass(frozen=True)
class FieldHelp:
    """The help panel's content for one key."""

    path: str
    type: str
    default: str
    range: str
    description: str
    searches: FieldHelp | None = None  # a search-space dimension: the key it sets


@functools.cache
def _docs(cls: type[BaseModel]) -> dict[str, str]:
    return field_docs(cls)


def describe(path: Path) -> FieldHelp | None:
    """Help for ``path``, or None when the spec has no such key."""
    if not path:
        return None
    if path[:2] == SEARCH_SPACE and len(path) == 3 and isinstance(path[2], str):
        target = tuple(path[2].split("."))
        return FieldHelp(dotted(path), "search dimension (int, float or categorical)", "-", "-",
                         f"Searches `{path[2]}`: each trial sets it to a sampled value.",
                         searches=describe(target))
    parent: list[tuple[Any, FieldInfo | None]] = [(Spec, None)]
    for part in path[:-1]:
        parent = [c for t, _ in parent for c in children(t, part)]
        if not parent:
            return None
    found = leaf(Spec, path)
    if found is None:
        return None
    last = path[-1]
    owner = next((a for t, _ in parent for a in _arms(t)
                  if isinstance(a, type) and issubclass(a, BaseModel) and isinstance(last, str)
                  and last in a.model_fields), None)
    field = owner.model_fields[str(last)] if owner else found.field
    doc = _docs(owner).get(str(last), "") if owner else ""
    if not doc and field is not None and field.description:
        doc = field.description
    annotation = field.annotation if field is not None else found.annotation
    return FieldHelp(dotted(path), type_name(annotation), _default(field),
                     _range(annotation, field), doc)


def type_name(t: Any) -> str:
    names: list[str] = []
    for a in _arms(t):
        origin = get_origin(a)
        if a is type(None):
            name = "null"
        elif a is Any or a is typing.Any:
            name = "any"
        elif origin is Literal:
            name = " | ".join(repr(v) if isinstance(v, str) else str(v) for v in get_args(a))
        elif isinstance(a, type) and issubclass(a, BaseModel):
            name = f"mapping ({a.__name__})"
        elif origin in (dict, typing.Dict):  # noqa: UP006
            name = "mapping"
        elif origin in (list, typing.List, tuple):  # noqa: UP006
            name = "list"
        elif isinstance(a, type):
            name = {"str": "string", "bool": "boolean", "int": "integer",
                    "float": "number"}.get(a.__name__, a.__name__)
        else:
            name = str(a)
        if name not in names:
            names.append(name)
    return " | ".join(names)


def _default(field: FieldInfo | None) -> str:
    if field is None:
        return "-"
    if field.default_factory is not None:
        return "(computed)"
    if field.default is PydanticUndefined:
        return "required"
    value = field.default
    if isinstance(value, BaseModel):
        return "(defaults)"
    if value is None:
        return "none"
    return repr(value) if isinstance(value, str) else str(value).lower() \
        if isinstance(value, bool) else str(value)


def _metadata(t: Any, field: FieldInfo | None) -> list[Any]:
    metas: list[Any] = list(field.metadata) if field is not None else []
    todo = [t]
    while todo:
        a = todo.pop()
        origin = get_origin(a)
        if origin is Annotated:
            args = get_args(a)
            metas.extend(args[1:])
            todo.append(args[0])
        elif origin in (Union, types.UnionType):
            todo.extend(get_args(a))
    flat: list[Any] = []
    for m in metas:
        flat.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    return flat


def _range(t: Any, field: FieldInfo | None) -> str:
    low = high = ""
    for m in _metadata(t, field):
        for attr, text in (("ge", "≥ {}"), ("gt", "> {}"), ("le", "≤ {}"), ("lt", "< {}")):
            v = getattr(m, attr, None)
            if v is None:
                continue
            if attr in ("ge", "gt"):
                low = text.format(v)
            else:
                high = text.format(v)
    return " and ".join(x for x in (low, high) if x) or "-"
