"""Trainer-shaped drivers of RS-SFT, AWR and PPO, so a trial runs them as it runs TRL's
trainers: constructed with `model`, `args` (a config from `configs.py`),
`train_dataset`, `eval_dataset`, `processing_class`, `callbacks`, `peft_config`,
`reward_funcs`; then `train()`, `evaluate()`, `save_model()`, `state.global_step`.

Callbacks (the trial's metric history, pruning and health rules, tracking) hear every
inner `SFTTrainer` log at the run's cumulative step, one `log` per round (RS-SFT/AWR:
generated/kept counts and reward statistics) or per update (PPO), and one `evaluate` per
round (RS-SFT/AWR) or every `eval_steps` updates and at the end (PPO) with `eval_reward`,
the mean reward of greedy completions on the evaluation prompts.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState
from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback
from transformers.trainer_utils import TrainOutput

from specc.runtime.algorithms.awr import WeightedSFTTrainer, awr_round
from specc.runtime.algorithms.ppo import PPOLoop
from specc.runtime.algorithms.rounds import TrainerSetup, with_lora
from specc.runtime.algorithms.rs_sft import rs_sft_round
from specc.runtime.algorithms.sampling import WeightedRewards, eval_reward

__all__ = ["AWRTrainer", "PPOTrainer", "RSSFTTrainer"]


class _Forward(TrainerCallback):
    """Passes an inner trainer's logs to the outer trainer's callbacks at the outer step,
    and the outer callbacks' stop request back to the inner trainer."""

    def __init__(self, outer: _Driver) -> None:
        self.outer = outer
        self.offset = 0

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        o = self.outer
        o.state.global_step = self.offset + int(state.global_step)
        o.control = o.handler.on_log(o.args, o.state, o.control, dict(logs or {}))
        if o.control.should_training_stop:
            control.should_training_stop = True


class _Driver:
    """What the three drivers share: rows, rewards, callbacks, state, evaluation."""

    def __init__(self, model: Any, args: Any, *, train_dataset: Any = None,
                 eval_dataset: Any = None, processing_class: Any = None,
                 callbacks: Sequence[Any] | None = None, peft_config: Any = None,
                 reward_funcs: Sequence[Any] | None = None,
                 optimizer_cls_and_kwargs: tuple[type, dict[str, Any]] | None = None) -> None:
        from transformers.integrations.integration_utils import (
            get_reporting_integration_callbacks,
        )

        if processing_class is None:
            raise ValueError("a tokenizer (processing_class) is needed to generate")
        self.args, self.tokenizer = args, processing_class
        self.model = with_lora(model, peft_config)
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.train_rows = [dict(r) for r in train_dataset] if train_dataset is not None else []
        self.eval_rows = [dict(r) for r in eval_dataset] if eval_dataset is not None else []
        funcs = list(reward_funcs or [])
        weights = list(args.reward_weights or [1.0] * len(funcs))
        self.rewards = WeightedRewards(funcs, weights, bool(args.normalize_rewards))
        self.optimizer_cls_and_kwargs = optimizer_cls_and_kwargs
        report = [] if args.report_to in (None, "none") else args.report_to
        integrations = get_reporting_integration_callbacks(  # type: ignore[no-untyped-call]
            report)
        handlers = [DefaultFlowCallback, *integrations, *(callbacks or [])]
        self.handler = CallbackHandler(  # type: ignore[no-untyped-call]
            handlers, self.model, self.tokenizer, None, None)
        self.state = TrainerState()
        self.control = TrainerControl()

    @property
    def callback_handler(self) -> CallbackHandler:
        return self.handler

    def remove_callback(self, callback: Any) -> None:
        self.handler.remove_callback(callback)  # type: ignore[no-untyped-call]

    def add_callback(self, callback: Any) -> None:
        self.handler.add_callback(callback)  # type: ignore[no-untyped-call]

    def log(self, metrics: dict[str, float]) -> None:
        self.control = self.handler.on_log(self.args, self.state, self.control, metrics)

    def evaluate(self) -> dict[str, float]:
        """`eval_reward` on the evaluation prompts (greedy completions)."""
        reward = eval_reward(self.model, self.tokenizer, self.eval_rows,
                             self.args.generation(), self.rewards,
                             batch_size=self.args.generation_batch_size)
        metrics = {"eval_reward": reward}
        self.control = self.handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

    def save_model(self, output_dir: str | None = None) -> None:
        path = output_dir or self.args.output_dir
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)

    def _begin(self) -> None:
        self.state.max_steps = max(int(self.args.max_steps), 0)
        self.state.is_world_process_zero = True
        self.state.is_local_process_zero = True
        self.control = self.handler.on_train_begin(self.args, self.state, self.control)

    def _end(self, losses: list[float], started: float) -> TrainOutput:
        self.control = self.handler.on_train_end(self.args, self.state, self.control)
        finite = [x for x in losses if math.isfinite(x)]
        loss = sum(finite) / len(finite) if finite else math.nan
        metrics = {"train_runtime": round(time.monotonic() - started, 4)}
        if math.isfinite(loss):
            metrics["train_loss"] = loss
        return TrainOutput(self.state.global_step, loss, metrics)


def _scheduled(base: type | None, entries: list[dict[str, Any]] | None) -> type | None:
    """The round's trainer class, building a NeMo RL scheduler list with SequentialLR when
    the trial has one (`specc run` sets `_specc_scheduler`, as on TRL's trainers)."""
    if not entries:
        return base
    from trl.trainer.sft_trainer import SFTTrainer

    from specc.runtime.trainer_class import sequential_scheduler

    parent: type = base or SFTTrainer
    listed: list[dict[str, Any]] = entries

    class Scheduled(parent):  # type: ignore[misc]
        def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
            self.lr_scheduler = sequential_scheduler(optimizer or self.optimizer, listed)
            return self.lr_scheduler

    return Scheduled


class _RoundsDriver(_Driver):
    """RS-SFT and AWR: `num_rounds` generate-score-train rounds, evaluated after each."""

    inner_class: type | None = None
    _specc_scheduler: list[dict[str, Any]] | None = None

    def _round(self, number: int, setup: TrainerSetup) -> tuple[Any, int]:
        raise NotImplementedError

    def _inner_args(self) -> Any:
        args = copy.copy(self.args)
        args.report_to = []  # the outer driver's integrations report
        return args

    def train(self, **kwargs: Any) -> TrainOutput:
        if not self.train_rows:
            raise ValueError("no training prompts")
        started = time.monotonic()
        self._begin()
        forward = _Forward(self)
        extra = ({"optimizer_cls_and_kwargs": self.optimizer_cls_and_kwargs}
                 if self.optimizer_cls_and_kwargs else {})
        setup = TrainerSetup(_scheduled(self.inner_class, self._specc_scheduler), extra,
                             [forward])
        losses: list[float] = []
        for r in range(1, int(self.args.num_rounds) + 1):
            forward.offset = self.state.global_step
            metrics, steps = self._round(r, setup)
            self.state.global_step = forward.offset + steps
            self.state.epoch = float(r)
            logged = {k: v for k, v in metrics.as_dict().items() if math.isfinite(v)}
            logged["reward"] = metrics.reward_mean
            logged.pop("train_loss", None)
            if metrics.train_loss is not None:
                losses.append(metrics.train_loss)
                logged["round_loss"] = metrics.train_loss
            self.log(logged)
            if self.control.should_training_stop:
                break
            if self.eval_rows:
                self.evaluate()
            if self.control.should_training_stop:
                break
        return self._end(losses, started)


class RSSFTTrainer(_RoundsDriver):
    """Rejection-sampling SFT rounds (`rs_sft.py`) on TRL's `SFTTrainer`."""

    def _round(self, number: int, setup: TrainerSetup) -> tuple[Any, int]:
        a = self.args
        return rs_sft_round(self.model, self.tokenizer, self.train_rows, block=a.block(),
                            generation=a.generation(), rewards=self.rewards,
                            args=self._inner_args(), round_number=number,
                            best_of_n=bool(a.best_of_n),
                            batch_size=a.generation_batch_size, setup=setup)


class AWRTrainer(_RoundsDriver):
    """AWR rounds (`awr.py`) on `WeightedSFTTrainer`."""

    inner_class = WeightedSFTTrainer

    def _round(self, number: int, setup: TrainerSetup) -> tuple[Any, int]:
        a = self.args
        return awr_round(self.model, self.tokenizer, self.train_rows, block=a.block(),
                         generation=a.generation(), rewards=self.rewards,
                         args=self._inner_args(), round_number=number,
                         batch_size=a.generation_batch_size, setup=setup)


def ppo_batch_size(args: Any) -> int:
    """Prompts per PPO update: micro batch x gradient accumulation."""
    return int(args.per_device_train_batch_size) * int(args.gradient_accumulation_steps)


def ppo_total_updates(args: Any) -> int:
    """`max_steps`, else `num_episodes / batch` rounded up, else 1."""
    if args.max_steps and args.max_steps > 0:
        return int(args.max_steps)
    episodes: int | None = args.num_episodes
    if episodes:
        return math.ceil(episodes / ppo_batch_size(args))
    return 1


class PPOTrainer(_Driver):
    """PPO updates (`ppo.py`): rollout, GAE, clipped updates, adaptive KL."""

    value_head: Any = None

    def train(self, **kwargs: Any) -> TrainOutput:
        import torch

        if not self.train_rows:
            raise ValueError("no training prompts")
        a = self.args
        started = time.monotonic()
        torch.manual_seed(a.seed)
        loop = PPOLoop(self.model, self.tokenizer, block=a.block(), generation=a.generation(),
                       rewards=self.rewards, learning_rate=a.learning_rate,
                       weight_decay=a.weight_decay, max_grad_norm=a.max_grad_norm or None,
                       rollout_batch_size=a.generation_batch_size,
                       adam_kwargs={"betas": (a.adam_beta1, a.adam_beta2), "eps": a.adam_epsilon,
                                    "fused": "fused" in str(getattr(a.optim, "value", a.optim))
                                    or None})
        self.value_head = loop.value_head
        self._begin()
        batch_size = ppo_batch_size(a)
        total = ppo_total_updates(a)
        self.state.max_steps = total
        order = list(range(len(self.train_rows)))
        random.Random(a.seed).shuffle(order)
        strategy = getattr(a.eval_strategy, "value", a.eval_strategy)
        period = int(a.eval_steps or 0) if strategy == "steps" else 0
        losses: list[float] = []
        for step in range(1, total + 1):
            at = (step - 1) * batch_size
            rows = [self.train_rows[order[(at + k) % len(order)]] for k in range(batch_size)]
            m = loop.step(rows)
            self.state.global_step = step
            self.state.epoch = at / len(order)
            m["kl_sequence"] = m["kl"]  # per-sequence KL sum (TRL's objective/kl)
            m["kl"] = m["kl"] / max(m["response_length"], 1.0)  # per token, as GRPO's
            m["reward"] = m["reward_mean"]
            losses.append(m["loss"])
            self.log(m)
            if self.control.should_training_stop:
                break
            if self.eval_rows and period and step % period == 0 and step != total:
                self.evaluate()
                if self.control.should_training_stop:
                    break
        if self.eval_rows and not self.control.should_training_stop:
            self.evaluate()
        return self._end(losses, started)
