"""The fixes `M001`/`M002` propose: each one applied to the spec and estimated again, so a
hint only names changes that would work for that trial, with the estimate each gives.

Candidates, in the order they are preferred (least change to what is trained first):
a micro batch of 1, activation checkpointing, 8-bit optimizer states, sharding over the
trial's GPUs (or over more GPUs), CPU offload, LoRA, QLoRA. A fix that alone does not fit
is dropped; when none fits alone the hint names the combination of all of them, or says
that nothing specc can change fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specc.compiler.memory_inputs import GIB, MemoryEstimate
from specc.spec.models import Spec
from specc.spec.parallel import parallel
from specc.spec.records import record

Estimator = Callable[[Spec], MemoryEstimate | None]


@record(frozen=True)
class Fix:
    """One change and the per-GPU estimate it gives."""

    text: str
    total_bytes: int
    fits: bool

    def describe(self) -> str:
        return f"{self.text} (~{self.total_bytes / GIB:.1f} GiB)"


def _with(spec: Spec, policy: dict[str, Any] | None = None,
          hardware: dict[str, Any] | None = None) -> Spec:
    """``spec`` with some `policy` / `hardware` fields replaced (nested blocks by dict)."""
    pol = spec.policy
    if policy:
        upd: dict[str, Any] = {}
        for key, value in policy.items():
            current = getattr(pol, key)
            upd[key] = current.model_copy(update=value) if isinstance(value, dict) \
                and hasattr(current, "model_copy") else value
        pol = pol.model_copy(update=upd)
    hw = spec.hardware.model_copy(update=hardware) if hardware else spec.hardware
    return spec.model_copy(update={"policy": pol, "hardware": hw})


def _candidates(spec: Spec) -> list[tuple[str, Spec]]:
    pol = spec.policy
    par = parallel(spec)
    out: list[tuple[str, Spec]] = []
    if pol.train_micro_batch_size > 1:
        out.append((f"train_micro_batch_size 1 (now {pol.train_micro_batch_size})",
                    _with(spec, {"train_micro_batch_size": 1})))
    if not pol.checkpointing:
        out.append(("activation_checkpointing: true",
                    _with(spec, {"activation_checkpointing": True})))
    if not pol.lora.enabled and "8bit" not in pol.optimizer.name.lower():
        out.append(("8-bit optimizer states (optimizer.name: bitsandbytes.optim.AdamW8bit)",
                    _with(spec, {"optimizer": {"name": "bitsandbytes.optim.AdamW8bit"}})))
    sharded = par.strategy in {"fsdp", "zero3"}
    if not sharded and par.gpus > 1:
        out.append((f"policy.parallel.strategy: fsdp (shard over the trial's {par.gpus} GPUs)",
                    _with(spec, {"parallel": {"strategy": "fsdp"}})))
    if par.source == "parallel" and spec.hardware.gpus_per_trial is None:
        for n in (2, 4, 8):
            if n > par.gpus:
                out.append((f"fsdp over {n} GPUs (hardware.gpus_per_node: {n}, "
                             "policy.parallel.strategy: fsdp)",
                             _with(spec, {"parallel": {"strategy": "fsdp"}},
                                   {"gpus_per_node": n, "num_nodes": 1})))
    if sharded and not par.cpu_offload and par.source == "parallel":
        out.append(("policy.parallel.cpu_offload: true (host memory holds the shards)",
                    _with(spec, {"parallel": {"cpu_offload": True}})))
    if not pol.lora.enabled:
        out.append(("lora.enabled: true", _with(spec, {"lora": {"enabled": True}})))
    if pol.quantization is None:
        from specc.spec.models.parallel import Quantization

        out.append(("QLoRA (lora.enabled: true, quantization: {bits: 4})",
                    _with(spec, {"lora": {"enabled": True}, "quantization": Quantization()})))
    return out


def fixes(spec: Spec, estimator: Estimator) -> list[Fix]:
    """The candidate fixes with their estimates (those that fit first, in preference order;
    then, if none fits alone, all of them combined)."""
    found: list[Fix] = []
    tried: list[tuple[str, Spec]] = _candidates(spec)
    for text, changed in tried:
        est = estimator(changed)
        if est is not None:
            found.append(Fix(text, est.total_bytes, est.fits))
    working = [f for f in found if f.fits]
    if working:
        # several ways of sharding over more GPUs: keep the fewest GPUs that fit
        first_more = next((f for f in working if f.text.startswith("fsdp over")), None)
        return [f for f in working if not f.text.startswith("fsdp over") or f is first_more]
    return _combined(spec, found, estimator)


def _combined(spec: Spec, found: list[Fix], estimator: Estimator) -> list[Fix]:
    """Nothing fits alone: the best pairs, then everything at once."""
    quant = next((s for t, s in _candidates(spec) if t.startswith("QLoRA")), spec)
    combo = quant
    for text, _ in _candidates(spec):
        if text.startswith("train_micro"):
            combo = _with(combo, {"train_micro_batch_size": 1})
        elif text.startswith("activation"):
            combo = _with(combo, {"activation_checkpointing": True})
    est = estimator(combo)
    best = sorted(found, key=lambda f: f.total_bytes)[:2]
    if est is not None:
        best.append(Fix("QLoRA with micro batch 1 and activation checkpointing",
                        est.total_bytes, est.fits))
    return best


def hint(spec: Spec, estimator: Estimator) -> str:
    """The M001/M002 hint: the fixes that work, with their estimates."""
    found = fixes(spec, estimator)
    if not found:
        return "no change specc can make fits this GPU: use a GPU with more memory"
    alone = [f for f in found if not f.text.startswith("QLoRA with")]
    if any(f.fits for f in alone):
        return "fits with: " + "; or ".join(f.describe() for f in alone if f.fits)
    combined = [f for f in found if f.text.startswith("QLoRA with")]
    closest = "closest alone: " + "; ".join(f.describe() for f in alone)
    if combined and combined[0].fits:
        return f"no single change fits; together: {combined[0].describe()}; {closest}"
    return f"nothing specc can change fits; {closest}; use a GPU with more memory"
