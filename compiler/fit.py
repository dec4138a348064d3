"""Does a spec fit its GPU? Lowers a spec to estimator inputs and adds M00x diagnostics."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import replace
from typing import Any

from specc.compiler.derive import derive
from specc.compiler.memory import MemoryEstimate, MemoryInputs, estimate
from specc.compiler.shapes import architecture_for, outside_root
from specc.spec.catalog.gpus import lookup_gpu
from specc.spec.catalog.optim import lookup_optimizer, optimizer_state_bytes
from specc.spec.diagnostics import Severity
from specc.spec.facts import GENERATES, ROLLOUTS
from specc.spec.models import Spec
from specc.spec.models.parallel import PARAM_SHARDING
from specc.spec.parallel import parallel
from specc.spec.rules import Context

GIB = 1024**3
DEFAULT_HEADROOM = 0.9


def capacity_bytes(spec: Spec) -> int | None:
    """Memory per GPU: `hardware.memory_gb`, else the catalog's; None when unknown."""
    if spec.hardware.memory_gb:
        return int(spec.hardware.memory_gb * GIB)
    gpu = lookup_gpu(spec.hardware.gpu)
    if gpu is None:
        return None
    if gpu.kind == "cpu" or gpu.memory_gb <= 0:
        return host_memory_bytes()
    return int(gpu.memory_gb * GIB)


def host_memory_bytes() -> int | None:
    """This machine's RAM: the capacity of `gpu: CPU` unless `memory_gb` says otherwise."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_inputs(spec: Spec, file: str = "") -> MemoryInputs | None:
    """The estimator's inputs for one (resolved) spec; None when the model shape is unknown."""
    arch = architecture_for(spec.policy.model_name, file)
    algo = spec.selected()
    if arch is None or algo is None:
        return None
    pol = spec.policy
    gpu = lookup_gpu(spec.hardware.gpu)
    block = spec.block()
    gen = pol.generation
    num_generations, kl_beta, max_new = 1, 0.0, 0
    if algo in ROLLOUTS and block is not None:
        num_generations = getattr(block, "num_generations_per_prompt", 1)
        max_new = gen.max_new_tokens if gen else 128
        if algo == "grpo":
            kl_beta = spec.loss_fn.reference_policy_kl_penalty if spec.loss_fn else 0.0
        else:
            kl_beta = getattr(block, "reference_policy_kl_penalty", 0.0)
    targets = pol.lora.target_modules
    derived = derive(spec)
    par = parallel(spec)
    quant = pol.quantization if pol.lora.enabled else None
    vllm = 0.0
    if gen is not None and gen.backend == "vllm" and gen.vllm_mode == "colocate" \
            and algo in GENERATES:
        vllm = gen.gpu_memory_utilization
    own = _own_generation(spec, derived)
    if own is not None:
        num_generations, max_new = own["num_generations"], own["max_new_tokens"]
    inputs = MemoryInputs(
        arch=arch,
        algorithm=algo,
        precision=pol.precision,
        micro_batch_size=pol.train_micro_batch_size,
        seq_len=pol.max_total_sequence_length,
        lora_enabled=pol.lora.enabled,
        lora_r=pol.lora.r,
        lora_targets=tuple(arch.linear_shapes()) if targets == "all-linear" else tuple(targets),
        optimizer_state_bytes=_state_bytes(spec),
        activation_checkpointing=pol.checkpointing,
        num_generations=num_generations,
        max_new_tokens=max_new,
        prompt_len=_prompt_len(spec, max_new),
        kl_beta=kl_beta,
        precompute_ref_log_probs=bool(getattr(block, "precompute_ref_log_probs", False)),
        world_size=spec.world_size,
        device_kind=gpu.kind if gpu else "cuda",
        lora_dropout=pol.lora.dropout if pol.lora.enabled else 0.0,
        gradient_accumulation_steps=derived.grad_accumulation_steps,
        generation_batch_size=(derived.micro_batch_size * (derived.steps_per_generation or 1)
                               if algo in ROLLOUTS else
                               own["generation_batch_size"] if own is not None else 0),
        strategy=par.strategy,
        tensor_parallel=par.tensor,
        pipeline_parallel=par.pipeline,
        context_parallel=par.context,
        cpu_offload=par.cpu_offload,
        quant_bits=quant.bits if quant else 0,
        quant_double=quant.double_quant if quant else True,
        # specc's runtime calls prepare_model_for_kbit_training unless the base is sharded
        # (FSDP/ZeRO-3 need one dtype per unit): fp32 embeddings, norms and head
        kbit_fp32_rest=quant is not None and par.strategy not in PARAM_SHARDING,
        # TRL's SFTTrainer casts a quantised model's trainable (adapter) params to bf16
        adapter_bytes=2 if quant is not None else 4,
        # PEFT wraps the model transformers' FSDP2 sharded at load: adapters stay whole
        replicated_adapters=par.strategy == "fsdp",
        master_weights=pol.master_weights == "float32" and quant is None,
        paged_optimizer=is_paged(spec),
        vllm_gpu_memory_utilization=vllm,
        packing=bool(spec.sft is not None and algo == "sft" and spec.sft.packing),
        fused_lm_head=trl_fuses_lm_head(),
    )
    if own is not None and "micro_batch_size" in own:  # PPO's minibatch, full logits
        inputs = replace(inputs, micro_batch_size=own["micro_batch_size"],
                         fused_lm_head=False)
    return inputs


def _own_generation(spec: Spec, derived: Any) -> dict[str, int] | None:
    """RS-SFT, AWR and PPO (specc's trainers): what they generate at once.

    RS-SFT/AWR generate `num_samples_per_prompt` completions for `prompts_per_call`
    prompts per call (a micro batch of sequences), then fine-tune with TRL's
    SFTTrainer (its fused LM head). PPO rolls out one completion for each of the batch's
    `train_micro_batch_size x accumulation` prompts and trains minibatches of
    `ppo.mini_batch_size` (default: the batch) on full float32 logits of the completion
    (no fused LM head: the entropy bonus needs the distribution); its rollout generates
    and scores `prompts_per_call` prompts at a time."""
    algo, block, gen = spec.selected(), spec.block(), spec.policy.generation
    if algo not in ("rs_sft", "awr", "ppo") or block is None:
        return None
    max_new = gen.max_new_tokens if gen else 128
    from specc.compiler.lowering_own import prompts_per_call

    prompts = prompts_per_call(spec, derived.micro_batch_size)
    if algo != "ppo":
        n = int(getattr(block, "num_samples_per_prompt", 1))
        return {"num_generations": n, "max_new_tokens": max_new,
                "generation_batch_size": prompts * n}
    batch = derived.micro_batch_size * derived.grad_accumulation_steps
    mini = getattr(block, "mini_batch_size", None) or batch
    return {"num_generations": 1, "max_new_tokens": max_new, "generation_batch_size": prompts,
            "micro_batch_size": min(int(mini), batch)}


@functools.lru_cache(maxsize=1)
def trl_fuses_lm_head() -> bool:
    """The loss path of the installed TRL: its fused LM head from 1.16 on, materialised
    logits before (read from the package metadata, never by importing TRL; True when TRL
    is not installed: the version specc lowers for)."""
    found = _dist_version("trl")
    try:
        major, minor = (int(x) for x in (found or "").split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= (1, 16)


def _dist_version(name: str) -> str | None:
    """An installed distribution's version from its ``NAME-VERSION.dist-info`` folder on
    ``sys.path``: a directory listing, where ``importlib.metadata`` would cost a tenth of
    a cold ``specc validate`` to import."""
    prefix, suffix = name + "-", ".dist-info"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            version = n[len(prefix):-len(suffix)]
            if n.startswith(prefix) and n.endswith(suffix) and version and "-" not in version:
                return version
    return None


def is_paged(spec: Spec) -> bool:
    """A bitsandbytes paged optimizer (its states live in CUDA managed memory)."""
    opt = spec.policy.optimizer
    return "paged" in opt.name.lower() or opt.kwargs.get("is_paged") is True


def _prompt_len(spec: Spec, max_new: int) -> int:
    """Prompt tokens: the rest of the sequence for generating algorithms, the declared
    `max_prompt_length` for preference ones (0 = unknown: every position is scored)."""
    if max_new:
        return max(spec.policy.max_total_sequence_length - max_new, 0)
    block = spec.block()
    limit = getattr(block, "max_prompt_length", None)
    return int(limit) if limit and limit < spec.policy.max_total_sequence_length else 0


_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


def _state_bytes(spec: Spec) -> float:
    """Optimizer state bytes per trainable parameter (states follow the parameter dtype;
    LoRA adapters are fp32)."""
    pol = spec.policy
    sig = lookup_optimizer(pol.optimizer.name)
    full = 4 if pol.master_weights == "float32" else _DTYPE_BYTES[pol.precision]
    adapter = 2 if pol.quantization is not None else 4
    param_bytes = adapter if pol.lora.enabled else full
    if sig is None:
        return 2.0 * param_bytes
    try:
        return optimizer_state_bytes(sig, pol.optimizer.kwargs, param_bytes)
    except (TypeError, ValueError):
        return sig.state_bytes_per_param


def estimate_spec(spec: Spec, file: str = "") -> MemoryEstimate | None:
    inputs = memory_inputs(spec, file)
    cap = capacity_bytes(spec)
    if inputs is None or cap is None:
        return None
    try:
        return _estimate(inputs, cap)
    except OverflowError:  # a size beyond any float (1e308 tokens): other rules say so
        return None


@functools.lru_cache(maxsize=4096)
def _estimate(inputs: MemoryInputs, cap: int) -> MemoryEstimate:
    """Trials that differ only in, say, the learning rate share one estimate."""
    return estimate(inputs, cap)


def _count(n: float) -> str:
    """A count as written, or in e-notation past a trillion (a fuzzed 1e308 stays short)."""
    return f"{n}" if abs(n) < 1e12 else f"{float(n):.3g}"


def check_context_length(ctx: Context) -> None:
    """N011: sequences longer than the model's position table (an error for learned
    absolute positions; a warning for rotary models, which run but degrade)."""
    pol = ctx.spec.policy
    arch = architecture_for(pol.model_name, ctx.file)
    if arch is None or pol.max_total_sequence_length <= arch.max_position_embeddings:
        return
    learned = arch.family == "gpt2"
    ctx.diags.add(
        "N011", f"max_total_sequence_length {_count(pol.max_total_sequence_length)} exceeds "
        f"`{pol.model_name}`'s {arch.max_position_embeddings} positions"
        + ("" if learned else " (rotary positions run past it, but quality degrades)"),
        path=("policy", "max_total_sequence_length"),
        severity=None if learned else Severity.WARNING,
        hint=f"use at most {arch.max_position_embeddings}")


def check_memory(ctx: Context) -> None:
    """M001 when the estimated peak exceeds the GPU, M002 above the headroom, M003 unknown."""
    spec = ctx.spec
    if capacity_bytes(spec) is None:
        return
    if spec.cluster is not None and not ctx.written(("hardware", "gpu")):
        if not ctx.point and spec.selected() is not None:
            ctx.diags.add("M003", "memory not estimated: the GPU is not declared (NeMo RL's "
                          "`cluster` block does not name one)", path=("cluster",), on_key=True,
                          hint="add `hardware: {gpu: H100-80GB}` to check the memory")
        return
    est = estimate_spec(spec, ctx.file)
    if est is None:
        away = outside_root(spec.policy.model_name, ctx.file)
        if away is not None and not ctx.point:
            ctx.diags.add("R041", f"`{spec.policy.model_name}` is outside the project root: "
                          "its config.json is not read, so memory is not estimated",
                          path=("policy", "model_name"),
                          hint=f"pass --root {away} to let validate read it")
        elif ctx.point or spec.selected() is None:
            pass
        elif memory_inputs(spec, ctx.file) is not None:  # known shape, sizes past any float
            ctx.diags.add("M003", "memory not estimated: the sizes are too large to compute",
                          path=("policy",), on_key=True,
                          hint="check `max_total_sequence_length` and the batch sizes")
        else:
            ctx.diags.add("M003", f"memory not estimated: the shape of "
                          f"`{spec.policy.model_name}` is unknown", path=("policy", "model_name"),
                          hint="use a local folder with `config.json` or a model in specc's table")
        return
    host_gb = spec.hardware.host_memory_gb
    ranks = spec.hardware.gpus_per_node or (spec.cluster.gpus_per_node if spec.cluster
                                            else None) or 1
    host = est.host_bytes * ranks  # every GPU of the machine runs a rank
    if host_gb and host > host_gb * GIB:
        ctx.diags.add("M004", f"estimated host memory {host / GIB:.1f} GiB per machine "
                      f"({ranks} x {est.host_bytes / GIB:.1f} GiB: CPU offload, paged "
                      f"optimizer states) exceeds hardware.host_memory_gb {host_gb:g}",
                      path=("hardware", "host_memory_gb"),
                      hint="shard over more GPUs, use LoRA or 8-bit optimizer states, or "
                      "turn `cpu_offload` off")
    total, cap = est.total_bytes, est.capacity_bytes
    top = sorted(est.components.items(), key=lambda kv: -kv[1])[:3]
    parts = ", ".join(f"{k} {v / GIB:.1f}" for k, v in top if v)
    where = ("hardware", "gpu")
    if total > cap:
        ctx.diags.add("M001", f"estimated peak {total / GIB:.1f} GiB per GPU exceeds the "
                      f"{spec.hardware.gpu}'s {cap / GIB:.0f} GiB ({parts} GiB)", path=where,
                      hint=_fixes(spec, ctx.file))
    elif not ctx.point:
        headroom = spec.hardware.memory_headroom or DEFAULT_HEADROOM
        if total > headroom * cap:
            ctx.diags.add("M002", f"estimated peak {total / GIB:.1f} GiB is {total / cap:.0%} of "
                          f"the {spec.hardware.gpu}'s {cap / GIB:.0f} GiB", path=where,
                          hint=_fixes(spec, ctx.file))


def _fixes(spec: Spec, file: str = "") -> str:
    """The fixes that would make the trial fit, each with its estimate (memory_fixes)."""
    from specc.compiler.memory_fixes import hint

    return hint(spec, lambda changed: estimate_spec(changed, file))
