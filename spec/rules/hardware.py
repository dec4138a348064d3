"""Precision the declared GPU cannot do, and unknown GPUs."""

from __future__ import annotations

from specc.spec.catalog.gpus import ambiguous_gpu_matches, gpu_names, lookup_gpu
from specc.spec.rules.context import Context
from specc.spec.schema_check import close_matches


def check(ctx: Context) -> None:
    hw = ctx.spec.hardware
    gpu = lookup_gpu(hw.gpu)
    if gpu is None:
        if not ctx.point:
            names = {n.upper(): n for n in gpu_names()}
            close = [n.upper() for n in ambiguous_gpu_matches(hw.gpu)] or \
                close_matches(hw.gpu.upper(), names, n=3, cutoff=0.4)
            hint = ("did you mean " + " or ".join(f"`{names[c]}`" for c in close) + "?") \
                if close else "known GPUs: " + ", ".join(gpu_names())
            ctx.diags.add("P002", f"unknown GPU `{hw.gpu}`", path=("hardware", "gpu"),
                          hint=hint + " (or set `memory_gb` with a known GPU)")
        return
    prec = ctx.spec.policy.precision
    path = ("policy", "precision")
    if prec == "bfloat16" and not gpu.bf16:
        alt = "float16" if gpu.fp16 else "float32"
        ctx.diags.add("P001", f"{gpu.name} cannot compute in bfloat16", path=path,
                      hint=f"use `precision: {alt}`")
    elif prec == "float16" and not gpu.fp16:
        ctx.diags.add("P001", f"{gpu.name} has no fast float16 training", path=path,
                      hint="use `precision: bfloat16` or `float32`")
    elif prec == "float16" and gpu.bf16 and not ctx.point:
        ctx.diags.add("P003", f"float16 on {gpu.name}, which supports bfloat16", path=path,
                      hint="bfloat16 needs no loss scaling and is more stable (seed 003)")
    if ctx.spec.policy.tf32 and not gpu.tf32:
        ctx.diags.add("P001", f"{gpu.name} has no TF32", path=("policy", "tf32"),
                      hint="set `tf32: false` (TF32 needs an Ampere or newer NVIDIA GPU)")
