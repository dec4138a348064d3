"""The built-in model `specc:tiny-llama`: a 2-layer Llama with a byte-level tokenizer.

Built from a fixed seed with no download, and materialised once into specc's cache
folder (`specc.compiler.cache.builtin_model_dir`) so emitted scripts and users can
point at a plain path. The shape is a contract with the architecture table
(`specc.spec.catalog.architectures`, entry `specc:tiny-llama`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from specc.compiler.cache import builtin_model_dir
from specc.spec.catalog.architectures import lookup_architecture

NAME = "specc:tiny-llama"
SEED = 0
SPECIAL = ("<pad>", "<s>", "</s>", "<unk>")


def build_tokenizer() -> object:
    """A byte-level BPE tokenizer without merges: one token per byte, plus specials."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(SPECIAL)}
    for ch in sorted(alphabet):
        vocab[ch] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        unk_token="<unk>", model_max_length=1024,
    )
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}"
    )
    return fast


def build_model(seed: int = SEED) -> object:
    """The randomly initialised model, identical for a given seed."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    arch = lookup_architecture(NAME)
    assert arch is not None
    config = LlamaConfig(
        vocab_size=arch.vocab_size, hidden_size=arch.hidden_size,
        intermediate_size=arch.intermediate_size, num_hidden_layers=arch.num_layers,
        num_attention_heads=arch.num_attention_heads, num_key_value_heads=arch.num_kv_heads,
        max_position_embeddings=arch.max_position_embeddings,
        tie_word_embeddings=arch.tie_embeddings, pad_token_id=0, bos_token_id=1,
        eos_token_id=2,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def save(path: Path, seed: int = SEED) -> Path:
    """Write model and tokenizer to ``path`` with `save_pretrained`."""
    path.mkdir(parents=True, exist_ok=True)
    build_model(seed).save_pretrained(path)  # type: ignore[attr-defined]
    build_tokenizer().save_pretrained(path)  # type: ignore[attr-defined]
    return path


def materialize(name: str = NAME) -> Path:
    """The cache folder of a built-in model, created on first use (atomically)."""
    target = builtin_model_dir(name)
    if (target / "config.json").exists() and (target / "tokenizer.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-", dir=target.parent))
    try:
        save(tmp)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
