"""Per-GPU memory under sharding, model parallelism, quantisation and offload.

:func:`specc.compiler.memory.estimate` computes one model replica's components on one
device; :func:`per_gpu` then divides what each strategy divides and moves what offload
and paged optimizers move to host memory (its own figure):

* ``ddp``: every GPU holds a full replica, plus DDP's gradient buckets.
* ``zero1`` / ``zero2`` / ``zero3`` (DeepSpeed): optimizer states (zero1), and gradients
  (zero2), and weights (zero3) over the data-parallel group. DeepSpeed's bf16/fp16
  optimizer keeps fp32 master weights and fp32 gradient partitions next to the
  half-precision model, whatever the model was loaded in: 4 + 4 B per trainable
  parameter on top of the Adam states, all partitioned.
* ``fsdp`` (FSDP full shard, torch's ``fully_shard``): weights, gradients and states over
  the group, plus the all-gathered units in flight: the layer being computed and the one
  prefetched (:data:`GATHERED_UNITS`), in the compute dtype; the LM head, which
  transformers' FSDP2 plan keeps gathered from forward to backward (``keep_full_weight``);
  each in-flight unit's all-gather input buffer (its local shard, copied);
  and, with trainable weights, one unit's unsharded gradients before their reduce-scatter
  (measured on 2 CPU ranks: benchmarks/memory_accuracy_sharded.py).
* tensor parallel splits weights, gradients, states, activations, the loss's working
  set and the KV cache over its GPUs; pipeline parallel splits weights, gradients and
  states over the stages (1F1B keeps about the same activations on the first stage:
  its L/PP layers for PP micro batches); context parallel splits activations and the
  loss working set.
* ``cpu_offload``: fsdp/zero3 keep parameters, gradients and states in host memory (the
  GPU holds the gathered units); zero1/zero2 keep the states there.
* paged bitsandbytes optimizers keep their states in CUDA managed memory, outside
  PyTorch's allocator, which pages to host RAM under pressure: not counted on the GPU
  (reported as host memory).
"""

from __future__ import annotations

from specc.compiler.memory_inputs import MemoryInputs, precision_bytes

#: FSDP/ZeRO-3 units all-gathered at once: the layer computing and the one prefetched.
GATHERED_UNITS = 2
#: DeepSpeed's fp32 master weights and fp32 gradient partitions, B per trainable param.
DEEPSPEED_MASTER_BYTES = 4
DEEPSPEED_GRAD_BYTES = 4
#: DeepSpeed's ``stage3_max_live_parameters`` default (the HF "auto" config keeps it):
#: ZeRO-3 keeps up to this many gathered parameters resident before releasing them.
DEEPSPEED_MAX_LIVE_PARAMS = 10**9

SHARDS_STATES = frozenset({"zero1", "zero2", "zero3", "fsdp"})
SHARDS_GRADS = frozenset({"zero2", "zero3", "fsdp"})
SHARDS_WEIGHTS = frozenset({"zero3", "fsdp"})
DEEPSPEED = frozenset({"zero1", "zero2", "zero3"})


def layer_param_bytes(inp: MemoryInputs) -> int:
    """One decoder layer's parameters as stored (quantised, else the weight dtype)."""
    arch = inp.arch
    linear = sum(a * b for a, b in arch.linear_shapes().values())
    rest = max(arch._layer_params() - linear, 0)
    if inp.quant_bits:
        return round(linear * quant_bytes_per_param(inp)) + rest * precision_bytes(inp.precision)
    return (linear + rest) * precision_bytes(inp.precision)


def quant_bytes_per_param(inp: MemoryInputs) -> float:
    """Bytes per quantised weight with its constants (bitsandbytes, blocks of 64).

    4-bit: 0.5 B plus one fp32 absmax per 64 weights (0.0625 B), or with double
    quantisation an 8-bit absmax per 64 and an fp32 constant per 256 blocks (~0.0159 B).
    8-bit (LLM.int8): 1 B plus an fp32 scale per output row (negligible).
    """
    if inp.quant_bits == 8:
        return 1.0
    constants = (1 / 64 + 4 / (64 * 256)) if inp.quant_double else 4 / 64
    return 0.5 + constants


def quantized_weights_bytes(inp: MemoryInputs) -> int:
    """A quantised base: the decoder layers' linears in 4/8 bits, the rest (embeddings,
    norms, LM head) in fp32 when ``kbit_fp32_rest`` (PEFT's
    ``prepare_model_for_kbit_training`` upcasts every non-quantised parameter), else in
    the compute dtype."""
    arch = inp.arch
    linear = arch.num_layers * sum(a * b for a, b in arch.linear_shapes().values())
    rest = arch.num_params() - linear
    rest_bytes = 4 if inp.kbit_fp32_rest else precision_bytes(inp.precision)
    return round(linear * quant_bytes_per_param(inp)) + rest * rest_bytes


def dequantized_copy_bytes(inp: MemoryInputs) -> int:
    """The largest linear dequantised to the compute dtype for its matmul (one at a time)."""
    if not inp.quant_bits:
        return 0
    biggest = max(a * b for a, b in inp.arch.linear_shapes().values())
    return biggest * precision_bytes(inp.precision)


def per_gpu(inp: MemoryInputs, parts: dict[str, int], capacity: int) -> tuple[
        dict[str, int], int, list[str]]:
    """``parts`` (one replica on one device) per GPU: (components, host bytes, notes)."""
    out = dict(parts)
    notes: list[str] = []
    host = 0
    d = inp.world_size
    model = inp.tensor_parallel * inp.pipeline_parallel
    s = inp.strategy
    offload = inp.cpu_offload and s != "ddp"
    ds = s in DEEPSPEED
    trainable = inp.trainable_params
    if ds:  # DeepSpeed's fp32 master weights, fp32 states and gradient partitions
        param_bytes = inp.adapter_bytes if inp.lora_enabled else inp.weight_bytes
        out["optimizer_states"] = out["optimizer_states"] * 4 // param_bytes \
            + trainable * DEEPSPEED_MASTER_BYTES
        out["gradients"] = max(out["gradients"], trainable * DEEPSPEED_GRAD_BYTES)
        notes.append("DeepSpeed keeps fp32 master weights and fp32 gradient partitions "
                     "(+8 B per trainable parameter, partitioned)")
    for key in ("weights", "reference_model", "lora_adapters", "gradients",
                "optimizer_states"):
        out[key] = out[key] // model
    for key in ("activations", "logits"):
        out[key] = out[key] // (inp.tensor_parallel * inp.context_parallel)
    out["kv_cache"] //= inp.tensor_parallel
    pb = precision_bytes(inp.precision)
    if inp.master_weights and pb < 4 and s not in SHARDS_WEIGHTS:
        # autocast casts each fp32 weight to the compute dtype; backward keeps the casts
        out["activations"] += inp.arch.num_params() * pb // model
    whole = inp.lora_enabled and inp.replicated_adapters and s == "fsdp"
    if s in SHARDS_STATES and not whole:
        out["optimizer_states"] //= d
    if s in SHARDS_GRADS and not whole:
        out["gradients"] //= d
    gathered = 0
    if s in SHARDS_WEIGHTS:
        for key in ("weights", "reference_model") + (() if whole else ("lora_adapters",)):
            out[key] //= d
        if d > 1 or offload:
            gathered = GATHERED_UNITS * layer_param_bytes(inp) // inp.tensor_parallel
            if s == "fsdp":  # the LM head stays gathered from forward to backward
                gathered += inp.arch.vocab_size * inp.arch.hidden_size * \
                    precision_bytes(inp.precision) // inp.tensor_parallel
                # FSDP2 copies each unit's local shard into an all-gather input buffer
                gathered += GATHERED_UNITS * layer_param_bytes(inp) // (
                    d * inp.tensor_parallel)
            if not inp.lora_enabled:  # a unit's gradients before their reduce-scatter
                gathered += layer_param_bytes(inp) * inp.weight_bytes \
                    // precision_bytes(inp.precision) // inp.tensor_parallel
            if s == "zero3":  # DeepSpeed keeps up to stage3_max_live_parameters gathered
                live = min(DEEPSPEED_MAX_LIVE_PARAMS, inp.arch.num_params())
                gathered = max(gathered, live * precision_bytes(inp.precision)
                               // (inp.tensor_parallel * inp.pipeline_parallel))
            notes.append(f"{s}: weights, gradients and optimizer states sharded over {d} "
                         f"GPU{'s' if d != 1 else ''}, {GATHERED_UNITS} decoder layers "
                         "all-gathered at a time")
    elif s in SHARDS_STATES:
        notes.append(f"{s}: optimizer states{' and gradients' if s == 'zero2' else ''} "
                     f"sharded over {d} GPUs, a full weight replica per GPU")
    elif d > 1:
        notes.append("data parallel without sharding: every GPU holds a full replica")
    out["gathered_params"] = gathered
    if offload:
        moved = ("weights", "reference_model", "gradients", "optimizer_states") \
            if s in SHARDS_WEIGHTS else ("optimizer_states",)
        host += sum(out[k] for k in moved)
        for k in moved:
            out[k] = 0
        notes.append(f"cpu_offload: {', '.join(moved)} in host memory (the optimizer "
                     "steps on the CPU)")
    if inp.paged_optimizer and out["optimizer_states"]:
        host += out["optimizer_states"]
        out["optimizer_states"] = 0
        notes.append("paged optimizer: states in CUDA managed memory outside PyTorch's "
                     "allocator, paged to host RAM under pressure (counted as host memory)")
    if inp.vllm_gpu_memory_utilization > 0:
        out["vllm"] = round(inp.vllm_gpu_memory_utilization * capacity)
        out["kv_cache"] = 0
        notes.append(f"vLLM colocate reserves {inp.vllm_gpu_memory_utilization:.0%} of each "
                     "GPU (weights and KV cache); training gets the rest")
    else:
        out["vllm"] = 0
    if model > 1 or inp.context_parallel > 1:
        notes.append(f"model parallel: weights and states / {model}, activations / "
                     f"{inp.tensor_parallel * inp.context_parallel} per GPU")
    return out, host, notes


def residual_bytes(inp: MemoryInputs) -> int:
    """Bytes per element of the residual stream (what a checkpointed layer keeps).

    The compute dtype, except for a quantised base prepared by PEFT's
    ``prepare_model_for_kbit_training`` (``kbit_fp32_rest``): it upcasts the embeddings
    to fp32, so the hidden states between layers are fp32.
    """
    if inp.quant_bits and inp.kbit_fp32_rest:
        return 4
    return precision_bytes(inp.precision)


def replica_notes(inp: MemoryInputs) -> tuple[str, ...]:
    """Caveats that apply to these inputs."""
    notes: list[str] = []
    if inp.arch.approximate:
        notes.append(f"shapes of model type {inp.arch.family!r} approximated by the Llama layout")
    if inp.algorithm == "ppo":
        notes.append("PPO's value head (hidden size + 1 fp32 parameters) counted with the "
                     "weights and trained with the policy; rewards are functions, no reward "
                     "model")
    if inp.quant_bits:
        notes.append(f"{inp.quant_bits}-bit base (bitsandbytes): layer linears quantised, "
                     "the rest in " + ("fp32 (prepare_model_for_kbit_training)"
                                       if inp.kbit_fp32_rest else inp.precision)
                     + ", one linear dequantised at a time")
    if inp.master_weights:
        notes.append(f"fp32 master weights, gradients and states; {inp.precision} autocast "
                     "keeps half-precision copies of the weights for backward")
    if not inp.fused_lm_head:
        notes.append("loss over materialised batch x seq x vocab logits")
    notes.append("sequences packed to max_total_sequence_length" if inp.packing else
                 "every sequence counted at max_total_sequence_length (an upper bound "
                 "without packing)")
    return tuple(notes)
