"""One block per algorithm, with the knobs and ranges the seed guides give.

NeMo RL's names are used where NeMo RL has the algorithm (`dpo`, `grpo`,
`sft`); the Web4 guide (seed 003) supplies ORPO, RS-SFT, AWR and PPO.
"""

from typing import Annotated, Literal

from pydantic import Field, field_validator

from specc.spec.models.base import (
    FreeForm,
    NemoBlock,
    NonNegFloat,
    PositiveFloat,
    PositiveInt,
    Probability,
)

Algorithm = Literal["sft", "dpo", "orpo", "kto", "grpo", "rloo", "rs_sft", "awr", "ppo"]


class Loop(NemoBlock):
    """Training-loop keys every algorithm block shares (NeMo RL names)."""

    max_num_epochs: PositiveInt | None = None
    """Passes over the training data (seed 003: 3 for ORPO/DPO, 2 for RS-SFT/AWR)."""
    max_num_steps: PositiveInt | None = None
    """Optimizer steps; training stops at whichever of epochs/steps comes first."""
    val_period: int | None = None
    """Validate every this many steps (0 or negative = never, as in NeMo RL); the HPO
    objective is reported then."""
    val_batches: PositiveInt | None = None
    """Validation batches per validation (null = the whole validation split)."""
    val_global_batch_size: PositiveInt | None = None
    """Validation batch size across all GPUs."""
    val_micro_batch_size: PositiveInt | None = None
    """Validation batch size per GPU."""
    val_at_start: bool = False
    """Validate before the first step."""
    val_at_end: bool = False
    """Validate after the last step."""
    seed: int = 42
    """Random seed for data order and initialisation."""

    @field_validator("val_period")
    @classmethod
    def _never(cls, v: int | None) -> int | None:
        return 0 if v is not None and v < 0 else v


class SFT(Loop):
    """Supervised fine-tuning (TRL `SFTTrainer`)."""

    packing: bool = False
    """Pack several short examples into one sequence."""
    completion_only_loss: bool | None = None
    """Compute the loss on completions only (prompt tokens masked)."""


class DPO(Loop):
    """Direct Preference Optimization (NeMo RL `dpo`, TRL `DPOTrainer`)."""

    reference_policy_kl_penalty: PositiveFloat = 0.1
    """Beta: strength of the implicit KL penalty (seed 003: 0.01-0.5, start at 0.1;
    above 0.5 risks instability)."""
    preference_loss: Literal["dpo", "ipo", "hinge", "robust"] = "dpo"
    """Preference loss; `dpo` is TRL's `sigmoid`."""
    preference_loss_weight: NonNegFloat = 1.0
    """Coefficient of the preference loss."""
    sft_loss_weight: NonNegFloat = 0.0
    """Coefficient of an added SFT (NLL) loss on the chosen responses."""
    preference_average_log_probs: bool = False
    """Average token log-probs over the sequence in the preference loss."""
    sft_average_log_probs: bool = False
    """Average token log-probs over the sequence in the SFT loss."""
    label_smoothing: Annotated[float, Field(ge=0, lt=0.5)] = 0.0
    """Conservative-DPO label smoothing (usually 0; try 0.1 when overfitting)."""
    max_prompt_length: PositiveInt | None = None
    """Truncate prompts to this many tokens."""
    precompute_ref_log_probs: bool = False
    """Compute reference log-probs once up front so no reference model stays in memory."""
    gt_reward_scale: PositiveFloat | None = None
    """NeMo RL: reward scale for RPO losses. Carried through."""


class ORPO(Loop):
    """Odds Ratio Preference Optimization (TRL `ORPOTrainer`); no reference model."""

    beta: PositiveFloat = 0.1
    """Odds-ratio loss weight (seed 003: 0.05-0.2)."""
    max_prompt_length: PositiveInt | None = None
    """Truncate prompts to this many tokens."""


class KTO(Loop):
    """Kahneman-Tversky Optimization (TRL `KTOTrainer`) on unpaired good/bad examples."""

    beta: PositiveFloat = 0.1
    """KL penalty strength."""
    desirable_weight: PositiveFloat = 1.0
    """Loss weight of desirable examples."""
    undesirable_weight: PositiveFloat = 1.0
    """Loss weight of undesirable examples."""
    max_prompt_length: PositiveInt | None = None
    """Truncate prompts to this many tokens."""
    precompute_ref_log_probs: bool = False
    """Compute reference log-probs up front so no reference model stays in memory."""


class GRPO(Loop):
    """Group Relative Policy Optimization (NeMo RL `grpo`, TRL `GRPOTrainer`).

    The KL penalty and clipping live in `loss_fn`, as in NeMo RL.
    """

    num_prompts_per_step: PositiveInt = 4
    """Prompts sampled per step."""
    num_generations_per_prompt: Annotated[int, Field(ge=2)] = 4
    """Completions per prompt, compared within their group (seed 002: 4-16)."""
    max_rollout_turns: PositiveInt = 1
    """Turns per rollout (1 for single-answer tasks)."""
    normalize_rewards: bool = True
    """Divide advantages by the group's reward standard deviation."""
    use_leave_one_out_baseline: bool = True
    """Baseline each completion with the mean of the *other* completions."""
    overlong_filtering: bool = False
    """Drop truncated completions from the loss."""
    num_iterations: PositiveInt = 1
    """Policy updates per generation batch (PPO epochs; seed 003: 4)."""
    loss_type: Literal["grpo", "bnpo", "dr_grpo", "dapo"] | None = None
    """TRL loss normalisation; null keeps TRL's default."""
    val_batch_size: PositiveInt | None = None
    """Prompts per validation batch."""
    max_val_samples: PositiveInt | None = None
    """Validation prompts used."""
    async_grpo: FreeForm | None = None
    """NeMo RL asynchronous GRPO settings; carried through unmodelled."""


class RLOO(Loop):
    """REINFORCE Leave-One-Out (TRL `RLOOTrainer`)."""

    num_prompts_per_step: PositiveInt = 4
    """Prompts sampled per step."""
    num_generations_per_prompt: Annotated[int, Field(ge=2)] = 4
    """Completions per prompt (k); each is baselined by the other k-1."""
    reference_policy_kl_penalty: NonNegFloat = 0.05
    """KL penalty against the reference model (0 disables it)."""
    normalize_rewards: bool = False
    """Normalise advantages."""


class RSSFT(Loop):
    """Rejection-sampling SFT (seed 003 stage 2): sample, keep the best, fine-tune."""

    num_samples_per_prompt: PositiveInt = 4
    """Completions generated per prompt; the best ones are kept."""
    reward_threshold: float = 0.6
    """Keep only samples whose reward exceeds this."""
    max_samples: PositiveInt | None = 20000
    """Cap on the filtered dataset size (per round; the highest rewards are kept)."""
    best_of_n: bool = False
    """Keep only the best passing sample of each prompt (best-of-n) instead of every
    sample above the threshold."""
    num_rounds: PositiveInt = 1
    """Generate-filter-fine-tune rounds, each sampling from the policy the previous round
    trained; `max_num_epochs`/`max_num_steps` apply to each round's fine-tune."""


class AWR(Loop):
    """Advantage-Weighted Regression (seed 003 stage 2)."""

    advantage_beta: PositiveFloat = 5.0
    """Advantage temperature (seed 003: 1.0-10.0, start at 5.0)."""
    normalize_advantage: bool = True
    """Normalise advantages before weighting."""
    clip_advantage: PositiveFloat = 10.0
    """Maximum advantage weight."""
    num_samples_per_prompt: PositiveInt = 8
    """Completions generated per prompt."""
    num_rounds: PositiveInt = 1
    """Generate-weight-fine-tune rounds, each sampling from the policy the previous round
    trained; `max_num_epochs`/`max_num_steps` apply to each round's fine-tune."""


class PPO(Loop):
    """Proximal Policy Optimization (seed 003 stage 3)."""

    ppo_epochs: PositiveInt = 4
    """PPO epochs per batch (4-8)."""
    clip_range: Annotated[float, Field(gt=0, lt=1)] = 0.2
    """Clip epsilon (0.1-0.3)."""
    vf_coef: NonNegFloat = 0.5
    """Value-function loss coefficient."""
    ent_coef: NonNegFloat = 0.01
    """Entropy bonus (0.001-0.1)."""
    kl_penalty: Literal["kl", "abs", "mse", "full"] = "kl"
    """KL estimator."""
    init_kl_coef: NonNegFloat = 0.05
    """Initial KL coefficient (0.01-0.1)."""
    target_kl: PositiveFloat | None = 0.1
    """Target KL for the adaptive controller."""
    adaptive_kl: bool = True
    """Adapt the KL coefficient towards `target_kl`."""
    gamma: Probability = 0.99
    """Discount factor."""
    lam: Probability = 0.95
    """GAE lambda."""
    mini_batch_size: PositiveInt | None = None
    """Samples per gradient update inside a PPO epoch."""
    max_episode_length: PositiveInt | None = None
    """Maximum turns per episode."""
    num_episodes: PositiveInt | None = None
    """Total episodes (seed 003: 10K-50K)."""


class LossFn(NemoBlock):
    """NeMo RL's clipped policy-gradient loss settings (GRPO/RLOO/PPO)."""

    reference_policy_kl_penalty: NonNegFloat = 0.0
    """KL beta against the reference model; 0 drops the reference model
    (seed 002: 0.001-0.1)."""
    ratio_clip_min: NonNegFloat = 0.2
    """Lower clip epsilon of the importance ratio."""
    ratio_clip_max: NonNegFloat = 0.2
    """Upper clip epsilon (raise it for DAPO-style clip-higher)."""
    ratio_clip_c: PositiveFloat | None = None
    """Dual-clip constant c (> 1), or null."""
    use_on_policy_kl_approximation: bool = False
    """Use the on-policy KL estimator."""
    use_importance_sampling_correction: bool = False
    """Correct for off-policy samples (needed for async GRPO)."""
    sequence_level_importance_ratios: bool = False
    """GSPO-style sequence-level ratios."""
    token_level_loss: bool = True
    """Average the loss over tokens rather than sequences."""
    reference_policy_kl_type: str | None = None
    """NeMo RL: KL estimator name. Carried through."""
    kl_input_clamp_value: float | None = None
    """NeMo RL: clamp for the KL input. Carried through."""
    kl_output_clamp_value: float | None = None
    """NeMo RL: clamp for the KL output. Carried through."""
    truncated_importance_sampling_ratio: float | None = None
    """NeMo RL: truncated importance sampling. Carried through."""
    force_on_policy_ratio: bool | None = None
    """NeMo RL: force the on-policy ratio. Carried through."""
    use_kl_in_reward: bool | None = None
    """NeMo RL: fold the KL into the reward. Carried through."""


ALGORITHM_BLOCKS: dict[str, type[Loop]] = {
    "sft": SFT,
    "dpo": DPO,
    "orpo": ORPO,
    "kto": KTO,
    "grpo": GRPO,
    "rloo": RLOO,
    "rs_sft": RSSFT,
    "awr": AWR,
    "ppo": PPO,
}

# one home for these: spec/facts.py
from specc.spec.facts import GENERATES as GENERATES  # noqa: E402, PLC0414
from specc.spec.facts import PREFERENCE as PREFERENCE  # noqa: E402, PLC0414
