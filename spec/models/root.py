"""The whole spec."""

from typing import Literal

from pydantic import Field

from specc.spec.models.algorithms import (
    AWR,
    DPO,
    GRPO,
    KTO,
    ORPO,
    PPO,
    RLOO,
    RSSFT,
    SFT,
    Algorithm,
    Loop,
    LossFn,
)
from specc.spec.models.base import FreeForm, NemoBlock
from specc.spec.models.checkpointing import Checkpointing
from specc.spec.models.data import Data, Reward
from specc.spec.models.hardware import Cluster, Hardware
from specc.spec.models.health import Health
from specc.spec.models.hpo import Hpo
from specc.spec.models.logger import Logger
from specc.spec.models.policy import Policy

SPEC_VERSION = 1


class Spec(NemoBlock):
    """A specc experiment: one model, one algorithm, its data, the hardware it must fit,
    and optionally a hyperparameter search."""

    specc: Literal[1] = 1
    """Spec format version, for migrations."""
    name: str = "experiment"
    """Experiment name; names the output folder and the Optuna study."""
    description: str | None = None
    """Free text."""
    extends: str | list[str] | None = None
    """Specs this one builds on (deep merge, later wins), relative to this file."""
    defaults: str | list[str] | None = None
    """NeMo RL's name for `extends`."""
    algorithm: Algorithm | None = None
    """`sft`, `dpo`, `orpo`, `kto`, `grpo`, `rloo`, `rs_sft`, `awr` or `ppo`. May be
    omitted when exactly one algorithm block is present."""
    output_dir: str | None = None
    """Where `specc run` writes (default `runs/<name>`)."""
    layout: Literal["specc", "trl_cli", "seed002"] = "specc"
    """The layout the file was written in. specc sets `trl_cli` / `seed002` when it reads
    a TRL CLI config or seed 002's config as a spec: TRL's own generation-batch rules then
    apply instead of specc's stricter GRPO group rules (B002, B003)."""
    policy: Policy
    """The model being trained."""
    sft: SFT | None = None
    """Supervised fine-tuning settings."""
    dpo: DPO | None = None
    """DPO settings."""
    orpo: ORPO | None = None
    """ORPO settings."""
    kto: KTO | None = None
    """KTO settings."""
    grpo: GRPO | None = None
    """GRPO settings."""
    rloo: RLOO | None = None
    """RLOO settings."""
    rs_sft: RSSFT | None = None
    """Rejection-sampling SFT settings."""
    awr: AWR | None = None
    """Advantage-weighted regression settings."""
    ppo: PPO | None = None
    """PPO settings."""
    loss_fn: LossFn | None = None
    """Policy-gradient loss settings (GRPO/RLOO/PPO), NeMo RL layout."""
    data: Data = Field(default_factory=Data)
    """Training and validation data."""
    reward: Reward | None = None
    """Reward functions (GRPO/RLOO/RS-SFT/AWR/PPO)."""
    hardware: Hardware = Field(default_factory=Hardware)
    """What each trial must fit."""
    hpo: Hpo | None = None
    """Hyperparameter search; without it the spec is one training run."""
    health: Health | None = None
    """Warning signs that stop the run or are logged (`hpo.health` wins in a search)."""
    checkpointing: Checkpointing | None = None
    """Checkpoints while training, and resuming a trial from its last one (NeMo RL's
    keys)."""
    logger: Logger | None = None
    """Experiment tracking (NeMo RL layout): TensorBoard, Weights & Biases, MLflow."""
    cluster: Cluster | None = None
    """NeMo RL cluster block; `gpus_per_node` and `num_nodes` feed the batch arithmetic."""
    env: FreeForm | None = None
    """NeMo RL environment settings; carried through unmodelled."""

    def selected(self) -> Algorithm | None:
        """The algorithm: the `algorithm` key, or the single algorithm block present."""
        if self.algorithm is not None:
            return self.algorithm
        present = [a for a in ALGORITHMS if getattr(self, a) is not None]
        return present[0] if len(present) == 1 else None

    def block(self, algorithm: str | None = None) -> Loop | None:
        algo = algorithm or self.selected()
        return getattr(self, algo) if algo else None

    @property
    def gpus(self) -> int:
        """GPUs in all: GPUs per node x nodes (hardware, else cluster, else 1)."""
        gpn = self.hardware.gpus_per_node or (self.cluster.gpus_per_node if self.cluster else None)
        nodes = self.hardware.num_nodes or (self.cluster.num_nodes if self.cluster else None)
        return (gpn or 1) * (nodes or 1)

    @property
    def world_size(self) -> int:
        """Data-parallel world of one trial: its GPUs (`hardware.gpus_per_trial`, default
        all) / (tensor x pipeline x context parallel); see `spec.parallel`."""
        from specc.spec.parallel import data_parallel_size

        return data_parallel_size(self)


ALGORITHMS: tuple[Algorithm, ...] = ("sft", "dpo", "orpo", "kto", "grpo", "rloo", "rs_sft",
                                     "awr", "ppo")
