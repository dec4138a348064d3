"""TRL's field names as specc reads them: which config class has which field, its type,
and the specc path it becomes.

The names and types come from `spec/catalog/trl_fields.py` (generated from the installed
TRL); the paths below are specc's side of `compiler/lowering.py`, read backwards.
"""

from __future__ import annotations

import ast
import functools
from typing import Any

from specc.spec.catalog.trl_fields import (
    CONFIGS,
    MODEL_CONFIG,
    REWARD_FUNCS,
    SCRIPT_ARGUMENTS,
    SCRIPT_EXTRA,
    TRAINING_ARGUMENTS,
)

ALGORITHMS: tuple[str, ...] = tuple(CONFIGS)
#: The class names, for messages.
CLASS_NAMES: dict[str, str] = {"sft": "SFTConfig", "dpo": "DPOConfig", "kto": "KTOConfig",
                               "grpo": "GRPOConfig", "rloo": "RLOOConfig",
                               "orpo": "ORPOConfig"}

#: Field -> specc path. `{algo}` is the selected algorithm's block.
PATHS: dict[str, str] = {
    "model_name_or_path": "policy.model_name",
    "output_dir": "output_dir",
    "per_device_train_batch_size": "policy.train_micro_batch_size",
    "learning_rate": "policy.optimizer.kwargs.lr",
    "weight_decay": "policy.optimizer.kwargs.weight_decay",
    "adam_epsilon": "policy.optimizer.kwargs.eps",
    "max_grad_norm": "policy.max_grad_norm",
    "num_train_epochs": "{algo}.max_num_epochs",
    "max_steps": "{algo}.max_num_steps",
    "seed": "{algo}.seed",
    "per_device_eval_batch_size": "{algo}.val_micro_batch_size",
    "lr_scheduler_type": "policy.scheduler.type",
    "warmup_steps": "policy.scheduler.warmup_steps",
    "tf32": "policy.tf32",
    "gradient_checkpointing": "policy.activation_checkpointing",
    "activation_checkpointing": "policy.activation_checkpointing",
    "dataloader_num_workers": "data.num_workers",
    "use_peft": "policy.lora.enabled",
    "lora_r": "policy.lora.r",
    "lora_alpha": "policy.lora.alpha",
    "lora_dropout": "policy.lora.dropout",
    "lora_target_modules": "policy.lora.target_modules",
    "lora_modules_to_save": "policy.lora.modules_to_save",
    "use_rslora": "policy.lora.use_rslora",
    "dataset_name": "data.train.path",
    "dataset_config": "data.train.subset",
    "dataset_train_split": "data.train.split",
}
_GENERATION = {
    "max_completion_length": "policy.generation.max_new_tokens",
    "temperature": "policy.generation.temperature",
    "top_p": "policy.generation.top_p",
    "top_k": "policy.generation.top_k",
    "min_p": "policy.generation.min_p",
    "repetition_penalty": "policy.generation.repetition_penalty",
}
#: Per algorithm: fields whose specc path depends on the trainer.
ALGO_PATHS: dict[str, dict[str, str]] = {
    "sft": {"max_length": "policy.max_total_sequence_length", "packing": "sft.packing",
            "completion_only_loss": "sft.completion_only_loss"},
    "dpo": {"max_length": "policy.max_total_sequence_length",
            "beta": "dpo.reference_policy_kl_penalty", "label_smoothing": "dpo.label_smoothing",
            "precompute_ref_log_probs": "dpo.precompute_ref_log_probs"},
    "kto": {"max_length": "policy.max_total_sequence_length", "beta": "kto.beta",
            "desirable_weight": "kto.desirable_weight",
            "undesirable_weight": "kto.undesirable_weight",
            "precompute_ref_log_probs": "kto.precompute_ref_log_probs"},
    "orpo": {"max_length": "policy.max_total_sequence_length", "beta": "orpo.beta"},
    "grpo": {**_GENERATION, "beta": "loss_fn.reference_policy_kl_penalty",
             "num_generations": "grpo.num_generations_per_prompt",
             "num_iterations": "grpo.num_iterations",
             "mask_truncated_completions": "grpo.overlong_filtering",
             "epsilon": "loss_fn.ratio_clip_min", "epsilon_high": "loss_fn.ratio_clip_max"},
    "rloo": {**_GENERATION, "beta": "rloo.reference_policy_kl_penalty",
             "num_generations": "rloo.num_generations_per_prompt",
             "normalize_advantages": "rloo.normalize_rewards"},
}
#: Fields read by a rule of their own in `trl_fields_map.py` (not a plain path).
SPECIAL: frozenset[str] = frozenset({
    "gradient_accumulation_steps", "generation_batch_size", "steps_per_generation", "bf16",
    "fp16", "dtype", "adam_beta1", "adam_beta2", "optim", "lr_scheduler_kwargs",
    "eval_strategy", "eval_steps", "dataset_test_split", "reward_funcs", "reward_weights",
    "use_vllm", "scale_rewards", "loss_type", "loss_weights", "report_to", "lora_task_type",
})
#: Old TRL names the installed TRL renamed: accepted as the new name, with a warning.
RENAMED: dict[str, str] = {"torch_dtype": "dtype", "evaluation_strategy": "eval_strategy"}
#: Fields TRL's defaults differ from specc's on, filled from the table when not written so
#: the trainer call is the one `trl <command>` makes.
FILLED: tuple[str, ...] = ("per_device_train_batch_size", "gradient_accumulation_steps",
                           "lr_scheduler_type", "gradient_checkpointing", "max_length", "beta",
                           "num_generations")
#: Keys of specc's own root a TRL CLI config may also hold (they pass as written).
SPECC_ROOT: tuple[str, ...] = ("specc", "name", "description", "algorithm", "hardware", "hpo",
                               "logger", "reward", "data", "cluster", "checkpointing", "env",
                               "layout")


def fields(algo: str) -> dict[str, tuple[str, Any]]:
    """Every field `trl <algo> --config` accepts: name -> (type, default)."""
    return _fields(algo)


@functools.cache
def _fields(algo: str) -> dict[str, tuple[str, Any]]:
    return {**SCRIPT_ARGUMENTS, **SCRIPT_EXTRA.get(algo, {}), **MODEL_CONFIG,
            **TRAINING_ARGUMENTS, **CONFIGS[algo]}


@functools.cache
def all_fields() -> frozenset[str]:
    names: set[str] = set()
    for algo in ALGORITHMS:
        names |= set(_fields(algo))
    return frozenset(names)


def owners(name: str) -> list[str]:
    """The commands whose config has ``name``."""
    return [a for a in ALGORITHMS if name in _fields(a)]


def own_fields(algo: str) -> frozenset[str]:
    """Fields ``algo``'s config adds to TrainingArguments (not redefinitions)."""
    return frozenset(set(CONFIGS[algo]) - set(TRAINING_ARGUMENTS)
                     | set(SCRIPT_EXTRA.get(algo, {})))


def path_of(name: str, algo: str | None) -> str | None:
    """The specc path of a TRL field (None: no plain path; `{algo}` unresolved when
    ``algo`` is None)."""
    if algo is not None and name in ALGO_PATHS.get(algo, {}):
        return ALGO_PATHS[algo][name]
    target = PATHS.get(name)
    if target is None:
        return None
    return target.format(algo=algo) if algo is not None else target


def key_hint(key: str, allowed: list[str], *, otherwise: str = "remove it") -> str:
    """"Did you mean" for an unknown key (the schema's wording), imported when needed."""
    from specc.spec.schema_check import key_hint as hint

    return hint(key, allowed, otherwise=otherwise)


def reward_name(name: str) -> str | None:
    """A `reward_funcs` entry as specc's `module:function` (None: TRL could not load it)."""
    if name in REWARD_FUNCS:
        return f"trl.rewards:{name}"
    if ":" in name:
        return name
    module, dot, func = name.rpartition(".")
    return f"{module}:{func}" if dot and module and func else None


# --- types -------------------------------------------------------------------------------


def _arms(t: str) -> list[str]:
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(t):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(t[start:i].strip())
            start = i + 1
    out.append(t[start:].strip())
    return out


def type_ok(value: Any, t: str) -> bool:
    """Whether ``value`` fits a table type (a `${...}` string fits anything)."""
    if isinstance(value, str) and "${" in value:
        return True
    return any(_arm_ok(value, arm) for arm in _arms(t))


def _arm_ok(value: Any, arm: str) -> bool:
    if arm == "any":
        return True
    if arm == "None":
        return value is None
    if arm == "bool":
        return isinstance(value, bool)
    if arm == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if arm == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if arm == "str":
        return isinstance(value, str)
    if arm == "dict":
        return isinstance(value, dict)
    if arm.startswith("list["):
        inner = arm[5:-1]
        items = value if isinstance(value, list) else [value]  # TRL takes one for a list
        return all(type_ok(v, inner) for v in items)
    if arm.startswith("Literal["):
        return value in choices(arm)
    return True


def choices(arm: str) -> list[Any]:
    try:
        parsed = ast.literal_eval("[" + arm[len("Literal["):-1] + "]")
    except (ValueError, SyntaxError):
        return []
    return list(parsed) if isinstance(parsed, list) else []
