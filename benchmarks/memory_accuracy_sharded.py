"""Sharded memory accuracy: 2-process DDP and FSDP on CPU (gloo), measured per rank.

Each configuration of ``SHARDED`` trains a tiny random model for two optimizer steps with
the real TRL ``SFTTrainer`` in a 2-process ``torchrun`` job on this machine's CPU: DDP
(``ddp_backend: gloo``) and FSDP2 (transformers' ``from_pretrained(distributed_config=
DistributedConfig(fsdp_size=2))``, the way ``specc run`` shards). Every rank measures its
own peak with torch's ``MemTracker``; the figure is the larger rank's. The estimate is
``specc.compiler.memory.estimate`` with ``world_size=2`` and the strategy (overhead
excluded), the same comparison as benchmarks/memory_accuracy.py.

    python benchmarks/memory_accuracy_sharded.py          # table (starts the jobs)
    python benchmarks/memory_accuracy_sharded.py --json

Each job takes ~20-40 s on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("specc_memory_accuracy", HERE /
                                                  "memory_accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()
Config = bench.Config

# (name, strategy, config): shapes where weights and states lead, so sharding shows.
SHARDED: tuple[tuple[str, str, Any], ...] = (
    ("ddp2-sft-full-weights", "ddp",
     Config("ddp2-sft-full-weights", "sft", 256, 688, 4, 4, 2, 1024, batch=2, seq_len=32)),
    ("fsdp2-sft-full-weights", "fsdp",
     Config("fsdp2-sft-full-weights", "sft", 256, 688, 4, 4, 2, 1024, batch=2, seq_len=32)),
    ("fsdp2-sft-full-acts", "fsdp",
     Config("fsdp2-sft-full-acts", "sft", 128, 344, 2, 4, 2, 1024, batch=4, seq_len=128)),
    ("fsdp2-sft-lora", "fsdp",
     Config("fsdp2-sft-lora", "sft", 256, 688, 4, 4, 2, 1024, batch=2, seq_len=64, lora=True)),
)


def rank_main(name: str, out: str) -> int:
    """One rank: build the trainer (sharded for FSDP), train two steps, write its peak."""
    import torch
    import transformers
    import trl

    _, strategy, cfg = next(s for s in SHARDED if s[0] == name)
    rank = int(os.environ.get("RANK", "0"))
    torch.manual_seed(0)
    model_dir = os.path.join(out, "model")
    if rank == 0 and not os.path.exists(model_dir):
        model = transformers.AutoModelForCausalLM.from_config(bench.build_model_config(cfg))
        model.save_pretrained(model_dir)
        bench.build_tokenizer(cfg.vocab).save_pretrained(model_dir)
    # benchmarks/memory_accuracy.py's settings, plus the gloo backend
    args = trl.SFTConfig(output_dir=os.path.join(out, "hf"), max_steps=2, max_length=cfg.seq_len,
                         per_device_train_batch_size=cfg.batch, gradient_accumulation_steps=1,
                         gradient_checkpointing=cfg.checkpointing, report_to=[], use_cpu=True,
                         bf16=False, fp16=False, save_strategy="no", logging_strategy="no",
                         dataloader_num_workers=0, disable_tqdm=True, seed=0,
                         ddp_backend="gloo")
    torch.distributed.barrier()  # the model is saved
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if strategy == "fsdp":
        from transformers.distributed import DistributedConfig

        kwargs["distributed_config"] = DistributedConfig(fsdp_size=2)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    import peft

    lora = peft.LoraConfig(r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, lora_dropout=0.0,
                           target_modules=list(bench.LORA_TARGETS),
                           task_type="CAUSAL_LM") if cfg.lora else None
    trainer = trl.SFTTrainer(model=model, args=args,
                             train_dataset=bench.build_dataset(cfg, rows=8 * cfg.batch),
                             processing_class=bench.build_tokenizer(cfg.vocab),
                             peft_config=lora)
    tracker = bench._make_tracker()
    tracker.track_external(trainer.model)
    with tracker:
        trainer.train()
    snap = tracker.get_tracker_snapshot("peak")[torch.device("cpu")]
    peak = int(snap["Total"])
    breakdown = {str(getattr(k, "value", k)): int(v) for k, v in snap.items() if v}
    Path(out, f"peak-{rank}.json").write_text(json.dumps({"peak": peak,
                                                          "phase": tracker.peak_phase,
                                                          "breakdown": breakdown}))
    return 0


def estimate_bytes(strategy: str, cfg: Any) -> int:
    from specc.compiler.memory import estimate

    inputs = replace(bench.memory_inputs(cfg, "cpu"), world_size=2, strategy=strategy,
                     replicated_adapters=True)  # PEFT after transformers' FSDP2, as here
    est = estimate(inputs, 0)
    return est.total_bytes - est.components["overhead"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(name: str) -> dict[str, Any]:
    _, strategy, cfg = next(s for s in SHARDED if s[0] == name)
    with tempfile.TemporaryDirectory(prefix="specc-shard-") as out:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
               str(Path(__file__).resolve()), "--rank", name, out]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: job failed\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        peaks = [json.loads(Path(out, f"peak-{r}.json").read_text()) for r in (0, 1)]
    measured = max(p["peak"] for p in peaks)
    est = estimate_bytes(strategy, cfg)
    return {"name": name, "strategy": strategy, "estimate_bytes": est,
            "measured_bytes": measured, "ratio": est / measured,
            "peak_phase": max(peaks, key=lambda p: p["peak"])["phase"],
            "breakdown": max(peaks, key=lambda p: p["peak"]).get("breakdown", {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", default=None)
    parser.add_argument("--rank", nargs=2, metavar=("NAME", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rank:
        return rank_main(*args.rank)
    names = [n for n, _, _ in SHARDED if args.only is None or args.only in n]
    results = [run(n) for n in names]
    ratios = [r["ratio"] for r in results]
    summary = {"median_ratio": statistics.median(ratios), "min_ratio": min(ratios),
               "max_ratio": max(ratios)}
    if args.json:
        print(json.dumps({"results": results, "summary": summary}, indent=2))
    else:
        for r in results:
            print(f"{r['name']:28} estimate {r['estimate_bytes'] / 2**20:8.2f} MiB  measured "
                  f"{r['measured_bytes'] / 2**20:8.2f} MiB  ratio {r['ratio']:.3f}  "
                  f"{r['peak_phase']}")
        print(f"median {summary['median_ratio']:.3f}, min {summary['min_ratio']:.3f}, "
              f"max {summary['max_ratio']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
