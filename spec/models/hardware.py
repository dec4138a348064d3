"""The `hardware` block and NeMo RL's `cluster` block (the `logger` block is in
`logger.py`)."""

from specc.spec.models.base import Block, NemoBlock, PositiveFloat, PositiveInt


class Hardware(Block):
    """What each trial must fit: the GPU model and how many there are."""

    gpu: str = "A100-80GB"
    """GPU catalog entry (case-insensitive), e.g. `A100-80GB`, `H100-80GB`, `RTX-4090`,
    `M1-Max-64GB`, `CPU`. Decides memory capacity and bf16/tf32 support."""
    gpus_per_node: PositiveInt | None = None
    """GPUs per machine (default 1, or `cluster.gpus_per_node`)."""
    num_nodes: PositiveInt | None = None
    """Machines (default 1, or `cluster.num_nodes`)."""
    gpus_per_trial: PositiveInt | None = None
    """GPUs one trial uses (default: all declared); must divide the declared GPUs. The
    rest run other trials at once (`specc run --workers` defaults to GPUs / this)."""
    host_memory_gb: PositiveFloat | None = None
    """Host RAM per machine in GiB, for CPU offload (default: this machine's)."""
    memory_gb: PositiveFloat | None = None
    """Override the catalog's memory per GPU, in GiB."""
    memory_headroom: PositiveFloat | None = None
    """Fraction of memory a trial may use before `specc` warns (default 0.9)."""


class Cluster(NemoBlock):
    """NeMo RL's cluster block; its GPU counts feed the batch arithmetic."""

    gpus_per_node: PositiveInt | None = None
    """GPUs per node."""
    num_nodes: PositiveInt | None = None
    """Nodes."""

