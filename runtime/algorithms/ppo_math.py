"""PPO's arithmetic as pure tensor functions (Schulman et al. 2017; the layout of TRL's
former `PPOTrainer`, which TRL 1.16 no longer ships).

Tensors are `(batch, response_tokens)`; `mask` is 1 on a response's real tokens (up
to and including its end token) and 0 on the padding after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

KLKind = Literal["kl", "abs", "mse", "full"]

#: TRL's former `AdaptiveKLController` default horizon, in episodes.
DEFAULT_HORIZON = 10_000


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `x` over the positions where `mask` is 1 (0 when there are none)."""
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp(min=1)


def masked_whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`(x - mean) / sqrt(var + 1e-8)` over the masked positions; 0 elsewhere."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask.to(x.dtype)


def kl_penalty(logp: torch.Tensor, ref_logp: torch.Tensor, kind: KLKind,
               full_logp: torch.Tensor | None = None,
               full_ref_logp: torch.Tensor | None = None) -> torch.Tensor:
    """Per-token KL estimate of the policy against the reference.

    `kl`: logp - ref_logp; `abs`: its absolute value; `mse`: half its square; `full`:
    the exact KL of the next-token distributions, which needs `full_logp` and
    `full_ref_logp` of shape `(batch, tokens, vocab)`.
    """
    diff = logp - ref_logp
    if kind == "kl":
        return diff
    if kind == "abs":
        return diff.abs()
    if kind == "mse":
        return 0.5 * diff.square()
    if full_logp is None or full_ref_logp is None:
        raise ValueError("kl_penalty 'full' needs the full log-distributions")
    return (full_logp.exp() * (full_logp - full_ref_logp)).sum(-1)


def token_rewards(scores: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor,
                  kl_coef: float) -> torch.Tensor:
    """`-kl_coef * kl` on every response token, plus the sequence's score on its last
    real token."""
    rewards = -kl_coef * kl * mask.to(kl.dtype)
    last = (mask.sum(-1) - 1).clamp(min=0).long()
    rows = torch.arange(rewards.shape[0], device=rewards.device)
    rewards[rows, last] += scores.to(rewards.dtype)
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, *, gamma: float,
        lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation: (advantages, returns).

    `delta_t = r_t + gamma * V_{t+1} - V_t` with `V` zero past the end, and
    `A_t = delta_t + gamma * lam * A_{t+1}`; returns are `A + V`. Padding gives 0.
    """
    m = mask.to(values.dtype)
    values = values * m
    rewards = rewards * m
    steps = rewards.shape[-1]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(steps)):
        next_value = values[:, t + 1] if t + 1 < steps else torch.zeros_like(last)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last = delta + gamma * lam * last
        adv[:, t] = last
    adv = adv * m
    return adv, (adv + values) * m


@dataclass(frozen=True)
class PolicyLoss:
    """The clipped surrogate and what it says about the update."""

    loss: torch.Tensor
    clipfrac: torch.Tensor
    """Share of tokens whose ratio left [1 - eps, 1 + eps] in the loss-raising way."""
    approx_kl: torch.Tensor
    """`0.5 * mean((logp - old_logp)^2)`, the drift since the rollout."""


def clipped_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                        mask: torch.Tensor, clip_range: float) -> PolicyLoss:
    """`mean(max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps)))` over the mask, with
    `ratio = exp(logp - old_logp)`."""
    ratio = torch.exp(logp - old_logp)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    clipfrac = masked_mean((clipped > unclipped).to(logp.dtype), mask)
    approx_kl = 0.5 * masked_mean((logp - old_logp).square(), mask)
    return PolicyLoss(loss, clipfrac.detach(), approx_kl.detach())


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               mask: torch.Tensor, clip_range: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Clipped value loss `0.5 * mean(max((V - R)^2, (V_clip - R)^2))` with
    `V_clip = V_old + clip(V - V_old, -eps, eps)`: (loss, clipped share)."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip_range, clip_range)
    err = (values - returns).square()
    err_clipped = (clipped_values - returns).square()
    loss = 0.5 * masked_mean(torch.maximum(err, err_clipped), mask)
    return loss, masked_mean((err_clipped > err).to(values.dtype), mask).detach()


@dataclass
class AdaptiveKL:
    """The KL coefficient, moved towards `target` (Ziegler et al. 2019, TRL's former
    `AdaptiveKLController`): `e = clip(kl / target - 1, -0.2, 0.2)` and
    `coef *= 1 + e * n_steps / horizon`. A `target` of None keeps it fixed."""

    value: float
    target: float | None
    horizon: int = DEFAULT_HORIZON

    def update(self, current_kl: float, n_steps: int) -> float:
        """Move the coefficient after `n_steps` episodes with mean KL `current_kl`."""
        if self.target is None:
            return self.value
        error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_steps / self.horizon
        return self.value
