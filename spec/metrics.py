"""Metrics each algorithm reports (TRL's log names), for checking HPO objectives."""

from __future__ import annotations

from specc.spec.facts import COMMON_METRICS, FACTS

COMMON: frozenset[str] = COMMON_METRICS

#: Metrics each algorithm reports (the facts table's).
METRICS: dict[str, frozenset[str]] = {n: f.metrics for n, f in FACTS.items()}

#: Names from the seed dialects and other tools, and what specc calls them.
ALIASES: dict[str, str] = {
    "validation_loss": "eval_loss",
    "val_loss": "eval_loss",
    "val_reward": "eval_reward",
    "reward_gap": "eval_rewards/margins",
    "accuracy": "eval_rewards/accuracies",
    "memory_usage": "peak_memory_gb",
    "completion_length": "completions/mean_length",  # TRL >= 0.20 logs the latter
    "eval_completion_length": "eval_completions/mean_length",
}
