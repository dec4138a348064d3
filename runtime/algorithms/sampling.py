"""Generate completions with the current policy and score them with weighted rewards.

Shared by RS-SFT, AWR and PPO. Rows are dataset rows: a `prompt` (a string, or chat
messages) plus any other columns (`answer` for `specc:arith-prompts`), which reward
functions receive as keyword lists, as in TRL's reward-function protocol
`f(prompts=..., completions=..., **columns) -> list[float]`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from specc.spec.models.data import Reward
    from specc.spec.models.policy import Generation


RewardFunc = Callable[..., Sequence[float | None]]
Row = Mapping[str, Any]


@dataclass(frozen=True)
class WeightedRewards:
    """The spec's `reward` block as callables: `sum_i weight_i * f_i`, optionally
    scaled to [0, 1] by the weights' range (`reward.normalize`, seed 003: each function
    is taken to lie in [0, 1], so the sum lies in [sum of negative weights, sum of
    positive weights])."""

    funcs: Sequence[RewardFunc]
    weights: Sequence[float]
    normalize: bool = False

    @classmethod
    def from_spec(cls, reward: Reward | None, spec_dir: str) -> WeightedRewards:
        """Resolve `reward.functions` (imports user modules; run time only)."""
        from specc.runtime.rewards import resolve

        if reward is None:
            return cls((), ())
        return cls(resolve(reward, spec_dir), [f.weight for f in reward.functions],
                   reward.normalize)

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 columns: Mapping[str, Sequence[Any]]) -> list[float]:
        """One reward per completion; a function's `None` counts as 0 (TRL's rule)."""
        if not self.funcs:
            raise ValueError("no reward functions: add `reward.functions`")
        total = [0.0] * len(completions)
        for fn, w in zip(self.funcs, self.weights, strict=True):
            got = list(fn(prompts=list(prompts), completions=list(completions),
                          **{k: list(v) for k, v in columns.items()}))
            if len(got) != len(completions):
                raise ValueError(f"reward {getattr(fn, '__name__', fn)} returned {len(got)} "
                                 f"values for {len(completions)} completions")
            total = [t + w * (0.0 if g is None else float(g)) for t, g in zip(total, got,
                                                                              strict=True)]
        if self.normalize:
            lo = sum(w for w in self.weights if w < 0)
            hi = sum(w for w in self.weights if w > 0)
            span = hi - lo
            total = [(t - lo) / span if span > 0 else 0.0 for t in total]
        return total


@dataclass(frozen=True)
class Sample:
    """One generated completion and its reward."""

    prompt_index: int
    prompt: Any
    completion: Any
    reward: float


def generation_kwargs(gen: Generation, tokenizer: Any, *, greedy: bool = False) -> dict[str, Any]:
    """`generate` keyword arguments from the spec's `policy.generation` block."""
    kw: dict[str, Any] = {"max_new_tokens": gen.max_new_tokens,
                          "pad_token_id": tokenizer.pad_token_id}
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    eos += list(gen.stop_token_ids or [])
    if eos:
        kw["eos_token_id"] = eos
    if greedy or gen.temperature == 0:
        kw["do_sample"] = False
    else:
        kw.update(do_sample=True, temperature=gen.temperature, top_p=gen.top_p)
        if gen.top_k is not None:
            kw["top_k"] = gen.top_k
        if gen.min_p is not None:
            kw["min_p"] = gen.min_p
    if gen.repetition_penalty is not None:
        kw["repetition_penalty"] = gen.repetition_penalty
    if gen.stop_strings:
        kw["stop_strings"] = list(gen.stop_strings)
        kw["tokenizer"] = tokenizer
    return kw


def prompt_text(tokenizer: Any, prompt: Any) -> str:
    """The text the model continues: a string as is, chat messages via the template."""
    if isinstance(prompt, str):
        return prompt
    return str(tokenizer.apply_chat_template(prompt, tokenize=False,
                                             add_generation_prompt=True))


def as_completion(prompt: Any, text: str) -> Any:
    """A completion in the prompt's format (TRL: conversational prompts get messages)."""
    return text if isinstance(prompt, str) else [{"role": "assistant", "content": text}]


@torch.no_grad()
def generate_ids(model: Any, tokenizer: Any, prompts: Sequence[Any], gen: Generation,
                 n: int, *, greedy: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded prompt ids `(P*n, Lp)` and completion ids `(P*n, Lc)`, the `n`
    samples of a prompt adjacent. Tokens after the end of a completion are padding."""
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer([prompt_text(tokenizer, p) for p in prompts], return_tensors="pt",
                        padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        out = model.generate(input_ids=enc["input_ids"].to(device),
                             attention_mask=enc["attention_mask"].to(device),
                             num_return_sequences=n, **generation_kwargs(gen, tokenizer,
                                                                         greedy=greedy))
    finally:
        model.train(was_training)
    width = enc["input_ids"].shape[1]
    prompt_ids = enc["input_ids"].to(device).repeat_interleave(n, dim=0)
    return prompt_ids, out[:, width:]


def generate(model: Any, tokenizer: Any, rows: Sequence[Row], gen: Generation, n: int, *,
             rewards: WeightedRewards, batch_size: int = 8,
             greedy: bool = False) -> list[Sample]:
    """`n` scored completions per row, generated `batch_size` prompts at a time."""
    samples: list[Sample] = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        prompts = [r["prompt"] for r in chunk]
        _, ids = generate_ids(model, tokenizer, prompts, gen, n, greedy=greedy)
        texts = tokenizer.batch_decode(ids, skip_special_tokens=True)
        flat_prompts = [p for p in prompts for _ in range(n)]
        completions = [as_completion(p, t) for p, t in zip(flat_prompts, texts, strict=True)]
        columns = {k: [r.get(k) for r in chunk for _ in range(n)]
                   for k in chunk[0] if k != "prompt"}
        scores = rewards(flat_prompts, completions, columns)
        samples += [Sample(start + i // n, p, c, s)
                    for i, (p, c, s) in enumerate(zip(flat_prompts, completions, scores,
                                                      strict=True))]
    return samples


def eval_reward(model: Any, tokenizer: Any, rows: Sequence[Row], gen: Generation,
                rewards: WeightedRewards, *, batch_size: int = 8) -> float:
    """Mean reward of one greedy completion per held-out prompt (deterministic, so the
    HPO objective does not carry sampling noise)."""
    if not rows:
        return math.nan
    got = generate(model, tokenizer, rows, gen, 1, rewards=rewards, batch_size=batch_size,
                   greedy=True)
    return sum(s.reward for s in got) / len(got)


def reward_stats(rewards: Sequence[float]) -> dict[str, float]:
    """Mean, population std, min and max (NaN for none)."""
    if not rewards:
        return {"reward_mean": math.nan, "reward_std": math.nan, "reward_min": math.nan,
                "reward_max": math.nan}
    mean = sum(rewards) / len(rewards)
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
    return {"reward_mean": mean, "reward_std": std, "reward_min": min(rewards),
            "reward_max": max(rewards)}
