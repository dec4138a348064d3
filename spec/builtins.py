"""Names specc knows statically: built-in model, datasets and reward functions.

Validation checks these names without loading anything; the runtime
materialises them (``specc.runtime.builtins``).
"""

from __future__ import annotations

from typing import Literal

BUILTIN_PREFIX = "specc:"
REWARD_MODULE = "specc.rewards"

#: Built-in models (offline, deterministic).
MODELS: dict[str, str] = {
    "specc:tiny-llama": "a 2-layer Llama with a byte-level tokenizer, built from a fixed seed",
}

DatasetKind = Literal["preference", "prompts"]

#: Built-in datasets and what they hold.
DATASETS: dict[str, DatasetKind] = {
    "specc:arith-prefs": "preference",
    "specc:arith-prompts": "prompts",
}
DATASET_SPLITS: tuple[str, ...] = ("train", "validation")

#: Built-in reward functions in `specc.rewards`.
REWARDS: dict[str, str] = {
    "exact_match": "1.0 when the completion's final number equals the answer, else 0.0",
    "numeric_closeness": "1 / (1 + |completion number - answer|)",
    "json_valid": "1.0 when the completion parses as JSON",
    "length_penalty": "minus the completion length over a target, scaled",
    "format_reward": "1.0 when the completion is just a number",
}

#: Which dataset kinds each algorithm can train on.
ALGORITHM_DATA: dict[str, tuple[DatasetKind, ...]] = {
    "sft": ("preference", "prompts"),
    "dpo": ("preference",),
    "orpo": ("preference",),
    "kto": ("preference",),
    "grpo": ("prompts",),
    "rloo": ("prompts",),
    "rs_sft": ("prompts",),
    "awr": ("prompts",),
    "ppo": ("prompts",),
}

#: Examples per (dataset, split); the generator in `specc.compiler.builtin_data` makes
#: exactly these many, deterministically.
DATASET_SIZES: dict[tuple[str, str], int] = {
    ("specc:arith-prefs", "train"): 512,
    ("specc:arith-prefs", "validation"): 64,
    ("specc:arith-prompts", "train"): 512,
    ("specc:arith-prompts", "validation"): 64,
}
