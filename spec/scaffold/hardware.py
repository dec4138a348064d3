"""Hardware profiles of `specc init`: seed 003's "Hardware-Specific Settings", made to fit.

One entry per `--hardware` choice. The GPU profiles keep seed 003's precision, TF32,
fused AdamW, data workers and (where they fit) batch sizes; where specc's memory estimate
says the seed's numbers do not fit a 7B model, the sequence length or micro batch is
adjusted and the `why` says so, as `examples/hw_*.yaml` do.
"""

from __future__ import annotations

from typing import Literal

from specc.spec.records import record

HardwareName = Literal["cpu", "m1-max", "rtx4090", "a100-40gb", "a100-80gb", "multi-gpu"]


@record(frozen=True)
class Hardware:
    """One hardware profile: where the spec runs and the settings that make it fit."""

    title: str
    gpu: str
    gpu_why: str
    gpus_per_node: int
    model: str
    model_why: str
    precision: str
    precision_why: str
    tf32: bool | None
    tf32_why: str
    micro: int
    accum: int
    batch_why: str
    seq_len: int
    seq_why: str
    checkpointing: bool
    checkpointing_why: str
    fused: bool
    workers: int | None
    workers_why: str
    max_new_tokens: int
    about: str

    @property
    def accelerator(self) -> bool:
        return self.gpu != "CPU"


_7B = ("seed 003's target model; its 32k vocabulary keeps the fp32 logits ~5x smaller "
       "than Qwen2.5-Coder-7B's 152k (examples/hw_rtx4090.yaml)")
_BF16 = "bf16 needs no loss scaling and is more stable than fp16 (seed 003)"
_CKPT = "seed 003: enable for memory savings; recomputing activations costs ~30% time"

HARDWARE: dict[HardwareName, Hardware] = {
    "cpu": Hardware(
        title="the CPU", gpu="CPU", gpu_why="memory is the host's; nothing to fit",
        gpus_per_node=1,
        model="specc:tiny-llama",
        model_why="built-in 2-layer Llama, offline and deterministic; put a hub id or a "
        "local folder here",
        precision="float32", precision_why="the CPU has no fast float16; float32 is exact",
        tf32=None, tf32_why="", micro=4, accum=4,
        batch_why="4 sequences per pass keep a 2-core CPU busy", seq_len=128,
        seq_why="arithmetic prompts and answers are short",
        checkpointing=False,
        checkpointing_why="a 0.1M-parameter model needs no memory savings",
        fused=False, workers=None, workers_why="", max_new_tokens=32,
        about="Runs offline on a CPU in seconds per trial: the built-in `specc:tiny-llama` "
        "model and built-in arithmetic data, nothing downloaded."),
    "m1-max": Hardware(
        title="an Apple M1 Max with 64 GB", gpu="M1-Max-64GB",
        gpu_why="Metal (MPS); specc counts the 64 GB unified memory, of which Metal lets "
        "one process use ~3/4 by default",
        gpus_per_node=1,
        model="deepseek-ai/deepseek-coder-6.7b-instruct", model_why=_7B,
        precision="float16", precision_why="M1 has no bf16 in Metal (seed 003 m1_config)",
        tf32=False, tf32_why="no TF32 on Apple silicon", micro=1, accum=16,
        batch_why="seed 003 m1_config: per-device batch 1, \"conservative\"",
        seq_len=4096,
        seq_why="seed 003: \"can handle 4K context\"; if it runs out of memory, 2048",
        checkpointing=True, checkpointing_why="seed 003: \"essential for memory\" on M1",
        fused=False, workers=2, workers_why="seed 003: \"M1 benefits from fewer workers\"",
        max_new_tokens=1024,
        about="Seed 003's m1_config: fp16 (no bf16 on M1), batch 1 x 16 accumulation "
        "steps, gradient checkpointing, 4K context."),
    "rtx4090": Hardware(
        title="one NVIDIA RTX 4090 (24 GB)", gpu="RTX-4090",
        gpu_why="Ada Lovelace, 24 GB: bf16 and TF32", gpus_per_node=1,
        model="deepseek-ai/deepseek-coder-6.7b-instruct", model_why=_7B,
        precision="bfloat16", precision_why="Ada Lovelace supports bf16 (seed 003)",
        tf32=True, tf32_why="seed 003: enable TF32 acceleration", micro=1, accum=16,
        batch_why="seed 003's batch 4 (x 4) does not fit 24 GB for a 7B model at this "
        "length; 1 x 16 keeps the global batch (examples/hw_rtx4090.yaml)",
        seq_len=2048, seq_why="seed 003's OOM advice: 2048 instead of 4096 on 24 GB",
        checkpointing=True, checkpointing_why=_CKPT, fused=True, workers=4,
        workers_why="seed 003 rtx4090_config", max_new_tokens=512,
        about="Seed 003's rtx4090_config: bf16 + TF32, fused AdamW, 4 data workers, "
        "gradient checkpointing. Its batch 4 x 4 at 4096 tokens does not fit a 7B model in "
        "24 GB, so this profile uses batch 1 x 16 at 2048 tokens (seed 003's own "
        "out-of-memory advice)."),
    "a100-40gb": Hardware(
        title="one NVIDIA A100 40 GB", gpu="A100-40GB",
        gpu_why="Ampere, 40 GB HBM2: bf16 and TF32", gpus_per_node=1,
        model="deepseek-ai/deepseek-coder-6.7b-instruct", model_why=_7B,
        precision="bfloat16", precision_why="seed 003: \"A100 excellent BF16 support\"",
        tf32=True, tf32_why="seed 003: TF32 on Ampere", micro=8, accum=2,
        batch_why="seed 003 a100_config: batch 8 x 2 accumulation", seq_len=1024,
        seq_why="batch 8 of a 7B model fits 40 GB at 1024 tokens; for 4096 use "
        "micro batch 2 x 8 (examples/hw_a100_40gb.yaml)",
        checkpointing=True,
        checkpointing_why="seed 003 turns it off (\"may not need with large VRAM\"), but a "
        "7B model at batch 8 needs it on 40 GB",
        fused=True, workers=8, workers_why="seed 003 a100_config", max_new_tokens=256,
        about="Seed 003's a100_config: bf16 + TF32, fused AdamW, 8 data workers, batch 8 "
        "x 2 accumulation steps. To fit 40 GB with a 7B model, gradient checkpointing "
        "stays on and sequences are 1024 tokens."),
    "a100-80gb": Hardware(
        title="one NVIDIA A100 80 GB", gpu="A100-80GB",
        gpu_why="Ampere, 80 GB HBM2e: bf16 and TF32", gpus_per_node=1,
        model="deepseek-ai/deepseek-coder-6.7b-instruct", model_why=_7B,
        precision="bfloat16", precision_why="seed 003: \"A100 excellent BF16 support\"",
        tf32=True, tf32_why="seed 003: TF32 on Ampere", micro=8, accum=2,
        batch_why="seed 003 a100_config: batch 8 x 2 accumulation (80GB: 8-16)",
        seq_len=2048,
        seq_why="batch 8 of a 7B model fits 80 GB at 2048 tokens; seed 003's 8192 needs "
        "micro batch 1 (examples/hw_a100_80gb.yaml)",
        checkpointing=True,
        checkpointing_why="seed 003 turns it off on large VRAM, but batch 8 x 2048 tokens "
        "of a 7B model needs it",
        fused=True, workers=8, workers_why="seed 003 a100_config", max_new_tokens=512,
        about="Seed 003's a100_config: bf16 + TF32, fused AdamW, 8 data workers, batch 8 "
        "x 2 accumulation steps; gradient checkpointing stays on and sequences are 2048 "
        "tokens so batch 8 of a 7B model fits 80 GB."),
    "multi-gpu": Hardware(
        title="4 NVIDIA A100 80 GB GPUs in one machine (DDP)", gpu="A100-80GB",
        gpu_why="4 x A100 80 GB, data parallel (seed 003: DDP; FSDP for very large "
        "models)", gpus_per_node=4,
        model="deepseek-ai/deepseek-coder-6.7b-instruct", model_why=_7B,
        precision="bfloat16", precision_why=_BF16,
        tf32=True, tf32_why="seed 003: TF32 on Ampere", micro=4, accum=1,
        batch_why="seed 003 multi_gpu_config: per-device batch 4, no accumulation (\"often "
        "not needed with multi-GPU\")", seq_len=2048,
        seq_why="batch 4 per GPU of a 7B model fits 80 GB at 2048 tokens "
        "(examples/hw_multi_gpu.yaml)",
        checkpointing=True, checkpointing_why=_CKPT, fused=True, workers=8,
        workers_why="8 per process, as on one A100 (seed 003)", max_new_tokens=512,
        about="Seed 003's multi_gpu_config: 4 GPUs x batch 4 x 1 accumulation step = 16 "
        "per optimizer step, bf16 + TF32, fused AdamW. `specc run` launches the trials; "
        "DDP's `ddp_find_unused_parameters` / `ddp_bucket_cap_mb` are launcher settings, "
        "not part of the spec."),
}

