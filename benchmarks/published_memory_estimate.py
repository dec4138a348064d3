"""specc's estimate of each published peak-memory point (benchmarks/published_memory.json).

:func:`inputs` turns a point's recorded setting into :class:`MemoryInputs`; :func:`estimate`
gives GiB per GPU, or None with the reason specc cannot express that setting
(:func:`unexpressible`).  The mapping reads only what the point records: model shape,
method, quantisation, precision, optimizer, sequence, sharding, the framework's loss
path.  No point has its own correction; the global constants are the estimator's
(compiler/memory*.py).

    python3 benchmarks/published_memory_estimate.py     # ratios and the summary

Used by benchmarks/published_memory.py --write (the table's estimate/ratio columns) and
tests/test_published_memory.py (the calibration bounds).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT.parent) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT.parent))

from specc.compiler.memory import GIB, MemoryInputs  # noqa: E402
from specc.compiler.memory import estimate as _estimate  # noqa: E402
from specc.spec.catalog.architectures import Architecture  # noqa: E402

Point = dict[str, Any]

#: torchtune's module names -> Hugging Face's (PEFT target names).
_TORCHTUNE = {"output_proj": "o_proj", "w1": "gate_proj", "w2": "down_proj",
              "w3": "up_proj"}
_ALL = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def unexpressible(point: Point) -> str | None:
    """Why specc cannot express a point's setting (None: it can)."""
    extras, opt = point["extras"], point["optimizer"]
    if extras.get("compile"):
        return "torch.compile (fuses and frees activations; not modelled)"
    if opt.get("in_backward"):
        return "optimizer step in backward (no full gradient set; not modelled)"
    if point["activation_offloading"]:
        return "activation offloading (not modelled)"
    if point["method"]["kind"] in {"dora", "qdora"}:
        return "DoRA (not modelled)"
    if point["algorithm"] != "sft":
        return f"{point['algorithm']} as run by {point['framework']['name']} (loss path "\
               "not recorded precisely enough)"
    if point["confidence"] == "low":
        return "low confidence: the figure cannot be tied to one setting"
    if point["parallel"]["cpu_offload"] and point["method"].get("quantization"):
        return "FSDP1 CPU offload of a quantised base (how FSDP1 stages offloaded 4-bit "\
            "flat parameters is not modelled)"
    if point["model"]["id"].startswith("unsloth/"):
        return "unsloth kernels"
    return None


def _arch(point: Point) -> Architecture:
    m = point["model"]
    name = m["id"].lower()
    family = "qwen2" if "qwen" in name else "mistral" if "mistral" in name else "llama"
    return Architecture(
        name=m["id"], hidden_size=m["hidden"], intermediate_size=m["intermediate"],
        num_layers=m["layers"], num_attention_heads=m["heads"], num_kv_heads=m["kv_heads"],
        vocab_size=m["vocab"], tie_embeddings=m["tied_embeddings"], head_dim=m["head_dim"],
        max_position_embeddings=131072, family=family, qkv_bias=bool(m["attention_bias"]))


def _targets(lora: dict[str, Any]) -> tuple[str, ...]:
    names = [_TORCHTUNE.get(t, t) for t in lora["targets"]]
    return _ALL if "all-linear" in names else tuple(names)


def _loss(point: Point) -> tuple[bool, int]:
    """(fused LM head, logit chunks) of the framework's loss."""
    loss = point["extras"]["loss"].lower()
    if loss.startswith("liger") or "fused linear" in loss:
        return True, 1
    if "cewithchunked" in loss:
        return False, 8
    return False, 1


def _kbit_prepared(point: Point) -> bool:
    """Whether PEFT's ``prepare_model_for_kbit_training`` ran (fp32 embeddings, norms and
    head, so an fp32 residual stream).  TRL < 1's SFTTrainer calls it for every quantised
    model except sharded QLoRA loaded on the CPU/meta device (``is_sharded_qlora``: the
    PEFT examples' FSDP/ZeRO-3 recipes with ``bnb_4bit_quant_storage``); fms-acceleration
    loads the quantised model on each rank's GPU, so it runs there too.  torchtune never
    calls it."""
    if not point["method"].get("quantization"):
        return False
    framework = point["framework"]["name"].lower()
    if "torchtune" in framework:
        return False
    # ZeRO-3's zero.Init leaves empty partitions on the GPU, so TRL's is_sharded_qlora
    # check (4-bit data on cpu/meta) is false there and only FSDP's low-memory loading skips
    return "peft examples" not in framework or point["parallel"]["strategy"] != "fsdp"


def inputs(point: Point) -> MemoryInputs:
    """The estimator's inputs for one point's recorded setting."""
    method, prec, opt, seq = (point["method"], point["precision"], point["optimizer"],
                              point["sequence"])
    par = point["parallel"]
    lora = method.get("lora")
    quant = method.get("quantization")
    weights = prec["weights"]
    master = weights.startswith("fp32") and par["strategy"] in {"fsdp", "single", "ddp"}
    compute = "float16" if "fp16" in prec["compute"] else "bfloat16"
    if weights.startswith("fp32") and prec["compute"].startswith("fp32"):
        compute = "float32"
    adapter_fp32 = bool(lora) and "fp32" in str(lora.get("adapter_dtype"))
    param_bytes = 4 if (master or adapter_fp32 or compute == "float32") else 2
    state = (2.0 if opt["state_bits"] == 8 else 2.0 * param_bytes)
    fused, chunks = _loss(point)
    return MemoryInputs(
        arch=_arch(point), algorithm=point["algorithm"], precision=compute,  # type: ignore[arg-type]
        micro_batch_size=seq["micro_batch"], seq_len=seq["seq_len"],
        lora_enabled=bool(lora), lora_r=lora["r"] if lora else 16,
        lora_targets=_targets(lora) if lora else _ALL,
        lora_dropout=float(lora.get("dropout") or 0.0) if lora else 0.0,
        adapter_bytes=4 if adapter_fp32 or not lora else 2,
        optimizer_state_bytes=state,
        activation_checkpointing=bool(point["activation_checkpointing"]),
        world_size=par["num_gpus"], strategy="ddp" if par["strategy"] == "single"
        else par["strategy"], cpu_offload=bool(par["cpu_offload"]),
        quant_bits=int(quant["bits"]) if quant else 0,
        quant_double=bool(quant.get("double_quant", True)) if quant else True,
        kbit_fp32_rest=_kbit_prepared(point),
        master_weights=master,
        paged_optimizer=bool(opt.get("paged")),
        fused_lm_head=fused, logit_chunks=chunks,
        gradient_accumulation_steps=seq["grad_accum"],
        packing=bool(seq["packing"]), device_kind="cuda",
    )


#: What a reading of reserved or device memory adds to the allocated peak specc
#: estimates: PyTorch's caching allocator rounds blocks up (2 MiB / 20 MiB segments) and
#: keeps freed blocks cached, ~8% above the allocated peak.  One global constant, for
#: the ``peak_reserved`` and ``device_used`` metrics only.
RESERVED_OVER_ALLOCATED = 1.08
RESERVED_METRICS = frozenset({"peak_reserved", "device_used"})


def estimate(point: Point) -> float | None:
    """specc's per-GPU estimate in GiB of what the point measured (allocated, or with the
    allocator's reserve for reserved/device readings); None when not expressible."""
    if unexpressible(point) is not None:
        return None
    capacity = int(point["gpu"]["memory_gb"] * GIB) if point["gpu"].get("memory_gb") else 0
    allocated = _estimate(inputs(point), capacity).total_bytes / GIB
    if point["measured"]["metric"] in RESERVED_METRICS:
        return allocated * RESERVED_OVER_ALLOCATED
    return allocated


def ratios(points: list[Point]) -> dict[str, float]:
    """id -> estimate / measured for every expressible point."""
    out = {}
    for p in points:
        value = estimate(p)
        if value is not None and p["measured"]["kind"] == "peak":
            out[p["id"]] = value / p["measured"]["gib"]
    return out


def summary(points: list[Point]) -> dict[str, Any]:
    """Median, min, max of the ratios and the number of points per kind."""
    r = ratios(points)
    kinds: dict[str, int] = {}
    by_id = {p["id"]: p for p in points}
    for pid in r:
        p = by_id[pid]
        for k in {p["method"]["kind"], p["parallel"]["strategy"]}:
            kinds[k] = kinds.get(k, 0) + 1
    values = sorted(r.values())
    return {"points": len(values), "median": statistics.median(values) if values else None,
            "min": values[0] if values else None, "max": values[-1] if values else None,
            "kinds": dict(sorted(kinds.items()))}


def main() -> int:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import published_memory

    points = published_memory.load()
    for p in points:
        value = estimate(p)
        why = unexpressible(p)
        shown = f"{value:7.2f} GiB  ratio {value / p['measured']['gib']:.2f}" if value \
            is not None else f"   n/a  ({why})"
        print(f"{p['id']:48s} measured {p['measured']['gib']:7.2f}  {shown}")
    print(summary(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
