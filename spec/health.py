"""The health rules: seed 003's warning-sign table, each row for the algorithms where the
sign means something. `specc run`'s trainer callback applies them; validate warns about a
threshold written for an algorithm its rule does not watch (W021)."""

from __future__ import annotations

from specc.spec.models.health import Health
from specc.spec.records import record

#: Policy-gradient RL: the algorithms whose policy entropy and KL to the reference are
#: the signs seed 003 watches.
POLICY_GRADIENT = frozenset({"grpo", "rloo", "ppo"})
EVERY = frozenset({"sft", "dpo", "orpo", "kto", "grpo", "rloo", "rs_sft", "awr", "ppo"})


@record(frozen=True)
class HealthRule:
    """One row: the threshold field, the logged metrics it reads (the first present), the
    bad side, the algorithms it applies to, its default and what it does."""

    field: str
    metrics: tuple[str, ...]
    above: bool
    algorithms: frozenset[str]
    default: float | None
    stops: bool
    what: str

    def threshold(self, health: Health, algorithm: str | None) -> float | None:
        """The threshold for ``algorithm``: its `by_algorithm` entry, the common one, the
        default; None when the rule does not apply or is off."""
        if algorithm not in self.algorithms:
            return None
        own = health.by_algorithm.get(algorithm)  # type: ignore[call-overload]
        value = getattr(own, self.field) if own is not None else None
        if value is None:
            value = getattr(health, self.field)
        return self.default if value is None else float(value)

    def bad(self, value: float, threshold: float) -> bool:
        return value > threshold if self.above else value < threshold

    def shown(self, value: float, threshold: float) -> str:
        return f"{self.what} {value:.4g} {'>' if self.above else '<'} {threshold:g}"


RULES: tuple[HealthRule, ...] = (
    HealthRule("max_grad_norm", ("grad_norm",), True, EVERY, 10.0, True, "grad_norm"),
    HealthRule("warn_grad_norm", ("grad_norm",), True, EVERY, 5.0, False, "grad_norm"),
    HealthRule("max_kl", ("kl", "objective/kl"), True, POLICY_GRADIENT, 0.3, True, "kl"),
    HealthRule("warn_kl", ("kl", "objective/kl"), True, POLICY_GRADIENT, 0.2, False, "kl"),
    HealthRule("min_entropy", ("entropy", "objective/entropy"), False, POLICY_GRADIENT, 1.0,
               True, "entropy"),
    HealthRule("min_reward_margin", ("rewards/margins",), False, frozenset({"dpo"}), None,
               True, "rewards/margins"),
    HealthRule("warn_reward_margin", ("rewards/margins",), False, frozenset({"dpo"}), 0.0,
               False, "rewards/margins"),
)
BY_FIELD = {r.field: r for r in RULES}
#: Values that stop a trial at once when NaN or infinite (`stop_on_nan`).
FINITE = ("loss", "eval_loss", "grad_norm")
