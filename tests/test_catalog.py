"""Offline catalogs: GPUs, architectures, optimizer/scheduler signatures.

The architecture and signature tables are cross-checked against the real
libraries (transformers on the meta device, ``inspect.signature`` of torch), so a
wrong table number or a torch upgrade that renames a keyword fails here.
"""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys
from typing import Any

import pytest

from specc.spec.catalog.architectures import (
    ARCHITECTURES,
    TINY_LLAMA,
    Architecture,
    architecture_from_config,
    architecture_names,
    lookup_architecture,
)
from specc.spec.catalog.gpus import GPUS, ambiguous_gpu_matches, gpu_names, lookup_gpu
from specc.spec.catalog.optim import (
    HF_OPTIM_NAMES,
    OPTIMIZERS,
    REQUIRED,
    SCHEDULERS,
    Signature,
    check_kwargs,
    lookup_optimizer,
    lookup_scheduler,
    optimizer_state_bytes,
)

# --------------------------------------------------------------------------- GPUs


@pytest.mark.parametrize(
    "spelling",
    ["A100-80GB", "a100-80gb", "A100_80GB", "a100 80gb", "NVIDIA A100 80GB", "nvidia-a100-80gb",
     "A100-SXM4-80GB", " A100.80GB "],
)
def test_gpu_lookup_is_case_and_separator_insensitive(spelling: str) -> None:
    gpu = lookup_gpu(spelling)
    assert gpu is not None
    assert gpu.name == "A100-80GB"
    assert gpu.memory_gb == 80
    assert gpu.bf16 and gpu.tf32 and gpu.kind == "cuda"


@pytest.mark.parametrize("family", ["A100", "a100", "V100", "H100", "nvidia a100"])
def test_ambiguous_family_names_do_not_resolve(family: str) -> None:
    assert lookup_gpu(family) is None
    assert len(ambiguous_gpu_matches(family)) >= 2
    assert all(name in GPUS for name in ambiguous_gpu_matches(family))


def test_unknown_gpu_is_none() -> None:
    assert lookup_gpu("TPU-v5") is None
    assert lookup_gpu("") is None
    assert ambiguous_gpu_matches("TPU-v5") == []


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("V100-16GB", (16, False, False, True, "cuda")),
        ("V100-32GB", (32, False, False, True, "cuda")),
        ("T4", (16, False, False, True, "cuda")),
        ("A10G", (24, True, True, True, "cuda")),
        ("L4", (24, True, True, True, "cuda")),
        ("RTX-3090", (24, True, True, True, "cuda")),
        ("RTX-4090", (24, True, True, True, "cuda")),
        ("A100-40GB", (40, True, True, True, "cuda")),
        ("H100-80GB", (80, True, True, True, "cuda")),
        ("H200", (141, True, True, True, "cuda")),
        ("M1-Max-64GB", (64, False, False, True, "mps")),
        ("M2-Max-96GB", (96, True, False, True, "mps")),
        ("CPU", (0, True, False, False, "cpu")),
    ],
)
def test_gpu_facts(name: str, facts: tuple[float, bool, bool, bool, str]) -> None:
    """(memory_gb, bf16, tf32, fp16, kind) of each entry the brief names."""
    gpu = lookup_gpu(name)
    assert gpu is not None and gpu.name == name
    assert (gpu.memory_gb, gpu.bf16, gpu.tf32, gpu.fp16, gpu.kind) == facts


def test_gpu_names_and_helpers() -> None:
    names = gpu_names()
    assert names == list(GPUS)
    assert len(names) == len(set(names))
    assert {"A100-80GB", "T4", "M1-Max-64GB", "CPU"} <= set(names)
    for gpu in GPUS.values():
        assert gpu.doc, gpu.name
        assert lookup_gpu(gpu.name) is gpu
        for alias in gpu.aliases:
            assert lookup_gpu(alias) is gpu, alias
    a100 = GPUS["A100-80GB"]
    assert a100.capacity_bytes == 80 * 1024**3
    assert not GPUS["T4"].supports("bfloat16") and GPUS["T4"].supports("fp16")
    assert lookup_gpu("Tesla T4") is GPUS["T4"]
    assert lookup_gpu("Apple M1 Max 64GB") is GPUS["M1-Max-64GB"]


# ------------------------------------------------------------------ architectures


def test_tiny_llama_contract() -> None:
    arch = lookup_architecture("specc:tiny-llama")
    assert arch is TINY_LLAMA
    assert (arch.hidden_size, arch.intermediate_size, arch.num_layers, arch.num_attention_heads,
            arch.num_kv_heads, arch.vocab_size, arch.tie_embeddings,
            arch.max_position_embeddings) == (64, 172, 2, 4, 2, 288, True, 1024)
    assert arch.head_dim == 16


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("meta-llama/Llama-3.2-1B", "Llama-3.2-1B"),
        ("meta-llama/Llama-3.2-1B-Instruct", "Llama-3.2-1B"),
        ("llama-3.2-1b-instruct", "Llama-3.2-1B"),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "Llama-3.1-8B"),
        ("meta-llama/Llama-3.3-70B-Instruct", "Llama-3.1-70B"),
        ("Qwen/Qwen2.5-7B-Instruct", "Qwen2.5-7B"),
        ("qwen/qwen2.5-coder-7b-instruct", "Qwen2.5-Coder-7B"),
        ("mistralai/Mistral-7B-Instruct-v0.2", "Mistral-7B-v0.1"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "Mistral-7B-v0.3"),
        ("google/gemma-2-9b-it", "Gemma-2-9B"),
        ("deepseek-ai/deepseek-coder-6.7b-instruct", "DeepSeek-Coder-6.7B"),
        ("deepseek-ai/deepseek-coder-6.7b-base", "DeepSeek-Coder-6.7B"),
        ("gpt2", "GPT-2"),
        ("openai-community/gpt2", "GPT-2"),
        ("microsoft/DialoGPT-medium", "DialoGPT-medium"),
        ("SPECC:Tiny-Llama", "specc:tiny-llama"),
    ],
)
def test_architecture_lookup(spelling: str, canonical: str) -> None:
    arch = lookup_architecture(spelling)
    assert arch is not None, spelling
    assert arch.name == canonical


@pytest.mark.parametrize("spelling", ["", "meta-llama/Llama-4-400B", "tiny-llama", "gpt3"])
def test_unknown_architecture_is_none(spelling: str) -> None:
    assert lookup_architecture(spelling) is None


def test_architecture_names_cover_the_table() -> None:
    assert architecture_names() == list(ARCHITECTURES)
    assert {"Llama-3.1-8B", "Qwen2.5-0.5B", "Gemma-2-27B", "GPT-2"} <= set(architecture_names())


# Published parameter counts (model cards / safetensors metadata).
_PUBLISHED = {
    "Llama-3.2-1B": 1_235_814_400,
    "Llama-3.2-3B": 3_212_749_824,
    "Llama-3.1-8B": 8_030_261_248,
    "Llama-3.1-70B": 70_553_706_496,
    "Qwen2.5-0.5B": 494_032_768,
    "Qwen2.5-1.5B": 1_543_714_304,
    "Qwen2.5-7B": 7_615_616_512,
    "Mistral-7B-v0.1": 7_241_732_096,
    "Mistral-7B-v0.3": 7_248_023_552,
    "Gemma-2-2B": 2_614_341_888,
    "Gemma-2-9B": 9_241_705_984,
    "Gemma-2-27B": 27_227_128_320,
    "DeepSeek-Coder-6.7B": 6_740_512_768,
    "GPT-2": 124_439_808,
    "DialoGPT-medium": 354_823_168,
}


@pytest.mark.parametrize(("name", "count"), sorted(_PUBLISHED.items()))
def test_published_parameter_counts(name: str, count: int) -> None:
    assert ARCHITECTURES[name].num_params() == count


def _hf_config(arch: Architecture) -> Any:
    """The transformers config of a table entry."""
    import transformers
    if arch.family == "gpt2":
        return transformers.GPT2Config(
            n_embd=arch.hidden_size, n_inner=arch.intermediate_size, n_layer=arch.num_layers,
            n_head=arch.num_attention_heads, vocab_size=arch.vocab_size,
            n_positions=arch.max_position_embeddings, tie_word_embeddings=arch.tie_embeddings,
        )
    cls = {
        "llama": transformers.LlamaConfig,
        "mistral": transformers.MistralConfig,
        "qwen2": transformers.Qwen2Config,
        "gemma2": transformers.Gemma2Config,
    }[arch.family]
    return cls(
        hidden_size=arch.hidden_size, intermediate_size=arch.intermediate_size,
        num_hidden_layers=arch.num_layers, num_attention_heads=arch.num_attention_heads,
        num_key_value_heads=arch.num_kv_heads, vocab_size=arch.vocab_size,
        tie_word_embeddings=arch.tie_embeddings, head_dim=arch.head_dim,
        max_position_embeddings=arch.max_position_embeddings,
    )


def _meta_model(config: Any) -> Any:
    import torch
    import transformers
    with torch.device("meta"):
        return transformers.AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_num_params_matches_transformers(name: str) -> None:
    arch = ARCHITECTURES[name]
    model = _meta_model(_hf_config(arch))
    assert arch.num_params() == model.num_parameters()
    assert arch.num_params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_architecture_from_config_round_trip(name: str) -> None:
    arch = ARCHITECTURES[name]
    config = _hf_config(arch).to_dict()
    back = architecture_from_config(config)
    assert back is not None
    assert not back.approximate
    assert back.num_params() == arch.num_params()
    for field in ("hidden_size", "intermediate_size", "num_layers", "num_attention_heads",
                  "num_kv_heads", "vocab_size", "tie_embeddings", "head_dim",
                  "max_position_embeddings", "family", "qkv_bias"):
        assert getattr(back, field) == getattr(arch, field), field


@pytest.mark.parametrize("name", ["specc:tiny-llama", "Llama-3.2-1B", "Qwen2.5-0.5B",
                                  "Gemma-2-2B", "Mistral-7B-v0.3", "GPT-2"])
def test_linear_shapes_match_the_model(name: str) -> None:
    arch = ARCHITECTURES[name]
    model = _meta_model(_hf_config(arch))
    layer = model.transformer.h[0] if arch.family == "gpt2" else model.model.layers[0]
    modules = dict(layer.named_modules())
    for module_name, (d_in, d_out) in arch.linear_shapes().items():
        full = module_name if arch.family == "gpt2" else (
            f"self_attn.{module_name}" if module_name in {"q_proj", "k_proj", "v_proj", "o_proj"}
            else f"mlp.{module_name}")
        weight = modules[full].weight
        if arch.family == "gpt2":  # Conv1D stores (in, out)
            assert tuple(weight.shape) == (d_in, d_out), module_name
        else:  # nn.Linear stores (out, in)
            assert tuple(weight.shape) == (d_out, d_in), module_name


def test_architecture_from_config_edge_cases() -> None:
    assert architecture_from_config({}) is None
    assert architecture_from_config({"model_type": "llama", "hidden_size": 64}) is None
    phi = architecture_from_config({
        "model_type": "phi3", "hidden_size": 128, "intermediate_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100,
        "_name_or_path": "someone/phi",
    })
    assert phi is not None and phi.approximate and phi.name == "someone/phi"
    assert phi.num_kv_heads == 4 and phi.head_dim == 32 and not phi.tie_embeddings
    mistral_null_head = architecture_from_config({
        "model_type": "mistral", "hidden_size": 128, "intermediate_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "vocab_size": 100, "head_dim": None,
    })
    assert mistral_null_head is not None and mistral_null_head.head_dim == 32


def test_lora_params_match_peft() -> None:
    import peft
    import torch
    import transformers
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    torch.manual_seed(0)
    for r, chosen in ((16, targets), (8, ["q_proj", "v_proj"])):
        peft_model = peft.get_peft_model(
            transformers.AutoModelForCausalLM.from_config(  # type: ignore[no-untyped-call]
                _hf_config(TINY_LLAMA)),
            peft.LoraConfig(r=r, lora_alpha=2 * r, target_modules=chosen),
        )
        trainable, _ = peft_model.get_nb_trainable_parameters()
        assert TINY_LLAMA.lora_params(r, chosen) == trainable
    assert TINY_LLAMA.lora_params(16, ["all-linear"]) == TINY_LLAMA.lora_params(16, targets)
    gpt2 = ARCHITECTURES["GPT-2"]
    # "c_proj" hits both Conv1D c_proj modules (PEFT's suffix rule).
    h, i = gpt2.hidden_size, gpt2.intermediate_size
    assert gpt2.lora_params(4, ["c_proj"]) == 4 * ((h + h) + (i + h)) * gpt2.num_layers


# ------------------------------------------------------------ optimizer signatures


def _resolve(qualname: str) -> Any:
    module_name, _, attr = qualname.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def _recorded_vs_real(sig: Signature, skip_first: str) -> None:
    cls = _resolve(sig.qualname)
    real = [p for p in inspect.signature(cls.__init__).parameters.values()
            if p.name not in {"self", skip_first}]
    assert [p.name for p in real] == sig.param_names(), sig.qualname
    for real_param in real:
        recorded = sig.param(real_param.name)
        assert recorded is not None
        if real_param.default is inspect.Parameter.empty:
            assert recorded.default is REQUIRED, (sig.qualname, real_param.name)
        else:
            assert recorded.default == real_param.default, (sig.qualname, real_param.name)
            assert type(recorded.default) is type(real_param.default), (
                sig.qualname, real_param.name)


_TORCH_OPTIMIZERS = [q for q in OPTIMIZERS if q.startswith("torch.")]
_BNB_OPTIMIZERS = [q for q in OPTIMIZERS if q.startswith("bitsandbytes.")]


@pytest.mark.parametrize("qualname", _TORCH_OPTIMIZERS)
def test_torch_optimizer_signature_drift(qualname: str) -> None:
    import torch  # noqa: F401  (a dev dependency: these run in CI)
    _recorded_vs_real(OPTIMIZERS[qualname], "params")


@pytest.mark.parametrize("qualname", _BNB_OPTIMIZERS)
def test_bitsandbytes_optimizer_signature_drift(qualname: str) -> None:
    _recorded_vs_real(OPTIMIZERS[qualname], "params")


@pytest.mark.parametrize("qualname", list(SCHEDULERS))
def test_torch_scheduler_signature_drift(qualname: str) -> None:
    import torch  # noqa: F401  (a dev dependency: these run in CI)
    _recorded_vs_real(SCHEDULERS[qualname], "optimizer")


def test_recorded_defaults_pass_their_own_checks() -> None:
    for sig in [*OPTIMIZERS.values(), *SCHEDULERS.values()]:
        defaults = {p.name: p.default for p in sig.params if not p.required}
        problems = [pr for pr in check_kwargs(sig, defaults) if pr[1] != "missing"]
        if sig.short_name == "OneCycleLR":
            problems = [pr for pr in problems if pr[0] != "total_steps"]
        assert problems == [], (sig.qualname, problems)
        assert sig.doc


@pytest.mark.parametrize(
    ("name", "qualname"),
    [
        ("torch.optim.AdamW", "torch.optim.AdamW"),
        ("AdamW", "torch.optim.AdamW"),
        ("adamw", "torch.optim.AdamW"),
        ("adamw_torch", "torch.optim.AdamW"),
        ("adamw_torch_fused", "torch.optim.AdamW"),
        ("TORCH.OPTIM.SGD", "torch.optim.SGD"),
        ("paged_adamw_8bit", "bitsandbytes.optim.PagedAdamW8bit"),
        ("adamw_8bit", "bitsandbytes.optim.AdamW8bit"),
        ("adamw_bnb_8bit", "bitsandbytes.optim.AdamW8bit"),
        ("bnb.optim.AdamW8bit", "bitsandbytes.optim.AdamW8bit"),
        ("bnb.PagedAdamW", "bitsandbytes.optim.PagedAdamW"),
        ("bnb.optim.AdamW", "bitsandbytes.optim.AdamW"),
        ("adafactor", "torch.optim.Adafactor"),
    ],
)
def test_lookup_optimizer(name: str, qualname: str) -> None:
    sig = lookup_optimizer(name)
    assert sig is not None and sig.qualname == qualname


def test_lookup_rejects_unlisted_names() -> None:
    assert lookup_optimizer("torch.optim.LBFGS") is None
    assert lookup_optimizer("os.system") is None
    assert lookup_scheduler("torch.optim.lr_scheduler.LambdaLR") is None
    sig = lookup_scheduler("linearlr")
    assert sig is not None and sig.qualname == "torch.optim.lr_scheduler.LinearLR"
    assert lookup_scheduler("torch.optim.lr_scheduler.CosineAnnealingLR") is not None


def test_hf_optim_names_are_valid_training_arguments() -> None:
    from transformers import training_args
    valid = {o.value for o in training_args.OptimizerNames}
    assert set(HF_OPTIM_NAMES) <= set(OPTIMIZERS)
    assert set(HF_OPTIM_NAMES.values()) <= valid
    assert HF_OPTIM_NAMES["torch.optim.AdamW"] == "adamw_torch"
    assert HF_OPTIM_NAMES["bitsandbytes.optim.PagedAdamW8bit"] == "paged_adamw_8bit"


def _kinds(problems: list[tuple[str, str, str]]) -> dict[str, str]:
    return {name: kind for name, kind, _ in problems}


def test_check_kwargs_accepts_the_spec_example() -> None:
    adamw = OPTIMIZERS["torch.optim.AdamW"]
    assert check_kwargs(adamw, {"lr": 5e-6, "weight_decay": 0.01, "betas": [0.9, 0.999],
                                "eps": 1e-8}) == []
    linear = SCHEDULERS["torch.optim.lr_scheduler.LinearLR"]
    assert check_kwargs(linear, {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 50}) == []
    constant = SCHEDULERS["torch.optim.lr_scheduler.ConstantLR"]
    assert check_kwargs(constant, {"factor": 1.0, "total_iters": 10_000_000_000}) == []


def test_check_kwargs_finds_each_problem_kind() -> None:
    adamw = OPTIMIZERS["torch.optim.AdamW"]
    problems = check_kwargs(adamw, {"lr": 0, "betas": [0.9, 1.0], "eps": "1e-8",
                                    "weight_decay": -0.1, "fused": None, "foreach": "yes",
                                    "amsgrad": 1, "lr_decay": 0.1})
    assert _kinds(problems) == {"lr": "range", "betas": "range", "eps": "type",
                                "weight_decay": "range", "foreach": "type", "amsgrad": "type",
                                "lr_decay": "unknown"}
    assert problems[-1][0] == "lr_decay"
    assert all(message for _, _, message in problems)
    assert check_kwargs(adamw, {"betas": [0.9]})[0][1] == "type"
    assert check_kwargs(adamw, {"lr": float("nan")})[0][1] == "range"
    assert check_kwargs(adamw, {"lr": True})[0][1] == "type"

    cosine = SCHEDULERS["torch.optim.lr_scheduler.CosineAnnealingLR"]
    assert _kinds(check_kwargs(cosine, {})) == {"T_max": "missing"}
    assert _kinds(check_kwargs(cosine, {"T_max": 10.5})) == {"T_max": "type"}
    assert _kinds(check_kwargs(cosine, {"T_max": 0})) == {"T_max": "range"}

    linear = SCHEDULERS["torch.optim.lr_scheduler.LinearLR"]
    assert _kinds(check_kwargs(linear, {"start_factor": 0.0})) == {"start_factor": "range"}
    assert _kinds(check_kwargs(linear, {"end_factor": 1.5, "total_iters": 0})) == {
        "end_factor": "range", "total_iters": "range"}

    multistep = SCHEDULERS["torch.optim.lr_scheduler.MultiStepLR"]
    assert _kinds(check_kwargs(multistep, {"milestones": [50, 20]})) == {"milestones": "range"}
    assert _kinds(check_kwargs(multistep, {"milestones": [1.5]})) == {"milestones": "type"}

    onecycle = SCHEDULERS["torch.optim.lr_scheduler.OneCycleLR"]
    assert _kinds(check_kwargs(onecycle, {"max_lr": 1e-3})) == {"total_steps": "missing"}
    assert check_kwargs(onecycle, {"max_lr": [1e-3, 2e-3], "total_steps": 100}) == []
    assert check_kwargs(onecycle, {"max_lr": 1e-3, "epochs": 2, "steps_per_epoch": 10}) == []
    assert _kinds(check_kwargs(onecycle, {"max_lr": 1e-3, "total_steps": 10,
                                          "anneal_strategy": "cosine"})) == {
        "anneal_strategy": "range"}

    sgd = OPTIMIZERS["torch.optim.SGD"]
    assert _kinds(check_kwargs(sgd, {"nesterov": True})) == {"nesterov": "range"}
    assert check_kwargs(sgd, {"nesterov": True, "momentum": 0.9}) == []

    bnb = OPTIMIZERS["bitsandbytes.optim.AdamW"]
    assert _kinds(check_kwargs(bnb, {"optim_bits": 16})) == {"optim_bits": "range"}


def test_check_kwargs_agrees_with_torch_on_ranges() -> None:
    """Values our ranges refuse, torch refuses too (where torch checks at all)."""
    import torch
    param = [torch.nn.Parameter(torch.zeros(2))]
    bad: list[tuple[str, dict[str, Any]]] = [
        ("torch.optim.AdamW", {"lr": -1.0}),
        ("torch.optim.AdamW", {"betas": (0.9, 1.0)}),
        ("torch.optim.AdamW", {"eps": -1e-8}),
        ("torch.optim.AdamW", {"weight_decay": -0.1}),
        ("torch.optim.SGD", {"momentum": -0.1}),
        ("torch.optim.SGD", {"nesterov": True}),
        ("torch.optim.Adagrad", {"lr_decay": -1.0}),
        ("torch.optim.RMSprop", {"alpha": -0.5}),
        ("torch.optim.Adafactor", {"beta2_decay": 0.5}),
    ]
    for qualname, kwargs in bad:
        assert check_kwargs(OPTIMIZERS[qualname], kwargs), (qualname, kwargs)
        with pytest.raises(ValueError):
            _resolve(qualname)(param, **kwargs)
    opt = torch.optim.SGD(param, lr=0.1)
    bad_sched: list[tuple[str, dict[str, Any]]] = [
        ("torch.optim.lr_scheduler.LinearLR", {"start_factor": 0.0}),
        ("torch.optim.lr_scheduler.LinearLR", {"end_factor": 1.5}),
        ("torch.optim.lr_scheduler.ConstantLR", {"factor": 1.5}),
        ("torch.optim.lr_scheduler.CosineAnnealingWarmRestarts", {"T_0": 0}),
        ("torch.optim.lr_scheduler.OneCycleLR", {"max_lr": 0.1}),
    ]
    for qualname, kwargs in bad_sched:
        assert check_kwargs(SCHEDULERS[qualname], kwargs), (qualname, kwargs)
        with pytest.raises(ValueError):
            _resolve(qualname)(opt, **kwargs)


def test_optimizer_state_bytes_matches_torch_state() -> None:
    import torch
    cases: list[tuple[str, dict[str, Any], Any]] = [
        ("torch.optim.AdamW", {}, torch.bfloat16),
        ("torch.optim.AdamW", {}, torch.float32),
        ("torch.optim.AdamW", {"amsgrad": True}, torch.float32),
        ("torch.optim.SGD", {}, torch.float32),
        ("torch.optim.SGD", {"momentum": 0.9}, torch.bfloat16),
        ("torch.optim.RMSprop", {"momentum": 0.9, "centered": True}, torch.float32),
        ("torch.optim.Adagrad", {}, torch.float32),
        ("torch.optim.NAdam", {}, torch.float32),
    ]
    n = 4096
    for qualname, kwargs, dtype in cases:
        param = torch.nn.Parameter(torch.zeros(n, dtype=dtype))
        param.grad = torch.ones_like(param)
        opt = _resolve(qualname)([param], lr=1e-3, **kwargs)
        opt.step()
        measured = sum(v.numel() * v.element_size() for v in opt.state[param].values()
                       if torch.is_tensor(v) and v.numel() == n)
        sig = OPTIMIZERS[qualname]
        expected = optimizer_state_bytes(sig, kwargs, param.element_size())
        assert expected * n == measured, (qualname, kwargs, dtype)
    assert optimizer_state_bytes(OPTIMIZERS["bitsandbytes.optim.PagedAdamW8bit"]) == 2.0
    assert optimizer_state_bytes(OPTIMIZERS["bitsandbytes.optim.AdamW"],
                                 {"optim_bits": 8}) == 2.0
    assert optimizer_state_bytes(OPTIMIZERS["bitsandbytes.optim.AdamW"]) == 8.0
    assert OPTIMIZERS["torch.optim.AdamW"].state_bytes_per_param == 8.0


def test_catalog_imports_no_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "import specc.spec.catalog.gpus, specc.spec.catalog.architectures\n"
        "import specc.spec.catalog.optim, specc.compiler.memory\n"
        "heavy = {'torch', 'transformers', 'trl', 'peft', 'optuna', 'textual', 'numpy'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
