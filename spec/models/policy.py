"""The `policy` block: the model being trained and how it is optimised."""

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from specc.spec import defaults
from specc.spec.models.base import (
    Block,
    FreeForm,
    NemoBlock,
    NonNegFloat,
    NonNegInt,
    PositiveFloat,
    PositiveInt,
    empty_dict,
)
from specc.spec.models.parallel import ParallelConfig, Quantization

Precision = Literal["bfloat16", "float16", "float32"]
GenerationBackend = Literal["hf", "dynamo", "megatron", "sglang", "trtllm", "vllm"]
"""specc's `hf` and NeMo RL's generation backends (its catalog's `generation_backends`)."""
#: Generation backends `specc run` runs (`vllm` through TRL, where vllm and a GPU are).
RUNNABLE_BACKENDS: frozenset[str] = frozenset({"hf", "vllm"})


class Tokenizer(NemoBlock):
    """Which tokenizer to use; defaults to the model's own."""

    name: str | None = None
    """Tokenizer name or path. NeMo RL writes `${policy.model_name}` here."""
    chat_template: str | None = None
    """A Jinja chat template, or `default` for the tokenizer's own."""
    chat_template_kwargs: FreeForm | None = None
    """Extra arguments for the chat template (e.g. `enable_thinking: true`)."""
    padding_side: Literal["left", "right"] | None = None
    """Side on which sequences are padded; TRL picks a sensible default."""


class Optimizer(Block):
    """The optimizer, by allow-listed class name and its keyword arguments."""

    name: str = "torch.optim.AdamW"
    """Class name: `torch.optim.*` or a bitsandbytes 8-bit/paged optimizer.
    Names resolve through specc's allow-list, never by import."""
    kwargs: FreeForm = Field(default_factory=empty_dict)
    """Keyword arguments, checked against the optimizer's recorded signature
    (e.g. `lr`, `weight_decay`, `betas`, `eps`)."""


class SchedulerStep(Block):
    """One scheduler in NeMo RL's list form."""

    name: str
    """Class name, e.g. `torch.optim.lr_scheduler.LinearLR` (allow-listed)."""
    kwargs: FreeForm = Field(default_factory=empty_dict)
    """Keyword arguments, checked against the scheduler's recorded signature."""


class SchedulerMilestones(Block):
    """The last entry of NeMo RL's list form: where each scheduler hands over."""

    milestones: list[NonNegInt]
    """Steps at which the next scheduler takes over; one fewer than schedulers."""


def _list_entry_kind(v: Any) -> str:
    return "milestones" if isinstance(v, dict) and "milestones" in v else "step"


SchedulerEntry = Annotated[
    Annotated[SchedulerStep, Tag("step")] | Annotated[SchedulerMilestones, Tag("milestones")],
    Discriminator(_list_entry_kind),
]


class ShortScheduler(Block):
    """The short form: a named schedule with warmup, lowered to TRL's `lr_scheduler_type`."""

    type: Literal[
        "constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts",
        "polynomial", "cosine_with_min_lr", "warmup_stable_decay",
    ] = "constant"
    """Schedule shape after warmup."""
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Fraction of the optimizer steps spent warming up (seed 003 uses 0.1 and 0.05)."""
    warmup_steps: NonNegInt | None = None
    """Warmup length in optimizer steps; overrides `warmup_ratio`."""
    num_cycles: PositiveFloat | None = None
    """Cosine cycles (`cosine_with_restarts`)."""
    min_lr_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Final learning rate as a fraction of the peak (`cosine_with_min_lr`)."""


def _scheduler_kind(v: Any) -> str:
    return "list" if isinstance(v, list) else "short"


Scheduler = Annotated[
    Annotated[list[SchedulerEntry], Tag("list")] | Annotated[ShortScheduler, Tag("short")],
    Discriminator(_scheduler_kind),
]

DEFAULT_LORA_TARGETS = list(defaults.DEFAULT_LORA_TARGETS)


class Lora(Block):
    """PEFT LoRA adapters (seed 003: r 16, alpha 32, dropout 0.05, all attention+MLP)."""

    enabled: bool = False
    """Train LoRA adapters instead of all weights."""
    r: PositiveInt = 16
    """Adapter rank (try 8, 16, 32)."""
    alpha: PositiveFloat = 32
    """Scaling numerator; alpha = 2 x r is standard."""
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.05
    """Dropout on the adapter input, in [0, 1) (0.05-0.1 typical)."""
    target_modules: list[str] | Literal["all-linear"] = Field(
        default_factory=lambda: list(DEFAULT_LORA_TARGETS))
    """Module names that get adapters, or `all-linear`."""
    bias: Literal["none", "all", "lora_only"] = "none"
    """Which biases are trained."""
    use_rslora: bool = False
    """Rank-stabilised scaling alpha/sqrt(r)."""
    modules_to_save: list[str] | None = None
    """Modules trained in full alongside the adapters (e.g. `lm_head`)."""
    task_type: Literal["CAUSAL_LM"] = "CAUSAL_LM"
    """PEFT task type; specc trains causal LMs."""


class Generation(NemoBlock):
    """Sampling settings for rollouts (GRPO/RLOO/RS-SFT/AWR/PPO) and evaluation."""

    backend: GenerationBackend = "hf"
    """Generation engine: specc's `hf`, or one of NeMo RL's (`vllm`, `sglang`, `trtllm`,
    `megatron`, `dynamo`). `specc run` runs `hf`; the others validate and plan."""
    max_new_tokens: PositiveInt = 128
    """Completion length limit."""
    temperature: NonNegFloat = 1.0
    """Sampling temperature (seed 004 searches 0.7-1.5)."""
    top_p: Annotated[float, Field(gt=0, le=1)] = 1.0
    """Nucleus sampling mass (seed 004 searches 0.8-0.99)."""
    top_k: PositiveInt | None = None
    """Keep only the k most likely tokens; null disables."""
    min_p: Annotated[float, Field(ge=0, le=1)] | None = None
    """Minimum token probability relative to the most likely one."""
    repetition_penalty: PositiveFloat | None = None
    """Penalty for repeated tokens (1.0 = none)."""
    stop_token_ids: list[NonNegInt] | None = None
    """Token ids that end a completion."""
    stop_strings: list[str] | None = None
    """Strings that end a completion."""
    vllm_cfg: FreeForm | None = None
    """NeMo RL's vLLM settings; carried through unmodelled."""
    vllm_kwargs: FreeForm | None = None
    """NeMo RL's extra vLLM arguments; carried through unmodelled."""
    colocated: FreeForm | None = None
    """NeMo RL's generation placement; carried through unmodelled."""
    vllm_mode: Literal["colocate", "server"] = "colocate"
    """With `backend: vllm` under `specc run` (TRL's `vllm_mode`): `colocate` runs vLLM
    inside the training processes, sharing their GPUs; `server` talks to a separate
    `trl vllm-serve` on other GPUs."""
    gpu_memory_utilization: Annotated[float, Field(gt=0, lt=1)] = 0.3
    """Share of each GPU vLLM reserves in `colocate` mode (TRL's
    `vllm_gpu_memory_utilization`); training gets the rest."""


class Policy(NemoBlock):
    """The model being trained and its optimisation settings (NeMo RL's `policy`)."""

    model_name: str
    """`specc:tiny-llama` (built-in, offline), a local directory with `config.json`, a
    LoRA adapter folder, a previous run's output folder (`runs/stage1`: its best trial's
    saved model or adapter), or a hub id (shape from specc's offline table; weights are
    never downloaded)."""
    tokenizer: Tokenizer = Field(default_factory=Tokenizer)
    """Tokenizer settings."""
    precision: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    """Weight and compute precision; must be supported by `hardware.gpu`."""
    max_total_sequence_length: PositiveInt = 512
    """Prompt plus completion length in tokens."""
    train_global_batch_size: PositiveInt = 32
    """Samples per optimizer step = micro batch x grad accumulation x data-parallel world."""
    train_micro_batch_size: PositiveInt = 4
    """Samples per forward/backward pass per GPU."""
    max_grad_norm: NonNegFloat | None = 1.0
    """Gradient clipping norm; null or 0 disables clipping."""
    activation_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory."""
    optimizer: Optimizer = Field(default_factory=Optimizer)
    """The optimizer. NeMo RL writes `null` when `megatron_cfg` (enabled) carries the
    optimizer; specc then keeps its defaults for the fields it reads."""
    scheduler: Scheduler | None = None
    """Learning-rate schedule: NeMo RL's list form or `{type, warmup_ratio}`."""
    lora: Lora = Field(default_factory=Lora)
    """LoRA adapters."""
    quantization: Quantization | None = None
    """A frozen 4-bit/8-bit base (bitsandbytes, QLoRA); requires `lora.enabled`."""
    parallel: ParallelConfig = Field(default_factory=ParallelConfig)
    """How one trial spreads over its GPUs: `ddp`, `fsdp` or DeepSpeed ZeRO, model
    parallel sizes, CPU offload."""
    master_weights: Literal["model", "float32"] = "model"
    """`model`: weights, gradients and optimizer states in `precision` (pure bf16/fp16).
    `float32`: fp32 master weights, gradients and states, computed under `precision`
    autocast (what TRL does when the model loads in fp32 with `bf16: true`)."""
    merge_adapter: bool = False
    """When `model_name` is a LoRA adapter (or a previous run whose best trial saved one):
    merge it into its base before training, so the policy and the reference model both
    start from the previous stage's model and `lora` trains a fresh adapter. False loads
    the adapter onto its base and trains it further (the reference is then the
    adapter-free base)."""
    generation: Generation | None = None
    """Sampling settings for algorithms that generate."""
    tf32: bool | None = None
    """Allow TF32 matmuls on Ampere and newer GPUs (seed 003 recommends it)."""
    gradient_checkpointing: bool | None = Field(default=None, exclude=True)
    """Hugging Face's name for `activation_checkpointing`; accepted as an alias."""
    # --- NeMo RL keys carried through unmodelled -----------------------------------------
    generation_batch_size: PositiveInt | None = None
    """NeMo RL: generation batch size for the HF backend. Carried through."""
    logprob_batch_size: PositiveInt | None = None
    """NeMo RL: batch size for reference log-probabilities. Carried through."""
    logprob_chunk_size: PositiveInt | None = None
    """NeMo RL: chunking of log-probability computation. Carried through."""
    make_sequence_length_divisible_by: PositiveInt | None = None
    """NeMo RL: pad sequences to a multiple of this. Carried through."""
    offload_optimizer_for_logprob: bool | None = None
    """NeMo RL: offload optimizer states while computing log-probs. Carried through."""
    refit_buffer_size_gb: PositiveFloat | None = None
    """NeMo RL: weight refit buffer. Carried through."""
    dtensor_cfg: FreeForm | None = None
    """NeMo RL's DTensor backend settings; carried through unmodelled."""
    megatron_cfg: FreeForm | None = None
    """NeMo RL's Megatron backend settings; carried through unmodelled."""
    dynamic_batching: FreeForm | None = None
    """NeMo RL's dynamic batching; carried through unmodelled."""
    sequence_packing: FreeForm | None = None
    """NeMo RL's sequence packing; carried through unmodelled."""
    hf_config_overrides: FreeForm | None = None
    """NeMo RL: overrides applied to the Hugging Face model config. Carried through."""

    @field_validator("optimizer", mode="before")
    @classmethod
    def _null_optimizer(cls, v: Any) -> Any:
        return {} if v is None else v

    @property
    def checkpointing(self) -> bool:
        return bool(self.activation_checkpointing or self.gradient_checkpointing)


NEMO_POLICY_BLOCKS = ("dtensor_cfg", "megatron_cfg", "dynamic_batching", "sequence_packing")
#: NeMo RL's top-level blocks specc carries through unmodelled (R030, with the ones above).
NEMO_TOP_BLOCKS = ("env",)
