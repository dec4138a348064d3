"""Rules about how a run is kept and judged: checkpointing, health rules, objectives."""

from __future__ import annotations

from specc.spec.rules.context import Context


def check(ctx: Context) -> None:
    if ctx.point:
        return
    _checkpointing(ctx)


def _checkpointing(ctx: Context) -> None:
    ckpt = ctx.spec.checkpointing
    if ckpt is None or not ckpt.enabled:
        return
    if ckpt.checkpoint_dir is not None:
        ctx.diags.add("W020", f"`checkpointing.checkpoint_dir` ({ckpt.checkpoint_dir}) is not "
                      "used: specc keeps each trial's checkpoints in the trial's folder "
                      "(trials/<n>/hf/checkpoint-<step>), where a retried trial finds them",
                      path=("checkpointing", "checkpoint_dir"), on_key=True,
                      hint="remove `checkpoint_dir`; pass `--output` to place the run")
