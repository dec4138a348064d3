"""Modes and algorithms of `specc init`, and how one combination resolves (:func:`choose`).

Modes follow seed 002's `grpo_local.yaml` / `grpo_cluster.yaml` split; the algorithm rows
follow seed 003's stage tables and seed 002's GRPO knobs.
"""

from __future__ import annotations

from typing import Any, Literal

from specc.spec.catalog.architectures import lookup_architecture
from specc.spec.defaults import DEFAULT_LORA_TARGETS
from specc.spec.facts import FACTS, GENERATES
from specc.spec.facts import RUNNABLE as RUNNABLE  # noqa: PLC0414
from specc.spec.models.root import ALGORITHMS
from specc.spec.records import record
from specc.spec.scaffold.hardware import HARDWARE, Hardware, HardwareName

ModeName = Literal["local", "cluster"]

#: What `specc run` trains today (the others plan and validate only).
#: The built-in model: trained in full (no LoRA) at its own learning rates.
TINY = "specc:tiny-llama"
DEFAULT_TARGETS = DEFAULT_LORA_TARGETS


@record(frozen=True)
class Mode:
    """Local development or a cluster study (seed 002)."""

    title: str
    steps: tuple[int, int]
    """Optimizer steps per run: (accelerator, CPU)."""
    val_period: tuple[int, int]
    steps_why: str
    val_why: str
    batch_factor: int
    """Cluster: gradient accumulation (or nodes, multi-GPU) times this."""
    profile: str
    """The `hpo.profile` whose settings are written out."""
    preset: Literal["own", "full"]
    about: str
    search: str


MODES: dict[ModeName, Mode] = {
    "local": Mode(
        title="local", steps=(200, 30), val_period=(25, 10),
        steps_why="a short local run (seed 002 grpo_local)",
        val_why="frequent validation: the pruner sees {n} reports per trial",
        batch_factor=1, profile="quick", preset="own",
        about="Local mode (seed 002's grpo_local): short runs and frequent validation",
        search="a quick search (profile `quick`: 10 trials, median pruning) stored in a "
        "SQLite file under runs/"),
    "cluster": Mode(
        title="cluster", steps=(1000, 120), val_period=(100, 20),
        steps_why="a full training run (seed 002 grpo_cluster)",
        val_why="seed 003 production config: evaluate every 100 steps ({n} reports per "
        "trial)",
        batch_factor=2, profile="distributed", preset="full",
        about="Cluster mode (seed 002's grpo_cluster): longer runs with a doubled global "
        "batch and TensorBoard logging",
        search="a large search (profile `distributed`) that several machines share through "
        "one study storage"),
}


@record(frozen=True)
class Algo:
    """What the scaffold needs to know about one algorithm."""

    title: str
    trainer: str
    lr: tuple[float, float]
    """Learning rate: (a real model with LoRA, the tiny built-in model trained in full)."""
    lr_why: str
    schedule: dict[str, Any]
    schedule_why: str
    epochs: int | None
    epochs_why: str


_STAGE1 = "seed 003 stage 1: cosine decay after a 10% warmup"
_STAGE2 = "seed 003 stage 2: cosine decay after a shorter 5% warmup"

ALGORITHMS_INFO: dict[str, Algo] = {
    "sft": Algo("Supervised fine-tuning (SFT)", "SFTTrainer", (1.0e-5, 1.0e-4),
                "seed 003's quick-start rate; SFT tolerates more than the preference stages",
                {"type": "cosine", "warmup_ratio": 0.1}, _STAGE1, 2,
                "seed 003: fewer epochs than stage 1 when the data is clean"),
    "dpo": Algo("Direct Preference Optimization (DPO)", "DPOTrainer", (5.0e-6, 1.0e-4),
                "seed 003 stage 1: 5e-6, conservative", {"type": "cosine", "warmup_ratio": 0.1},
                _STAGE1, 3, "seed 003 stage 1: 3 epochs"),
    "orpo": Algo("Odds Ratio Preference Optimization (ORPO)", "ORPOTrainer", (5.0e-6, 5.0e-5),
                 "seed 003 stage 1: 5e-6, conservative",
                 {"type": "cosine", "warmup_ratio": 0.1}, _STAGE1, 3,
                 "seed 003 stage 1: 3 epochs"),
    "kto": Algo("Kahneman-Tversky Optimization (KTO)", "KTOTrainer", (5.0e-6, 5.0e-5),
                "as seed 003's stage-1 preference methods: 5e-6",
                {"type": "cosine", "warmup_ratio": 0.1}, _STAGE1, 3,
                "as seed 003 stage 1: 3 epochs"),
    "grpo": Algo("Group Relative Policy Optimization (GRPO)", "GRPOTrainer", (1.0e-6, 1.0e-5),
                 "seed 003 stage 3: 1e-6 for a 7B model (seed 002: 1e-6 to 5e-4)",
                 {"type": "linear", "warmup_steps": 0}, "seed 002: linear decay, no warmup",
                 None, ""),
    "rloo": Algo("REINFORCE Leave-One-Out (RLOO)", "RLOOTrainer", (1.0e-6, 1.0e-5),
                 "as GRPO (seed 003 stage 3): 1e-6 for a 7B model",
                 {"type": "linear", "warmup_steps": 0}, "as seed 002's GRPO: no warmup",
                 None, ""),
    "rs_sft": Algo("Rejection-sampling SFT (RS-SFT)", "SFTTrainer (specc's RS-SFT rounds)",
                   (3.0e-6, 3.0e-5),
                   "seed 003 stage 2: 3e-6, lower than stage 1",
                   {"type": "cosine", "warmup_ratio": 0.05}, _STAGE2, 2,
                   "seed 003 stage 2: fewer epochs than stage 1"),
    "awr": Algo("Advantage-Weighted Regression (AWR)",
                "SFTTrainer (specc's weighted AWR loss)", (3.0e-6, 3.0e-5),
                "seed 003 stage 2: 3e-6", {"type": "cosine", "warmup_ratio": 0.05}, _STAGE2,
                2, "seed 003 stage 2: 2 epochs"),
    "ppo": Algo("Proximal Policy Optimization (PPO)",
                "primitives (specc's PPO loop)", (1.0e-6, 1.0e-5),
                "seed 003: 1e-6, \"very conservative for PPO\"", {"type": "constant"},
                "seed 003's PPO config sets no schedule", None, ""),
}

#: The objective each algorithm's search optimises (what `specc run` reports).
OBJECTIVES: dict[str, tuple[str, str, str]] = {
    **{a: ("eval_loss", "minimize", "validation loss, the seed guides' first signal")
       for a in FACTS if a not in GENERATES},
    **{a: ("eval_reward", "maximize", "mean reward on the validation prompts (seed 004: "
           "\"reward\", maximize)") for a in sorted(GENERATES)},
}


@record(frozen=True)
class Choice:
    """The resolved numbers of one scaffold (everything the blocks are built from)."""

    algorithm: str
    hardware: HardwareName
    mode: ModeName
    hpo: bool
    model: str
    model_why: str
    seq_len: int
    seq_why: str
    micro: int
    accum: int
    nodes: int
    steps: int
    val_period: int
    targets: tuple[str, ...] | str

    @property
    def tiny(self) -> bool:
        """The built-in model: trained in full, at its own learning rate."""
        return self.model == TINY

    @property
    def hw(self) -> Hardware:
        return HARDWARE[self.hardware]

    @property
    def md(self) -> Mode:
        return MODES[self.mode]

    @property
    def world(self) -> int:
        return self.hw.gpus_per_node * self.nodes

    @property
    def global_batch(self) -> int:
        return self.micro * self.accum * self.world

    @property
    def name(self) -> str:
        return default_name(self.algorithm, self.hardware, self.mode)


def default_name(algorithm: str, hardware: str, mode: str) -> str:
    """`<algorithm>-<hardware>-<mode>`: the spec's name and, with `.yaml`, its file."""
    return f"{algorithm}-{hardware}-{mode}"


def choose(algorithm: str, hardware: HardwareName, mode: ModeName, *, model: str | None = None,
           hpo: bool = True) -> Choice:
    """Resolve the tables for one combination (``model`` replaces the profile's model)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    hw, md = HARDWARE[hardware], MODES[mode]
    seq_len, seq_why = hw.seq_len, hw.seq_why
    model_name, model_why = hw.model, hw.model_why
    targets: tuple[str, ...] | str = DEFAULT_TARGETS
    if model is not None:
        model_name, model_why = model, "chosen with `specc init --model`"
        arch = lookup_architecture(model)
        if arch is not None and arch.max_position_embeddings < seq_len:
            seq_len = arch.max_position_embeddings
            seq_why = f"the model's {seq_len} positions (the profile's {hw.seq_len} is longer)"
        if arch is not None and not set(DEFAULT_TARGETS) <= set(arch.linear_shapes()):
            targets = "all-linear"
    accum, nodes = hw.accum, 1
    if md.batch_factor > 1:
        if hw.gpus_per_node > 1:
            nodes = md.batch_factor
        else:
            accum *= md.batch_factor
    index = 0 if hw.accelerator else 1
    return Choice(algorithm, hardware, mode, hpo, model_name, model_why, seq_len, seq_why,
                  hw.micro, accum, nodes, md.steps[index], md.val_period[index], targets)

