"""Nothing silently ignored: every key of every algorithm block, set to a value other
than its default, either changes the lowered trainer call (config, LoRA, derived steps)
or gets a validate-time diagnostic naming the key (W015 and friends).

The only exceptions are values that *are* the trainer's fixed behaviour (``FIXED``): asking
for what the trainer always does is honoured without a config field.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from specc.compiler.plan import build_plan
from specc.spec.diagnostics import Collector
from specc.spec.facts import GENERATES
from specc.spec.models.algorithms import ALGORITHM_BLOCKS

#: (algorithm or "*", key) -> the value that is the trainer's only behaviour.
FIXED: dict[tuple[str, str], Any] = {
    ("*", "val_at_end"): True,  # specc always evaluates after the last step (objective)
    ("grpo", "use_leave_one_out_baseline"): False,  # TRL's group-mean baseline
    ("ppo", "max_episode_length"): 1,  # specc's PPO episode is one completion
}

_POOL: list[Any] = [2, 3, 5, 0.5, 0.25, 0.1, 0.9, 1, 10, 100, 0.0, -1.0]


def _base(algo: str) -> dict[str, Any]:
    data = "specc:arith-prompts" if algo in GENERATES or algo == "sft" else "specc:arith-prefs"
    spec: dict[str, Any] = {
        "specc": 1, "name": "coverage", "algorithm": algo,
        "policy": {"model_name": "specc:tiny-llama", "precision": "float32",
                   "max_total_sequence_length": 64, "train_global_batch_size": 8,
                   "train_micro_batch_size": 2,
                   "optimizer": {"name": "torch.optim.AdamW", "kwargs": {"lr": 1.0e-5}}},
        "data": {"train": {"path": data, "split": "train"},
                 "validation": {"path": data, "split": "validation"}},
        "hardware": {"gpu": "CPU"},
        algo: {},
    }
    if algo in GENERATES:
        spec["policy"]["generation"] = {"max_new_tokens": 16}
        spec["reward"] = {"functions": [{"name": "specc.rewards:exact_match"}]}
    return spec


def _candidates(block: type, key: str) -> list[Any]:
    field = block.model_fields[key]  # type: ignore[attr-defined]
    default = field.get_default(call_default_factory=True)
    text = str(field.annotation)
    if "FreeForm" in text or "dict" in text:
        pool: list[Any] = [{"enabled": True}]
    elif field.annotation is bool or text in ("bool | None", "typing.Optional[bool]"):
        pool = [not default] if isinstance(default, bool) else [True, False]
    else:
        literals = [a for arg in typing.get_args(field.annotation) or [field.annotation]
                    for a in typing.get_args(arg) if typing.get_origin(arg) is typing.Literal]
        if typing.get_origin(field.annotation) is typing.Literal:
            literals = list(typing.get_args(field.annotation))
        pool = literals or list(_POOL)
    out = []
    for v in pool:
        if v == default:
            continue
        try:
            block.model_validate({key: v})  # type: ignore[attr-defined]
        except Exception:
            continue
        out.append(v)
    return out


def _plan(tmp: Path, spec: dict[str, Any]) -> tuple[dict[str, Any] | None, Collector]:
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    diags = Collector()
    plan = build_plan(str(path), diags=diags, preview=0)
    if plan is None:
        return None, diags
    t = plan.trials[0]
    low = t.trainer.to_dict() if t.trainer else {}
    low.pop("notes", None)
    low.pop("tracking", None)
    return {"trainer": low, "derived": t.derived.to_dict() if t.derived else None}, diags


def _named(diags: Collector, algo: str, key: str) -> bool:
    return any(d.severity.value in ("warning", "error") and d.path == f"{algo}.{key}"
               for d in diags.items)


CASES = [(algo, key) for algo, block in ALGORITHM_BLOCKS.items()
         for key in block.model_fields]


@pytest.mark.parametrize(("algo", "key"), CASES, ids=[f"{a}.{k}" for a, k in CASES])
def test_every_algorithm_key_is_lowered_or_warned(algo: str, key: str, tmp_path: Path) -> None:
    block = ALGORITHM_BLOCKS[algo]
    base, diags = _plan(tmp_path, _base(algo))
    assert base is not None, [d.message for d in diags.items]
    values = _candidates(block, key)
    assert values, f"no non-default value to try for {algo}.{key}"
    outcomes: list[tuple[Any, bool, bool]] = []  # (value, changes the call, named)
    for value in values:
        spec = _base(algo)
        spec[algo][key] = value
        got, diags = _plan(tmp_path, spec)
        if got is None:
            continue  # the value makes this minimal spec invalid: try another one
        fixed = FIXED.get((algo, key), FIXED.get(("*", key), object()))
        outcomes.append((value, got != base or value == fixed, _named(diags, algo, key)))
    assert outcomes, f"every value tried for {algo}.{key} broke the spec"
    if any(changed for _, changed, _ in outcomes):
        return  # lowered (some values may equal what the trainer derives anyway)
    silent = [v for v, _, named in outcomes if not named]
    assert not silent, (f"{algo}.{key}: {silent!r} change neither the trainer call nor the "
                        "derived numbers, and no diagnostic names the key")


def test_listed_keys_are_real_keys() -> None:
    from specc.spec.rules.honoured import NOT_HONOURED

    for u in NOT_HONOURED:
        for algo in u.algorithms:
            assert u.key in ALGORITHM_BLOCKS[algo].model_fields, (algo, u.key)


def test_multi_turn_and_backend_settings_warn(tmp_path: Path) -> None:
    spec = _base("grpo")
    spec["grpo"]["max_rollout_turns"] = 3
    spec["policy"]["generation"]["backend"] = "sglang"
    spec["env"] = {"math": {"num_workers": 2}}
    _, diags = _plan(tmp_path, spec)
    codes = {(d.code, d.path) for d in diags.items}
    assert ("W015", "grpo.max_rollout_turns") in codes
    assert ("W016", "policy.generation.backend") in codes
    assert ("W017", "env") in codes
    # vLLM is TRL's for GRPO/RLOO (use_vllm: honoured where installed, N032 at run time
    # otherwise); specc's own trainers cannot use it
    spec["policy"]["generation"]["backend"] = "vllm"
    _, diags = _plan(tmp_path, spec)
    assert not any(d.code == "W016" for d in diags.items)
    ppo = _base("ppo")
    ppo["policy"]["generation"]["backend"] = "vllm"
    _, diags = _plan(tmp_path, ppo)
    assert any(d.code == "W016" and "grpo and rloo" in d.message for d in diags.items)
    spec = _base("ppo")
    spec["ppo"]["max_episode_length"] = 4
    _, diags = _plan(tmp_path, spec)
    assert any(d.code == "W015" and "max_episode_length" in d.message for d in diags.items)
    spec["ppo"]["max_episode_length"] = 1  # one turn is what PPO does
    _, diags = _plan(tmp_path, spec)
    assert not any(d.code == "W015" for d in diags.items)
