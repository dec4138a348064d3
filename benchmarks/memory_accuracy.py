"""How close is specc's memory estimate to the peak of a real TRL training run?

Run from the repository root (needs the ``run`` extra: torch, transformers, trl,
peft, datasets, tokenizers; nothing is downloaded):

    .venv/bin/python benchmarks/memory_accuracy.py              # the full grid, a table
    .venv/bin/python benchmarks/memory_accuracy.py --quick      # the CI subset
    .venv/bin/python benchmarks/memory_accuracy.py --json       # the same figures as JSON
    .venv/bin/python benchmarks/memory_accuracy.py --only dpo   # names containing "dpo"

Every configuration builds a tiny random model (``LlamaConfig`` / ``Qwen2Config`` +
``AutoModelForCausalLM.from_config``, saved to a temporary folder so that TRL loads it
-- and, for full-fine-tuning DPO or GRPO with a KL term, its reference copy -- like
any local checkpoint), an offline word-level tokenizer and a small in-memory dataset,
and runs the real TRL trainer (``SFTTrainer`` / ``DPOTrainer`` / ``GRPOTrainer``) for
two optimizer steps.  The peak is measured

* on CPU with ``torch.distributed._tools.mem_tracker.MemTracker`` (a
  ``TorchDispatchMode`` that sees every tensor storage created while it is active;
  the model, its reference copy and the adapters, created before, are registered
  with ``track_external``), its ``get_tracker_snapshot("peak")[device]["Total"]``;
* on CUDA with ``torch.cuda.max_memory_allocated()`` after
  ``torch.cuda.reset_peak_memory_stats()``, minus what was allocated before the
  configuration's model was loaded.

The estimate is ``specc.compiler.memory.estimate`` on ``MemoryInputs`` filled from the
same settings, minus its ``overhead`` component (CUDA context and allocator slack are
not tensor memory).  The ratio is estimate / measured; the target is a median in
[1.00, 1.15] and every configuration in [0.90, 1.30].
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


TARGET_MEDIAN = (1.00, 1.15)
TARGET_EACH = (0.90, 1.30)

# Special tokens of the offline tokenizer; every other id is the word "w<id>".
PAD, EOS, UNK = 0, 1, 2
_FIRST_WORD = 3


@dataclass(frozen=True)
class Config:
    """One benchmark configuration: a model shape, an algorithm and its batch shape.

    ``seq_len`` is the whole training sequence: the text for SFT, prompt + chosen (or
    rejected) for DPO, prompt + completion for GRPO (``prompt_len`` + ``completion_len``).
    ``batch`` is TRL's ``per_device_train_batch_size``: examples for SFT, preference
    pairs for DPO (2x sequences), completions for GRPO (``batch / num_generations``
    prompts per step).
    """

    name: str
    algorithm: str  # "sft" | "dpo" | "grpo"
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    batch: int
    seq_len: int
    lora: bool = False
    checkpointing: bool = False
    family: str = "llama"  # "llama" | "qwen2"
    tied: bool = False
    lora_r: int = 8
    prompt_len: int = 0  # DPO / GRPO
    num_generations: int = 4  # GRPO
    beta: float = 0.0  # GRPO's KL coefficient (TRL's default: 0.0, no reference model)
    quick: bool = False

    @property
    def completion_len(self) -> int:
        return self.seq_len - self.prompt_len


# On CPU the peak of such small models is mostly TRL's fused LM head (its tile buffer is
# 32768 vocabulary columns wide whatever the vocabulary), so some shapes are chosen to
# make the other terms lead: "-acts" (activations), "-weights" (weights, states and
# gradients: the peak moves to the end of the backward pass), "-mixed" (both ends equal).
# fmt: off
CONFIGS: tuple[Config, ...] = (
    # SFT: full fine-tuning and LoRA, with and without checkpointing, several shapes.
    Config("sft-full-h128-v1k-s128", "sft", 128, 344, 2, 4, 2, 1024, batch=4, seq_len=128,
           quick=True),
    Config("sft-full-h128-v1k-s128-ckpt", "sft", 128, 344, 2, 4, 2, 1024, batch=4, seq_len=128,
           checkpointing=True),
    Config("sft-full-h256-v2k-s512", "sft", 256, 688, 4, 8, 4, 2048, batch=4, seq_len=512),
    Config("sft-full-h64-v32k-s64-tied", "sft", 64, 172, 2, 4, 4, 32000, batch=2, seq_len=64,
           tied=True),
    Config("sft-full-h512-L8-v512-s512-acts", "sft", 512, 1376, 8, 8, 4, 512, batch=2,
           seq_len=512),
    Config("sft-full-h512-v2k-s64-weights", "sft", 512, 1376, 4, 8, 4, 2048, batch=1, seq_len=64),
    Config("sft-full-h384-v1k-s256-mixed", "sft", 384, 1024, 4, 6, 2, 1024, batch=2, seq_len=256),
    Config("sft-lora-h256-v8k-s256", "sft", 256, 688, 4, 8, 2, 8192, batch=2, seq_len=256,
           lora=True, quick=True),
    Config("sft-lora-h256-v8k-s256-ckpt", "sft", 256, 688, 4, 8, 2, 8192, batch=2, seq_len=256,
           lora=True, checkpointing=True),
    Config("sft-full-qwen2-h128-v4k-s256", "sft", 128, 352, 3, 4, 2, 4096, batch=2, seq_len=256,
           family="qwen2", tied=True),
    # DPO: a reference model with full fine-tuning, the adapter switched off with LoRA.
    Config("dpo-full-h128-v2k-s128", "dpo", 128, 344, 2, 4, 2, 2048, batch=2, seq_len=128,
           prompt_len=48, quick=True),
    Config("dpo-full-h256-v1k-s256-ckpt", "dpo", 256, 688, 3, 8, 4, 1024, batch=2, seq_len=256,
           prompt_len=96, checkpointing=True),
    Config("dpo-lora-h256-v4k-s256", "dpo", 256, 688, 4, 8, 2, 4096, batch=2, seq_len=256,
           prompt_len=64, lora=True),
    # GRPO: generation (KV cache), completion-only log-probs, beta 0 (no reference) and > 0.
    Config("grpo-full-h128-v2k-p32-c64", "grpo", 128, 344, 2, 4, 2, 2048, batch=4, seq_len=96,
           prompt_len=32, quick=True),
    Config("grpo-lora-h256-v4k-p64-c64", "grpo", 256, 688, 3, 8, 2, 4096, batch=4, seq_len=128,
           prompt_len=64, lora=True),
    Config("grpo-full-h128-v1k-p32-c32-beta-ckpt", "grpo", 128, 344, 2, 4, 2, 1024, batch=4,
           seq_len=64, prompt_len=32, beta=0.04, checkpointing=True),
    Config("grpo-lora-h128-v8k-p16-c96-ckpt", "grpo", 128, 344, 2, 4, 4, 8192, batch=4,
           seq_len=112, prompt_len=16, lora=True, checkpointing=True, num_generations=2),
)
# fmt: on

LORA_TARGETS: tuple[str, ...] = (
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
)


@dataclass
class Result:
    """One configuration's figures (bytes)."""

    name: str
    algorithm: str
    lora: bool
    checkpointing: bool
    estimate_bytes: int
    measured_bytes: int
    ratio: float
    device: str
    seconds: float
    components: dict[str, int] = field(default_factory=dict)
    peak_breakdown: dict[str, int] = field(default_factory=dict)
    peak_phase: str = ""
    shapes: list[list[int]] = field(default_factory=list)


# ------------------------------------------------------------------ building blocks


def build_tokenizer(vocab: int) -> Any:
    """An offline word-level tokenizer: ``<pad>``, ``<eos>``, ``<unk>``, then ``w3 ... w<vocab-1>``.

    Every whitespace-separated word is one token, so a text of n words is n tokens.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = {"<pad>": PAD, "<eos>": EOS, "<unk>": UNK}
    words.update({f"w{i}": i for i in range(_FIRST_WORD, vocab)})
    tok = Tokenizer(models.WordLevel(vocab=words, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>",
        model_max_length=4096,
    )


def build_model_config(cfg: Config) -> Any:
    """The transformers config of the tiny random model."""
    import transformers

    common: dict[str, Any] = {
        "hidden_size": cfg.hidden, "intermediate_size": cfg.intermediate,
        "num_hidden_layers": cfg.layers, "num_attention_heads": cfg.heads,
        "num_key_value_heads": cfg.kv_heads, "vocab_size": cfg.vocab,
        "max_position_embeddings": 1024, "tie_word_embeddings": cfg.tied,
        "pad_token_id": PAD, "eos_token_id": EOS, "bos_token_id": None,
    }
    if cfg.family == "qwen2":
        return transformers.Qwen2Config(**common)
    return transformers.LlamaConfig(**common)


def _words(rng: random.Random, vocab: int, n: int) -> str:
    return " ".join(f"w{rng.randrange(_FIRST_WORD, vocab)}" for _ in range(n))


def build_dataset(cfg: Config, rows: int) -> Any:
    """A small in-memory dataset whose tokenized sequences are exactly ``cfg.seq_len`` long.

    TRL appends the EOS token to SFT texts and DPO completions, so those get one word
    less; GRPO prompts are ``prompt_len`` words and completions are forced to
    ``completion_len`` tokens (``min_new_tokens``).
    """
    import datasets

    rng = random.Random(0)
    if cfg.algorithm == "sft":
        data = [{"text": _words(rng, cfg.vocab, cfg.seq_len - 1)} for _ in range(rows)]
    elif cfg.algorithm == "dpo":
        n = cfg.completion_len - 1
        data = [{"prompt": _words(rng, cfg.vocab, cfg.prompt_len),
                 "chosen": " " + _words(rng, cfg.vocab, n),
                 "rejected": " " + _words(rng, cfg.vocab, n)} for _ in range(rows)]
    else:
        data = [{"prompt": _words(rng, cfg.vocab, cfg.prompt_len)} for _ in range(rows)]
    return datasets.Dataset.from_list(data)


def _reward_length(completions: list[Any], **_: Any) -> list[float]:
    """A trivial GRPO reward: the completion's length, scaled."""
    return [len(str(c)) / 100.0 for c in completions]


def training_args(cfg: Config, output_dir: str, device: str) -> Any:
    """The TRL config: two optimizer steps, no logging, no saving, no bf16 on CPU."""
    import trl

    common: dict[str, Any] = {
        "output_dir": output_dir, "max_steps": 2,
        "per_device_train_batch_size": cfg.batch, "gradient_accumulation_steps": 1,
        "gradient_checkpointing": cfg.checkpointing,
        "report_to": [], "use_cpu": device == "cpu", "bf16": False, "fp16": False,
        "save_strategy": "no", "logging_strategy": "no", "dataloader_num_workers": 0,
        "disable_tqdm": True, "seed": 0,
    }
    if cfg.algorithm == "sft":
        return trl.SFTConfig(max_length=cfg.seq_len, **common)
    if cfg.algorithm == "dpo":
        return trl.DPOConfig(max_length=cfg.seq_len, **common)
    return trl.GRPOConfig(
        num_generations=cfg.num_generations, max_completion_length=cfg.completion_len,
        generation_kwargs={"min_new_tokens": cfg.completion_len}, beta=cfg.beta,
        **common,
    )


def build_trainer(cfg: Config, model_dir: str, output_dir: str, device: str) -> Any:
    """The real TRL trainer on the saved model (TRL loads it, and its reference copy)."""
    import peft
    import trl

    tokenizer = build_tokenizer(cfg.vocab)
    args = training_args(cfg, output_dir, device)
    peft_config = peft.LoraConfig(
        r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, lora_dropout=0.0,
        target_modules=list(LORA_TARGETS), task_type="CAUSAL_LM",
    ) if cfg.lora else None
    dataset = build_dataset(cfg, rows=4 * cfg.batch)
    kwargs: dict[str, Any] = {"model": model_dir, "args": args, "train_dataset": dataset,
                              "processing_class": tokenizer, "peft_config": peft_config}
    if cfg.algorithm == "sft":
        return trl.SFTTrainer(**kwargs)
    if cfg.algorithm == "dpo":
        return trl.DPOTrainer(**kwargs)
    return trl.GRPOTrainer(reward_funcs=_reward_length, **kwargs)


# ------------------------------------------------------------------ measuring


def _make_tracker() -> Any:
    """A ``MemTracker`` that allows the root module to be called more than once.

    ``MemTracker`` raises on a second top-level forward (it keeps per-module stats of
    one iteration); two training steps, the reference forward and generation all call
    the model again, so that module's own stats are dropped and started afresh -- the
    global peak, which is what is measured here, is unaffected.  It also remembers where
    (forward/backward/optimizer, innermost module) the peak was reached.
    """
    from torch.distributed._tools.mem_tracker import _TOTAL_KEY as _TOTAL
    from torch.distributed._tools.mem_tracker import MemTracker

    class _NoHook:
        def remove(self) -> None:
            pass

    class _Tracker(MemTracker):  # type: ignore[misc]
        peak_phase = ""

        def _track_module_params_and_buffers(
            self, module: Any, install_grad_hooks: bool = True
        ) -> tuple[int, int]:
            # Frozen parameters (LoRA's base model, a reference model) cannot take the
            # gradient hooks MemTracker installs: mark them as hooked already.
            if install_grad_hooks:
                for param in module.parameters():
                    if not param.requires_grad and param not in self._param_to_grad_hook_handles:
                        self._param_to_grad_hook_handles[param] = (_NoHook(), _NoHook())
            result: tuple[int, int] = super()._track_module_params_and_buffers(
                module, install_grad_hooks)
            return result

        def _pre_fw_hook(self, module: Any, inputs: Any) -> None:
            try:
                super()._pre_fw_hook(module, inputs)
            except NotImplementedError:
                del self.memory_tracking[module]
                super()._pre_fw_hook(module, inputs)

        def _post_fw_hook(self, module: Any, inputs: Any, outputs: Any) -> None:
            if module in self.memory_tracking:
                super()._post_fw_hook(module, inputs, outputs)

        def _pre_bw_hook(self, module: Any, args: Any) -> None:
            if module is not None and module in self.memory_tracking:
                super()._pre_bw_hook(module, args)

        def _post_bw_hook(self, module: Any, args: Any) -> None:
            if module is not None and module in self.memory_tracking:
                super()._post_bw_hook(module, args)

        def _update_peak_stats(self, peak_state: Any) -> None:
            # The global part of MemTracker._update_peak_stats only: the per-module
            # local peaks (a loop over every module after every op) are not used here
            # and made GRPO's token-by-token generation ~6x slower.
            for dev, dev_snap in self._curr_mem_snap.items():
                if self._peak_mem.get(dev, 0) < dev_snap[_TOTAL]:
                    self._peak_mem[dev] = dev_snap[_TOTAL]
                    self._peak_mem_snap[dev] = dict(dev_snap)
                    parents = [p for p in self._mod_tracker.parents if p != "Global"]
                    where = max(parents, key=len) if parents else "-"
                    kind = "optimizer" if self._in_opt else (
                        "backward" if self._mod_tracker.is_bw else "forward")
                    self.peak_phase = f"{kind} {where}"

    return _Tracker()


def _record_shapes(model: Any, shapes: list[list[int]]) -> None:
    """Remember the distinct ``input_ids`` shapes the model is called with."""

    def hook(_module: Any, args: Any, kwargs: Any) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None and hasattr(ids, "shape"):
            shape = list(ids.shape)
            if shape not in shapes:
                shapes.append(shape)

    model.register_forward_pre_hook(hook, with_kwargs=True)


def measure(cfg: Config, device: str) -> tuple[int, dict[str, int], str, list[list[int]]]:
    """Run the trainer for two steps; return (peak bytes, peak breakdown, phase, shapes)."""
    import torch
    import transformers

    torch.manual_seed(0)
    shapes: list[list[int]] = []
    with tempfile.TemporaryDirectory(prefix="specc-mem-") as tmp:
        model_dir = os.path.join(tmp, "model")
        model = transformers.AutoModelForCausalLM.from_config(build_model_config(cfg))
        model.save_pretrained(model_dir)
        build_tokenizer(cfg.vocab).save_pretrained(model_dir)
        del model
        gc.collect()
        if device == "cuda":
            # cuBLAS allocates its workspace through the caching allocator on the first
            # matmul; create it before the baseline so that it is not counted.
            ones = torch.ones(64, 64, device="cuda", requires_grad=True)
            (ones @ ones).sum().backward()
            del ones
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            base = torch.cuda.memory_allocated()
        trainer = build_trainer(cfg, model_dir, os.path.join(tmp, "out"), device)
        _record_shapes(trainer.model, shapes)
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            trainer.train()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
            breakdown: dict[str, int] = {"Total": peak}
            phase = ""
        else:
            tracker = _make_tracker()
            tracker.track_external(
                *(m for m in (trainer.model, getattr(trainer, "ref_model", None)) if m is not None)
            )
            with tracker:
                trainer.train()
            snap = tracker.get_tracker_snapshot("peak")[torch.device("cpu")]
            breakdown = {str(getattr(k, "value", k)): int(v) for k, v in snap.items() if v}
            peak = int(snap["Total"])
            phase = tracker.peak_phase
        del trainer
        gc.collect()
    return peak, breakdown, phase, shapes


# ------------------------------------------------------------------ estimating


def memory_inputs(cfg: Config, device: str) -> Any:
    """``MemoryInputs`` for the configuration, filled from the settings TRL runs with."""
    from specc.compiler.memory import MemoryInputs
    from specc.spec.catalog.architectures import architecture_from_config
    from specc.spec.catalog.optim import lookup_optimizer, optimizer_state_bytes

    arch = architecture_from_config(build_model_config(cfg).to_dict())
    if arch is None:
        raise RuntimeError(f"{cfg.name}: specc cannot read the model config")
    adamw = lookup_optimizer("torch.optim.AdamW")
    state_bytes = optimizer_state_bytes(adamw, {}, 4) if adamw is not None else 8.0
    extra: dict[str, Any] = {}
    if cfg.algorithm == "dpo":
        extra = {"prompt_len": cfg.prompt_len}  # DPO's loss masks the prompt
    if cfg.algorithm == "grpo":
        # GRPOConfig: generation_batch_size = per_device_train_batch_size * steps_per_generation
        # (= gradient_accumulation_steps = 1 here) completions, num_generations per prompt;
        # one training micro batch = per_device_train_batch_size completions.
        extra = {"num_generations": cfg.num_generations, "max_new_tokens": cfg.completion_len,
                 "prompt_len": cfg.prompt_len, "kl_beta": cfg.beta,
                 "generation_batch_size": cfg.batch * 1}  # x steps_per_generation (1)
    return MemoryInputs(
        arch=arch, algorithm=cfg.algorithm, precision="float32",  # type: ignore[arg-type]
        micro_batch_size=cfg.batch, seq_len=cfg.seq_len, lora_enabled=cfg.lora,
        lora_r=cfg.lora_r, lora_targets=LORA_TARGETS, optimizer_state_bytes=state_bytes,
        activation_checkpointing=cfg.checkpointing, device_kind=device,  # type: ignore[arg-type]
        gradient_accumulation_steps=1, **extra,
    )


def estimate_bytes(cfg: Config, device: str) -> tuple[int, dict[str, int]]:
    """The estimate without its overhead component, and the components."""
    from specc.compiler.memory import estimate

    est = estimate(memory_inputs(cfg, device), 0)
    return est.total_bytes - est.components["overhead"], dict(est.components)


# ------------------------------------------------------------------ running


def run_config(cfg: Config, device: str = "cpu") -> Result:
    """Measure and estimate one configuration.

    On CPU the run uses one intra-op thread: these models are so small that thread
    synchronisation dominates (generation is ~10x slower with two threads on a
    two-core machine), and the tensors created -- what is measured -- do not depend on
    the thread count.
    """
    import torch

    start = time.perf_counter()
    threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)
    try:
        with _quiet():
            measured, breakdown, phase, shapes = measure(cfg, device)
    finally:
        torch.set_num_threads(threads)
    est, components = estimate_bytes(cfg, device)
    return Result(
        name=cfg.name, algorithm=cfg.algorithm, lora=cfg.lora, checkpointing=cfg.checkpointing,
        estimate_bytes=est, measured_bytes=measured, ratio=est / measured, device=device,
        seconds=round(time.perf_counter() - start, 2), components=components,
        peak_breakdown=breakdown, peak_phase=phase, shapes=shapes,
    )


@contextlib.contextmanager
def _quiet() -> Any:
    """Silence the libraries' progress output and warnings during a run."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    logging.getLogger("trl").setLevel(logging.ERROR)
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink):
        warnings.simplefilter("ignore")
        yield


def select(quick: bool = False, only: str | None = None) -> list[Config]:
    """The configurations to run: all, the quick subset, or those whose name contains ``only``."""
    chosen = [c for c in CONFIGS if c.quick] if quick else list(CONFIGS)
    if only:
        chosen = [c for c in chosen if only in c.name]
    return chosen


def resolve_device(choice: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``."""
    if choice != "auto":
        return choice
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def summary(results: list[Result]) -> dict[str, Any]:
    """Median and extreme ratios, and whether they meet the targets."""
    ratios = [r.ratio for r in results]
    worst_low = min(results, key=lambda r: r.ratio)
    worst_high = max(results, key=lambda r: r.ratio)
    median = statistics.median(ratios)
    return {
        "configs": len(results),
        "median_ratio": round(median, 4),
        "min_ratio": round(worst_low.ratio, 4), "min_config": worst_low.name,
        "max_ratio": round(worst_high.ratio, 4), "max_config": worst_high.name,
        "target_median": list(TARGET_MEDIAN), "target_each": list(TARGET_EACH),
        "median_ok": TARGET_MEDIAN[0] <= median <= TARGET_MEDIAN[1],
        "all_ok": all(TARGET_EACH[0] <= x <= TARGET_EACH[1] for x in ratios),
    }


def _mib(n: int) -> str:
    return f"{n / 2**20:9.2f}"


def print_table(results: list[Result], out: Any = sys.stdout) -> None:
    head = f"{'configuration':40} {'estimate MiB':>12} {'measured MiB':>12} {'ratio':>6}  peak at"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in results:
        print(f"{r.name:40} {_mib(r.estimate_bytes):>12} {_mib(r.measured_bytes):>12} "
              f"{r.ratio:6.3f}  {r.peak_phase}", file=out)
    s = summary(results)
    print("-" * len(head), file=out)
    print(f"median ratio {s['median_ratio']:.3f} (target {TARGET_MEDIAN[0]:.2f}-"
          f"{TARGET_MEDIAN[1]:.2f}); min {s['min_ratio']:.3f} ({s['min_config']}), "
          f"max {s['max_ratio']:.3f} ({s['max_config']}); each within "
          f"{TARGET_EACH[0]:.2f}-{TARGET_EACH[1]:.2f}: {'yes' if s['all_ok'] else 'NO'}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small CI subset")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--only", default=None, help="run configurations whose name has this")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if device == "cuda":
        from transformers.utils import is_triton_available

        if not is_triton_available():
            print("warning: no Triton: TRL's fused LM head runs its torch fallback, which the "
                  "estimate models only for device_kind cpu/mps", file=sys.stderr)
    configs = select(args.quick, args.only)
    if not configs:
        parser.error("no configuration selected")
    results: list[Result] = []
    for cfg in configs:
        results.append(run_config(cfg, device))
        if not args.json:
            r = results[-1]
            print(f"  {r.name}: ratio {r.ratio:.3f} ({r.seconds:.1f} s)", file=sys.stderr)
    if args.json:
        import torch
        import transformers
        import trl

        payload = {
            "device": device,
            "machine": {"python": platform.python_version(), "torch": torch.__version__,
                        "transformers": transformers.__version__, "trl": trl.__version__,
                        "cpus": os.cpu_count()},
            "results": [asdict(r) for r in results],
            "summary": summary(results),
        }
        print(json.dumps(payload, indent=2))
    else:
        print_table(results)
    s = summary(results)
    return 0 if s["median_ok"] and s["all_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
