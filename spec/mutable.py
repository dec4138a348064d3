"""Which searched keys may change in the middle of a training run.

Population-based training (Ray Tune's PBT and PB2) moves a trial to another trial's
checkpoint and goes on training it with perturbed values. specc resumes a trial from a
Hugging Face checkpoint with the new values in its trainer arguments; the optimizer's
learning rate and weight decay are set from the new spec after the checkpoint's optimizer
state is loaded. A key is mutable when that resumed run honours its new value and the
checkpoint still fits it. Keys that fix the model, the adapter's shape, the data order or
the step count cannot change (the checkpoint no longer fits, or the run it continues is
another run). Plain data: importing this module imports nothing heavy.
"""

from __future__ import annotations

__all__ = ["MUTABLE_LEAVES", "default_mutations", "why_fixed"]

#: Last path segments of keys a resumed trial takes anew from its trainer arguments (or,
#: for the learning rate and weight decay, from the spec after loading the optimizer).
MUTABLE_LEAVES: frozenset[str] = frozenset({
    "lr", "learning_rate", "weight_decay", "max_grad_norm",
    "temperature", "top_p", "top_k", "min_p", "repetition_penalty",
    "reference_policy_kl_penalty", "beta", "kl_coef", "kl_penalty", "label_smoothing",
    "sft_loss_weight", "preference_loss_weight", "ratio_clip_min", "ratio_clip_max",
    "cliprange", "cliprange_value", "vf_coef", "epsilon", "epsilon_high", "weight",
    "entropy_coef", "advantage_temperature", "awr_beta",
})

_FIXED: tuple[tuple[str, str], ...] = (
    ("policy.model_name", "the model is the checkpoint's"),
    ("policy.lora.", "LoRA settings fix the adapter's shape in the checkpoint"),
    ("policy.parallel.", "parallelism fixes how the checkpoint is sharded"),
    ("policy.quantization.", "quantisation fixes the checkpoint's weights"),
    ("policy.precision", "precision fixes the checkpoint's weights"),
)
_SHAPE_WORDS = ("batch_size", "gradient_accumulation", "num_generations", "max_num_steps",
                "max_steps", "sequence_length", "max_length", "max_new_tokens",
                "num_prompts", "epochs", "warmup", "scheduler", "seed")


def why_fixed(key: str) -> str | None:
    """None when ``key`` (a dotted spec path) may change mid-training, else why not."""
    for prefix, why in _FIXED:
        if key == prefix.rstrip(".") or key.startswith(prefix):
            return why
    leaf = key.rsplit(".", 1)[-1]
    if any(word in leaf for word in _SHAPE_WORDS):
        return "it fixes the data order, the batch shapes or the step count of the run"
    if leaf in MUTABLE_LEAVES:
        return None
    return ("specc does not know that a trial resumed from a checkpoint honours a new "
            "value of it")


def default_mutations(keys: list[str]) -> list[str]:
    """The keys among ``keys`` that PBT perturbs when the spec names none."""
    return [k for k in keys if why_fixed(k) is None]
