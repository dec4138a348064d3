"""Write `spec/catalog/trl_fields.py` from the installed TRL and transformers.

    python -m specc.spec.catalog.trl_fields_gen           # rewrite the table
    python -m specc.spec.catalog.trl_fields_gen --check   # exit 1 when it differs

This module imports TRL (and so torch); `specc validate` never imports it, it reads the
generated table. `tests/test_trl_fields.py` regenerates the text and fails when the
committed table differs from the installed TRL's fields (a renamed or retyped field).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import pprint
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

#: What a TRL CLI config is parsed into: `trl <command> --config x.yaml` builds these.
CONFIG_CLASSES: dict[str, str] = {
    "sft": "trl.SFTConfig",
    "dpo": "trl.DPOConfig",
    "kto": "trl.KTOConfig",
    "grpo": "trl.GRPOConfig",
    "rloo": "trl.RLOOConfig",
    "orpo": "trl.experimental.orpo.ORPOConfig",
}
BASE_CLASS = "transformers.TrainingArguments"
MODEL_CLASS = "trl.ModelConfig"
SCRIPT_CLASS = "trl.ScriptArguments"
#: The GRPO/RLOO commands' script arguments (reward functions), beyond ScriptArguments.
SCRIPT_EXTRA_CLASSES: dict[str, str] = {
    "grpo": "trl.scripts.grpo.GRPOScriptArguments",
    "rloo": "trl.scripts.rloo.RLOOScriptArguments",
}
TARGET = Path(__file__).with_name("trl_fields.py")


def _resolve(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def type_text(t: Any) -> str:
    """A field's type in the table's small grammar: `int`, `float`, `bool`, `str`, `None`,
    `dict`, `list[T]`, `Literal['a', 'b']`, `any`, joined with ` | `."""
    origin = typing.get_origin(t)
    if t is type(None) or t is None:
        return "None"
    if origin in (typing.Union, types.UnionType):
        arms: list[str] = []
        for a in typing.get_args(t):
            for part in type_text(a).split(" | "):
                if part not in arms:
                    arms.append(part)
        if "any" in arms:
            return "any"
        return " | ".join(sorted(arms, key=lambda s: (s == "None", s.startswith("Literal"))))
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(t)) + "]"
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return "Literal[" + ", ".join(repr(m.value) for m in t) + "]"
    if origin in (list, tuple, set) or t in (list, tuple):
        args = [a for a in typing.get_args(t) if a is not Ellipsis]
        inner = type_text(args[0]) if len(args) == 1 else "any"
        return f"list[{inner}]"
    if origin is dict or t is dict:
        return "dict"
    for simple in (bool, int, float, str):
        if t is simple:
            return str(simple.__name__)
    return "any"


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list) and all(isinstance(v, bool | int | float | str) for v in value):
        return value
    if isinstance(value, dict) and not value:
        return {}
    return None


def fields_of(qualname: str) -> dict[str, tuple[str, Any]]:
    """`name -> (type, default)` for every init field of a dataclass, by declaration order."""
    cls = _resolve(qualname)
    hints = typing.get_type_hints(cls)
    return {f.name: (type_text(hints.get(f.name, Any)), _default(f))
            for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}


def reward_registry() -> list[str]:
    """The reward function names `trl grpo` accepts by name (its `reward_funcs_registry`)."""
    module = importlib.import_module("trl.scripts.grpo")
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id == "reward_funcs_registry"
                        for t in node.targets)):
            return [k.value for k in node.value.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return []


def _literal(value: Any) -> str:
    text = pprint.pformat(value, width=94, sort_dicts=False, compact=True)
    return "(\n" + textwrap.indent(text, "    ") + "\n)"


def render() -> str:
    """The text of `trl_fields.py` for the installed TRL."""
    import transformers
    import trl

    base = fields_of(BASE_CLASS)
    configs: dict[str, dict[str, tuple[str, Any]]] = {}
    for algo, qual in CONFIG_CLASSES.items():
        own = fields_of(qual)
        configs[algo] = {k: v for k, v in own.items() if base.get(k) != v}
    extra = {algo: fields_of(q) for algo, q in SCRIPT_EXTRA_CLASSES.items()}
    script = fields_of(SCRIPT_CLASS)
    extra = {a: {k: v for k, v in f.items() if k not in script} for a, f in extra.items()}
    out = [
        '"""TRL\'s CLI config fields, recorded so `specc validate` reads them without '
        "importing TRL.",
        "",
        "GENERATED by `python -m specc.spec.catalog.trl_fields_gen` from the installed TRL",
        "and transformers; do not edit. `tests/test_trl_fields.py` fails when it drifts.",
        "A type is a small grammar: `int`, `float`, `bool`, `str`, `None`, `dict`, `list[T]`,",
        "`Literal[...]`, `any`, joined with ` | `. A default of None may also mean",
        '"computed by TRL".',
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        f"TRL_VERSION = {trl.__version__!r}",
        f"TRANSFORMERS_VERSION = {transformers.__version__!r}",
        "",
        "#: The config class each `trl <command>` parses its trainer fields into.",
        f"CONFIG_CLASSES: dict[str, str] = {_literal(CONFIG_CLASSES)}",
        "",
        f"#: `{BASE_CLASS}`: name -> (type, default); every config class extends it.",
        f"TRAINING_ARGUMENTS: dict[str, tuple[str, Any]] = {_literal(base)}",
        "",
        "#: Per command: the fields its config class adds to, or redefines over,",
        "#: TrainingArguments.",
        f"CONFIGS: dict[str, dict[str, tuple[str, Any]]] = {_literal(configs)}",
        "",
        f"#: `{MODEL_CLASS}` (model loading and PEFT) fields.",
        f"MODEL_CONFIG: dict[str, tuple[str, Any]] = {_literal(fields_of(MODEL_CLASS))}",
        "",
        f"#: `{SCRIPT_CLASS}` (dataset) fields.",
        f"SCRIPT_ARGUMENTS: dict[str, tuple[str, Any]] = {_literal(script)}",
        "",
        "#: Script arguments only some commands have (reward functions).",
        f"SCRIPT_EXTRA: dict[str, dict[str, tuple[str, Any]]] = {_literal(extra)}",
        "",
        "#: Reward function names `trl grpo` resolves itself (`trl.rewards`).",
        f"REWARD_FUNCS: tuple[str, ...] = {_literal(tuple(reward_registry()))}",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        same = TARGET.exists() and TARGET.read_text() == text
        print("trl_fields.py is up to date" if same else "trl_fields.py differs; regenerate it")
        return 0 if same else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
