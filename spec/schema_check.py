"""Validate data against the spec models and turn pydantic's errors into diagnostics."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from specc.spec.diagnostics import Collector, dotted
from specc.spec.fields import keys_at
from specc.spec.locations import Path
from specc.spec.models import Spec

_TYPE_NAMES = {
    "int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
    "list": "a list", "dict": "a mapping", "model": "a mapping", "tuple": "a list",
    "none": "null",
}


#: Names other tools use (Hugging Face, TRL, PEFT, seed configs) and specc's key for them.
KEY_ALIASES: dict[str, str] = {
    "rank": "r", "lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout",
    "learning_rate": "optimizer", "lr": "optimizer",
    "per_device_train_batch_size": "train_micro_batch_size",
    "micro_batch_size": "train_micro_batch_size", "batch_size": "train_global_batch_size",
    "global_batch_size": "train_global_batch_size",
    "max_seq_length": "max_total_sequence_length", "max_length": "max_total_sequence_length",
    "gradient_checkpointing": "activation_checkpointing", "bf16": "precision",
    "fp16": "precision", "dtype": "precision", "torch_dtype": "precision",
    "lr_scheduler_type": "scheduler", "warmup_ratio": "scheduler", "warmup_steps": "scheduler",
    "num_generations": "num_generations_per_prompt", "group_size": "num_generations_per_prompt",
    "num_train_epochs": "max_num_epochs", "max_steps": "max_num_steps",
    "eval_steps": "val_period", "kl_coef": "reference_policy_kl_penalty",
    "model": "model_name", "model_name_or_path": "model_name",
}


def closest_key(key: str, allowed: list[str]) -> str | None:
    """The key ``key`` was probably meant to be: another tool's name for it, else the
    nearest spelling among ``allowed``; None when nothing is close."""
    alias = KEY_ALIASES.get(key)
    if alias and alias.split(".")[0].split(":")[0] in allowed:
        return alias
    close = _closest(key, tuple(allowed))
    return close[0] if close else None


def misspelt_key(key: str, allowed: list[str]) -> str | None:
    """The key ``key`` is a misspelling of: another tool's name for it, or a key within a
    couple of edits (case, `_` and `-` aside; one edit for keys of 4 letters or fewer).
    Stricter than :func:`closest_key`, whose nearest spelling may be a different word."""
    alias = KEY_ALIASES.get(key)
    if alias and alias.split(".")[0].split(":")[0] in allowed:
        return alias
    return _misspelt(key, tuple(allowed))


@functools.lru_cache(maxsize=8192)
def _misspelt(key: str, allowed: tuple[str, ...]) -> str | None:
    def norm(k: str) -> str:
        return k.lower().replace("_", "").replace("-", "")

    mine = norm(key)
    limit = 1 if len(mine) <= 4 else 2
    best: tuple[int, str] | None = None
    for k in allowed:
        d = _edits(mine, norm(k), limit)
        if d <= limit and (best is None or d < best[0]):
            best = (d, k)
    return best[1] if best else None


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours),
    or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def key_hint(key: str, allowed: list[str], *, otherwise: str = "remove it") -> str:
    """The hint for an unknown ``key`` among ``allowed``: "did you mean" (other tools'
    names first), else the known keys."""
    close = closest_key(key, allowed)
    if close:
        return f"did you mean `{close}`?"
    if allowed:
        return ("known keys here: " + ", ".join(f"`{k}`" for k in allowed[:12])
                + (", ..." if len(allowed) > 12 else ""))
    return otherwise


ExtraKeys = Callable[[Path], list[str]]


@functools.lru_cache(maxsize=8192)
def _closest(key: str, allowed: tuple[str, ...]) -> list[str]:
    """difflib's nearest match, remembered: a corpus repeats the same unknown keys."""
    return close_matches(key, allowed, cutoff=0.6)


def close_matches(word: str, choices: Iterable[str], *, n: int = 1,
                  cutoff: float = 0.6) -> list[str]:
    """``difflib.get_close_matches``, imported only when something is misspelt: a valid
    spec never pays for difflib."""
    import difflib

    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def validate_model(data: dict[str, Any], diags: Collector, *, broken: set[Path] | None = None,
                   model: type[BaseModel] = Spec,
                   extra_keys: ExtraKeys | None = None) -> BaseModel | None:
    """Validate ``data``; on failure add diagnostics and return None. ``extra_keys`` names
    further keys a mapping accepts (NeMo RL's), for "did you mean"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        report(exc, data, diags, broken or set(), model, extra_keys=extra_keys)
        return None


def report(exc: ValidationError, data: Any, diags: Collector, broken: set[Path],
           model: type[BaseModel], *, extra_keys: ExtraKeys | None = None) -> None:
    reported: set[Path] = set()
    for err in exc.errors(include_url=False):
        path = data_path(data, tuple(err["loc"]), err["type"])
        if any(path[: len(b)] == b for b in broken):
            continue
        if err["type"] != "extra_forbidden":
            if path in reported:  # a union reports once per arm; one message is enough
                continue
            reported.add(path)
        _one(err, path, data, diags, model, extra_keys=extra_keys)


def data_path(data: Any, loc: tuple[Any, ...], etype: str) -> Path:
    """Drop union tags from pydantic's ``loc`` by walking the data alongside it."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
            elif last or etype == "missing":
                out.append(part)
                node = None
            # otherwise: a union tag; skip it
        elif isinstance(node, list):
            if isinstance(part, int) and 0 <= part < len(node):
                out.append(part)
                node = node[part]
        else:
            break
    return tuple(out)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} `{text}`" if isinstance(value, str) else f"`{text}`"


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _one(err: Any, path: Path, data: Any, diags: Collector, model: type[BaseModel],
         *, extra_keys: ExtraKeys | None = None) -> None:
    etype: str = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    where = dotted(path)
    if etype == "extra_forbidden":
        parent = path[:-1]
        key = str(path[-1])
        allowed = keys_at(model, parent)
        if extra_keys is not None:
            allowed += [k for k in extra_keys(parent) if k not in allowed]
        hint = key_hint(key, allowed)
        where_text = f"in `{dotted(parent)}`" if parent else "at the top level"
        diags.add("S001", f"unknown key `{key}` {where_text}",
                  path=path, hint=hint, on_key=True)
        return
    if etype == "missing":
        diags.add("S004", f"`{where}` is required", path=path,
                  hint=f"add `{path[-1]}:` to `{dotted(path[:-1]) or 'the spec'}`")
        return
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}[etype]
        bound = next(iter(ctx.values()), "?")
        diags.add("S003", f"`{where}` must be {op} {bound}, got {_describe(value)}", path=path,
                  hint=_range_hint(path, op, bound))
        return
    if etype in ("too_short", "too_long"):
        diags.add("S003", f"`{where}`: {err['msg'].lower()}", path=path,
                  hint="check the number of items")
        return
    if etype == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",")
                   if c.strip()]
        close = close_matches(str(value), choices, cutoff=0.5) \
            if isinstance(value, str) else []
        hint = f"did you mean `{close[0]}`?" if close else f"use one of: {expected}"
        diags.add("S005", f"`{where}` must be one of {expected}; got {_describe(value)}",
                  path=path, hint=hint)
        return
    if etype.endswith("_type") or etype.endswith("_parsing") or etype in (
            "union_tag_invalid", "union_tag_not_found", "model_attributes_type",
            "is_instance_of"):
        kind = etype.split("_", maxsplit=1)[0]
        expected = _TYPE_NAMES.get(kind, kind)
        if etype in ("union_tag_invalid", "union_tag_not_found"):
            expected = "a valid entry"
        # a union reports every arm; keep one message per path
        hint = "write the value without quotes" if isinstance(value, str) and \
            _looks_numeric(value) and kind in ("int", "float") else f"use {expected}"
        if isinstance(value, float) and kind == "int" and value.is_integer():
            hint = f"write `{int(value)}` (an integer)"
        diags.add("S002", f"`{where}` must be {expected}, got {_describe(value)}", path=path,
                  hint=hint)
        return
    diags.add("S006", f"`{where}`: {err['msg']}", path=path, hint="fix the value")


def _range_hint(path: Path, op: str, bound: Any) -> str:
    leaf = str(path[-1]) if path else ""
    if leaf == "dropout":
        return "LoRA dropout is a probability in [0, 1); 0.05-0.1 is typical"
    if op in (">", ">="):
        return f"use a value {op} {bound}"
    return f"use a value {op} {bound}"
