"""What a spec value becomes in the trainer call (`specc explain`'s "becomes" line).

The lowering (:mod:`specc.compiler.lowering`) is code, not a table, and derived numbers
(gradient accumulation, warmup steps) depend on several keys at once. So this asks the
lowering itself: it lowers the spec, lowers it again with the value at one path changed
(re-interpolated, so `${...}` readers of the value follow), and names the TRL `*Config`
fields, PEFT `LoraConfig` fields and other trainer inputs that changed. It never
imports TRL: the names come from the lowering tables, which `tests/test_lowering.py`
checks against the installed TRL and PEFT.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from specc.compiler.derive import derive
from specc.compiler.lowering import Lowered, lower
from specc.compiler.space import apply_point
from specc.spec.diagnostics import dotted
from specc.spec.fields import leaf
from specc.spec.keypath import parse as parse_override_path
from specc.spec.keypath import value_at as get_path
from specc.spec.locations import Path
from specc.spec.models import Spec

_OUT = "out"


def lowered_fields(raw: dict[str, Any], path: Path, value: Any = None) -> list[str] | None:
    """Trainer inputs fed by the value at ``path`` of the merged tree ``raw`` (``value``:
    its value when the tree does not write it, e.g. a schema default):
    ``DPOConfig.learning_rate``, ``LoraConfig.r``, ... Empty when changing it changes no
    trainer input; None when that cannot be told (the spec cannot be lowered, or no other
    value to try is known)."""
    key = dotted(path)
    if not path or parse_override_path(key) != path:
        return None  # keys holding dots (search-space entries) are not trainer inputs
    base = _lower(apply_point(raw, {}))
    if base is None or base.config_class is None:
        return None
    current = get_path(apply_point(raw, {}), path, value)
    alternatives = _alternatives(current, path)
    if not alternatives:
        return None
    for alt in alternatives:
        other = _lower(apply_point(raw, {key: alt}))
        if other is None:
            continue
        changed = _changes(base, other)
        if changed:
            return changed
    return []


def _lower(data: dict[str, Any]) -> Lowered | None:
    try:
        spec = Spec.model_validate(data)
    except ValidationError:
        return None
    try:
        return lower(spec, derive(spec), _OUT)
    except (ArithmeticError, KeyError, TypeError, ValueError):
        return None


def _alternatives(value: Any, path: Path) -> list[Any]:
    """A few other valid-looking values for ``path`` (the first that lowers differently
    names the fields)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value * 2, value + 1, max(value - 1, 1)]
    if isinstance(value, float):
        return [value * 2, value / 2] if value else [0.5, 0.1]
    if isinstance(value, str):
        found = leaf(Spec, path)
        choices = found.literal_values() if found is not None else None
        return [c for c in choices or [] if c != value and c is not None]
    if isinstance(value, list) and value and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return [[v / 2 for v in value]]
    if isinstance(value, list) and len(value) > 1:
        return [value[:-1]]
    return []


def _changes(a: Lowered, b: Lowered) -> list[str]:
    cls = (a.config_class or "").rsplit(".", 1)[-1]
    out = [f"{cls}.{k}" for k in dict.fromkeys([*a.config, *b.config])
           if a.config.get(k) != b.config.get(k)]
    pa, pb = a.peft or {}, b.peft or {}
    if (a.peft is None) != (b.peft is None):
        out.append("LoraConfig (LoRA on/off)")
    else:
        out += [f"LoraConfig.{k}" for k in dict.fromkeys([*pa, *pb]) if pa.get(k) != pb.get(k)]
    if a.optimizer != b.optimizer:
        out.append("the optimizer's kwargs (passed to the optimizer class)")
    if a.scheduler != b.scheduler:
        out.append("the scheduler list (built with SequentialLR)")
    if a.reward_functions != b.reward_functions:
        out.append("the reward functions")
    return out
