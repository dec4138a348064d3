"""JSON Schemas of the other layouts validate reads (TRL CLI configs, seed 002's layout),
built from the same TRL field table, so an editor accepts what `specc validate` accepts."""

from __future__ import annotations

from typing import Any

from specc.spec.catalog.trl_fields import CONFIGS, TRAINING_ARGUMENTS
from specc.spec.dialects import trl_table as T
from specc.spec.dialects.seed002 import _LORA, _TOP, MODES
from specc.spec.models.algorithms import ALGORITHM_BLOCKS

_INTERPOLATION = {"$ref": "#/$defs/Interpolation"}


def type_schema(t: str) -> dict[str, Any]:
    """A table type (`int | None`, `list[str]`, `Literal['a', 'b']`, ...) as JSON Schema."""
    arms = [_arm(a) for a in T._arms(t)]
    return arms[0] if len(arms) == 1 else {"anyOf": arms}


def _arm(arm: str) -> dict[str, Any]:
    simple = {"int": "integer", "float": "number", "bool": "boolean", "str": "string",
              "None": "null", "dict": "object"}
    if arm in simple:
        return {"type": simple[arm]}
    if arm.startswith("list["):
        inner = type_schema(arm[5:-1])
        return {"anyOf": [{"type": "array", "items": inner}, inner]}  # TRL takes one too
    if arm.startswith("Literal["):
        return {"enum": T.choices(arm)}
    return {}


def _field(t: str, default: Any, owner: str) -> dict[str, Any]:
    s = type_schema(t)
    out: dict[str, Any] = {"description": f"TRL {owner} field (`{t}`, default {default!r})."}
    out["anyOf"] = [s, _INTERPOLATION] if s else [{}]
    return out


def _specc_root(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties", {})
    return {k: props[k] for k in T.SPECC_ROOT if k in props}


def trl_cli_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A TRL CLI config: every field any `trl <command>` config has, plus specc's root keys
    (``schema`` is specc's own schema, for those)."""
    types: dict[str, list[str]] = {}
    for algo in T.ALGORITHMS:
        for name, (t, _) in T.fields(algo).items():
            if t not in types.setdefault(name, []):
                types[name].append(t)
    props: dict[str, Any] = {}
    for name, ts in types.items():
        owners = T.owners(name)
        said = "every `trl` command" if len(owners) == len(T.ALGORITHMS) else \
            ", ".join(f"`trl {a}`" for a in owners)
        props[name] = _field(" | ".join(ts), T.fields(owners[0])[name][1], said)
    for old, new in T.RENAMED.items():
        props[old] = {**props[new], "description": f"TRL's old name for `{new}`."}
    props.update(_specc_root(schema))
    return {"type": "object", "title": "TRL CLI config",
            "description": "A `trl sft|dpo|kto|orpo|grpo|rloo --config` file: flat "
            "ScriptArguments, ModelConfig and trainer-config fields (the installed TRL's), "
            "read by specc as a spec.",
            "properties": props, "additionalProperties": False,
            "not": {"required": ["policy"]}}


def seed002_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Seed 002's GRPO layout: `mode`, `output_dir`, `training:` (TrainingArguments),
    `grpo:` (GRPOConfig names and specc's)."""
    training = {n: _field(t, d, "TrainingArguments") for n, (t, d) in
                {**TRAINING_ARGUMENTS, **CONFIGS["grpo"]}.items()}
    grpo = {n: _field(t, d, "GRPOConfig") for n, (t, d) in T.fields("grpo").items()}
    own = schema.get("$defs", {}).get("GRPO", {}).get("properties", {})
    grpo.update({k: own.get(k, {}) for k in ALGORITHM_BLOCKS["grpo"].model_fields})
    lora: dict[str, Any] = {k: {} for k in _LORA}
    props: dict[str, Any] = {k: {} for k in _TOP}
    props.update({
        "mode": {"enum": list(MODES), "description": "Seed 002's config choice."},
        "output_dir": {"type": "string"},
        "training": {"type": "object", "properties": training, "additionalProperties": False},
        "grpo": {"type": "object", "properties": grpo, "additionalProperties": False},
        "lora": {"type": "object", "properties": lora, "additionalProperties": False},
    })
    props.update({k: v for k, v in _specc_root(schema).items() if k not in props})
    return {"type": "object", "title": "Seed 002 GRPO config",
            "description": "Seed 002's layout (`mode: local|cluster`, `training:` with "
            "TrainingArguments names, `grpo:` with GRPOConfig names), read by specc as a "
            "spec.", "properties": props, "additionalProperties": False,
            "anyOf": [{"required": ["training"]}, {"required": ["mode"]}],
            "not": {"required": ["policy"]}}
