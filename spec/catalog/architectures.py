"""Offline table of model architectures (shapes only, no weights).

INTERFACE (filled in by the catalog work):

    @record(frozen=True, slots=True)
    class Architecture:
        name: str                   # e.g. "Llama-3.2-1B"
        hidden_size: int
        intermediate_size: int
        num_layers: int
        num_attention_heads: int
        num_kv_heads: int
        vocab_size: int
        tie_embeddings: bool
        head_dim: int   # hidden_size // num_attention_heads unless the model says otherwise
        max_position_embeddings: int
        aliases: tuple[str, ...]    # hub ids, e.g. "meta-llama/Llama-3.2-1B-Instruct"
        def num_params(self) -> int
        def linear_shapes(self) -> dict[str, tuple[int, int]]  # name -> (d_in, d_out), per layer

    def lookup_architecture(model_name: str) -> Architecture | None
    def architecture_from_config(config: dict) -> Architecture | None  # HF config.json dict

Fields added beyond the interface (all with defaults): ``family`` (``"llama"``,
``"mistral"``, ``"qwen2"``, ``"gemma"``, ``"gemma2"``, ``"gpt2"``), ``qkv_bias``
(Qwen2 has biases on q/k/v), ``o_bias`` and ``mlp_bias`` (Llama's
``attention_bias``/``mlp_bias`` switches), ``approximate`` (shapes read from a
config of a model type this table does not model exactly: parameter counts are
then those of the Llama layout).  Methods added: ``lora_params(r, targets)``,
``norms_per_layer``, ``gated_mlp``, ``q_dim``, ``kv_dim``.

``num_params()`` equals ``model.num_parameters()`` of the transformers model built
from the same config (tied embeddings counted once); the test suite checks this
for every table entry on the meta device.

The numbers are the published ``config.json`` values of each model.  Qwen2.5 base
configs of some sizes say ``max_position_embeddings: 131072`` (a rope-scaling
setting); the table records the native 32768 context window of the family.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from specc.spec.records import record

__all__ = [
    "ARCHITECTURES",
    "TINY_LLAMA",
    "Architecture",
    "architecture_from_config",
    "architecture_names",
    "lookup_architecture",
]

# Families whose decoder layer is the Llama layout (q/k/v/o + gate/up/down, RMSNorm).
_LLAMA_LIKE = frozenset({"llama", "mistral", "qwen2", "gemma", "gemma2"})


@record(frozen=True, slots=True)
class Architecture:
    """The shapes of a decoder-only transformer: enough to count parameters and memory."""

    name: str
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_attention_heads: int
    num_kv_heads: int
    vocab_size: int
    tie_embeddings: bool
    head_dim: int
    max_position_embeddings: int
    aliases: tuple[str, ...] = ()
    family: str = "llama"
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    approximate: bool = False

    # -- derived shapes ---------------------------------------------------------------
    @property
    def q_dim(self) -> int:
        """Width of the query projection output (heads x head_dim)."""
        return self.num_attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of each of the key and value projection outputs (kv heads x head_dim)."""
        return self.num_kv_heads * self.head_dim

    @property
    def norms_per_layer(self) -> int:
        """Normalisation layers per decoder layer (Gemma-2 has pre and post norms: 4)."""
        return 4 if self.family == "gemma2" else 2

    @property
    def gated_mlp(self) -> bool:
        """Whether the MLP is gated (gate/up/down: SwiGLU/GeGLU) rather than GPT-2's fc/proj."""
        return self.family != "gpt2"

    # -- parameter counts -------------------------------------------------------------
    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """Per-layer linear modules (PEFT target names) -> (d_in, d_out).

        Llama-like families: ``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``,
        ``gate_proj``, ``up_proj``, ``down_proj``.  GPT-2 uses ``Conv1D`` modules,
        named by their path inside the block because ``c_proj`` occurs twice:
        ``attn.c_attn`` (fused q/k/v), ``attn.c_proj``, ``mlp.c_fc``, ``mlp.c_proj``.
        """
        h, i = self.hidden_size, self.intermediate_size
        if self.family == "gpt2":
            return {
                "attn.c_attn": (h, 3 * h),
                "attn.c_proj": (h, h),
                "mlp.c_fc": (h, i),
                "mlp.c_proj": (i, h),
            }
        return {
            "q_proj": (h, self.q_dim),
            "k_proj": (h, self.kv_dim),
            "v_proj": (h, self.kv_dim),
            "o_proj": (self.q_dim, h),
            "gate_proj": (h, i),
            "up_proj": (h, i),
            "down_proj": (i, h),
        }

    def _layer_params(self) -> int:
        """Parameters of one decoder layer, biases and norms included."""
        h, i = self.hidden_size, self.intermediate_size
        if self.family == "gpt2":
            # ln_1 and ln_2 (LayerNorm: weight + bias); Conv1D weights + biases.
            return (
                2 * 2 * h
                + (h * 3 * h + 3 * h)  # attn.c_attn
                + (h * h + h)  # attn.c_proj
                + (h * i + i)  # mlp.c_fc
                + (i * h + h)  # mlp.c_proj
            )
        weights = sum(d_in * d_out for d_in, d_out in self.linear_shapes().values())
        biases = 0
        if self.qkv_bias:
            biases += self.q_dim + 2 * self.kv_dim
        if self.o_bias:
            biases += h
        if self.mlp_bias:
            biases += 2 * i + h
        return weights + biases + self.norms_per_layer * h  # RMSNorm: weight only

    def num_params(self) -> int:
        """Total parameters, tied embeddings counted once (== transformers' num_parameters())."""
        h, v = self.hidden_size, self.vocab_size
        total = v * h + self.num_layers * self._layer_params()
        if self.family == "gpt2":
            total += self.max_position_embeddings * h  # wpe: learned positions
            total += 2 * h  # ln_f (LayerNorm: weight + bias)
        else:
            total += h  # final RMSNorm
        if not self.tie_embeddings:
            total += v * h  # lm_head (no bias)
        return total

    def lora_params(self, r: int, targets: Iterable[str]) -> int:
        """LoRA adapter parameters: r*(d_in+d_out) per targeted module per layer.

        A target matches a module when it equals its name or the name ends with
        ``"." + target`` (PEFT's suffix rule), so ``"c_proj"`` hits both GPT-2
        ``c_proj`` modules.  ``"all-linear"`` targets every per-layer linear module.
        """
        shapes = self.linear_shapes()
        wanted = list(targets)
        chosen: set[str] = set()
        for target in wanted:
            if target == "all-linear":
                chosen.update(shapes)
                continue
            for module in shapes:
                if module == target or module.endswith("." + target):
                    chosen.add(module)
        per_layer = sum(r * (shapes[m][0] + shapes[m][1]) for m in chosen)
        return per_layer * self.num_layers


def _llama(
    name: str,
    dims: tuple[int, int, int, int, int, int],
    *,
    tied: bool,
    max_pos: int,
    aliases: tuple[str, ...] = (),
    head_dim: int | None = None,
    family: str = "llama",
    qkv_bias: bool = False,
) -> Architecture:
    """A Llama-layout table entry (also Mistral, Qwen2 and Gemma-2 via ``family``).

    ``dims`` = (hidden, intermediate, layers, heads, kv_heads, vocab).
    """
    hidden, intermediate, layers, heads, kv_heads, vocab = dims
    return Architecture(
        name=name,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_layers=layers,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        vocab_size=vocab,
        tie_embeddings=tied,
        head_dim=head_dim if head_dim is not None else hidden // heads,
        max_position_embeddings=max_pos,
        aliases=aliases,
        family=family,
        qkv_bias=qkv_bias,
    )


def _qwen25(size: str, dims: tuple[int, int, int, int, int], *, tied: bool) -> Architecture:
    """A Qwen2.5 entry: vocab 151936 when tied (<= 3B), 152064 otherwise; q/k/v biases.

    ``dims`` = (hidden, intermediate, layers, heads, kv_heads).
    """
    return _llama(
        f"Qwen2.5-{size}", (*dims, 151936 if tied else 152064), tied=tied, max_pos=32768,
        aliases=(f"Qwen/Qwen2.5-{size}", f"Qwen/Qwen2.5-{size}-Instruct"),
        family="qwen2", qkv_bias=True,
    )


TINY_LLAMA = Architecture(
    name="specc:tiny-llama",
    hidden_size=64,
    intermediate_size=172,
    num_layers=2,
    num_attention_heads=4,
    num_kv_heads=2,
    vocab_size=288,
    tie_embeddings=True,
    head_dim=16,
    max_position_embeddings=1024,
    aliases=(),
    family="llama",
)
"""The built-in offline model.  These numbers are a contract with the runtime that builds it."""

_ENTRIES: tuple[Architecture, ...] = (
    TINY_LLAMA,
    # --- Meta Llama 3.x -----------------------------------------------------------------
    _llama("Llama-3.2-1B", (2048, 8192, 16, 32, 8, 128256), tied=True, max_pos=131072,
           aliases=("meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B-Instruct")),
    _llama("Llama-3.2-3B", (3072, 8192, 28, 24, 8, 128256), tied=True, max_pos=131072,
           aliases=("meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.2-3B-Instruct")),
    _llama("Llama-3.1-8B", (4096, 14336, 32, 32, 8, 128256), tied=False, max_pos=131072,
           aliases=("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct",
                    "meta-llama/Meta-Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct")),
    _llama("Llama-3.1-70B", (8192, 28672, 80, 64, 8, 128256), tied=False, max_pos=131072,
           aliases=("meta-llama/Llama-3.1-70B", "meta-llama/Llama-3.1-70B-Instruct",
                    "meta-llama/Meta-Llama-3.1-70B", "meta-llama/Meta-Llama-3.1-70B-Instruct",
                    "meta-llama/Llama-3.3-70B-Instruct", "Llama-3.3-70B")),
    # --- Qwen2.5 ------------------------------------------------------------------------
    _qwen25("0.5B", (896, 4864, 24, 14, 2), tied=True),
    _qwen25("1.5B", (1536, 8960, 28, 12, 2), tied=True),
    _qwen25("3B", (2048, 11008, 36, 16, 2), tied=True),
    _qwen25("7B", (3584, 18944, 28, 28, 4), tied=False),
    _qwen25("14B", (5120, 13824, 48, 40, 8), tied=False),
    _qwen25("32B", (5120, 27648, 64, 40, 8), tied=False),
    _qwen25("72B", (8192, 29568, 80, 64, 8), tied=False),
    _llama("Qwen2.5-Coder-7B", (3584, 18944, 28, 28, 4, 152064), tied=False, max_pos=32768,
           aliases=("Qwen/Qwen2.5-Coder-7B", "Qwen/Qwen2.5-Coder-7B-Instruct"),
           family="qwen2", qkv_bias=True),
    # --- Mistral ------------------------------------------------------------------------
    _llama("Mistral-7B-v0.1", (4096, 14336, 32, 32, 8, 32000), tied=False, max_pos=32768,
           aliases=("mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.1",
                    "mistralai/Mistral-7B-Instruct-v0.2"),
           family="mistral"),
    _llama("Mistral-7B-v0.3", (4096, 14336, 32, 32, 8, 32768), tied=False, max_pos=32768,
           aliases=("mistralai/Mistral-7B-v0.3", "mistralai/Mistral-7B-Instruct-v0.3"),
           family="mistral"),
    # --- Google Gemma 2 -----------------------------------------------------------------
    _llama("Gemma-2-2B", (2304, 9216, 26, 8, 4, 256000), tied=True, max_pos=8192, head_dim=256,
           aliases=("google/gemma-2-2b", "google/gemma-2-2b-it"), family="gemma2"),
    _llama("Gemma-2-9B", (3584, 14336, 42, 16, 8, 256000), tied=True, max_pos=8192, head_dim=256,
           aliases=("google/gemma-2-9b", "google/gemma-2-9b-it"), family="gemma2"),
    _llama("Gemma-2-27B", (4608, 36864, 46, 32, 16, 256000), tied=True, max_pos=8192,
           head_dim=128, aliases=("google/gemma-2-27b", "google/gemma-2-27b-it"),
           family="gemma2"),
    # --- DeepSeek-Coder (Llama layout, model_type "llama") ------------------------------
    _llama("DeepSeek-Coder-6.7B", (4096, 11008, 32, 32, 32, 32256), tied=False, max_pos=16384,
           aliases=("deepseek-ai/deepseek-coder-6.7b-base",
                    "deepseek-ai/deepseek-coder-6.7b-instruct")),
    # --- GPT-2 family (Conv1D c_attn/c_proj/c_fc, learned positions, LayerNorm) ---------
    Architecture(
        name="GPT-2", hidden_size=768, intermediate_size=3072, num_layers=12,
        num_attention_heads=12, num_kv_heads=12, vocab_size=50257, tie_embeddings=True,
        head_dim=64, max_position_embeddings=1024,
        aliases=("gpt2", "openai-community/gpt2"), family="gpt2",
    ),
    Architecture(
        name="GPT-2-Medium", hidden_size=1024, intermediate_size=4096, num_layers=24,
        num_attention_heads=16, num_kv_heads=16, vocab_size=50257, tie_embeddings=True,
        head_dim=64, max_position_embeddings=1024,
        aliases=("gpt2-medium", "openai-community/gpt2-medium"), family="gpt2",
    ),
    Architecture(
        name="DialoGPT-medium", hidden_size=1024, intermediate_size=4096, num_layers=24,
        num_attention_heads=16, num_kv_heads=16, vocab_size=50257, tie_embeddings=True,
        head_dim=64, max_position_embeddings=1024,
        aliases=("microsoft/DialoGPT-medium",), family="gpt2",
    ),
)

ARCHITECTURES: dict[str, Architecture] = {arch.name: arch for arch in _ENTRIES}
"""Canonical name -> Architecture, in table order."""

# Name tokens that mark a fine-tuned variant with the base model's shapes.
_VARIANT_TOKENS = frozenset({"instruct", "it", "chat", "base", "hf"})


def _normalize(model_name: str) -> str:
    """Last path component, lower-cased, ``_`` as ``-``, variant tokens dropped."""
    last = model_name.strip().rstrip("/").split("/")[-1].lower().replace("_", "-")
    tokens = [t for t in last.split("-") if t and t not in _VARIANT_TOKENS]
    return "-".join(tokens)


def _build_index() -> dict[str, str]:
    """Normalized spelling -> canonical name; a clash is a table bug."""
    index: dict[str, str] = {}
    for arch in _ENTRIES:
        for spelling in (arch.name, *arch.aliases):
            key = _normalize(spelling)
            owner = index.get(key)
            if owner is not None and owner != arch.name:
                raise RuntimeError(f"architecture alias {spelling!r} names {owner} and {arch.name}")
            index[key] = arch.name
    return index


_INDEX: dict[str, str] = _build_index()


def lookup_architecture(model_name: str) -> Architecture | None:
    """Find the shapes of a model by table name, hub id or the hub id's last component.

    Case-insensitive; ``-Instruct``/``-it``/``-Chat``/``-base`` variants share their
    base model's shapes.  Never touches the network or the file system.
    """
    if not isinstance(model_name, str) or not model_name.strip():
        return None
    canonical = _INDEX.get(_normalize(model_name))
    return ARCHITECTURES[canonical] if canonical is not None else None


def architecture_names() -> list[str]:
    """All canonical architecture names, in table order (for "did you mean")."""
    return list(ARCHITECTURES)


# -- config.json -------------------------------------------------------------------------

_DEFAULT_TIED: dict[str, bool] = {
    # transformers' config-class defaults for tie_word_embeddings when config.json omits it.
    "llama": False,
    "mistral": False,
    "qwen2": False,
    "gemma": True,
    "gemma2": True,
    "gpt2": True,
}


def _int(config: Mapping[str, Any], *keys: str) -> int | None:
    """The first key present with a positive int value (bools refused)."""
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def architecture_from_config(config: Mapping[str, Any]) -> Architecture | None:
    """Build an Architecture from a Hugging Face ``config.json`` dict, or None if unusable.

    Understands the Llama/Mistral/Qwen2/Gemma/Gemma-2 keys (``hidden_size``,
    ``intermediate_size``, ``num_hidden_layers``, ``num_attention_heads``,
    ``num_key_value_heads``, ``head_dim``, ``vocab_size``, ``tie_word_embeddings``,
    ``max_position_embeddings``, ``attention_bias``, ``mlp_bias``) and GPT-2's
    (``n_embd``, ``n_inner``, ``n_layer``, ``n_head``, ``n_positions``).  Another
    ``model_type`` with the Llama keys is read as a Llama layout and marked
    ``approximate=True``.
    """
    if not isinstance(config, Mapping):
        return None
    raw_type = config.get("model_type")
    model_type = raw_type.lower() if isinstance(raw_type, str) else ""
    if not model_type and "n_embd" in config:
        model_type = "gpt2"
    name_value = config.get("_name_or_path") or config.get("name_or_path")
    name = name_value if isinstance(name_value, str) and name_value else (model_type or "model")

    if model_type == "gpt2":
        hidden = _int(config, "n_embd", "hidden_size")
        layers = _int(config, "n_layer", "num_hidden_layers")
        heads = _int(config, "n_head", "num_attention_heads")
        vocab = _int(config, "vocab_size")
        positions = _int(config, "n_positions", "max_position_embeddings")
        if hidden is None or layers is None or heads is None or not vocab or not positions:
            return None
        inner = _int(config, "n_inner") or 4 * hidden  # GPT2MLP: n_inner None -> 4*n_embd
        tied = config.get("tie_word_embeddings", True)
        return Architecture(
            name=name, hidden_size=hidden, intermediate_size=inner,
            num_layers=layers, num_attention_heads=heads, num_kv_heads=heads,
            vocab_size=vocab, tie_embeddings=bool(tied), head_dim=hidden // heads,
            max_position_embeddings=positions, family="gpt2",
        )

    hidden = _int(config, "hidden_size")
    intermediate = _int(config, "intermediate_size")
    layers = _int(config, "num_hidden_layers")
    heads = _int(config, "num_attention_heads")
    vocab = _int(config, "vocab_size")
    if hidden is None or intermediate is None or layers is None or heads is None or not vocab:
        return None
    kv_heads = _int(config, "num_key_value_heads") or heads
    head_dim = _int(config, "head_dim") or hidden // heads
    max_pos = _int(config, "max_position_embeddings") or 0
    known = model_type in _LLAMA_LIKE
    family = model_type if known else "llama"
    tied_value = config.get("tie_word_embeddings")
    tied = bool(tied_value) if isinstance(tied_value, bool) else _DEFAULT_TIED.get(family, False)
    attention_bias = bool(config.get("attention_bias", False))
    return Architecture(
        name=name, hidden_size=hidden, intermediate_size=intermediate, num_layers=layers,
        num_attention_heads=heads, num_kv_heads=kv_heads, vocab_size=vocab,
        tie_embeddings=tied, head_dim=head_dim, max_position_embeddings=max_pos,
        family=family,
        qkv_bias=family == "qwen2" or attention_bias,
        o_bias=attention_bias,
        mlp_bias=bool(config.get("mlp_bias", False)),
        approximate=not known,
    )


def with_name(arch: Architecture, name: str) -> Architecture:
    """A copy of ``arch`` under another name (e.g. the hub id the spec used)."""
    return replace(arch, name=name)

