"""The health rules' settings (`hpo.health`, or `health` for a single run): the seed
guide's warning signs (seed 003 section 7), each for the algorithms it fits."""

from pydantic import Field

from specc.spec.models.algorithms import Algorithm
from specc.spec.models.base import Block, NonNegFloat, PositiveFloat, PositiveInt, empty_dict


class Thresholds(Block):
    """Thresholds of the health rules; unset: the rule's default (in each field's
    description), for the algorithms the rule watches. `max_*`/`min_*` stop a trial
    (PRUNED, with the reason), `warn_*` log a warning and let it train."""

    max_grad_norm: PositiveFloat | None = None
    """Stop when the gradient norm stays above this (default 10; every algorithm)."""
    warn_grad_norm: PositiveFloat | None = None
    """Warn when the gradient norm stays above this (default 5; every algorithm)."""
    max_kl: PositiveFloat | None = None
    """Stop when the KL to the reference stays above this (default 0.3; grpo, rloo,
    ppo)."""
    warn_kl: PositiveFloat | None = None
    """Warn when the KL to the reference stays above this (default 0.2; grpo, rloo, ppo)."""
    min_entropy: NonNegFloat | None = None
    """Stop when the policy entropy stays below this (default 1.0; grpo, rloo, ppo: an
    instruct model's entropy under SFT or DPO is routinely lower)."""
    min_reward_margin: float | None = None
    """Stop when DPO's reward margin (chosen minus rejected) stays below this (default:
    off; dpo)."""
    warn_reward_margin: float | None = None
    """Warn when DPO's reward margin stays below this (default 0: the preference is
    collapsing; dpo)."""


class Health(Thresholds):
    """Warning signs that stop a trial or are logged as warnings (seed 003 section 7).
    Each rule applies only to the algorithms it fits; a threshold must hold for `patience`
    logged steps in a row before it acts; NaN or infinite values stop at once."""

    stop_on_nan: bool = True
    """Stop at once on a NaN or infinite loss or gradient norm."""
    patience: PositiveInt = 3
    """Logged steps in a row over a threshold before a rule stops the trial or warns (a
    single spike does neither)."""
    by_algorithm: dict[Algorithm, Thresholds] = Field(default_factory=empty_dict)
    """Thresholds for one algorithm, over the ones above (e.g. `grpo: {min_entropy:
    0.5}`)."""
