"""Metrics each algorithm reports (TRL's log names), for checking HPO objectives."""

from __future__ import annotations

COMMON: frozenset[str] = frozenset({
    "eval_loss", "train_loss", "loss", "grad_norm", "learning_rate", "epoch",
    "train_runtime", "train_samples_per_second", "peak_memory_gb", "training_time",
})

_PREFERENCE = {
    "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
    "logps/chosen", "logps/rejected", "logits/chosen", "logits/rejected",
}
_RL = {"reward", "reward_std", "kl", "entropy", "completion_length", "clip_ratio"}


def _with_eval(names: set[str]) -> frozenset[str]:
    return frozenset(names | {f"eval_{n}" for n in names})


METRICS: dict[str, frozenset[str]] = {
    "sft": COMMON | _with_eval({"mean_token_accuracy", "entropy", "num_tokens"}),
    "dpo": COMMON | _with_eval(_PREFERENCE),
    "orpo": COMMON | _with_eval(_PREFERENCE | {"log_odds_ratio", "log_odds_chosen",
                                               "nll_loss"}),
    "kto": COMMON | _with_eval({"rewards/chosen", "rewards/rejected", "rewards/margins",
                                "kl", "logps/chosen", "logps/rejected"}),
    "grpo": COMMON | _with_eval(_RL),
    "rloo": COMMON | _with_eval(_RL),
    "rs_sft": COMMON | _with_eval(_RL | {"mean_token_accuracy"}),
    "awr": COMMON | _with_eval(_RL),
    "ppo": COMMON | _with_eval(_RL | {"value_loss", "policy_loss"}),
}

#: Names from the seed dialects and other tools, and what specc calls them.
ALIASES: dict[str, str] = {
    "validation_loss": "eval_loss",
    "val_loss": "eval_loss",
    "val_reward": "eval_reward",
    "reward_gap": "eval_rewards/margins",
    "accuracy": "eval_rewards/accuracies",
    "memory_usage": "peak_memory_gb",
}
