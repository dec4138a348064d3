"""The spec's JSON Schema, with each field's docstring as its description.

Docstrings are read from the model sources only here (not while validating), so
`specc validate` never pays for parsing source files.
"""

from __future__ import annotations

import ast
import inspect
import itertools
from typing import Any

from pydantic import BaseModel

from specc.spec.models import Spec

SCHEMA_ID = "https://specc.dev/schema/spec-1.json"


def field_docs(cls: type[BaseModel]) -> dict[str, str]:
    """Docstrings written under each field of ``cls`` (and its bases)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)) or klass is BaseModel:
            continue
        try:
            tree = ast.parse(inspect.getsource(klass))
        except (OSError, TypeError, SyntaxError):
            continue
        node = tree.body[0]
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for stmt, nxt in itertools.pairwise(body):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                docs[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``root``, by class name."""
    from specc.spec.fields import _arms

    found: dict[str, type[BaseModel]] = {}
    todo: list[Any] = [root]
    while todo:
        t = todo.pop()
        for arm in _arms(t):
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                if arm.__name__ in found:
                    continue
                found[arm.__name__] = arm
                todo.extend(f.annotation for f in arm.model_fields.values())
            else:
                todo.extend(getattr(arm, "__args__", ()))
    return found


_KEEP = ("title", "description", "markdownDescription", "default")
_INTERPOLATION = {"type": "string", "pattern": "\\$\\{",
                  "description": "A `${path.to.key}` or `${mul:a,b}` interpolation."}


def _accepts_strings(s: Any) -> bool:
    if not isinstance(s, dict):
        return False
    if s.get("type") == "string" or "$ref" in s:
        return s.get("type") == "string"
    return any(_accepts_strings(a) for a in s.get("anyOf", []) + s.get("oneOf", []))


def _for_editors(schema: dict[str, Any]) -> None:
    """Adapt the schema to what an editor sees: a single file, before merging and
    interpolation. Keys may come from an `extends` parent (nothing is required), any
    value may be a `${...}` interpolation, and search-space dimensions are the three
    documented kinds."""
    defs = schema.setdefault("$defs", {})
    defs.pop("_UnknownDim", None)
    defs["Interpolation"] = _INTERPOLATION
    ref = {"$ref": "#/$defs/Interpolation"}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for key in ("oneOf", "anyOf"):
            if key in node:
                node[key] = [a for a in node[key] if a.get("$ref") != "#/$defs/_UnknownDim"]
        mapping = node.get("discriminator", {}).get("mapping")
        if isinstance(mapping, dict):
            mapping.pop("unknown", None)
        node.pop("required", None)
        props = node.get("properties")
        if isinstance(props, dict):
            for name, prop in list(props.items()):
                walk(prop)
                if not _accepts_strings(prop):
                    rest = {k: v for k, v in prop.items() if k not in _KEEP}
                    kept = {k: prop[k] for k in _KEEP if k in prop}
                    props[name] = {**kept, "anyOf": [rest, ref]}
        for key, value in node.items():
            if key != "properties":
                walk(value)

    walk(schema)


def json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(mode="validation")
    models = _models(Spec)
    defs = schema.get("$defs", {})
    for name, cls in models.items():
        target = schema if cls is Spec else defs.get(name)
        if target is None:
            continue
        props = target.get("properties", {})
        for field, doc in field_docs(cls).items():
            if field in props:
                props[field]["description"] = doc
                props[field]["markdownDescription"] = doc
    from specc.spec.nemo.schema import add_nemo

    add_nemo(schema, Spec)
    _for_editors(schema)
    _accept_dialects(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "specc experiment spec"
    return schema


def _accept_dialects(schema: dict[str, Any]) -> None:
    """Accept the other layouts validate reads (TRL CLI configs, seed 002's): the root
    keeps specc's keys (for documentation and completion) but is closed by one of three
    arms: specc's own keys, a TRL CLI config, or seed 002's layout (built from the same
    TRL field table as validation, `spec/dialects/schema.py`). Call it last: the specc
    arm closes over the root keys present when it runs."""
    from specc.spec.dialects.schema import seed002_schema, trl_cli_schema

    props = schema.get("properties", {})
    # closed by the arms below: validate refuses a root key that neither specc nor NeMo RL
    # declares (NeMo RL's declared root keys are in `props` by now)
    schema.pop("additionalProperties", None)
    own: dict[str, Any] = {k: {} for k in props}
    arms = [{"title": "specc spec", "properties": own, "additionalProperties": False},
            trl_cli_schema(schema), seed002_schema(schema)]
    grpo = props.get("grpo")
    if isinstance(grpo, dict) and isinstance(grpo.get("anyOf"), list):
        # seed 002's `grpo:` holds TRL's names: the root lets it through, the arms decide
        own["grpo"] = {k: v for k, v in grpo.items() if k not in _KEEP}
        grpo["anyOf"] = [*grpo["anyOf"], {"type": "object",
                                          "title": "seed 002's grpo (GRPOConfig names)"}]
    schema["anyOf"] = arms

