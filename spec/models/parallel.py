"""How one trial spreads over its GPUs (`policy.parallel`) and a quantised frozen base
(`policy.quantization`)."""

from typing import Literal

from specc.spec.models.base import Block, PositiveInt

Strategy = Literal["ddp", "fsdp", "zero1", "zero2", "zero3"]
#: Strategies that shard parameters (and with them gradients and optimizer states).
PARAM_SHARDING: frozenset[str] = frozenset({"fsdp", "zero3"})


class ParallelConfig(Block):
    """How one trial spreads over the GPUs it gets (`hardware.gpus_per_trial`).

    Data-parallel replicas = GPUs per trial / (tensor x pipeline x context parallel)."""

    strategy: Strategy = "ddp"
    """`ddp` (a full replica per GPU), `fsdp` (FSDP full sharding of weights, gradients and
    optimizer states), `zero1` (DeepSpeed: optimizer states sharded), `zero2` (states and
    gradients), `zero3` (states, gradients and weights)."""
    tensor_parallel_size: PositiveInt = 1
    """GPUs one layer's weights and activations are split over (Megatron-style)."""
    pipeline_parallel_size: PositiveInt = 1
    """Pipeline stages: GPUs the layers are split over."""
    context_parallel_size: PositiveInt = 1
    """GPUs one sequence is split over (activations only)."""
    cpu_offload: bool = False
    """`fsdp` / `zero3`: keep parameters and optimizer states in host memory (`zero1` /
    `zero2`: the optimizer states); the estimate reports host memory separately."""


class Quantization(Block):
    """A frozen quantised base loaded with bitsandbytes (QLoRA); requires `lora.enabled`."""

    bits: Literal[4, 8] = 4
    """Bits per base weight: 4 (QLoRA's NF4/FP4) or 8 (LLM.int8)."""
    quant_type: Literal["nf4", "fp4"] = "nf4"
    """4-bit data type (`bnb_4bit_quant_type`); no effect with `bits: 8`."""
    double_quant: bool = True
    """Quantise the quantisation constants too (`bnb_4bit_use_double_quant`); 4-bit only."""
    compute_dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    """Dtype the dequantised weights are computed in (`bnb_4bit_compute_dtype`); must be
    supported by `hardware.gpu`."""
