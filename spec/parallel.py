"""Model parallelism and the data-parallel size: the one place batch arithmetic, derived
numbers and memory read how many data-parallel replicas a spec has.

Data-parallel size = GPUs / (tensor x pipeline x context parallel). The sizes come from
NeMo RL's `policy.megatron_cfg` (`tensor_model_parallel_size`,
`pipeline_model_parallel_size`, `context_parallel_size`) when it is enabled, else from
`policy.dtensor_cfg` (`tensor_parallel_size`, `context_parallel_size`) when enabled; specc's
own `policy.parallel` (the multi-GPU issue) is to be read here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specc.spec.models.root import Spec

#: (block, its key for each parallel dimension) in the order NeMo RL picks the backend.
_BACKENDS: tuple[tuple[str, dict[str, str]], ...] = (
    ("megatron_cfg", {"tensor": "tensor_model_parallel_size",
                      "pipeline": "pipeline_model_parallel_size",
                      "context": "context_parallel_size"}),
    ("dtensor_cfg", {"tensor": "tensor_parallel_size", "context": "context_parallel_size"}),
)


@dataclass(frozen=True)
class Parallel:
    """How one model replica is split, and where the sizes were read."""

    gpus: int
    tensor: int = 1
    pipeline: int = 1
    context: int = 1
    #: `policy.megatron_cfg` / `policy.dtensor_cfg`, or "" (no model parallelism).
    source: str = ""

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


def parallel(spec: Spec) -> Parallel:
    """The spec's training GPUs and model-parallel sizes."""
    gpus = training_gpus(spec)
    for block_name, names in _BACKENDS:
        block = getattr(spec.policy, block_name, None)
        if isinstance(block, dict) and block.get("enabled") is True:
            sizes = {dim: _size(block, key) for dim, key in names.items()}
            return Parallel(gpus, source=block_name, **sizes)
    return Parallel(gpus)


def data_parallel_size(spec: Spec) -> int:
    """Data-parallel replicas: GPUs / (tensor x pipeline x context parallel)."""
    return parallel(spec).data
