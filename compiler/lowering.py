"""Lower a resolved spec to the exact trainer call: TRL trainer class, its `*Config`
keyword arguments, PEFT `LoraConfig` arguments and the reward functions.

The tables below name every TRL/PEFT field specc may set. `tests/test_lowering.py`
checks each name against the installed TRL and PEFT classes, so an upgrade that renames
an option fails a test instead of being dropped silently.
"""

from __future__ import annotations

import math
from dataclasses import asdict, field
from typing import Any

from specc.compiler.derive import Derived
from specc.compiler.lowering_own import OWN_ALGORITHMS
from specc.compiler.lowering_parallel import VLLM_FIELDS, lower_parallel
from specc.compiler.tracking import RunRef, Tracking, lower_tracking
from specc.spec.catalog.gpus import lookup_gpu
from specc.spec.catalog.optim import HF_OPTIM_NAMES, lookup_optimizer
from specc.spec.facts import FACTS
from specc.spec.models import Spec
from specc.spec.models.policy import SchedulerMilestones, SchedulerStep, ShortScheduler
from specc.spec.records import record


@record(frozen=True)
class Target:
    """Where an algorithm's trainer and config classes live in TRL."""

    trainer: str
    config: str


TARGETS: dict[str, Target] = {n: Target(f.trainer, f.config) for n, f in FACTS.items()
                              if f.trainer is not None and f.config is not None}

#: Algorithms specc plans but does not run yet (no TRL trainer fits them as specified).
NOT_LOWERED: dict[str, str] = {n: f.not_runnable for n, f in FACTS.items()
                               if f.not_runnable is not None}

#: TrainingArguments fields every lowering may set.
COMMON_FIELDS: tuple[str, ...] = (
    "output_dir", "per_device_train_batch_size", "per_device_eval_batch_size",
    "gradient_accumulation_steps", "learning_rate", "weight_decay", "adam_beta1", "adam_beta2",
    "adam_epsilon", "optim", "max_grad_norm", "max_steps", "num_train_epochs",
    "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_steps", "bf16", "fp16", "tf32",
    "activation_checkpointing", "eval_strategy", "eval_steps", "logging_steps", "save_strategy",
    "save_steps", "seed", "data_seed", "report_to", "run_name", "use_cpu",
    "dataloader_num_workers",
)

#: Generation and reward fields of specc's own configs (RS-SFT, AWR, PPO).
_GENERATING: tuple[str, ...] = (
    "max_new_tokens", "temperature", "top_p", "top_k", "min_p", "repetition_penalty",
    "stop_token_ids", "stop_strings", "reward_weights", "normalize_rewards",
    "generation_batch_size")

#: Algorithm-specific config fields, per algorithm.
ALGORITHM_FIELDS: dict[str, tuple[str, ...]] = {
    "sft": ("max_length", "packing", "completion_only_loss"),
    "dpo": ("max_length", "beta", "loss_type", "loss_weights", "label_smoothing",
            "precompute_ref_log_probs"),
    "orpo": ("max_length", "beta"),
    "kto": ("max_length", "beta", "desirable_weight", "undesirable_weight",
            "precompute_ref_log_probs"),
    "grpo": ("num_generations", "max_completion_length", "generation_batch_size", "temperature",
             "top_p", "top_k", "min_p", "repetition_penalty", "beta", "epsilon", "epsilon_high",
             "num_iterations", "loss_type", "scale_rewards", "mask_truncated_completions",
             "reward_weights", *VLLM_FIELDS),
    "rloo": ("num_generations", "max_completion_length", "generation_batch_size", "temperature",
             "top_p", "top_k", "min_p", "repetition_penalty", "beta", "normalize_advantages",
             "reward_weights", *VLLM_FIELDS),
    "rs_sft": ("max_length", *_GENERATING, "num_rounds", "num_samples_per_prompt",
               "reward_threshold", "max_samples", "best_of_n"),
    "awr": ("max_length", *_GENERATING, "num_rounds", "num_samples_per_prompt",
            "advantage_beta", "normalize_advantage", "clip_advantage"),
    "ppo": (*_GENERATING, "ppo_epochs", "clip_range", "vf_coef", "ent_coef", "kl_penalty",
            "init_kl_coef", "target_kl", "adaptive_kl", "gamma", "lam", "mini_batch_size",
            "num_episodes"),
}

#: PEFT `LoraConfig` fields specc sets.
PEFT_FIELDS: tuple[str, ...] = ("r", "lora_alpha", "lora_dropout", "target_modules", "bias",
                                "use_rslora", "modules_to_save", "task_type")

#: DPO preference losses -> TRL `loss_type` names.
DPO_LOSSES: dict[str, str] = {"dpo": "sigmoid", "ipo": "ipo", "hinge": "hinge",
                              "robust": "robust"}


@record
class Lowered:
    """The trainer call one trial makes."""

    trainer_class: str | None
    config_class: str | None
    config: dict[str, Any] = field(default_factory=dict)
    peft: dict[str, Any] | None = None
    reward_functions: list[dict[str, Any]] = field(default_factory=list)
    #: An optimizer class the trainer gets directly (no `optim` string for it).
    optimizer: dict[str, Any] | None = None
    #: A NeMo RL scheduler list with no `lr_scheduler_type` equivalent, built as given.
    scheduler: list[dict[str, Any]] | None = None
    #: Experiment tracking (`logger`): run name, per-trial folders, environment.
    tracking: Tracking | None = None
    notes: list[str] = field(default_factory=list)
    #: The dtype the base model is loaded in (fp32 with `master_weights: float32`).
    model_dtype: str = "bfloat16"
    #: transformers `BitsAndBytesConfig` kwargs for a quantised base (QLoRA).
    quantization: dict[str, Any] | None = None
    #: PEFT `prepare_model_for_kbit_training` kwargs (None: not called).
    kbit: dict[str, Any] | None = None
    #: Processes the trial runs as (1: this process; more: its own distributed job).
    processes: int = 1
    #: ddp | fsdp | zero1-3 for a multi-process trial.
    strategy: str = "ddp"
    #: transformers `DistributedConfig` kwargs (FSDP2 applied at load time).
    distributed: dict[str, Any] | None = None
    #: TrainingArguments the distributed job adds (`ddp_backend`, `deepspeed`).
    job_config: dict[str, Any] | None = None
    #: The trial's Accelerate config (written for `accelerate launch --config_file`).
    accelerate: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.tracking is None or not self.tracking.backends:
            d["tracking"] = None
        return {"class": d.pop("trainer_class"), "config_class": d.pop("config_class"), **d}


class _Config(dict[str, Any]):
    """A config dict that only accepts fields from the lowering tables."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__()
        self.allowed = frozenset(allowed)

    def put(self, key: str, value: Any) -> None:
        if key not in self.allowed:  # a programming error: extend the tables
            raise KeyError(f"{key} is not in the lowering tables")
        if value is not None:
            self[key] = value


def lower(spec: Spec, derived: Derived, output_dir: str, *,
          run: RunRef | None = None) -> Lowered:
    """The trainer call of one trial; ``run`` (which trial of which study) places its
    tracking folders and names its tracked run."""
    algo = spec.selected()
    if algo is None or algo in NOT_LOWERED:
        return Lowered(None, None, notes=[NOT_LOWERED.get(str(algo), "no algorithm")])
    target = TARGETS[algo]
    cfg = _Config(COMMON_FIELDS + ALGORITHM_FIELDS[algo])
    out = Lowered(target.trainer, target.config)
    out.tracking = lower_tracking(spec, run)
    _common(spec, derived, output_dir, cfg, out)
    _ALGORITHM[algo](spec, derived, cfg, out)
    lower_parallel(spec, cfg, out)
    out.config = dict(cfg)
    lora = spec.policy.lora
    if lora.enabled:
        out.peft = {
            "r": lora.r, "lora_alpha": lora.alpha, "lora_dropout": lora.dropout,
            "target_modules": lora.target_modules, "bias": lora.bias,
            "use_rslora": lora.use_rslora, "modules_to_save": lora.modules_to_save,
            "task_type": lora.task_type,
        }
    if spec.reward is not None:
        out.reward_functions = [{"name": f.name, "weight": f.weight, "kwargs": f.kwargs}
                                for f in spec.reward.functions]
    return out


def _common(spec: Spec, d: Derived, output_dir: str, cfg: _Config, out: Lowered) -> None:
    pol = spec.policy
    block = spec.block()
    kw = pol.optimizer.kwargs
    cfg.put("output_dir", output_dir)
    cfg.put("per_device_train_batch_size", d.micro_batch_size)
    val_micro = getattr(block, "val_micro_batch_size", None)
    cfg.put("per_device_eval_batch_size", val_micro or d.micro_batch_size)
    cfg.put("gradient_accumulation_steps", d.grad_accumulation_steps)
    cfg.put("learning_rate", kw.get("lr"))
    cfg.put("weight_decay", kw.get("weight_decay"))
    betas = kw.get("betas")
    if isinstance(betas, list | tuple) and len(betas) == 2:
        cfg.put("adam_beta1", betas[0])
        cfg.put("adam_beta2", betas[1])
    cfg.put("adam_epsilon", kw.get("eps"))
    sig = lookup_optimizer(pol.optimizer.name)
    qual = sig.qualname if sig else pol.optimizer.name
    hf = HF_OPTIM_NAMES.get(qual)
    if hf is not None:
        if qual == "torch.optim.AdamW" and kw.get("fused"):
            hf = "adamw_torch_fused"
        cfg.put("optim", hf)
        handled = {"lr", "weight_decay", "betas", "eps", "fused", "foreach"}
        extra = {k: v for k, v in kw.items() if k not in handled}
        if extra:
            out.notes.append("optimizer kwargs without a TrainingArguments field are passed "
                             "to the optimizer: " + ", ".join(sorted(extra)))
            out.optimizer = {"class": qual, "kwargs": dict(kw)}
    else:
        out.optimizer = {"class": qual, "kwargs": dict(kw)}
    mgn = pol.max_grad_norm
    cfg.put("max_grad_norm", float(mgn) if mgn else 0.0)
    cfg.put("max_steps", d.total_steps if d.total_steps is not None else -1)
    if d.total_steps is None and block is not None and block.max_num_epochs:
        cfg.put("num_train_epochs", float(block.max_num_epochs))
    _scheduler(spec, d, cfg, out)
    cfg.put("bf16", pol.precision == "bfloat16")
    cfg.put("fp16", pol.precision == "float16")
    if pol.tf32 is not None:
        cfg.put("tf32", pol.tf32)
    cfg.put("activation_checkpointing", pol.checkpointing)
    period = (spec.hpo.evaluation.val_period if spec.hpo and spec.hpo.evaluation.val_period
              else getattr(block, "val_period", None))
    # k-fold cross-validation evaluates on each fold's held-out rows
    cv = spec.hpo is not None and spec.hpo.evaluation.cross_validation is not None
    if (spec.data.validation is not None or cv) and period:
        cfg.put("eval_strategy", "steps")
        cfg.put("eval_steps", period)
    else:
        cfg.put("eval_strategy", "no")
    cfg.put("logging_steps", period or 10)
    ckpt = spec.checkpointing
    if ckpt is not None and ckpt.enabled:  # kept under the trial folder: <output_dir>/checkpoint-N
        cfg.put("save_strategy", "steps")
        cfg.put("save_steps", ckpt.period(period))
    else:
        cfg.put("save_strategy", "no")
    seed = block.seed if block is not None else 42
    cfg.put("seed", seed)
    cfg.put("data_seed", seed)
    if out.tracking is not None:
        cfg.put("report_to", out.tracking.report_to)
        cfg.put("run_name", out.tracking.run_name)
    gpu = lookup_gpu(spec.hardware.gpu)
    if gpu is not None and gpu.kind == "cpu":
        cfg.put("use_cpu", True)
    cfg.put("dataloader_num_workers", spec.data.num_workers or 0)


def _scheduler(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    sched = spec.policy.scheduler
    if sched is None:
        cfg.put("lr_scheduler_type", "constant")
        return
    if isinstance(sched, ShortScheduler):
        cfg.put("lr_scheduler_type", sched.type)
        cfg.put("warmup_steps", d.warmup_steps)
        extra = {k: v for k, v in (("num_cycles", sched.num_cycles),
                                   ("min_lr_rate", sched.min_lr_rate)) if v is not None}
        if extra:
            cfg.put("lr_scheduler_kwargs", extra)
        return
    steps = [e for e in sched if isinstance(e, SchedulerStep)]
    milestones = next((e.milestones for e in sched if isinstance(e, SchedulerMilestones)), [])
    names = [e.name.rsplit(".", 1)[-1] for e in steps]
    kind = _list_kind(steps, names)
    if kind is not None:
        cfg.put("lr_scheduler_type", kind)
        cfg.put("warmup_steps", d.warmup_steps)
        return
    cfg.put("lr_scheduler_type", "constant")
    out.scheduler = [{"name": e.name, "kwargs": dict(e.kwargs)} for e in steps]
    if milestones:
        out.scheduler.append({"milestones": list(milestones)})
    out.notes.append("the scheduler list has no lr_scheduler_type equivalent; specc run builds "
                     "it with torch.optim.lr_scheduler.SequentialLR")


def _is_warmup(e: SchedulerStep) -> bool:
    start, end = e.kwargs.get("start_factor", 1 / 3), e.kwargs.get("end_factor", 1.0)
    return isinstance(start, int | float) and isinstance(end, int | float) and start < end


def _list_kind(steps: list[SchedulerStep], names: list[str]) -> str | None:
    """NeMo RL's common lists that TRL can express with `lr_scheduler_type`."""
    if names == ["ConstantLR"] and steps[0].kwargs.get("factor", 1 / 3) == 1.0:
        return "constant"
    if names == ["LinearLR"] and _is_warmup(steps[0]) and steps[0].kwargs.get(
            "end_factor", 1.0) == 1.0:
        return "constant_with_warmup"
    if len(steps) == 2 and names[0] == "LinearLR" and _is_warmup(steps[0]):
        second = steps[1]
        if names[1] == "ConstantLR" and second.kwargs.get("factor", 1 / 3) == 1.0:
            return "constant_with_warmup"
        if names[1] == "CosineAnnealingLR":
            return "cosine"
        if names[1] == "LinearLR" and not _is_warmup(second):
            return "linear"
    return None


def _sft(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    cfg.put("max_length", spec.policy.max_total_sequence_length)
    if spec.sft is not None:
        cfg.put("packing", spec.sft.packing)
        cfg.put("completion_only_loss", spec.sft.completion_only_loss)


def _dpo(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    b = spec.dpo
    cfg.put("max_length", spec.policy.max_total_sequence_length)
    if b is None:
        return
    cfg.put("beta", b.reference_policy_kl_penalty)
    loss = DPO_LOSSES[b.preference_loss]
    if b.sft_loss_weight > 0:
        cfg.put("loss_type", [loss, "sft"])
        cfg.put("loss_weights", [b.preference_loss_weight, b.sft_loss_weight])
    else:
        cfg.put("loss_type", [loss])
        if b.preference_loss_weight != 1.0:
            cfg.put("loss_weights", [b.preference_loss_weight])
    cfg.put("label_smoothing", b.label_smoothing)
    cfg.put("precompute_ref_log_probs", b.precompute_ref_log_probs)
    if b.preference_average_log_probs or b.sft_average_log_probs:
        out.notes.append("NeMo RL's *_average_log_probs have no TRL equivalent; TRL sums "
                         "token log-probs")


def _orpo(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    cfg.put("max_length", spec.policy.max_total_sequence_length)
    if spec.orpo is not None:
        cfg.put("beta", spec.orpo.beta)


def _kto(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    cfg.put("max_length", spec.policy.max_total_sequence_length)
    b = spec.kto
    if b is not None:
        cfg.put("beta", b.beta)
        cfg.put("desirable_weight", b.desirable_weight)
        cfg.put("undesirable_weight", b.undesirable_weight)
        cfg.put("precompute_ref_log_probs", b.precompute_ref_log_probs)


def _generation(spec: Spec, d: Derived, cfg: _Config) -> None:
    gen = spec.policy.generation
    g = d.generations_per_prompt or 1
    # TRL: the global eval batch must hold whole groups of generations too.
    step = g // math.gcd(g, d.data_parallel_world)
    base = cfg.get("per_device_eval_batch_size", d.micro_batch_size)
    cfg["per_device_eval_batch_size"] = -(-base // step) * step
    cfg.put("num_generations", d.generations_per_prompt)
    cfg.put("generation_batch_size", d.rollouts_per_step)
    if gen is None:
        return
    cfg.put("max_completion_length", gen.max_new_tokens)
    cfg.put("temperature", gen.temperature)
    cfg.put("top_p", gen.top_p)
    cfg.put("top_k", gen.top_k)
    cfg.put("min_p", gen.min_p)
    cfg.put("repetition_penalty", gen.repetition_penalty)


def _weights(spec: Spec, cfg: _Config) -> None:
    if spec.reward is not None and spec.reward.functions:
        cfg.put("reward_weights", [f.weight for f in spec.reward.functions])


def _grpo(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    _generation(spec, d, cfg)
    _weights(spec, cfg)
    b, loss = spec.grpo, spec.loss_fn
    if b is not None:
        cfg.put("num_iterations", b.num_iterations)
        cfg.put("loss_type", b.loss_type)
        cfg.put("scale_rewards", "group" if b.normalize_rewards else "none")
        cfg.put("mask_truncated_completions", b.overlong_filtering)
    cfg.put("beta", loss.reference_policy_kl_penalty if loss else 0.0)
    if loss is not None:
        cfg.put("epsilon", loss.ratio_clip_min)
        if loss.ratio_clip_max != loss.ratio_clip_min:
            cfg.put("epsilon_high", loss.ratio_clip_max)


def _rloo(spec: Spec, d: Derived, cfg: _Config, out: Lowered) -> None:
    _generation(spec, d, cfg)
    _weights(spec, cfg)
    if spec.rloo is not None:
        cfg.put("beta", spec.rloo.reference_policy_kl_penalty)
        cfg.put("normalize_advantages", spec.rloo.normalize_rewards)


_ALGORITHM = {"sft": _sft, "dpo": _dpo, "orpo": _orpo, "kto": _kto, "grpo": _grpo,
              "rloo": _rloo, **OWN_ALGORITHMS}
