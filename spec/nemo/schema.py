"""NeMo RL's declared keys in specc's JSON Schema, so editors and `check-jsonschema` accept
what `specc validate` accepts.

Every block specc shares with NeMo RL (a `NemoBlock`) gets NeMo RL's declared keys as
properties, typed as NeMo RL declares them; where both declare a key, either type is
accepted (validate lets NeMo RL's declaration decide shapes specc does not take, such as
a list of datasets). NeMo RL's blocks keep `additionalProperties` open: keys its code reads
but no TypedDict declares are valid too.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from specc.spec.fields import _arms
from specc.spec.nemo import catalog as cat

_SCALAR = {"int": {"type": "integer"}, "float": {"type": "number"}, "str": {"type": "string"},
           "bool": {"type": "boolean"}, "none": {"type": "null"}, "any": {}}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A NeMo RL-only value may be null (validate's W009: NeMo RL's configs write null for
    "unset" where a TypedDict says `int`), so the schema takes it too."""
    if not schema or schema.get("type") == "null":
        return schema
    arms = schema.get("anyOf")
    if arms is not None and any(a.get("type") == "null" for a in arms):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _def_name(ref: str) -> str:
    return "NemoRL." + ref.rpartition(":")[2] + "." + ref.partition(":")[0].rsplit(".", 1)[-1]


def to_json(t: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """NeMo RL type ``t`` as JSON Schema; TypedDicts and models go to ``defs``."""
    arms = cat.arms(t)
    if len(arms) > 1:
        return {"anyOf": [to_json(a, defs) for a in arms]}
    a = arms[0]
    if isinstance(a, str):
        return dict(_SCALAR.get(a, {}))
    if "literal" in a:
        return {"enum": list(a["literal"])}
    if "list" in a:
        return {"type": "array", "items": to_json(a["list"], defs)}
    if "dict" in a:
        return {"type": "object", "additionalProperties": to_json(a["dict"], defs)}
    ref = a["ref"]
    name = _def_name(ref)
    if name not in defs:
        defs[name] = {}  # recursion guard
        props = {k: _or_null(to_json(f.type, defs))
                 for k, f in cat.catalog().fields(ref).items()}
        defs[name] = {"type": "object", "title": ref.rpartition(":")[2],
                      "description": f"Declared by NeMo RL ({ref}).",
                      "properties": props, "additionalProperties": True}
    return {"$ref": f"#/$defs/{name}"}


def _nemo_models(root: type[BaseModel]) -> dict[str, Any]:
    """Each NemoBlock model reachable from ``root``, with NeMo RL's type at its paths."""
    found: dict[str, Any] = {}
    c = cat.catalog()
    todo: list[tuple[Any, Any]] = [(root, c.master_type([cat.UNION_MASTER]))]
    seen: set[tuple[str, str]] = set()
    while todo:
        ann, nemo = todo.pop()
        for arm in _arms(ann):
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                key = (arm.__name__, repr(nemo))
                if key in seen:
                    continue
                seen.add(key)
                if getattr(arm, "__nemo__", False) and nemo is not None:
                    found[arm.__name__] = nemo if arm.__name__ not in found else \
                        {"union": cat.arms(found[arm.__name__]) + cat.arms(nemo)}
                for name, f in arm.model_fields.items():
                    todo.append((f.annotation, cat.child(nemo, name) if nemo is not None
                                 else None))
            elif get_origin(arm) is list and get_args(arm):
                todo.append((get_args(arm)[0], None if nemo is None else cat.child(nemo, 0)))
    return found


def add_nemo(schema: dict[str, Any], root: type[BaseModel]) -> None:
    """Add NeMo RL's declared keys to ``schema`` (specc's, before `_for_editors`)."""
    defs = schema.setdefault("$defs", {})
    for name, nemo in _nemo_models(root).items():
        target = schema if name == root.__name__ else defs.get(name)
        if target is None:
            continue
        props = target.setdefault("properties", {})
        for key in cat.keys(nemo):
            t = cat.child(nemo, key)
            if t is None:
                continue
            theirs = to_json(t, defs)
            if key in props:
                mine = props[key]
                keep = {k: mine[k] for k in ("description", "markdownDescription", "title")
                        if k in mine}
                rest = {k: v for k, v in mine.items() if k not in keep and k != "default"}
                props[key] = {**keep, "anyOf": [rest, theirs]}
            else:
                props[key] = {**_or_null(theirs), "description": f"NeMo RL "
                              f"({cat.catalog().stamp}); "
                              "specc carries it through."}
        target["additionalProperties"] = True
