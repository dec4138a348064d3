"""Lowering of issue 13's settings: the quantised base (transformers' `BitsAndBytesConfig`,
PEFT's `prepare_model_for_kbit_training`), the load dtype (fp32 master weights), TRL's
vLLM fields, and how a trial spreads over its processes: transformers' native FSDP2
(`from_pretrained(distributed_config=DistributedConfig(...))`), DeepSpeed ZeRO
(`TrainingArguments.deepspeed`), DDP, plus an Accelerate config file per trial for
`accelerate launch`.

Every field name is in a table below; `tests/test_lowering_parallel.py` checks each one
against the installed transformers, PEFT, TRL and Accelerate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specc.spec.catalog.gpus import lookup_gpu
from specc.spec.facts import GENERATES
from specc.spec.models.parallel import PARAM_SHARDING
from specc.spec.parallel import parallel

if TYPE_CHECKING:
    from specc.compiler.lowering import Lowered, _Config
    from specc.spec.models import Spec

#: transformers `BitsAndBytesConfig` fields specc sets.
BNB_FIELDS: tuple[str, ...] = ("load_in_4bit", "load_in_8bit", "bnb_4bit_quant_type",
                               "bnb_4bit_use_double_quant", "bnb_4bit_compute_dtype",
                               "bnb_4bit_quant_storage")
#: PEFT `prepare_model_for_kbit_training` keyword arguments specc sets.
KBIT_FIELDS: tuple[str, ...] = ("use_gradient_checkpointing",)
#: transformers `DistributedConfig` fields specc sets (FSDP2 at load time).
DISTRIBUTED_FIELDS: tuple[str, ...] = ("fsdp_size", "fsdp_cpu_offload", "fsdp_mixed_precision")
#: TrainingArguments fields only the distributed job sets (`Lowered.job_config`).
PARALLEL_CONFIG_FIELDS: tuple[str, ...] = ("ddp_backend", "deepspeed")
#: GRPO/RLOO config fields for vLLM generation.
VLLM_FIELDS: tuple[str, ...] = ("use_vllm", "vllm_mode", "vllm_gpu_memory_utilization")
#: Top-level keys of the per-trial Accelerate config (accelerate's `ClusterConfig` fields).
ACCELERATE_KEYS: tuple[str, ...] = (
    "compute_environment", "num_machines", "machine_rank", "num_processes",
    "mixed_precision", "use_cpu", "distributed_type", "fsdp_config", "deepspeed_config",
)
#: Keys of its `fsdp_config` / `deepspeed_config` blocks: `accelerate launch` options.
ACCELERATE_OPTIONS: tuple[str, ...] = (
    "fsdp_version", "fsdp_auto_wrap_policy", "fsdp_offload_params", "fsdp_reshard_after_forward",
    "fsdp_state_dict_type", "fsdp_cpu_ram_efficient_loading",
    "zero_stage", "offload_optimizer_device", "offload_param_device",
)

_MIXED = {"bfloat16": "bf16", "float16": "fp16", "float32": "no"}


def lower_parallel(spec: Spec, cfg: _Config, out: Lowered) -> None:
    """Fill ``out`` (and the trainer config ``cfg``) with the quantisation, load dtype,
    vLLM and distributed settings of ``spec``."""
    pol = spec.policy
    par = parallel(spec)
    q = pol.quantization if pol.lora.enabled else None
    sharded = par.strategy in PARAM_SHARDING and par.data > 1
    out.model_dtype = "float32" if pol.master_weights == "float32" and q is None \
        else pol.precision
    if q is not None:
        bnb: dict[str, Any] = ({"load_in_8bit": True} if q.bits == 8 else {
            "load_in_4bit": True, "bnb_4bit_quant_type": q.quant_type,
            "bnb_4bit_use_double_quant": q.double_quant,
            "bnb_4bit_compute_dtype": q.compute_dtype})
        if sharded and q.bits == 4:  # FSDP/ZeRO-3 shard the packed weights in this dtype
            bnb["bnb_4bit_quant_storage"] = q.compute_dtype
        out.quantization = bnb
        if not sharded:
            out.kbit = {"use_gradient_checkpointing": pol.checkpointing}
        else:
            out.notes.append("sharded QLoRA: prepare_model_for_kbit_training is skipped "
                             "(FSDP/ZeRO-3 need one dtype per unit), as TRL does")
    gen = pol.generation
    if gen is not None and gen.backend == "vllm" and spec.selected() in GENERATES \
            and "use_vllm" in cfg.allowed:
        cfg.put("use_vllm", True)
        cfg.put("vllm_mode", gen.vllm_mode)
        if gen.vllm_mode == "colocate":
            cfg.put("vllm_gpu_memory_utilization", gen.gpu_memory_utilization)
    out.processes = par.gpus if par.model == 1 else 1
    if par.gpus <= 1:
        return
    gpu = lookup_gpu(spec.hardware.gpu)
    cpu = gpu is not None and gpu.kind != "cuda"
    out.strategy = par.strategy
    # set by the distributed job itself (a config built outside one cannot hold them)
    out.job_config = {"ddp_backend": "gloo" if cpu else "nccl"}
    if par.strategy == "fsdp":
        out.distributed = {"fsdp_size": par.data, "fsdp_cpu_offload": par.cpu_offload,
                           "fsdp_mixed_precision": pol.master_weights == "float32"}
    elif par.strategy.startswith("zero"):
        out.job_config["deepspeed"] = _deepspeed(spec, int(par.strategy[-1]), par.cpu_offload)
    out.accelerate = _accelerate(spec, par.strategy, par.gpus, par.cpu_offload, cpu)


def _deepspeed(spec: Spec, stage: int, offload: bool) -> dict[str, Any]:
    """A DeepSpeed config with HF's "auto" values (the Trainer fills them in)."""
    prec = spec.policy.precision
    zero: dict[str, Any] = {"stage": stage, "overlap_comm": True, "contiguous_gradients": True}
    if offload:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        if stage == 3:
            zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    if stage == 3:
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    return {"zero_optimization": zero, "bf16": {"enabled": prec == "bfloat16"},
            "fp16": {"enabled": prec == "float16"}, "train_micro_batch_size_per_gpu": "auto",
            "gradient_accumulation_steps": "auto", "gradient_clipping": "auto",
            "train_batch_size": "auto"}


def _accelerate(spec: Spec, strategy: str, processes: int, offload: bool,
                cpu: bool) -> dict[str, Any]:
    """The trial's Accelerate config (`accelerate launch --config_file`)."""
    base: dict[str, Any] = {"compute_environment": "LOCAL_MACHINE", "num_machines": 1,
                            "machine_rank": 0, "num_processes": processes,
                            "mixed_precision": _MIXED[spec.policy.precision],
                            "use_cpu": cpu}
    if strategy == "fsdp":
        base["distributed_type"] = "FSDP"
        base["fsdp_config"] = {"fsdp_version": 2, "fsdp_auto_wrap_policy":
                               "TRANSFORMER_BASED_WRAP", "fsdp_offload_params": offload,
                               "fsdp_reshard_after_forward": True,
                               "fsdp_state_dict_type": "SHARDED_STATE_DICT",
                               "fsdp_cpu_ram_efficient_loading": True}
    elif strategy.startswith("zero"):
        base["distributed_type"] = "DEEPSPEED"
        device = "cpu" if offload else "none"
        base["deepspeed_config"] = {"zero_stage": int(strategy[-1]),
                                    "offload_optimizer_device": device,
                                    "offload_param_device": device if strategy == "zero3"
                                    else "none"}
    else:
        base["distributed_type"] = "MULTI_CPU" if cpu else "MULTI_GPU"
    return base
