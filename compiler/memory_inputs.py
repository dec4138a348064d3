"""The memory model's inputs: everything a per-GPU estimate depends on
(:class:`MemoryInputs`, resolved from a spec by :mod:`specc.compiler.fit`), the
estimate's shape (:class:`MemoryEstimate`) and the constants the terms use. The terms
and :func:`~specc.compiler.memory.estimate` are in :mod:`specc.compiler.memory`."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from specc.spec.catalog.architectures import Architecture
from specc.spec.defaults import DEFAULT_LORA_TARGETS
from specc.spec.models.algorithms import Algorithm
from specc.spec.records import record

GIB = 1024**3

Precision = Literal["bfloat16", "float16", "float32"]
DeviceKind = Literal["cuda", "mps", "cpu"]

COMPONENTS: tuple[str, ...] = (
    "weights",
    "gradients",
    "optimizer_states",
    "activations",
    "logits",
    "reference_model",
    "kv_cache",
    "lora_adapters",
    "gathered_params",
    "vllm",
    "overhead",
)
"""The keys of :attr:`MemoryEstimate.components`, in display order."""


_PRECISION_BYTES: dict[str, int] = {"bfloat16": 2, "float16": 2, "float32": 4}

# TRL's fused LM head (trl/kernels/chunked_logprob.py, trl/trainer/utils.py): tokens
# and vocabulary columns per projection tile, and the bytes per tile element that
# its torch fallback (no Triton: CPU, MPS) keeps in temporaries during backward.
_FUSED_TOKEN_TILE = 4096
_FUSED_VOCAB_TILE = 32768
_TORCH_TILE_BYTES = 29

# LoRA adapters are kept in fp32: PEFT upcasts them when the base is bf16/fp16
# (get_peft_model(..., autocast_adapter_dtype=True), the default).
_ADAPTER_BYTES = 4

# Overhead per device kind when the caller gives none: CUDA context (~300-500 MB
# with the cuBLAS/cuDNN workspaces) plus caching-allocator fragmentation; ANCHORS
# puts it at "hundreds of MB to ~2 GB", 1 GiB is the middle.  MPS has no separate
# context but Metal keeps its own heaps; CPU memory is the host's, counted as 0.
_DEFAULT_OVERHEAD: dict[str, int] = {"cuda": GIB, "mps": GIB // 2, "cpu": 0}


def precision_bytes(precision: str) -> int:
    """Bytes per element of a declared precision (bfloat16/float16: 2, float32: 4)."""
    try:
        return _PRECISION_BYTES[precision]
    except KeyError:
        raise ValueError(f"unknown precision {precision!r}") from None


@record(frozen=True)
class MemoryInputs:
    """Everything the estimate depends on, already resolved from a spec and a trial.

    ``micro_batch_size`` counts examples per device per forward pass (for
    GRPO/RLOO the caller folds ``num_generations`` in: completions of one prompt
    that share a micro batch are separate sequences).  ``seq_len`` is the
    training sequence length (prompt + completion); ``prompt_len`` the prompt's
    part of it (0: unknown), which the loss masks.  ``num_generations`` is
    informational.  ``optimizer_state_bytes`` is per trainable parameter, see
    ``specc.spec.catalog.optim.optimizer_state_bytes``.

    ``device_kind`` also decides how TRL's fused LM head runs: Triton kernels on
    CUDA, a torch fallback with tile-sized temporaries on CPU and MPS.
    ``fused_lm_head`` (default True) models TRL's trainers, which compute
    log-probabilities without materializing the logits; False models a loss over
    full batch x seq x vocab logits (a custom ``compute_loss``, older TRL).
    ``generation_batch_size`` is the number of sequences GRPO/RLOO generate per
    call (``per_device_train_batch_size x steps_per_generation``); 0 means the
    micro batch.  ``gradient_accumulation_steps``: with 1 the gradients are built
    while the activations are freed and only their excess adds to the peak; with
    more (or None, unknown) they are held across micro batches and add in full.

    Sharding and model parallelism (:mod:`specc.compiler.memory_shard`): ``strategy``
    (ddp, fsdp, zero1-3) over the ``world_size`` data-parallel replicas,
    ``tensor_parallel`` / ``pipeline_parallel`` / ``context_parallel`` sizes,
    ``cpu_offload``.  ``quant_bits`` (0, 4 or 8) is a bitsandbytes-quantised frozen base
    (``quant_double``: double quantisation; ``kbit_fp32_rest``: the non-quantised
    parameters upcast to fp32, as PEFT's ``prepare_model_for_kbit_training`` does).
    ``master_weights``: fp32 weights, gradients and states computed under ``precision``
    autocast.  ``paged_optimizer``: bitsandbytes paged states (off the GPU's allocator).
    ``vllm_gpu_memory_utilization``: the share of the GPU a colocated vLLM reserves.
    ``adapter_bytes``: LoRA adapter dtype (4: PEFT's fp32 default).  ``logit_chunks``:
    a materialised-logits loss computed in that many fp32 chunks (torchtune's chunked CE).
    ``replicated_adapters``: under FSDP the LoRA adapters (and their gradients and
    states) are whole on every rank, as when PEFT wraps a model transformers sharded at
    load time (specc's runtime); False when they are sharded with the base (FSDP1 wrapping
    a PEFT model, ZeRO-3).
    ``packing``: sequences packed to ``seq_len`` (else the estimate assumes every
    sequence padded to ``seq_len``: an upper bound).
    """

    arch: Architecture
    algorithm: Algorithm
    precision: Precision
    micro_batch_size: int
    seq_len: int
    lora_enabled: bool
    lora_r: int = 16
    lora_targets: tuple[str, ...] = DEFAULT_LORA_TARGETS
    optimizer_state_bytes: float = 8.0
    activation_checkpointing: bool = False
    num_generations: int = 1
    max_new_tokens: int = 0
    prompt_len: int = 0
    kl_beta: float = 0.0
    precompute_ref_log_probs: bool = False
    world_size: int = 1
    overhead_bytes: int | None = None
    device_kind: DeviceKind = "cuda"
    lora_dropout: float = 0.0
    fused_lm_head: bool = True
    generation_batch_size: int = 0
    gradient_accumulation_steps: int | None = None
    strategy: str = "ddp"
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    context_parallel: int = 1
    cpu_offload: bool = False
    quant_bits: int = 0
    quant_double: bool = True
    kbit_fp32_rest: bool = True
    master_weights: bool = False
    paged_optimizer: bool = False
    vllm_gpu_memory_utilization: float = 0.0
    packing: bool = False
    adapter_bytes: int = _ADAPTER_BYTES
    logit_chunks: int = 1
    replicated_adapters: bool = False

    @property
    def trainable_params(self) -> int:
        """Parameters that get gradients: the adapters with LoRA, every weight without."""
        if self.lora_enabled:
            return self.arch.lora_params(self.lora_r, self.lora_targets)
        return self.arch.num_params()

    @property
    def weight_bytes(self) -> int:
        """Bytes per stored (unquantised) weight: fp32 master weights, else ``precision``."""
        return 4 if self.master_weights else precision_bytes(self.precision)

    def __post_init__(self) -> None:
        precision_bytes(self.precision)
        for name in ("micro_batch_size", "seq_len", "world_size", "tensor_parallel",
                     "pipeline_parallel", "context_parallel"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_new_tokens", "prompt_len", "num_generations", "generation_batch_size"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lora_enabled and self.lora_r < 1:
            raise ValueError(f"lora_r must be >= 1, got {self.lora_r}")
        if self.logit_chunks < 1 or self.adapter_bytes not in (2, 4):
            raise ValueError("logit_chunks must be >= 1 and adapter_bytes 2 or 4")
        if self.quant_bits not in (0, 4, 8):
            raise ValueError(f"quant_bits must be 0, 4 or 8, got {self.quant_bits}")
        if not 0 <= self.vllm_gpu_memory_utilization < 1:
            raise ValueError("vllm_gpu_memory_utilization must be in [0, 1)")
        if self.optimizer_state_bytes < 0:
            raise ValueError("optimizer_state_bytes must be >= 0")
        steps = self.gradient_accumulation_steps
        if steps is not None and steps < 1:
            raise ValueError(f"gradient_accumulation_steps must be >= 1, got {steps}")


@record(frozen=True)
class MemoryEstimate:
    """Per-GPU peak estimate: the components (bytes), their sum and the verdict.

    ``capacity_bytes == 0`` means the device memory is unknown (the CPU entry);
    ``fits`` is then True.
    """

    components: dict[str, int]
    total_bytes: int
    capacity_bytes: int
    fits: bool
    notes: tuple[str, ...] = field(default=())
    #: Host memory per rank (per GPU) beyond the GPU: CPU offload, paged optimizer states.
    host_bytes: int = 0

    @property
    def headroom_bytes(self) -> int:
        """Capacity minus total (negative when it does not fit); 0 if capacity is unknown."""
        return self.capacity_bytes - self.total_bytes if self.capacity_bytes else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: components and totals in bytes, plus GiB for people."""
        return {
            "components": dict(self.components),
            "total_bytes": self.total_bytes,
            "capacity_bytes": self.capacity_bytes,
            "fits": self.fits,
            "total_gib": round(self.total_bytes / GIB, 3),
            "capacity_gib": round(self.capacity_bytes / GIB, 3),
            "host_bytes": self.host_bytes,
            "host_gib": round(self.host_bytes / GIB, 3),
            "notes": list(self.notes),
        }


# -- parameter counts ---------------------------------------------------------------------

