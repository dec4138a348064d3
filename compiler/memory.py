"""Per-GPU peak-memory estimate of one training trial (standard library only).

The estimate is a sum of components, each a small pure function below, so a
plan can show where the memory goes::

    weights           model parameters in the load dtype
    gradients         the gradient memory that adds to the peak (see below)
    optimizer_states  optimizer state per trainable parameter
    activations       what autograd keeps for the backward pass
    logits            the loss over the vocabulary: TRL's fused LM head working set
                      (or, with ``fused_lm_head=False``, batch x seq x vocab logits)
    reference_model   a frozen copy of the policy (DPO/KTO/PPO, GRPO/RLOO with KL)
    kv_cache          the generation KV cache (GRPO/RLOO/PPO rollouts)
    lora_adapters     the LoRA A/B matrices (fp32)
    overhead          CUDA context + caching-allocator slack

The sum is the peak of a training step, not the sum of everything a step ever
allocates.  With one micro batch per optimizer step, gradients and activations
are never live in full at the same time: the backward pass starts with no
gradient (the trainers free them after each optimizer step) and every
activation, and frees a layer's activations as it creates that layer's
gradients.  So the peak is ``weights + optimizer states + max(activations +
logits, gradients + one layer's activations)`` and the ``gradients`` component
is only the excess of the second term over the first (see
:func:`peak_gradients_bytes`; :func:`gradients_bytes` is the full size).  With
gradient accumulation, or when it is not known, the gradients add in full.
Two terms stay upper bounds: the KV cache (generation never overlaps the
backward pass) and, with activation checkpointing, the recomputed layer (it is
rebuilt after the LM head's working set is gone).

Sources: ANCHORS.md "Memory: what the parts cost"; Korthikanti et al. 2022
("Reducing Activation Recomputation in Large Transformer Models") for the shape
of the activation term; the per-family coefficients below were fitted to the
tensors that autograd saves in transformers 5 / torch 2.13 / PEFT 0.21 models
(counted with ``torch.autograd.graph.saved_tensors_hooks``), where they agree to
within 1% per layer; the LM-head term is read off TRL 1.16's source
(``trl/kernels/chunked_logprob.py``).  benchmarks/memory_accuracy.py compares
the whole estimate with the peak of real TRL SFT/DPO/GRPO runs (``MemTracker`` on
CPU, ``torch.cuda.max_memory_allocated`` on a GPU).
"""

from __future__ import annotations

from specc.compiler.memory_inputs import (
    _DEFAULT_OVERHEAD,
    _FUSED_TOKEN_TILE,
    _FUSED_VOCAB_TILE,
    _TORCH_TILE_BYTES,
    COMPONENTS,
    GIB,
    MemoryEstimate,
    MemoryInputs,
    precision_bytes,
)
from specc.compiler.memory_shard import (
    dequantized_copy_bytes,
    per_gpu,
    quantized_weights_bytes,
    replica_notes,
    residual_bytes,
)
from specc.spec.catalog.architectures import Architecture
from specc.spec.defaults import DEFAULT_LORA_TARGETS
from specc.spec.facts import FACTS, GENERATES

__all__ = [
    "COMPONENTS",
    "DEFAULT_LORA_TARGETS",
    "GIB",
    "MemoryEstimate",
    "MemoryInputs",
    "estimate",
    "precision_bytes",
]

def lora_param_count(inp: MemoryInputs) -> int:
    """LoRA parameters: r*(d_in+d_out) per targeted module per layer (0 without LoRA)."""
    if not inp.lora_enabled:
        return 0
    return inp.arch.lora_params(inp.lora_r, inp.lora_targets)


def trainable_params(inp: MemoryInputs) -> int:
    """Parameters that get gradients: the adapters with LoRA, every weight without (and
    PPO's value head either way)."""
    base = lora_param_count(inp) if inp.lora_enabled else inp.arch.num_params()
    return base + value_head_params(inp)


def value_head_params(inp: MemoryInputs) -> int:
    """PPO's value head: one fp32 linear from the last hidden state to a scalar (specc's
    PPO trains it with the policy, in the same AdamW)."""
    return inp.arch.hidden_size + 1 if inp.algorithm == "ppo" else 0


# -- components ---------------------------------------------------------------------------

def weights_bytes(inp: MemoryInputs) -> int:
    """The base model as loaded: the declared precision (fp32 with ``master_weights``), or
    a quantised base (:func:`~specc.compiler.memory_shard.quantized_weights_bytes`) plus
    the one linear dequantised for its matmul."""
    head = value_head_params(inp) * 4
    if inp.quant_bits:
        return quantized_weights_bytes(inp) + dequantized_copy_bytes(inp) + head
    return inp.arch.num_params() * inp.weight_bytes + head


def lora_adapters_bytes(inp: MemoryInputs) -> int:
    """LoRA A and B matrices, fp32 (PEFT upcasts adapters of a bf16/fp16 base)."""
    return lora_param_count(inp) * inp.adapter_bytes


def gradient_buffer_bytes(inp: MemoryInputs) -> int:
    """One gradient per trainable parameter, in that parameter's dtype.

    Full fine-tuning: the load dtype; LoRA: fp32 adapters.
    """
    per_param = inp.adapter_bytes if inp.lora_enabled else inp.weight_bytes
    return trainable_params(inp) * per_param


def gradients_bytes(inp: MemoryInputs) -> int:
    """All gradient memory of a step, whether or not it is live at the peak.

    The gradients themselves, plus, with data parallel (world_size > 1), DDP's
    gradient buckets: a second gradient-sized buffer (``gradient_as_bucket_view=False``,
    the accelerate/Trainer default).  :func:`peak_gradients_bytes` is the part that
    adds to the peak.
    """
    copies = 2 if inp.world_size > 1 and inp.strategy == "ddp" else 1
    return gradient_buffer_bytes(inp) * copies


def peak_gradients_bytes(inp: MemoryInputs, activations: int, logits: int) -> int:
    """The gradient memory that adds to the peak (the ``gradients`` component).

    Gradients and activations are never both live in full.  The trainers free the
    gradients after each optimizer step (``zero_grad(set_to_none=True)``), so the
    backward pass starts with none: its peak is at the LM head's backward, with every
    activation and the loss's working set live (:func:`activations_bytes` +
    :func:`logits_bytes`).  Each layer's backward then frees that layer's activations
    while it creates its parameters' gradients; by the last layer nearly all
    gradients exist, next to that layer's activations.  So the step's peak is

        weights + states + max(activations + logits, gradients + one layer's activations)

    and the component is the excess of the second term over the first (0 when the
    activations dominate, e.g. with LoRA).  That holds for one micro batch per
    optimizer step only: with gradient accumulation the gradients of the earlier
    micro batches are live when the next backward starts, so they add in full
    (also when ``gradient_accumulation_steps`` is unknown, None).  DDP's gradient
    buckets are allocated once and stay, so they always add in full.  Checked with
    ``MemTracker`` on CPU (benchmarks/memory_accuracy.py): weight-dominated runs peak
    in the last layers' backward with the gradients almost complete,
    activation-dominated runs at the LM head's backward with no gradient yet.
    """
    built = gradient_buffer_bytes(inp)
    buckets = gradients_bytes(inp) - built
    if inp.gradient_accumulation_steps != 1:
        return buckets + built
    tokens = sequences_per_micro_batch(inp) * inp.seq_len
    last_layer = round(tokens * layer_activation_bytes_per_token(inp))
    return buckets + max(0, built + last_layer - (activations + logits))


def optimizer_states_bytes(inp: MemoryInputs) -> int:
    """Optimizer state: trainable parameters x bytes of state per parameter."""
    return round(trainable_params(inp) * inp.optimizer_state_bytes)


def sequences_per_micro_batch(inp: MemoryInputs) -> int:
    """Sequences the policy processes per forward: DPO/ORPO/KTO run chosen + rejected (2x)."""
    return inp.micro_batch_size * FACTS[inp.algorithm].sequences_per_example


def _norm_bytes_per_token(arch: Architecture, pb: int, *, frozen: bool) -> float:
    """What one normalisation layer keeps per token.

    Llama-style RMSNorm upcasts to fp32: it keeps the fp32 input (4 B) and, when
    its weight trains, the normalised and the weighted outputs (2 x pb).  With
    frozen weights (LoRA) only the fp32 input stays (4 B).  Gemma's RMSNorm
    computes ``x * (1 + w)`` in fp32 (fitted: 8 + 0.75*pb B when it trains).
    GPT-2's LayerNorm keeps its input and output (2 x pb).
    """
    h = arch.hidden_size
    if arch.family == "gpt2":
        return 2.0 * pb * h
    if frozen:
        return 4.0 * h
    if arch.family in {"gemma", "gemma2"}:
        return (8.0 + 0.75 * pb) * h
    return (4.0 + 2 * pb) * h


def _attention_bytes_per_token(arch: Architecture, pb: int, seq_len: int) -> float:
    """Attention core with SDPA/flash: q, k, v, output and the fp32 log-sum-exp.

    No s^2 term: flash / memory-efficient SDPA never stores the score matrix.
    Gemma-2 runs eager attention in transformers (logit soft-capping has no SDPA
    kernel), which keeps ~8 B per score element (fitted): 8 * heads * seq_len.
    """
    core = pb * (2 * arch.q_dim + 2 * arch.kv_dim) + 4 * arch.num_attention_heads
    if arch.family == "gemma2":
        core += 8 * arch.num_attention_heads * seq_len
    return float(core)


def _lora_bytes_per_token(inp: MemoryInputs, pb: int) -> float:
    """What the LoRA branch of the targeted modules keeps, per token per layer.

    PEFT casts each targeted module's input to the fp32 adapter dtype and lora_A
    keeps it (4*d_in; shared between modules with one input when the base is
    already fp32), lora_B keeps lora_A's output (4*r); dropout > 0 keeps its
    fp32 output as well (4*d_in).
    """
    shapes = inp.arch.linear_shapes()
    targeted = [
        m for m in shapes
        if any(t in {"all-linear", m} or m.endswith("." + t) for t in inp.lora_targets)
    ]
    r = inp.lora_r
    ab = inp.adapter_bytes
    total = 0.0
    inputs_seen: set[tuple[str, int]] = set()
    for module in targeted:
        d_in = shapes[module][0]
        total += ab * r
        if inp.lora_dropout > 0:
            total += ab * d_in
        if pb < ab:
            total += ab * d_in  # a fresh fp32 copy per module
        else:
            key = (_input_group(module), d_in)
            if key not in inputs_seen:  # no-op cast: modules on one input share it
                inputs_seen.add(key)
                total += ab * d_in
    return total


def _input_group(module: str) -> str:
    """Which tensor feeds a module: q/k/v share one input, gate/up another."""
    name = module.rsplit(".", 1)[-1]
    if name in {"q_proj", "k_proj", "v_proj"}:
        return "attn_in"
    if name in {"gate_proj", "up_proj"}:
        return "mlp_in"
    return module


def layer_activation_bytes_per_token(inp: MemoryInputs) -> float:
    """Bytes one decoder layer keeps for backward, per token, without checkpointing.

    Llama-like (Llama, Mistral, Qwen2, Gemma), full fine-tuning, per token:
    norms + pb*(2*q_dim + 2*kv_dim) + 4*heads + 4*pb*I (gate out, act out, up out,
    down_proj's input).  With LoRA the frozen base linears keep nothing, so
    down_proj's input drops out (3*pb*I) and the LoRA branch adds its own.
    GPT-2 (GELU-tanh MLP written as several ops, LayerNorm): pb*(10h + 5I)
    full, pb*(7h + 4I) + LoRA with frozen base.  Korthikanti's 34 s*b*h (bf16)
    counts a GELU MLP with I = 4h and LayerNorm; the SwiGLU MLP (four I-sized
    tensors) and the fp32-upcasting RMSNorm keep more: Llama-3.1-8B full
    fine-tuning comes to ~49 s*b*h per layer in bf16.
    """
    arch, pb, lora = inp.arch, precision_bytes(inp.precision), inp.lora_enabled
    h, i = arch.hidden_size, arch.intermediate_size
    base: float
    if arch.family == "gpt2":
        base = pb * (7 * h + 4 * i) if lora else pb * (10 * h + 5 * i)
    else:
        norms = arch.norms_per_layer * _norm_bytes_per_token(arch, pb, frozen=lora)
        attention = _attention_bytes_per_token(arch, pb, inp.seq_len)
        mlp = (3 if lora else 4) * pb * i
        base = norms + attention + mlp
    return base + (_lora_bytes_per_token(inp, pb) if lora else 0.0)


def activations_bytes(inp: MemoryInputs) -> int:
    """Activations kept for backward, for all layers and the final norm.

    Without checkpointing: every layer's saved tensors.  With full activation
    checkpointing: each layer keeps only its input (pb*h per token, Korthikanti's
    2sbh in bf16) and one layer's full set is rebuilt at a time during backward.
    Paired algorithms (DPO/ORPO/KTO) run 2x the sequences.
    """
    tokens = sequences_per_micro_batch(inp) * inp.seq_len
    pb = precision_bytes(inp.precision)
    arch = inp.arch
    per_layer = layer_activation_bytes_per_token(inp)
    per_token: float
    if inp.activation_checkpointing:  # the recomputed layer: see recomputed_layer_bytes
        per_token = arch.num_layers * residual_bytes(inp) * arch.hidden_size
    else:
        per_token = arch.num_layers * per_layer
    per_token += _norm_bytes_per_token(arch, pb, frozen=inp.lora_enabled)  # final norm
    return round(tokens * per_token)


def recomputed_layer_bytes(inp: MemoryInputs, logits: int) -> int:
    """With activation checkpointing, what the layer rebuilt in backward adds to the peak.

    The backward pass starts at the loss: the LM head's working set (``logits``) is live
    next to the checkpoints, then freed before the last layer is recomputed.  So the
    peak holds the checkpoints plus the larger of the two, and this term is the excess of
    one layer's full activations over the loss's working set (0 without checkpointing).
    """
    if not inp.activation_checkpointing:
        return 0
    tokens = sequences_per_micro_batch(inp) * inp.seq_len
    layer = round(tokens * layer_activation_bytes_per_token(inp))
    return max(0, layer - logits)


def _materialized_logits_bytes(inp: MemoryInputs) -> int:
    """A loss over fully materialized batch x seq x vocab logits (``fused_lm_head=False``).

    Per element: the logits in the model dtype (pb), their fp32 upcast for the
    loss (4), the fp32 log-softmax the loss keeps (4) and the fp32 gradient
    flowing back (4): pb + 12 (ANCHORS: "~10-12 B per element").  In float32 the
    upcast is a no-op but the cross-entropy backward holds the log-softmax's
    gradient next to the logits' (measured with ``MemTracker``), so 16 as well.
    GRPO/RLOO/PPO compute logits for the completion tokens only (TRL's
    ``logits_to_keep``).
    """
    tokens_per_seq = inp.seq_len
    if inp.algorithm in GENERATES and inp.max_new_tokens > 0:
        tokens_per_seq = min(inp.seq_len, inp.max_new_tokens + 1)
    elements = sequences_per_micro_batch(inp) * tokens_per_seq * inp.arch.vocab_size
    return round(elements * (precision_bytes(inp.precision) + 12 / inp.logit_chunks))


def scored_tokens(inp: MemoryInputs) -> int:
    """Positions the fused LM head projects per micro batch.

    Without Triton (CPU, MPS) TRL scores every position but the last of each
    sequence (next-token labels), to keep the tile shapes fixed.  On CUDA (Triton)
    it scores only positions with a label: for GRPO/RLOO/PPO the completion
    (``max_new_tokens``); for the others the tokens after the prompt when
    ``0 < prompt_len < seq_len`` (DPO masks the prompt; SFT does with a
    completion-only loss), else every position.
    """
    per_seq = max(inp.seq_len - 1, 1)
    if inp.device_kind == "cuda":
        if inp.algorithm in GENERATES and inp.max_new_tokens > 0:
            per_seq = min(per_seq, inp.max_new_tokens)
        elif 0 < inp.prompt_len < inp.seq_len:
            per_seq = min(per_seq, inp.seq_len - inp.prompt_len)
    return sequences_per_micro_batch(inp) * per_seq


def _fused_lm_head_bytes(inp: MemoryInputs) -> int:
    """Working set of TRL's fused LM head at its backward, the loss's peak.

    TRL (>= 1.16; ``trl.trainer.utils.add_fused_lm_head`` and
    ``trl.kernels.chunked_logprob.ChunkedLogProbFunction``) never materializes the
    batch x seq x vocab logits for SFT, DPO, KTO or GRPO: it projects N scored tokens
    through the LM head in tiles of ``TOKEN_CHUNK_SIZE`` = 4096 tokens x
    ``_CHUNKED_LOGPROB_CHUNK_SIZE`` = 32768 vocabulary columns and folds them into an
    online log-sum-exp.  Its backward holds at once (read off the source, confirmed
    to the byte by ``MemTracker`` on CPU, see benchmarks/memory_accuracy.py):

    * the tile buffer, ``min(N, 4096) x 32768`` in the compute dtype -- allocated at
      the full 32768 columns even when the vocabulary is smaller;
    * the fp32 accumulator of the hidden-state gradient, ``N x hidden x 4``;
    * the fp32 accumulator of the LM-head weight gradient, ``vocab x hidden x 4``,
      when the head trains (full fine-tuning; in float32 it becomes the head's
      gradient, which :func:`peak_gradients_bytes` counts only at the end of the
      backward pass);
    * the head's saved input, ``N x hidden x pb``;
    * in bf16/fp16, the casts of both accumulators to the parameter dtype at the end
      of the backward (``N x hidden x pb``, and ``vocab x hidden x pb`` when the head
      trains), made while the accumulators still exist;
    * without Triton (CPU, MPS) the torch fallback's per-tile temporaries
      (``_backward_tile``: the transformed logits, log-probabilities, probabilities,
      the gradient and the one-hot comparison live together): 29 B per element of a
      ``min(N, 4096) x min(vocab, 32768)`` tile.  With Triton (CUDA) the kernels
      work in place.
    """
    arch, pb = inp.arch, precision_bytes(inp.precision)
    cast = pb if pb < 4 else 0  # .to(param dtype) of an fp32 accumulator: a no-op in fp32
    n_tokens = scored_tokens(inp)
    rows = min(n_tokens, _FUSED_TOKEN_TILE)
    total = rows * _FUSED_VOCAB_TILE * pb  # the tile buffer
    # saved input + fp32 hidden-grad accumulator (+ its cast)
    total += n_tokens * arch.hidden_size * (pb + 4 + cast)
    if not inp.lora_enabled:  # fp32 head-grad accumulator (+ its cast)
        total += arch.vocab_size * arch.hidden_size * (4 + cast)
    if inp.device_kind != "cuda":
        total += _TORCH_TILE_BYTES * rows * min(arch.vocab_size, _FUSED_VOCAB_TILE)
    return total


def logits_bytes(inp: MemoryInputs) -> int:
    """What the loss over the vocabulary holds: TRL's fused LM head, or materialized logits.

    See :func:`_fused_lm_head_bytes` (``fused_lm_head=True``, the default: TRL's
    trainers) and :func:`_materialized_logits_bytes` (a loss over full logits).
    """
    if inp.fused_lm_head:
        return _fused_lm_head_bytes(inp)
    return _materialized_logits_bytes(inp)


def needs_reference_model(inp: MemoryInputs) -> bool:
    """Whether a separate frozen copy of the policy is resident.

    With LoRA, TRL gets reference log-probs by disabling the adapter, so no copy.
    DPO/KTO: unless ``precompute_ref_log_probs``.  GRPO/RLOO: only when the KL
    coefficient beta > 0 (TRL's default beta is 0).  PPO always has one.  SFT,
    ORPO (reference-free), RS-SFT and AWR have none.
    """
    if inp.lora_enabled:
        return False
    # not facts.PREFERENCE: which algorithms keep a reference model (ORPO has none)
    if inp.algorithm in {"dpo", "kto"}:
        return not inp.precompute_ref_log_probs
    if inp.algorithm in {"grpo", "rloo"}:
        return inp.kl_beta > 0
    return inp.algorithm == "ppo"


def reference_model_bytes(inp: MemoryInputs) -> int:
    """The frozen reference model's weights in the load dtype, when one is resident."""
    return weights_bytes(inp) if needs_reference_model(inp) else 0


def generation_sequences(inp: MemoryInputs) -> int:
    """Sequences generated at once: ``generation_batch_size``, else the micro batch.

    TRL's GRPO/RLOO generate ``per_device_train_batch_size x steps_per_generation``
    completions per call (``steps_per_generation`` defaults to
    ``gradient_accumulation_steps``), ``num_generations`` of them per prompt.
    """
    return inp.generation_batch_size or inp.micro_batch_size


def kv_cache_bytes(inp: MemoryInputs) -> int:
    """Generation KV cache of online algorithms (GRPO/RLOO/PPO).

    2 (K and V) x layers x kv_heads x head_dim x pb x (prompt + completion) per
    sequence, for the generated sequences (:func:`generation_sequences`).  Without
    ``max_new_tokens`` no generation is modelled.  Generation runs before the
    training forward (no activations, no gradients then), so adding the cache to
    the training peak is an upper bound; it is small next to the activations unless
    the generation batch is much larger than the micro batch.
    """
    if inp.algorithm not in GENERATES or inp.max_new_tokens <= 0:
        return 0
    arch = inp.arch
    length = (inp.prompt_len + inp.max_new_tokens) if inp.prompt_len > 0 else inp.seq_len
    per_token = 2 * arch.num_layers * arch.num_kv_heads * arch.head_dim
    return per_token * precision_bytes(inp.precision) * length * generation_sequences(inp)


def overhead_bytes(inp: MemoryInputs) -> int:
    """Framework overhead: the caller's figure, else a default per device kind."""
    if inp.overhead_bytes is not None:
        return max(0, inp.overhead_bytes)
    return _DEFAULT_OVERHEAD[inp.device_kind]


def estimate(inputs: MemoryInputs, capacity_bytes: int) -> MemoryEstimate:
    """Estimate the per-GPU peak of one training step and compare it with the capacity."""
    logits = logits_bytes(inputs)
    activations = activations_bytes(inputs) + recomputed_layer_bytes(inputs, logits)
    components = {
        "weights": weights_bytes(inputs),
        "gradients": peak_gradients_bytes(inputs, activations, logits),
        "optimizer_states": optimizer_states_bytes(inputs),
        "activations": activations,
        "logits": logits,
        "reference_model": reference_model_bytes(inputs),
        "kv_cache": kv_cache_bytes(inputs),
        "lora_adapters": lora_adapters_bytes(inputs),
        "overhead": overhead_bytes(inputs),
    }
    capacity = max(0, int(capacity_bytes))
    shared, host, shard_notes = per_gpu(inputs, components, capacity)
    components = {k: shared.get(k, 0) for k in COMPONENTS}
    total = sum(components.values())
    return MemoryEstimate(
        components=components,
        total_bytes=total,
        capacity_bytes=capacity,
        fits=capacity == 0 or total <= capacity,
        notes=replica_notes(inputs) + tuple(shard_notes),
        host_bytes=host,
    )
