"""The per-GPU memory estimator: its shape, its monotonicity and its calibration.

The calibration tests measure real models on CPU: the tensors autograd saves for
backward (``saved_tensors_hooks``) against the activation term, and the whole
training step's peak (torch's ``MemTracker``) against the total.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

import pytest

from specc.compiler.memory import (
    COMPONENTS,
    GIB,
    MemoryEstimate,
    MemoryInputs,
    activations_bytes,
    estimate,
    gradient_buffer_bytes,
    gradients_bytes,
    layer_activation_bytes_per_token,
    logits_bytes,
    precision_bytes,
)
from specc.spec.catalog.architectures import (
    TINY_LLAMA,
    Architecture,
    architecture_from_config,
    lookup_architecture,
)
from specc.spec.catalog.gpus import GPU, lookup_gpu
from specc.spec.catalog.optim import lookup_optimizer, optimizer_state_bytes

_LLAMA_8B = lookup_architecture("meta-llama/Llama-3.1-8B-Instruct")
assert _LLAMA_8B is not None
LLAMA_8B: Architecture = _LLAMA_8B
_A100_80 = lookup_gpu("A100-80GB")
assert _A100_80 is not None
A100_80: GPU = _A100_80


def _inputs(**overrides: Any) -> MemoryInputs:
    base: dict[str, Any] = {
        "arch": LLAMA_8B,
        "algorithm": "sft",
        "precision": "bfloat16",
        "micro_batch_size": 1,
        "seq_len": 2048,
        "lora_enabled": True,
    }
    base.update(overrides)
    return MemoryInputs(**base)


def _est(**overrides: Any) -> MemoryEstimate:
    return estimate(_inputs(**overrides), A100_80.capacity_bytes)


def test_components_and_total() -> None:
    est = _est()
    assert tuple(est.components) == COMPONENTS
    assert set(est.components) == {"weights", "gradients", "optimizer_states", "activations",
                                   "logits", "reference_model", "kv_cache", "lora_adapters",
                                   "gathered_params", "vllm", "overhead"}
    assert all(isinstance(v, int) and v >= 0 for v in est.components.values())
    assert est.total_bytes == sum(est.components.values())
    assert est.capacity_bytes == 80 * GIB
    assert est.fits == (est.total_bytes <= est.capacity_bytes)
    assert est.components["weights"] == LLAMA_8B.num_params() * 2
    assert est.components["overhead"] == GIB
    data = est.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["components"] == est.components
    assert data["total_bytes"] == est.total_bytes and data["fits"] == est.fits


def test_precision_bytes() -> None:
    assert precision_bytes("bfloat16") == 2
    assert precision_bytes("float16") == 2
    assert precision_bytes("float32") == 4
    with pytest.raises(ValueError):
        precision_bytes("int8")


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError):
        _inputs(micro_batch_size=0)
    with pytest.raises(ValueError):
        _inputs(seq_len=0)
    with pytest.raises(ValueError):
        _inputs(lora_r=0)


@pytest.mark.parametrize("lora", [True, False])
@pytest.mark.parametrize("algorithm", ["sft", "dpo", "grpo"])
def test_more_tokens_more_memory(lora: bool, algorithm: str) -> None:
    small = _est(lora_enabled=lora, algorithm=algorithm, seq_len=512)
    longer = _est(lora_enabled=lora, algorithm=algorithm, seq_len=1024)
    wider = _est(lora_enabled=lora, algorithm=algorithm, seq_len=512, micro_batch_size=2)
    for bigger in (longer, wider):
        assert bigger.total_bytes > small.total_bytes
        assert bigger.components["activations"] > small.components["activations"]
        assert bigger.components["logits"] > small.components["logits"]
    assert _est(lora_r=64).total_bytes > _est(lora_r=8).total_bytes


def test_lora_is_much_smaller_than_full_fine_tuning() -> None:
    lora = _est(lora_enabled=True)
    full = _est(lora_enabled=False)
    trainable_lora = LLAMA_8B.lora_params(16, lora_targets := _inputs().lora_targets)
    assert lora_targets[0] == "q_proj"
    assert lora.components["lora_adapters"] == trainable_lora * 4
    assert full.components["lora_adapters"] == 0
    assert lora.components["gradients"] == trainable_lora * 4
    assert full.components["gradients"] == LLAMA_8B.num_params() * 2
    # Without gradient accumulation the gradients are built while the activations are
    # freed, so only their excess over the activations + LM head adds to the peak: none
    # for the adapters, little for full fine-tuning's 16 GB at 2048 tokens -- but the
    # peak always holds them all.
    lora1 = _est(lora_enabled=True, gradient_accumulation_steps=1)
    full1 = _est(lora_enabled=False, gradient_accumulation_steps=1)
    assert lora1.components["gradients"] == 0
    assert full1.components["gradients"] < 2 * GIB
    c = full1.components
    assert (full1.total_bytes - c["overhead"]
            >= c["weights"] + c["optimizer_states"] + LLAMA_8B.num_params() * 2)
    assert lora.components["optimizer_states"] * 50 < full.components["optimizer_states"]
    assert lora.total_bytes * 1.5 < full.total_bytes


def test_llama_8b_on_a100_80gb() -> None:
    full = _est(lora_enabled=False, optimizer_state_bytes=8.0)
    assert not full.fits
    assert full.total_bytes > 80 * GIB
    # torch keeps AdamW states in the parameter dtype: bf16 params -> 4 B/param, which
    # brings the same run to the edge of the card: weights 16 + grads 16 + states 32 GB
    # + activations and LM head (~15.5 GB at 2048 tokens) -- with gradient accumulation
    # (or unknown accumulation), where the gradients are live when a backward starts.
    adamw = lookup_optimizer("torch.optim.AdamW")
    assert adamw is not None
    bf16_states = optimizer_state_bytes(adamw, {}, 2)
    assert bf16_states == 4.0
    edge = _est(lora_enabled=False, optimizer_state_bytes=bf16_states)
    assert 70 * GIB < edge.total_bytes < full.total_bytes
    assert not _est(lora_enabled=False, optimizer_state_bytes=bf16_states, seq_len=4096).fits
    # One micro batch per step: the gradients replace the freed activations, so only
    # the larger of the backward's two ends counts (~61 GiB).
    single = _est(lora_enabled=False, optimizer_state_bytes=bf16_states,
                  gradient_accumulation_steps=1)
    assert 58 * GIB < single.total_bytes < edge.total_bytes - 12 * GIB
    # Longer sequences: the activations outgrow the gradients and the card.
    assert not _est(lora_enabled=False, optimizer_state_bytes=bf16_states, seq_len=8192,
                    gradient_accumulation_steps=1).fits
    lora = _est(lora_enabled=True, lora_r=16, micro_batch_size=1, seq_len=2048)
    assert lora.fits
    assert 16 * GIB < lora.total_bytes < 48 * GIB
    # 8-bit states are a quarter of fp32 AdamW's.
    eight_bit = _est(lora_enabled=False, optimizer_state_bytes=2.0)
    assert eight_bit.components["optimizer_states"] * 4 == full.components["optimizer_states"]


def test_paired_algorithms_double_the_sequences() -> None:
    sft = _est(algorithm="sft")
    for algorithm in ("dpo", "orpo", "kto"):
        paired = _est(algorithm=algorithm)
        assert paired.components["logits"] == 2 * sft.components["logits"]
        assert paired.components["activations"] > 1.9 * sft.components["activations"]
        assert paired.total_bytes > sft.total_bytes


def test_reference_model_rules() -> None:
    weights = LLAMA_8B.num_params() * 2
    # DPO/KTO full fine-tuning keep a frozen copy ...
    assert _est(algorithm="dpo", lora_enabled=False).components["reference_model"] == weights
    assert _est(algorithm="kto", lora_enabled=False).components["reference_model"] == weights
    # ... unless LoRA (adapter disabled instead) or precomputed log-probs.
    assert _est(algorithm="dpo", lora_enabled=True).components["reference_model"] == 0
    assert _est(algorithm="dpo", lora_enabled=False,
                precompute_ref_log_probs=True).components["reference_model"] == 0
    # ORPO is reference-free; SFT has none.
    assert _est(algorithm="orpo", lora_enabled=False).components["reference_model"] == 0
    assert _est(algorithm="sft", lora_enabled=False).components["reference_model"] == 0
    # GRPO/RLOO: only with a KL term.
    for algorithm in ("grpo", "rloo"):
        assert _est(algorithm=algorithm, lora_enabled=False,
                    kl_beta=0.0).components["reference_model"] == 0
        assert _est(algorithm=algorithm, lora_enabled=False,
                    kl_beta=0.04).components["reference_model"] == weights
        assert _est(algorithm=algorithm, lora_enabled=True,
                    kl_beta=0.04).components["reference_model"] == 0


def test_grpo_kv_cache() -> None:
    arch = LLAMA_8B
    est = _est(algorithm="grpo", prompt_len=256, max_new_tokens=512, micro_batch_size=4,
               seq_len=768)
    expected = 2 * arch.num_layers * arch.num_kv_heads * arch.head_dim * 2 * (256 + 512) * 4
    assert est.components["kv_cache"] == expected
    assert _est(algorithm="grpo", max_new_tokens=0).components["kv_cache"] == 0
    assert _est(algorithm="dpo", max_new_tokens=512).components["kv_cache"] == 0
    # TRL generates per_device_train_batch_size x steps_per_generation sequences at once.
    bigger = _est(algorithm="grpo", prompt_len=256, max_new_tokens=512, micro_batch_size=4,
                  seq_len=768, generation_batch_size=16)
    assert bigger.components["kv_cache"] == 4 * expected
    # GRPO's loss needs the completion tokens only: on CUDA TRL's fused LM head scores
    # those (4 x 512), through one 32768-column bf16 tile buffer, with an fp32
    # accumulator for the hidden-state gradient (and its bf16 cast), next to its saved
    # bf16 input; with LoRA the head is frozen.
    h = arch.hidden_size
    assert est.components["logits"] == 2048 * 32768 * 2 + 2048 * h * (2 + 4 + 2)
    # A loss over materialized logits: logits_to_keep = completion + 1 positions.
    materialized = _est(algorithm="grpo", prompt_len=256, max_new_tokens=512,
                        micro_batch_size=4, seq_len=768, fused_lm_head=False)
    assert materialized.components["logits"] == 4 * 513 * arch.vocab_size * 14


def test_activation_checkpointing_reduces_activations() -> None:
    for lora in (True, False):
        plain = _est(lora_enabled=lora, activation_checkpointing=False)
        ckpt = _est(lora_enabled=lora, activation_checkpointing=True)
        assert ckpt.components["activations"] * 4 < plain.components["activations"]
        assert ckpt.components["weights"] == plain.components["weights"]


def test_fp32_costs_more_than_bf16() -> None:
    bf16 = _est(precision="bfloat16", lora_enabled=False)
    fp32 = _est(precision="float32", lora_enabled=False)
    assert fp32.components["weights"] == 2 * bf16.components["weights"]
    assert fp32.components["activations"] > bf16.components["activations"]


def test_overhead_per_device_kind_and_unknown_capacity() -> None:
    assert _est(device_kind="cpu").components["overhead"] == 0
    assert _est(device_kind="mps").components["overhead"] > 0
    assert _est(overhead_bytes=123).components["overhead"] == 123
    cpu = estimate(_inputs(device_kind="cpu"), 0)
    assert cpu.fits and cpu.capacity_bytes == 0


def test_data_parallel_adds_gradient_buckets() -> None:
    one = _est(lora_enabled=False)
    two = _est(lora_enabled=False, world_size=2)
    buffer = gradient_buffer_bytes(_inputs(lora_enabled=False))
    assert gradients_bytes(_inputs(lora_enabled=False, world_size=2)) == 2 * buffer
    # The buckets are allocated once and stay: they add in full, even at the peak.
    assert two.components["gradients"] == one.components["gradients"] + buffer
    assert two.notes


def test_gemma2_eager_attention_grows_quadratically() -> None:
    gemma = lookup_architecture("google/gemma-2-2b-it")
    assert gemma is not None
    short = activations_bytes(_inputs(arch=gemma, seq_len=1024))
    long = activations_bytes(_inputs(arch=gemma, seq_len=4096))
    assert long > 4.5 * short  # an s^2 term on top of the linear ones


def test_tiny_model_is_tiny() -> None:
    est = estimate(_inputs(arch=TINY_LLAMA, seq_len=256, micro_batch_size=4,
                           device_kind="cpu"), 0)
    # Most of it is TRL's fused LM head: its tile buffer is 32768 columns wide whatever
    # the vocabulary (1020 tokens x 32768 x 2 B = 64 MiB in bf16).
    assert est.total_bytes < 128 * 1024**2
    assert est.components["logits"] > est.total_bytes / 2


def test_fused_lm_head_working_set() -> None:
    """TRL's fused LM head: a fixed 32768-column tile buffer, not batch x seq x vocab."""
    small_vocab = dataclasses.replace(LLAMA_8B, vocab_size=32000)
    # On CUDA (Triton) with a frozen head the vocabulary does not matter at all ...
    cuda = [logits_bytes(_inputs(arch=a, lora_enabled=True)) for a in (LLAMA_8B, small_vocab)]
    assert cuda[0] == cuda[1]
    # ... on CPU the torch fallback's per-tile temporaries do (up to 32768 columns).
    cpu = [logits_bytes(_inputs(arch=a, lora_enabled=True, device_kind="cpu"))
           for a in (LLAMA_8B, small_vocab)]
    assert cpu[0] > cpu[1] > cuda[1]
    # Full fine-tuning adds the fp32 accumulator of the head's weight gradient (+ bf16 cast).
    full = logits_bytes(_inputs(lora_enabled=False))
    assert full - cuda[0] == LLAMA_8B.vocab_size * LLAMA_8B.hidden_size * (4 + 2)
    # Rows are tiled by 4096 tokens: beyond that only the per-token accumulators grow.
    short = logits_bytes(_inputs(seq_len=4097))
    long = logits_bytes(_inputs(seq_len=8193))
    assert long - short == 4096 * LLAMA_8B.hidden_size * (2 + 4 + 2)
    # Far below the materialized logits it replaces (3.7 GB at 2048 x 128256).
    assert cuda[0] * 10 < logits_bytes(_inputs(lora_enabled=True, fused_lm_head=False))


def test_gradients_overlap_activations() -> None:
    """The peak holds max(activations + logits, gradients + one layer), not their sum."""
    def parts(est: MemoryEstimate, inp: MemoryInputs) -> tuple[int, int, int]:
        c = est.components
        tokens = inp.micro_batch_size * inp.seq_len
        last_layer = round(tokens * layer_activation_bytes_per_token(inp))
        grad_side = gradient_buffer_bytes(inp) + last_layer
        return c["activations"] + c["logits"], grad_side, c["gradients"]

    # Few tokens, all weights trainable: the gradients dominate and add their excess.
    few = _inputs(lora_enabled=False, seq_len=128, gradient_accumulation_steps=1)
    est = estimate(few, 0)
    act_side, grad_side, component = parts(est, few)
    assert grad_side > act_side
    assert component == grad_side - act_side
    # Many tokens: the activations dominate and the gradients add nothing.
    many = _inputs(lora_enabled=False, seq_len=8192, gradient_accumulation_steps=1)
    est = estimate(many, 0)
    act_side, grad_side, component = parts(est, many)
    assert act_side > grad_side and component == 0
    # Either way the peak covers weights, states and every gradient.
    for inp in (few, many):
        c = estimate(inp, 0).components
        assert (sum(c.values()) - c["overhead"]
                >= c["weights"] + c["optimizer_states"] + gradients_bytes(inp))
    # With gradient accumulation (or unknown) the earlier micro batches' gradients are
    # live when the next backward starts: they add in full.
    for steps in (4, None):
        accumulating = dataclasses.replace(many, gradient_accumulation_steps=steps)
        assert estimate(accumulating, 0).components["gradients"] == gradients_bytes(many)


def test_generation_batch_and_accumulation_are_validated() -> None:
    with pytest.raises(ValueError):
        _inputs(generation_batch_size=-1)
    with pytest.raises(ValueError):
        _inputs(gradient_accumulation_steps=0)


def test_memory_inputs_are_frozen() -> None:
    inp = _inputs()
    with pytest.raises(dataclasses.FrozenInstanceError):
        inp.seq_len = 1  # type: ignore[misc]


# ----------------------------------------------------------- calibration on CPU


def _small_llama_config(vocab: int = 512) -> Any:
    import transformers
    return transformers.LlamaConfig(
        hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=vocab, tie_word_embeddings=True,
        max_position_embeddings=1024,
    )


def _saved_activation_bytes(model: Any, vocab: int, batch: int, seq: int) -> int:
    """Bytes autograd saves for backward (excluding parameters) in one forward."""
    import torch
    ids = torch.randint(0, vocab, (batch, seq))
    storages: dict[int, int] = {}

    def pack(t: Any) -> Any:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(input_ids=ids, labels=ids)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    return sum(n for ptr, n in storages.items() if ptr not in params)


@pytest.mark.parametrize("precision", ["bfloat16", "float32"])
@pytest.mark.parametrize(("lora", "dropout"), [(False, 0.0), (True, 0.0), (True, 0.05)])
def test_activation_term_matches_saved_tensors(
    precision: Literal["bfloat16", "float32"], lora: bool, dropout: float
) -> None:
    import peft
    import torch
    import transformers
    torch.manual_seed(0)
    config = _small_llama_config()
    arch = architecture_from_config(config.to_dict())
    assert arch is not None
    model = transformers.AutoModelForCausalLM.from_config(  # type: ignore[no-untyped-call]
        config).to(getattr(torch, precision))
    targets = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    if lora:
        model = peft.get_peft_model(model, peft.LoraConfig(
            r=16, lora_alpha=32, lora_dropout=dropout, target_modules=list(targets)))
    model.train()
    batch, seq = 2, 128
    measured = _saved_activation_bytes(model, config.vocab_size, batch, seq)
    inp = MemoryInputs(arch=arch, algorithm="sft", precision=precision,
                       micro_batch_size=batch, seq_len=seq, lora_enabled=lora,
                       lora_targets=targets, lora_dropout=dropout)
    # The loss keeps an fp32 copy of the logits; the estimator books it under "logits".
    measured_activations = measured - batch * seq * config.vocab_size * 4
    ratio = activations_bytes(inp) / measured_activations
    assert 0.9 < ratio < 1.1, ratio
    assert logits_bytes(inp) >= batch * seq * config.vocab_size * 4


@pytest.mark.parametrize("precision", ["bfloat16", "float32"])
@pytest.mark.parametrize("vocab", [512, 8192])
def test_total_brackets_the_measured_peak(
    precision: Literal["bfloat16", "float32"], vocab: int
) -> None:
    """Full fine-tuning step with AdamW: estimate >= measured peak, and not by much."""
    import torch
    import transformers
    from torch.distributed._tools import mem_tracker
    torch.manual_seed(0)
    config = _small_llama_config(vocab)
    model = transformers.AutoModelForCausalLM.from_config(  # type: ignore[no-untyped-call]
        config).to(getattr(torch, precision))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch, seq = 2, 256
    ids = torch.randint(0, vocab, (batch, seq))

    def step() -> None:
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        opt.zero_grad()

    step()  # optimizer states exist from here on, as in any later step
    tracker = mem_tracker.MemTracker()
    tracker.track_external(model, opt)
    with tracker:
        step()
    peak = tracker.get_tracker_snapshot("peak")[torch.device("cpu")]["Total"]

    arch = architecture_from_config(config.to_dict())
    assert arch is not None
    adamw = lookup_optimizer("torch.optim.AdamW")
    assert adamw is not None
    pb = precision_bytes(precision)
    est = estimate(MemoryInputs(
        arch=arch, algorithm="sft", precision=precision,
        micro_batch_size=batch, seq_len=seq, lora_enabled=False,
        optimizer_state_bytes=optimizer_state_bytes(adamw, {}, pb), device_kind="cpu",
        fused_lm_head=False,  # this step uses the model's own loss over full logits
        gradient_accumulation_steps=1,
    ), 0)
    assert est.components["overhead"] == 0
    ratio = est.total_bytes / peak
    assert 1.0 <= ratio < 1.3, (ratio, est.components, peak)


def test_architecture_type_is_reexported() -> None:
    assert isinstance(LLAMA_8B, Architecture)
