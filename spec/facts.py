"""What each algorithm is, in one table: its TRL trainer and config classes, whether it
generates completions, learns from pairs, can be run, which dataset columns its trainer
reads, its default objective and the metrics it reports.

Every layer reads these facts from here (validation rules, presets, the memory model,
derived numbers, the lowering, the runtime's data loading and the emitted scripts), so
two copies cannot disagree. Plain data: importing this module imports nothing heavy.
"""

from __future__ import annotations

from specc.spec.records import record

__all__ = [
    "FACTS",
    "GENERATES",
    "PAIRED",
    "PREFERENCE",
    "ROLLOUTS",
    "RUNNABLE",
    "AlgorithmFacts",
    "facts",
    "keep_columns",
]

#: TrainingArguments metrics every trainer logs (plus the ones specc adds per trial).
COMMON_METRICS: frozenset[str] = frozenset({
    "eval_loss", "train_loss", "loss", "grad_norm", "learning_rate", "epoch",
    "train_runtime", "train_samples_per_second", "peak_memory_gb", "training_time",
})
_PREFERENCE_METRICS = frozenset({
    "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
    "logps/chosen", "logps/rejected", "logits/chosen", "logits/rejected",
})
_RL_METRICS = frozenset({"reward", "reward_std", "kl", "entropy", "completion_length",
                         "clip_ratio"})


def _reported(names: frozenset[str]) -> frozenset[str]:
    """An algorithm's metrics as TRL logs them: common ones, its own, and eval_ copies."""
    return COMMON_METRICS | names | frozenset(f"eval_{n}" for n in names)


def _own(names: frozenset[str]) -> frozenset[str]:
    """Metrics of specc's RS-SFT/AWR/PPO trainers: common ones but `eval_loss`, their own,
    and `eval_reward`, the only evaluation they run (greedy completions' mean reward)."""
    return (COMMON_METRICS - {"eval_loss"}) | names | {"eval_reward"}


@record(frozen=True)
class AlgorithmFacts:
    """The traits of one algorithm that more than one layer needs."""

    name: str
    #: TRL trainer class (dotted); None when specc plans the algorithm but cannot run it.
    trainer: str | None
    #: TRL `*Config` class (dotted); None with ``trainer``.
    config: str | None
    #: Why specc cannot run it yet (None when it can).
    not_runnable: str | None
    #: Generates completions with the policy (needs reward functions, a generation block).
    generates: bool
    #: Groups of generations per prompt each step (GRPO/RLOO): prompts x generations.
    rollouts: bool
    #: Each example is a chosen and a rejected sequence in one concatenated forward pass.
    paired: bool
    #: Sequences the loss runs the policy on per example (the memory model): chosen +
    #: rejected for DPO/ORPO, completion + KL-mismatch completion for KTO.
    sequences_per_example: int
    #: Learns from preference data (chosen/rejected; KTO reads it unpaired).
    preference: bool
    #: Dataset columns the trainer reads (after `*_key` renames).
    columns: tuple[str, ...]
    #: Whether other columns are kept for the trainer (reward functions read them).
    keeps_extra_columns: bool
    #: The objective of a run without `hpo`: reward for generating algorithms, else loss.
    default_objective: str
    #: Metrics its trainer reports (TRL's log names), for checking HPO objectives.
    metrics: frozenset[str]

    @property
    def runnable(self) -> bool:
        return self.trainer is not None


def _f(name: str, trainer: str | None, config: str | None, *, columns: tuple[str, ...],
       metrics: frozenset[str], not_runnable: str | None = None, generates: bool = False,
       rollouts: bool = False, paired: bool = False, sequences: int = 1,
       preference: bool = False, own: bool = False) -> AlgorithmFacts:
    return AlgorithmFacts(
        name=name, trainer=trainer, config=config, not_runnable=not_runnable,
        generates=generates, rollouts=rollouts, paired=paired,
        sequences_per_example=sequences, preference=preference, columns=columns,
        keeps_extra_columns=generates, default_objective="reward" if generates else "loss",
        metrics=_own(metrics) if own else _reported(metrics))


_PROMPTS = ("prompt",)
#: Where specc's own trainers live (TRL 1.16 has none for RS-SFT, AWR and PPO).
_OWN = "specc.runtime.algorithms"
#: Per-round metrics of RS-SFT and AWR (`RoundMetrics`), and their SFTTrainer's logs.
_ROUND_METRICS = frozenset({"round", "generated", "kept", "reward", "reward_mean",
                            "reward_std", "reward_min", "reward_max", "kept_reward_mean",
                            "round_loss", "entropy", "mean_token_accuracy", "num_tokens"})
#: Per-update metrics of specc's PPO loop.
_PPO_METRICS = frozenset({"reward", "reward_std", "kl", "entropy", "response_length",
                          "value_loss", "policy_loss", "clipfrac", "approx_kl",
                          "value_clipfrac", "reward_mean", "kl_coef", "kl_sequence",
                          "value_mean", "returns_mean"})
_PAIRS = ("prompt", "chosen", "rejected")

#: Every algorithm specc knows, in the order the spec's `algorithm` Literal lists them.
FACTS: dict[str, AlgorithmFacts] = {f.name: f for f in (
    _f("sft", "trl.SFTTrainer", "trl.SFTConfig", columns=("prompt", "completion"),
       metrics=frozenset({"mean_token_accuracy", "entropy", "num_tokens"})),
    _f("dpo", "trl.DPOTrainer", "trl.DPOConfig", columns=_PAIRS, paired=True, sequences=2,
       preference=True, metrics=_PREFERENCE_METRICS),
    _f("orpo", "trl.experimental.orpo.ORPOTrainer", "trl.experimental.orpo.ORPOConfig",
       columns=_PAIRS, paired=True, sequences=2, preference=True,
       metrics=_PREFERENCE_METRICS | {"log_odds_ratio", "log_odds_chosen", "nll_loss"}),
    _f("kto", "trl.KTOTrainer", "trl.KTOConfig", columns=("prompt", "completion", "label"),
       sequences=2, preference=True,
       metrics=frozenset({"rewards/chosen", "rewards/rejected", "rewards/margins", "kl",
                          "logps/chosen", "logps/rejected"})),
    _f("grpo", "trl.GRPOTrainer", "trl.GRPOConfig", columns=_PROMPTS, generates=True,
       rollouts=True, metrics=_RL_METRICS),
    _f("rloo", "trl.RLOOTrainer", "trl.RLOOConfig", columns=_PROMPTS, generates=True,
       rollouts=True, metrics=_RL_METRICS),
    _f("rs_sft", f"{_OWN}.trainers.RSSFTTrainer", f"{_OWN}.configs.RSSFTConfig",
       columns=_PROMPTS, generates=True, own=True, metrics=_ROUND_METRICS),
    _f("awr", f"{_OWN}.trainers.AWRTrainer", f"{_OWN}.configs.AWRConfig",
       columns=_PROMPTS, generates=True, own=True,
       metrics=_ROUND_METRICS | {"weight_mean", "weight_max"}),
    _f("ppo", f"{_OWN}.trainers.PPOTrainer", f"{_OWN}.configs.PPOConfig",
       columns=_PROMPTS, generates=True, own=True, metrics=_PPO_METRICS),
)}


def facts(algorithm: str) -> AlgorithmFacts:
    """The facts of ``algorithm`` (KeyError for a name specc does not know)."""
    return FACTS[algorithm]


def keep_columns(algorithm: str) -> tuple[str, ...] | None:
    """The columns a trial's dataset keeps: the trainer's (and a plain-text `text`), or
    None for every column (reward functions read the others)."""
    f = FACTS[algorithm]
    return None if f.keeps_extra_columns else (*f.columns, "text")


def _names(pred: str) -> frozenset[str]:
    return frozenset(n for n, f in FACTS.items() if getattr(f, pred))


#: Algorithms that generate completions and need reward functions.
GENERATES: frozenset[str] = _names("generates")
#: Algorithms whose steps are prompts x generations (GRPO's and RLOO's groups).
ROLLOUTS: frozenset[str] = _names("rollouts")
#: Algorithms whose examples are chosen/rejected pairs in one forward pass.
PAIRED: frozenset[str] = _names("paired")
#: Algorithms that learn from preference data.
PREFERENCE: frozenset[str] = _names("preference")
#: Algorithms `specc run` can train.
RUNNABLE: frozenset[str] = _names("runnable")
