"""Numbers a spec implies but does not state: gradient accumulation, effective batch,
steps, warmup, GRPO rollouts. Pure arithmetic over a validated spec."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

from specc.spec.builtins import DATASET_SIZES
from specc.spec.facts import PAIRED, ROLLOUTS
from specc.spec.models import Spec
from specc.spec.models.policy import SchedulerMilestones, SchedulerStep, ShortScheduler
from specc.spec.records import record


@record(frozen=True)
class Derived:
    """Derived training numbers of one trial (per optimizer step unless stated)."""

    data_parallel_world: int
    micro_batch_size: int
    grad_accumulation_steps: int
    effective_batch_size: int
    #: Sequences one forward pass processes per GPU (DPO/ORPO: chosen + rejected).
    sequences_per_micro_batch: int
    total_steps: int | None
    warmup_steps: int
    epochs: float | None
    train_examples: int | None
    prompts_per_step: int | None = None
    rollouts_per_step: int | None = None
    generations_per_prompt: int | None = None
    steps_per_generation: int | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def train_size(spec: Spec) -> int | None:
    """Examples in the training split, when specc knows it (built-ins)."""
    src = spec.data.train
    if src is None or src.location is None:
        return None
    size = DATASET_SIZES.get((src.location, src.split or "train"))
    if size is not None and src.max_samples:
        size = min(size, src.max_samples)
    return size


def derive(spec: Spec, world: int | None = None) -> Derived:
    """Derived numbers for the declared hardware, or for ``world`` data-parallel processes
    (a run on fewer devices keeps the global batch by accumulating more)."""
    pol = spec.policy
    world = world or spec.world_size
    micro = pol.train_micro_batch_size
    ga = max(pol.train_global_batch_size // (micro * world), 1)
    effective = micro * ga * world
    algo = spec.selected()
    block = spec.block()
    pairs = 2 if algo in PAIRED else 1
    prompts = rollouts = gens = per_gen = None
    if algo in ROLLOUTS and block is not None:
        prompts = int(getattr(block, "num_prompts_per_step", 0))
        gens = int(getattr(block, "num_generations_per_prompt", 0))
        rollouts = prompts * gens
        per_gen = max(rollouts // effective, 1)
    size = train_size(spec)
    steps = (spec.hpo.evaluation.max_steps if spec.hpo and spec.hpo.evaluation.max_steps
             else block.max_num_steps if block else None)
    if algo in ("rs_sft", "awr") and block is not None:
        return replace(_rounds(spec, block, size, steps, effective), data_parallel_world=world,
                       micro_batch_size=micro, grad_accumulation_steps=ga)
    if algo == "ppo" and steps is None and getattr(block, "num_episodes", None):
        steps = math.ceil(int(getattr(block, "num_episodes", 0)) / effective)
    epochs_cap = block.max_num_epochs if block else None
    per_epoch = None
    if size is not None:
        consumed = prompts if prompts else effective
        per_epoch = max(math.ceil(size / consumed), 1) if consumed else None
    if per_epoch is not None and epochs_cap is not None:
        by_epochs = per_epoch * epochs_cap
        steps = min(steps, by_epochs) if steps is not None else by_epochs
    epochs = (steps / per_epoch) if steps is not None and per_epoch else None
    return Derived(
        data_parallel_world=world,
        micro_batch_size=micro,
        grad_accumulation_steps=ga,
        effective_batch_size=effective,
        sequences_per_micro_batch=micro * pairs,
        total_steps=steps,
        warmup_steps=warmup_steps(spec, steps),
        epochs=round(epochs, 4) if epochs is not None else None,
        train_examples=size,
        prompts_per_step=prompts,
        rollouts_per_step=rollouts,
        generations_per_prompt=gens,
        steps_per_generation=per_gen,
    )


def round_steps(spec: Spec, block: object, size: int | None, cap: int | None,
                effective: int) -> int | None:
    """RS-SFT/AWR: optimizer steps of one round's fine-tune (at most, for RS-SFT: every
    sample kept): samples per round over the batch, times `max_num_epochs` (default 1),
    capped at `max_num_steps`; None when the training split's size is unknown."""
    if size is None:
        return cap
    samples = size * int(getattr(block, "num_samples_per_prompt", 1))
    limit = getattr(block, "max_samples", None)
    if limit:
        samples = min(samples, int(limit))
    epochs = getattr(block, "max_num_epochs", None) or 1
    steps = max(math.ceil(samples / effective), 1) * int(epochs)
    return min(steps, cap) if cap is not None else steps


def _rounds(spec: Spec, block: object, size: int | None, cap: int | None,
            effective: int) -> Derived:
    per_round = round_steps(spec, block, size, cap, effective)
    rounds = int(getattr(block, "num_rounds", 1))
    total = per_round * rounds if per_round is not None else None
    return Derived(
        data_parallel_world=1, micro_batch_size=spec.policy.train_micro_batch_size,
        grad_accumulation_steps=1, effective_batch_size=effective,
        sequences_per_micro_batch=spec.policy.train_micro_batch_size,
        total_steps=total, warmup_steps=warmup_steps(spec, per_round),
        epochs=float(getattr(block, "max_num_epochs", None) or 1) * rounds,
        train_examples=size, prompts_per_step=None, rollouts_per_step=None,
        generations_per_prompt=None, steps_per_generation=None)


def warmup_steps(spec: Spec, total: int | None) -> int:
    """Warmup length: short form's steps/ratio, or the list form's first LinearLR phase."""
    sched = spec.policy.scheduler
    if isinstance(sched, ShortScheduler):
        if sched.warmup_steps is not None:
            return sched.warmup_steps
        if sched.warmup_ratio and total:
            return math.ceil(sched.warmup_ratio * total)
        return 0
    if not sched:
        return 0
    steps = [e for e in sched if isinstance(e, SchedulerStep)]
    ms = next((e for e in sched if isinstance(e, SchedulerMilestones)), None)
    if steps and steps[0].name.rsplit(".", 1)[-1] == "LinearLR":
        start = steps[0].kwargs.get("start_factor", 1 / 3)
        end = steps[0].kwargs.get("end_factor", 1.0)
        if isinstance(start, int | float) and isinstance(end, int | float) and start < end:
            if ms and ms.milestones:
                return ms.milestones[0]
            iters = steps[0].kwargs.get("total_iters", 5)
            return int(iters) if isinstance(iters, int) else 0
    return 0
