"""Model parallelism and the data-parallel size: the one place batch arithmetic, derived
numbers and memory read how many data-parallel replicas a spec has.

Data-parallel size = GPUs / (tensor x pipeline x context parallel). The sizes come from
NeMo RL's `policy.megatron_cfg` (`tensor_model_parallel_size`,
`pipeline_model_parallel_size`, `context_parallel_size`) when it is enabled, else from
`policy.dtensor_cfg` (`tensor_parallel_size`, `context_parallel_size`) when enabled, else
from specc's own `policy.parallel`. GPUs are those of one trial: `hardware.gpus_per_trial`
(default: every training GPU).

The sharding strategy comes along: `dtensor_cfg` is FSDP2 (`fsdp`, its `cpu_offload`),
`megatron_cfg` shards the optimizer states over the data-parallel group when
`optimizer.use_distributed_optimizer` is on (`zero1`), specc's `policy.parallel.strategy`
says it directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specc.spec.records import record

if TYPE_CHECKING:
    from specc.spec.models.root import Spec

#: (block, its key for each parallel dimension) in the order NeMo RL picks the backend.
_BACKENDS: tuple[tuple[str, dict[str, str]], ...] = (
    ("megatron_cfg", {"tensor": "tensor_model_parallel_size",
                      "pipeline": "pipeline_model_parallel_size",
                      "context": "context_parallel_size"}),
    ("dtensor_cfg", {"tensor": "tensor_parallel_size", "context": "context_parallel_size"}),
    ("parallel", {"tensor": "tensor_parallel_size", "pipeline": "pipeline_parallel_size",
                  "context": "context_parallel_size"}),
)


@record(frozen=True)
class Parallel:
    """How one model replica is split, and where the sizes were read."""

    gpus: int
    tensor: int = 1
    pipeline: int = 1
    context: int = 1
    #: `megatron_cfg` / `dtensor_cfg` / `parallel` (the block under `policy` the sizes
    #: were read from).
    source: str = ""
    #: ddp | fsdp | zero1 | zero2 | zero3 (see `spec.models.parallel.Strategy`).
    strategy: str = "ddp"
    #: Parameters and optimizer states (zero1/2: the states) in host memory.
    cpu_offload: bool = False

    @property
    def model(self) -> int:
        """GPUs one model replica spans."""
        return self.tensor * self.pipeline * self.context

    @property
    def data(self) -> int:
        """Data-parallel replicas (at least 1; see `divides`)."""
        return max(self.gpus // self.model, 1)

    @property
    def divides(self) -> bool:
        return self.gpus % self.model == 0

    def keys(self) -> dict[str, str]:
        """The dimension -> key path of every size above 1."""
        for block, names in _BACKENDS:
            if block == self.source:
                return {dim: f"policy.{block}.{key}" for dim, key in names.items()
                        if getattr(self, dim) > 1}
        return {}

    def describe(self) -> str:
        parts = [f"{name} {getattr(self, name)}" for name in ("tensor", "pipeline", "context")
                 if getattr(self, name) > 1]
        return " x ".join(parts) + " parallel" if parts else ""


def _size(block: dict[str, Any], key: str) -> int:
    v = block.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else 1


def training_gpus(spec: Spec) -> int:
    """GPUs that train: all of them, less those NeMo RL gives a non-colocated generation
    engine (`policy.generation.colocated: {enabled: false, resources: ...}`): on one node
    its `gpus_per_node`, on several its `num_nodes` whole nodes."""
    gpus = spec.gpus
    nodes = spec.hardware.num_nodes or (spec.cluster.num_nodes if spec.cluster else None) or 1
    per_node = gpus // nodes
    teachers = _teacher_nodes(spec)
    if 0 < teachers < nodes:
        nodes -= teachers
        gpus = nodes * per_node
    gen = spec.policy.generation
    colo = gen.colocated if gen is not None else None
    if not isinstance(colo, dict) or colo.get("enabled") is not False:
        return gpus
    res = colo.get("resources")
    if not isinstance(res, dict):
        return gpus
    gen_gpus, gen_nodes = res.get("gpus_per_node"), res.get("num_nodes")
    if nodes == 1 and isinstance(gen_gpus, int) and 0 < gen_gpus < per_node:
        return per_node - gen_gpus
    if nodes > 1 and isinstance(gen_nodes, int) and 0 < gen_nodes < nodes:
        return (nodes - gen_nodes) * per_node
    return gpus


def _teacher_nodes(spec: Spec) -> int:
    """Whole nodes NeMo RL's on-policy distillation gives its non-colocated teachers."""
    opd = (spec.model_extra or {}).get("on_policy_distillation")
    teachers = opd.get("non_colocated_teachers") if isinstance(opd, dict) else None
    if not isinstance(teachers, dict) or teachers.get("enabled") is not True:
        return 0
    return sum(t["num_nodes"] for t in teachers.values()
               if isinstance(t, dict) and isinstance(t.get("num_nodes"), int))


def trial_gpus(spec: Spec) -> int:
    """GPUs one trial trains on: `hardware.gpus_per_trial` when it divides the training
    GPUs (B007 otherwise), else all of them."""
    gpus = training_gpus(spec)
    per = spec.hardware.gpus_per_trial
    return per if per is not None and per <= gpus and gpus % per == 0 else gpus


def concurrent_trials(spec: Spec) -> int:
    """Trials that run at once on the declared GPUs: GPUs / GPUs per trial."""
    return max(training_gpus(spec) // trial_gpus(spec), 1)


def parallel(spec: Spec) -> Parallel:
    """One trial's GPUs, model-parallel sizes and sharding strategy."""
    gpus = trial_gpus(spec)
    for block_name, names in _BACKENDS[:2]:
        block = getattr(spec.policy, block_name, None)
        if isinstance(block, dict) and block.get("enabled") is True:
            sizes = {dim: _size(block, key) for dim, key in names.items()}
            tensor, pipeline, context = (sizes.get(d, 1) for d in ("tensor", "pipeline",
                                                                    "context"))
            if block_name == "dtensor_cfg":
                return Parallel(gpus, tensor, pipeline, context, source=block_name,
                                strategy="fsdp", cpu_offload=block.get("cpu_offload") is True)
            opt = block.get("optimizer")
            dist = isinstance(opt, dict) and opt.get("use_distributed_optimizer") is True
            return Parallel(gpus, tensor, pipeline, context, source=block_name,
                            strategy="zero1" if dist else "ddp")
    own = spec.policy.parallel
    return Parallel(gpus, tensor=own.tensor_parallel_size,
                    pipeline=own.pipeline_parallel_size, context=own.context_parallel_size,
                    source="parallel", strategy=own.strategy, cpu_offload=own.cpu_offload)


def data_parallel_size(spec: Spec) -> int:
    """Data-parallel replicas: GPUs / (tensor x pipeline x context parallel)."""
    return parallel(spec).data


def _divisors_of(n: int) -> list[int]:
    """Divisors of ``n`` in increasing order (GPU counts are small)."""
    return [d for d in range(1, n + 1) if n % d == 0] if n <= 4096 else [1, n]
