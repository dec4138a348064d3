"""Helpers of `specc explain`: key paths as users type them (search-space keys
joined), the model field that declares a path and its default and docstring, and a
search dimension in words."""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from specc.spec import keypath
from specc.spec.fields import _arms, children
from specc.spec.locations import Path
from specc.spec.models import Spec
from specc.spec.schema import field_docs

Kind = Literal["file", "inherited", "override", "preset", "profile", "dialect", "default",
               "absent"]
KINDS: tuple[Kind, ...] = ("file", "inherited", "override", "preset", "profile", "dialect",
                           "default", "absent")
SEARCH_SPACE: Path = ("hpo", "search_space")
#: How deep `${...}` references are followed (a cycle is already an R011 error).

def _flat_paths(node: Any, prefix: Path) -> list[Path]:
    """Leaf paths under ``node``: scalars and lists of scalars are leaves."""
    if isinstance(node, dict):
        if not node:
            return [prefix]
        return [p for k, v in node.items() for p in _flat_paths(v, (*prefix, k))]
    if isinstance(node, list) and any(isinstance(v, dict | list) for v in node):
        return [p for i, v in enumerate(node) for p in _flat_paths(v, (*prefix, i))]
    return [prefix]


def _plain(node: Any) -> Any:
    if isinstance(node, BaseModel):
        return node.model_dump(warnings=False)
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    return node


def _field(path: Path) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model class that declares the last key of ``path``, and its field."""
    current: list[tuple[Any, FieldInfo | None]] = [(Spec, None)]
    for part in path[:-1]:
        current = [c for t, _ in current for c in children(t, part)]
        if not current:
            return None, None
    last = path[-1] if path else None
    for t, _ in current:
        for a in _arms(t):
            if isinstance(a, type) and issubclass(a, BaseModel) and isinstance(last, str) \
                    and last in a.model_fields:
                return a, a.model_fields[last]
    return None, None


def _field_default(found: tuple[type[BaseModel] | None, FieldInfo | None]) -> tuple[Any, bool]:
    _, fi = found
    if fi is None:
        return None, False
    if fi.default_factory is not None:
        try:
            value = fi.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return None, False
        return _plain(value), True
    if fi.default is PydanticUndefined:
        return None, False
    return _plain(fi.default), True


@functools.cache
def _docs(cls: type[BaseModel]) -> dict[str, str]:
    return field_docs(cls)


def field_doc(path: Path) -> str:
    """The documentation written under the field at ``path`` ("" when none)."""
    owner, fi = _field(path)
    if owner is None:
        return ""
    doc = _docs(owner).get(str(path[-1]), "")
    return doc or (fi.description if fi is not None and fi.description else "")


def parse_path(text: str, data: dict[str, Any] | None = None) -> Path | None:
    """``policy.scheduler[0].kwargs.lr``, ``policy.scheduler.0.kwargs.lr`` or
    ``hpo.search_space["policy.optimizer.kwargs.lr"].low`` -> a key path (`keypath.parse`).
    A search-space key may also be written without quotes when ``data`` has it
    (``hpo.search_space.policy.optimizer.kwargs.lr``)."""
    path = keypath.parse(text.strip())
    if path is None:
        return None
    return _join_space_key(path, data) if data is not None else path


def _join_space_key(path: Path, data: dict[str, Any]) -> Path:
    hpo = data.get("hpo")
    space = hpo.get("search_space") if isinstance(hpo, dict) else None
    if path[:2] != SEARCH_SPACE or len(path) < 4 or not isinstance(space, dict):
        return path
    rest = [str(p) for p in path[2:]]
    for end in range(len(rest), 0, -1):
        key = ".".join(rest[:end])
        if key in space:
            return (*SEARCH_SPACE, key, *path[2 + end:])
    return path


def _num(v: Any) -> str:
    if isinstance(v, float) and math.isfinite(v) and v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3g}"
    return str(v)


def describe_dimension(dim: dict[str, Any]) -> str:
    """``float 1e-05..0.02 log``, ``int 1..8 step 2``, ``categorical [4, 8, 16]``."""
    kind = dim.get("type", "?")
    if kind == "categorical":
        text = f"categorical {dim.get('choices')}"
    else:
        text = f"{kind} {_num(dim.get('low'))}..{_num(dim.get('high'))}"
        if dim.get("log"):
            text += " log"
        if dim.get("step") not in (None, 1) or (kind == "float" and dim.get("step")):
            text += f" step {_num(dim.get('step'))}"
    when = dim.get("when")
    if isinstance(when, dict) and when:
        text += " when " + ", ".join(f"{k}={v}" for k, v in when.items())
    return text
