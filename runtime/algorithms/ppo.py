"""PPO (seed 003 stage 3) on transformers/TRL primitives, since TRL 1.16 has no
`PPOTrainer` (neither in `trl` nor in `trl.experimental`) and no value-head model.

One `PPOLoop.step` takes a batch of prompt rows and:
1. samples one completion per prompt with the policy (`policy.generation`) and scores
   it with the spec's weighted reward functions (a sequence-level score);
2. computes, without gradients, the policy's log-probs and values and the reference's
   log-probs (a frozen copy of the starting policy, or the adapter-disabled base when
   the policy is a PEFT model);
3. builds per-token rewards `-kl_coef * KL_t`, plus the score on the last token, and
   GAE advantages (`gamma`, `lam`), whitened over the batch;
4. runs `ppo_epochs` passes over shuffled minibatches of `mini_batch_size` with the
   clipped surrogate (`clip_range`), the clipped value loss times `vf_coef` and an
   entropy bonus `ent_coef`, one AdamW step per minibatch;
5. moves the KL coefficient with `AdaptiveKL` (`init_kl_coef`, `target_kl`,
   `adaptive_kl`; horizon `DEFAULT_HORIZON` episodes, TRL's former default).
Dropout is switched off in the policy (TRL's rule for PPO) so old and new log-probs
agree before the first update.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from trl.trainer.utils import disable_dropout_in_model, entropy_from_logits, selective_log_softmax

from specc.runtime.algorithms.ppo_math import (
    DEFAULT_HORIZON,
    AdaptiveKL,
    clipped_policy_loss,
    gae,
    kl_penalty,
    masked_mean,
    masked_whiten,
    token_rewards,
    value_loss,
)
from specc.runtime.algorithms.sampling import (
    Row,
    WeightedRewards,
    as_completion,
    eval_reward,
    generation_kwargs,
    prompt_text,
)

if TYPE_CHECKING:
    from specc.spec.models.algorithms import PPO
    from specc.spec.models.policy import Generation


class ValueHead(nn.Module):
    """A scalar value per position from the policy's last hidden state."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1)
        nn.init.normal_(self.linear.weight, std=1.0 / math.sqrt(hidden_size + 1))
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(hidden.to(self.linear.weight.dtype))
        return out.squeeze(-1)


def response_mask(ids: torch.Tensor, eos_ids: Sequence[int]) -> torch.Tensor:
    """1 up to and including each row's first end token, 0 after it."""
    is_end = torch.isin(ids, torch.tensor(list(eos_ids), device=ids.device))
    ended_before = (is_end.long().cumsum(-1) - is_end.long()) > 0
    return (~ended_before).long()


def ppo_updates(block: PPO, batch_size: int) -> int:
    """Policy updates a run makes: `max_num_steps`, else `num_episodes / batch_size`
    (rounded up), else one."""
    if block.max_num_steps is not None:
        return block.max_num_steps
    if block.num_episodes is not None:
        return math.ceil(block.num_episodes / batch_size)
    return 1


@dataclass
class PPOResult:
    """Per-update metrics, the objective and the trained policy."""

    history: list[dict[str, float]] = field(default_factory=list)
    eval_reward: float = math.nan
    steps: int = 0
    model: Any = None
    value_head: ValueHead | None = None


class PPOLoop:
    """Policy, value head, reference, optimizer and KL controller of one PPO run."""

    def __init__(self, policy: Any, tokenizer: Any, *, block: PPO, generation: Generation,
                 rewards: WeightedRewards, learning_rate: float, weight_decay: float = 0.0,
                 max_grad_norm: float | None = 1.0, ref_model: Any | None = None,
                 horizon: int = DEFAULT_HORIZON,
                 rollout_batch_size: int | None = None,
                 adam_kwargs: dict[str, Any] | None = None) -> None:
        from peft import PeftModel

        self.policy, self.tokenizer, self.block = policy, tokenizer, block
        self.generation, self.rewards = generation, rewards
        self.max_grad_norm = max_grad_norm
        self.rollout_batch_size = rollout_batch_size  # prompts per generate call (None: all)
        disable_dropout_in_model(policy)
        self.peft = isinstance(policy, PeftModel)
        self.ref = ref_model
        if self.ref is None and not self.peft:
            self.ref = copy.deepcopy(policy)
        if self.ref is not None:
            self.ref.eval().requires_grad_(False)
        device = next(policy.parameters()).device
        self.value_head = ValueHead(policy.config.get_text_config().hidden_size).to(device)
        params = [p for p in policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params + list(self.value_head.parameters()),
                                           lr=learning_rate, weight_decay=weight_decay,
                                           **(adam_kwargs or {}))
        self.kl = AdaptiveKL(block.init_kl_coef,
                             block.target_kl if block.adaptive_kl else None, horizon)
        self.temperature = generation.temperature or 1.0
        self.eos = [tokenizer.eos_token_id, *(generation.stop_token_ids or [])]

    def _forward(self, model: Any, ids: torch.Tensor, attn: torch.Tensor, width: int,
                 *, value: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Logits of the response positions `(B, T, V)`, their token log-probs, values."""
        positions = (attn.cumsum(-1) - 1).clamp(min=0)
        out = model(input_ids=ids, attention_mask=attn, position_ids=positions,
                    output_hidden_states=value, use_cache=False)
        logits = out.logits[:, width - 1:-1].float() / self.temperature
        logp = selective_log_softmax(logits, ids[:, width:])
        values = self.value_head(out.hidden_states[-1][:, width - 1:-1]) if value else None
        return logits, logp, values

    def _reference(self) -> AbstractContextManager[Any]:
        return self.policy.disable_adapter() if self.ref is None else nullcontext()

    @torch.no_grad()
    def _rollout(self, rows: Sequence[Row]) -> dict[str, torch.Tensor]:
        """Generate, score and take log-probs/values/KL, `rollout_batch_size` prompts at a
        time (so the KV cache and the logits hold that many sequences, not the batch)."""
        prompts = [r["prompt"] for r in rows]
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        try:  # one left-padded width for the whole batch
            enc = self.tokenizer([prompt_text(self.tokenizer, p) for p in prompts],
                                 return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = side
        device = next(self.policy.parameters()).device
        prompt_ids = enc["input_ids"].to(device)
        prompt_mask = enc["attention_mask"].to(device)
        width = prompt_ids.shape[1]
        pad = self.tokenizer.pad_token_id
        size = self.rollout_batch_size or len(rows)
        self.policy.eval()
        kwargs = generation_kwargs(self.generation, self.tokenizer)
        pieces: list[torch.Tensor] = []
        for start in range(0, len(rows), size):
            out = self.policy.generate(input_ids=prompt_ids[start:start + size],
                                       attention_mask=prompt_mask[start:start + size],
                                       **kwargs)
            pieces.append(out[:, width:])
        longest = max(p.shape[1] for p in pieces)
        completion_ids = torch.cat([nn.functional.pad(p, (0, longest - p.shape[1]), value=pad)
                                    for p in pieces])
        texts = self.tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
        completions = [as_completion(p, t) for p, t in zip(prompts, texts, strict=True)]
        columns = {k: [r.get(k) for r in rows] for k in rows[0] if k != "prompt"}
        scores = torch.tensor(self.rewards(prompts, completions, columns))
        mask = response_mask(completion_ids, self.eos)
        attn = torch.cat([prompt_mask, mask], dim=1)
        ids = torch.cat([prompt_ids, completion_ids], dim=1)
        full = self.block.kl_penalty == "full"
        logps, values, kls = [], [], []
        for start in range(0, len(rows), size):
            part = slice(start, start + size)
            logits, logp, value = self._forward(self.policy, ids[part], attn[part], width,
                                                value=True)
            with self._reference():
                ref_logits, ref_logp, _ = self._forward(self.ref or self.policy, ids[part],
                                                        attn[part], width, value=False)
            kl = kl_penalty(logp, ref_logp, self.block.kl_penalty,
                            logits.log_softmax(-1) if full else None,
                            ref_logits.log_softmax(-1) if full else None) * mask[part]
            assert value is not None
            logps.append(logp)
            values.append(value)
            kls.append(kl)
            del logits, ref_logits
        return {"ids": ids, "attn": attn, "mask": mask, "logp": torch.cat(logps),
                "values": torch.cat(values), "kl": torch.cat(kls),
                "scores": scores.to(device), "width": torch.tensor(width)}

    def step(self, rows: Sequence[Row]) -> dict[str, float]:
        """One rollout and its `ppo_epochs` of updates; the batch's metrics."""
        b = self._rollout(rows)
        mask, width = b["mask"], int(b["width"])
        rewards = token_rewards(b["scores"], b["kl"], mask, self.kl.value)
        adv, returns = gae(rewards, b["values"], mask, gamma=self.block.gamma,
                           lam=self.block.lam)
        adv = masked_whiten(adv, mask)
        n = len(rows)
        size = self.block.mini_batch_size or n
        eps = self.block.clip_range
        logs: dict[str, list[float]] = {}
        self.policy.train()
        for _ in range(self.block.ppo_epochs):
            order = torch.randperm(n)
            for start in range(0, n, size):
                i = order[start:start + size]
                logits, logp, values = self._forward(self.policy, b["ids"][i], b["attn"][i],
                                                     width, value=True)
                assert values is not None
                m = mask[i]
                pg = clipped_policy_loss(logp, b["logp"][i], adv[i], m, eps)
                vf, vf_clipfrac = value_loss(values, b["values"][i], returns[i], m, eps)
                entropy = masked_mean(entropy_from_logits(logits), m)
                loss = pg.loss + self.block.vf_coef * vf - self.block.ent_coef * entropy
                self.optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                if self.max_grad_norm:
                    params = [p for g in self.optimizer.param_groups for p in g["params"]]
                    nn.utils.clip_grad_norm_(params, self.max_grad_norm)
                self.optimizer.step()
                for k, v in (("loss", loss), ("policy_loss", pg.loss), ("value_loss", vf),
                             ("entropy", entropy), ("clipfrac", pg.clipfrac),
                             ("approx_kl", pg.approx_kl), ("value_clipfrac", vf_clipfrac)):
                    logs.setdefault(k, []).append(float(v.detach()))
        kl_per_sequence = float(b["kl"].sum(-1).mean())
        coef = self.kl.value
        self.kl.update(kl_per_sequence, n)
        scores = b["scores"]
        return {**{k: sum(v) / len(v) for k, v in logs.items()},
                "reward_mean": float(scores.mean()),
                "reward_std": float(scores.std(unbiased=False)),
                "kl": kl_per_sequence, "kl_coef": coef,
                "value_mean": float(masked_mean(b["values"], mask)),
                "returns_mean": float(masked_mean(returns, mask)),
                "response_length": float(mask.sum(-1).float().mean())}


def run_ppo(policy: Any, tokenizer: Any, train_rows: Sequence[Row], eval_rows: Sequence[Row],
            *, block: PPO, generation: Generation, rewards: WeightedRewards,
            learning_rate: float, batch_size: int, updates: int | None = None,
            weight_decay: float = 0.0, max_grad_norm: float | None = 1.0,
            peft_config: Any | None = None, ref_model: Any | None = None,
            eval_batch_size: int = 8,
            on_step: Callable[[int, dict[str, float]], None] | None = None) -> PPOResult:
    """`updates` PPO steps (default `ppo_updates(block, batch_size)`) over batches of
    `batch_size` prompts drawn from `train_rows` in a `block.seed`-shuffled order, then
    the evaluation reward on `eval_rows`."""
    from specc.runtime.algorithms.rounds import with_lora

    policy = with_lora(policy, peft_config)
    torch.manual_seed(block.seed)
    loop = PPOLoop(policy, tokenizer, block=block, generation=generation, rewards=rewards,
                   learning_rate=learning_rate, weight_decay=weight_decay,
                   max_grad_norm=max_grad_norm, ref_model=ref_model)
    order = list(range(len(train_rows)))
    random.Random(block.seed).shuffle(order)
    history = []
    total = updates if updates is not None else ppo_updates(block, batch_size)
    for step in range(1, total + 1):
        at = (step - 1) * batch_size
        batch = [train_rows[order[(at + k) % len(order)]] for k in range(batch_size)]
        metrics = loop.step(batch)
        history.append(metrics)
        if on_step is not None:
            on_step(step, metrics)
    reward = eval_reward(policy, tokenizer, eval_rows, generation, rewards,
                         batch_size=eval_batch_size)
    return PPOResult(history, reward, total, policy, loop.value_head)
