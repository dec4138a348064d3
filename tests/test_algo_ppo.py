"""PPO: GAE, the clipped objective, the value loss and the KL controller against numbers
worked out by hand, and real PPO steps on the tiny model (full and LoRA)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from peft import LoraConfig

from specc.compiler.builtin_data import rows
from specc.runtime.algorithms.ppo import PPOLoop, ppo_updates, response_mask, run_ppo
from specc.runtime.algorithms.ppo_math import (
    AdaptiveKL,
    clipped_policy_loss,
    gae,
    kl_penalty,
    token_rewards,
    value_loss,
)
from specc.runtime.algorithms.sampling import WeightedRewards
from specc.runtime.tiny_model import build_model, build_tokenizer
from specc.spec.models.algorithms import PPO
from specc.spec.models.policy import Generation


def _t(*rows: list[float]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def _close(got: torch.Tensor, expected: list[list[float]]) -> None:
    torch.testing.assert_close(got, torch.tensor(expected, dtype=got.dtype))


def test_gae_matches_the_recursion_by_hand() -> None:
    rewards = _t([0.0, 0.0, 1.0], [0.0, 2.0, 5.0])
    values = _t([0.5, 0.4, 0.3], [1.0, 0.5, 9.0])
    mask = _t([1, 1, 1], [1, 1, 0])  # row 2's last token is padding: its 5 and 9 vanish
    adv, ret = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    # row 1, gamma * lam = 0.72:
    #   t2: delta = 1 + 0 - 0.3 = 0.7                       A = 0.7
    #   t1: delta = 0 + 0.9 * 0.3 - 0.4 = -0.13             A = -0.13 + 0.72 * 0.7 = 0.374
    #   t0: delta = 0 + 0.9 * 0.4 - 0.5 = -0.14             A = -0.14 + 0.72 * 0.374 = 0.12928
    # row 2:
    #   t2: padding                                         A = 0
    #   t1: delta = 2 + 0.9 * 0 - 0.5 = 1.5                 A = 1.5
    #   t0: delta = 0 + 0.9 * 0.5 - 1.0 = -0.55             A = -0.55 + 0.72 * 1.5 = 0.53
    _close(adv, [[0.12928, 0.374, 0.7], [0.53, 1.5, 0.0]])
    # returns = A + V
    _close(ret, [[0.62928, 0.774, 1.0], [1.53, 2.0, 0.0]])


def test_clipped_policy_loss_by_hand() -> None:
    old = _t([0.0, 0.0, 0.0, 0.0, 0.0])
    new = _t([math.log(1.5), math.log(0.5), math.log(1.1), math.log(0.5), 0.3])
    adv = _t([1.0, 1.0, -1.0, -1.0, 5.0])
    mask = _t([1, 1, 1, 1, 0])
    got = clipped_policy_loss(new, old, adv, mask, clip_range=0.2)
    # ratio 1.5, A 1:  max(-1.5, -1.2) = -1.2   (clipped)
    # ratio 0.5, A 1:  max(-0.5, -0.8) = -0.5
    # ratio 1.1, A -1: max(1.1, 1.1)   = 1.1
    # ratio 0.5, A -1: max(0.5, 0.8)   = 0.8    (clipped)
    assert float(got.loss) == pytest.approx((-1.2 - 0.5 + 1.1 + 0.8) / 4)
    assert float(got.clipfrac) == pytest.approx(2 / 4)
    d2 = math.log(1.5) ** 2 + 2 * math.log(0.5) ** 2 + math.log(1.1) ** 2
    assert float(got.approx_kl) == pytest.approx(0.5 * d2 / 4)


def test_clipped_value_loss_by_hand() -> None:
    values, old, returns = _t([1.0, 0.0, 0.5]), _t([0.5, 0.5, 0.5]), _t([2.0, 1.0, 0.0])
    loss, clipfrac = value_loss(values, old, returns, _t([1, 1, 1]), clip_range=0.2)
    # t0: V_clip = 0.5 + 0.2 = 0.7: max((1 - 2)^2, (0.7 - 2)^2) = 1.69  (clipped)
    # t1: V_clip = 0.5 - 0.2 = 0.3: max((0 - 1)^2, (0.3 - 1)^2) = 1.0
    # t2: V_clip = 0.5:             max(0.25, 0.25)              = 0.25
    assert float(loss) == pytest.approx(0.5 * (1.69 + 1.0 + 0.25) / 3)
    assert float(clipfrac) == pytest.approx(1 / 3)


def test_kl_estimators_and_token_rewards_by_hand() -> None:
    logp, ref = _t([0.0, -0.2]), _t([-0.5, 0.0])  # logp - ref = 0.5, -0.2
    _close(kl_penalty(logp, ref, "kl"), [[0.5, -0.2]])
    _close(kl_penalty(logp, ref, "abs"), [[0.5, 0.2]])
    _close(kl_penalty(logp, ref, "mse"), [[0.125, 0.02]])
    p, q = torch.tensor([[[0.5, 0.5]]]).log(), torch.tensor([[[0.25, 0.75]]]).log()
    full = kl_penalty(p[..., 0], q[..., 0], "full", p, q)
    # 0.5 ln(0.5 / 0.25) + 0.5 ln(0.5 / 0.75)
    assert float(full) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    with pytest.raises(ValueError, match="full"):
        kl_penalty(logp, ref, "full")
    # -0.5 * kl per token, the score 1.0 on the last real token, nothing on padding
    got = token_rewards(_t([1.0])[0], _t([0.1, 0.2, 0.3]), _t([1, 1, 0]), kl_coef=0.5)
    _close(got, [[-0.05, -0.1 + 1.0, 0.0]])


def test_adaptive_kl_moves_towards_the_target() -> None:
    kl = AdaptiveKL(0.05, target=0.1, horizon=100)
    # kl twice the target: error clipped to +0.2: 0.05 * (1 + 0.2 * 10 / 100) = 0.051
    assert kl.update(0.2, 10) == pytest.approx(0.051)
    # kl half the target: error -0.5 clipped to -0.2: 0.051 * 0.98
    assert kl.update(0.05, 10) == pytest.approx(0.051 * 0.98)
    # kl 10% above: error 0.1
    assert kl.update(0.11, 10) == pytest.approx(0.051 * 0.98 * 1.01)
    fixed = AdaptiveKL(0.05, target=None)
    assert fixed.update(5.0, 10) == 0.05


def test_response_mask_ends_at_the_first_end_token() -> None:
    ids = torch.tensor([[5, 2, 0, 0], [5, 6, 7, 8], [2, 9, 2, 0]])
    assert response_mask(ids, [2]).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]
    assert ppo_updates(PPO(num_episodes=10), 4) == 3
    assert ppo_updates(PPO(num_episodes=10, max_num_steps=2), 4) == 2


def _length(completions: list[Any], **kwargs: Any) -> list[float]:
    return [len(c) / 6 for c in completions]


GEN = Generation(max_new_tokens=6, temperature=1.0)
BLOCK = PPO(ppo_epochs=2, mini_batch_size=2, init_kl_coef=0.05, target_kl=0.1)


def test_a_real_ppo_step_updates_policy_and_value_head() -> None:
    model: Any = build_model()
    tok: Any = build_tokenizer()
    loop = PPOLoop(model, tok, block=BLOCK, generation=GEN,
                   rewards=WeightedRewards([_length], [1.0]), learning_rate=1e-3)
    head = loop.value_head.linear.weight.detach().clone()
    embed = model.get_input_embeddings().weight.detach().clone()
    metrics = loop.step(rows("specc:arith-prompts", "train")[:4])
    for key in ("loss", "policy_loss", "value_loss", "entropy", "kl", "kl_coef",
                "reward_mean", "clipfrac", "approx_kl", "value_mean", "returns_mean"):
        assert math.isfinite(metrics[key]), key
    # the first rollout's policy is the reference: KL 0, so the coefficient goes down
    assert metrics["kl"] == pytest.approx(0.0, abs=1e-6) and metrics["kl_coef"] == 0.05
    assert loop.kl.value == pytest.approx(0.05 * (1 - 0.2 * 4 / 10_000))
    assert not torch.equal(head, loop.value_head.linear.weight)
    assert not torch.equal(embed, model.get_input_embeddings().weight)
    assert loop.ref is not None and torch.equal(embed, loop.ref.get_input_embeddings().weight)


def test_ppo_with_lora_uses_the_adapter_free_base_as_reference() -> None:
    model: Any = build_model()
    tok: Any = build_tokenizer()
    data = rows("specc:arith-prompts", "train")
    steps: list[dict[str, float]] = []
    result = run_ppo(model, tok, data[:4], data[4:6], block=BLOCK, generation=GEN,
                     rewards=WeightedRewards([_length], [1.0]), learning_rate=1e-2,
                     batch_size=2, updates=2,
                     peft_config=LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"]),
                     on_step=lambda _, m: steps.append(m))
    assert result.steps == 2 and len(result.history) == 2 == len(steps)
    assert math.isfinite(result.eval_reward)
    # after the first update the adapters differ from the base, so the KL is not 0
    assert steps[1]["kl"] != 0.0 and all(math.isfinite(v) for m in steps for v in m.values())


def test_a_chunked_rollout_equals_the_whole_batch_rollout() -> None:
    """`rollout_batch_size` (the memory model's prompts per call) only splits the work:
    greedy completions, log-probs, values and KL are the batch's."""
    greedy = Generation(max_new_tokens=6, temperature=0.0)
    batch = rows("specc:arith-prompts", "train")[:5]
    got = []
    for size in (None, 2):
        torch.manual_seed(0)
        model: Any = build_model()
        loop = PPOLoop(model, build_tokenizer(), block=BLOCK, generation=greedy,
                       rewards=WeightedRewards([_length], [1.0]), learning_rate=1e-3,
                       rollout_batch_size=size)
        loop.value_head.load_state_dict({k: torch.full_like(v, 0.01) for k, v in
                                         loop.value_head.state_dict().items()})
        got.append(loop._rollout(batch))
    whole, chunked = got
    assert whole["ids"].shape == chunked["ids"].shape
    assert torch.equal(whole["ids"] * whole["attn"], chunked["ids"] * chunked["attn"])
    m = whole["mask"].bool()
    assert torch.equal(whole["mask"], chunked["mask"])
    for key in ("logp", "values", "kl"):
        assert torch.allclose(whole[key][m], chunked[key][m], atol=1e-4), key
    assert torch.equal(whole["scores"], chunked["scores"])
