"""What `specc run` checks on this machine before the study starts, for issue 13's keys:
a quantised base needs bitsandbytes and a CUDA GPU (N031), vLLM generation needs vllm and
a CUDA GPU (N032), tensor/pipeline/context parallelism is planned but not run (N033), and
DeepSpeed ZeRO needs deepspeed (N034). Each is an error at the key, before any trial.

Only `specc run` (``build_plan(for_run=True)``) calls this; it looks for packages without
importing them, and imports torch only to ask for CUDA when a key needs it.
"""

from __future__ import annotations

import importlib.util

from specc.spec.diagnostics import Collector
from specc.spec.facts import GENERATES
from specc.spec.models import Spec
from specc.spec.parallel import parallel


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def cuda_available() -> bool:
    """Whether a CUDA GPU is there (torch imported only now, for `specc run`)."""
    if not _installed("torch"):
        return False
    import torch

    return bool(torch.cuda.is_available())


def check_machine(spec: Spec, diags: Collector) -> None:
    pol = spec.policy
    q = pol.quantization
    if q is not None and pol.lora.enabled:
        missing = [] if _installed("bitsandbytes") else ["the `bitsandbytes` package"]
        if not cuda_available():
            missing.append("a CUDA GPU")
        if missing:
            diags.add("N031", f"`specc run` cannot load a {q.bits}-bit base here: it needs "
                      + " and ".join(missing), path=("policy", "quantization"), on_key=True,
                      hint="run on a machine with a CUDA GPU and `pip install bitsandbytes`, "
                      "or remove `policy.quantization` (LoRA on a bf16/fp16 base)")
    gen = pol.generation
    if gen is not None and gen.backend == "vllm" and spec.selected() in GENERATES:
        missing = [] if _installed("vllm") else ["the `vllm` package"]
        if not cuda_available():
            missing.append("a CUDA GPU")
        if spec.selected() not in {"grpo", "rloo"}:
            missing.append(f"a TRL trainer that generates with vLLM for `{spec.selected()}`")
        if missing:
            diags.add("N032", "`specc run` cannot generate with vLLM here: it needs "
                      + " and ".join(missing), path=("policy", "generation", "backend"),
                      hint="run on a CUDA machine with `pip install vllm`, or set "
                      "`backend: hf`")
    par = parallel(spec)
    if par.model > 1:
        key = next(iter(par.keys().values()), "policy.parallel")
        diags.add("N033", f"`specc run` trains data parallel only, not {par.describe()}",
                  path=tuple(key.split(".")),
                  hint="set the tensor/pipeline/context sizes to 1 to run with specc "
                  "(`specc plan` estimates them), or run with NeMo RL / Megatron")
    if par.strategy.startswith("zero") and par.source == "parallel" and par.gpus > 1 \
            and not _installed("deepspeed"):
        diags.add("N034", f"`strategy: {par.strategy}` needs the `deepspeed` package, which "
                  "is not installed", path=("policy", "parallel", "strategy"),
                  hint="`pip install deepspeed`, or use `strategy: fsdp` (no extra package)")
