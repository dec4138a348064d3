"""GPUs per trial, sharding, quantisation and vLLM colocate: the settings of issue 13.

B007 `gpus_per_trial` must divide the declared GPUs; N030 a quantised base needs LoRA;
P004 the quantisation compute dtype must run on the GPU; P005 bitsandbytes needs a CUDA
GPU; W010-W013 settings that have no effect."""

from __future__ import annotations

from specc.spec.catalog.gpus import lookup_gpu
from specc.spec.diagnostics import Severity
from specc.spec.parallel import _divisors_of, parallel, training_gpus
from specc.spec.rules.context import Context


def check(ctx: Context) -> None:
    _gpus_per_trial(ctx)
    _strategy(ctx)
    _quantization(ctx)
    _vllm(ctx)


def _gpus_per_trial(ctx: Context) -> None:
    per = ctx.spec.hardware.gpus_per_trial
    gpus = training_gpus(ctx.spec)
    if per is None or (per <= gpus and gpus % per == 0):
        return
    fits = [d for d in _divisors_of(gpus) if d != per]
    near = sorted(fits, key=lambda d: abs(d - per))[:2]
    ctx.diags.add("B007", f"gpus_per_trial {per} does not divide the {gpus} declared GPU"
                  + ("s" if gpus != 1 else "") + (" (it asks for more)" if per > gpus else ""),
                  path=("hardware", "gpus_per_trial"),
                  hint="use " + " or ".join(str(d) for d in sorted(near))
                  + f", or declare a multiple of {per} GPUs")


def _strategy(ctx: Context) -> None:
    if ctx.point:
        return
    own = ctx.spec.policy.parallel
    par = parallel(ctx.spec)
    if par.source != "parallel":
        return
    if own.strategy != "ddp" and par.data == 1 and not own.cpu_offload \
            and ctx.written(("policy", "parallel", "strategy")):
        ctx.diags.add("W010", f"`strategy: {own.strategy}` over one data-parallel replica "
                      "shards nothing", path=("policy", "parallel", "strategy"),
                      severity=Severity.WARNING,
                      hint="declare more GPUs per trial (`hardware.gpus_per_trial`), or use "
                      "`cpu_offload: true` to move what it shards to host memory")
    if own.cpu_offload and own.strategy == "ddp":
        ctx.diags.add("W011", "`cpu_offload` has no effect with `strategy: ddp`",
                      path=("policy", "parallel", "cpu_offload"), severity=Severity.WARNING,
                      hint="use `strategy: fsdp` or `zero3` (parameters and states) or "
                      "`zero2` (states) to offload")


def _quantization(ctx: Context) -> None:
    pol = ctx.spec.policy
    q = pol.quantization
    if q is None:
        return
    at = ("policy", "quantization")
    if not pol.lora.enabled:
        ctx.diags.add("N030", f"a {q.bits}-bit quantised base is frozen: it needs LoRA "
                      "adapters to train", path=at, on_key=True,
                      hint="set `policy.lora.enabled: true` (QLoRA), or remove "
                      "`policy.quantization` for full fine-tuning")
    gpu = lookup_gpu(ctx.spec.hardware.gpu)
    if gpu is not None and gpu.kind != "cuda":
        ctx.diags.add("P005", f"bitsandbytes quantisation needs a CUDA GPU, not the "
                      f"{gpu.name}", path=at, on_key=True,
                      hint="declare a CUDA GPU, or remove `policy.quantization` (train LoRA "
                      "on a bf16/fp16 base)")
    elif gpu is not None and not gpu.supports(q.compute_dtype):
        alt = "float16" if gpu.fp16 else "float32"
        ctx.diags.add("P004", f"{gpu.name} cannot compute in {q.compute_dtype}",
                      path=(*at, "compute_dtype"), hint=f"use `compute_dtype: {alt}`")
    if ctx.point:
        return
    if q.bits == 8:
        for key in ("quant_type", "double_quant"):
            if ctx.written((*at, key)):
                ctx.diags.add("W012", f"`{key}` has no effect with `bits: 8` (4-bit only)",
                              path=(*at, key), severity=Severity.WARNING,
                              hint="remove it, or use `bits: 4`")


def _vllm(ctx: Context) -> None:
    gen = ctx.spec.policy.generation
    if gen is None or ctx.point or gen.backend == "vllm":
        return
    base = ("policy", "generation")
    for key in ("vllm_mode", "gpu_memory_utilization"):
        if ctx.written((*base, key)):
            ctx.diags.add("W013", f"`{key}` has no effect with `backend: {gen.backend}`",
                          path=(*base, key), severity=Severity.WARNING,
                          hint="set `backend: vllm` to generate with vLLM, or remove it")
