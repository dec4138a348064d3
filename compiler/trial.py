"""One trial, compiled once: (spec, point, device world) -> :class:`TrialDescription`.

`specc plan` compiles its preview points with :func:`compile_trial`, `specc run` compiles
each point its sampler suggests with the same function, and `specc plan --emit python`
renders the same value as a script. The runtime executes a description; it never derives,
lowers or validates a trial again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any, Literal

from specc.compiler import space
from specc.compiler.derive import Derived, derive
from specc.compiler.fit import check_context_length, check_memory, estimate_spec
from specc.compiler.lowering import Lowered, lower
from specc.compiler.tracking import RunRef
from specc.spec.facts import FACTS, keep_columns
from specc.spec.models.health import Health
from specc.spec.records import record
from specc.spec.rules import Context

if TYPE_CHECKING:
    from specc.spec.diagnostics import Diagnostic
    from specc.spec.models import Spec
    from specc.spec.models.data import DataSource

__all__ = ["DataSplit", "Launch", "TrialDescription", "World", "compile_trial",
           "objective_metrics", "trial_id"]


@record(frozen=True)
class World:
    """The devices a trial will run on. ``devices=None`` is the spec's declared
    `hardware` (what `specc plan` shows); `specc run` passes what it found."""

    devices: int | None = None
    #: Whether a CUDA device is there (False: CPU fallbacks in the trainer config).
    cuda: bool = True
    #: Whether Apple's MPS is there (used instead of the CPU when there is no CUDA).
    mps: bool = False


@record(frozen=True)
class Launch:
    """How the trial's training is started: in the worker's process, or as its own
    distributed job (`torchrun`, one process per GPU -- or per CPU rank with gloo)."""

    kind: Literal["single_process", "torchrun"] = "single_process"
    processes: int = 1
    #: ddp | fsdp | zero1-3 (torchrun only).
    strategy: str = "ddp"
    #: torch.distributed backend: nccl on GPUs, gloo on CPUs.
    backend: str = ""

    def command(self, job: str, *, port: int, python: str = "python") -> list[str]:
        """The job's command line (``job``: the pickled description the ranks run)."""
        if self.kind != "torchrun":
            return []
        return [python, "-m", "torch.distributed.run", "--nnodes", "1",
                "--nproc_per_node", str(self.processes), "--master_addr", "127.0.0.1",
                "--master_port", str(port), "-m", "specc.runtime.job", job]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "processes": self.processes}
        if self.kind == "torchrun":
            out.update(strategy=self.strategy, backend=self.backend,
                       command=self.command("<trial>/job.pkl", port=29500))
        return out


@record(frozen=True)
class DataSplit:
    """One dataset split the trainer gets, and the columns kept from it."""

    split: Literal["train", "validation"]
    source: DataSource | None
    #: Columns kept (None: all of them; reward functions read the others).
    columns: tuple[str, ...] | None


@record(frozen=True)
class TrialDescription:
    """Everything one trial is: what plan prints, run executes and emit renders."""

    number: int
    id: str
    params: dict[str, Any]
    feasible: bool
    reasons: list[str]
    derived: Derived | None = None
    memory: dict[str, Any] | None = None
    trainer: Lowered | None = None
    #: The resolved tree of the trial (the point applied, interpolated).
    data: dict[str, Any] | None = field(default=None, repr=False)
    #: The validated model of ``data`` (None when the point breaks the schema).
    model: Spec | None = field(default=None, repr=False)
    file: str = ""
    errors: tuple[Diagnostic, ...] = ()
    #: The metrics the trial returns, in the study's objective order.
    objectives: tuple[str, ...] = ()
    health: Health = field(default_factory=Health)
    #: k of k-fold cross-validation, None without it.
    folds: int | None = None
    launch: Launch = field(default_factory=Launch)
    datasets: tuple[DataSplit, ...] = ()
    #: The trial's folder (its trainer's output is ``<dir>/hf``).
    directory: str = ""
    #: A preview point a learning sampler draws from earlier results: the run's point
    #: at this number depends on them (plan only).
    model_based: bool = False

    @property
    def spec(self) -> dict[str, Any] | None:
        """The resolved tree (the name `plan --with-spec` prints it under)."""
        return self.data

    @property
    def runnable(self) -> bool:
        return (self.feasible and self.model is not None and self.trainer is not None
                and self.trainer.trainer_class is not None)

    def split(self, name: str) -> DataSplit | None:
        return next((d for d in self.datasets if d.split == name), None)

    def trainer_call(self) -> dict[str, Any] | None:
        """The TRL/PEFT call: trainer and config classes, config kwargs, LoRA kwargs
        (what each trial records in ``trials/<n>/trainer.json``)."""
        low = self.trainer
        if low is None:
            return None
        return {"trainer_class": low.trainer_class, "config_class": low.config_class,
                "config": dict(low.config), "peft": dict(low.peft) if low.peft else None}

    def to_dict(self, *, with_spec: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "id": self.id,
            "params": self.params,
            "feasible": self.feasible,
            "reasons": self.reasons,
            "derived": self.derived.to_dict() if self.derived else None,
            "memory": self.memory,
            "trainer": self.trainer.to_dict() if self.trainer else None,
            "launch": self.launch.to_dict(),
            "model_based": self.model_based,
        }
        if with_spec:
            out["spec"] = self.data
        return out


def trial_id(data: dict[str, Any]) -> str:
    """Identity of a trial: a hash of its resolved spec without the `hpo` block."""
    body = {k: v for k, v in data.items() if k not in ("hpo", "name", "description")}
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def objective_metrics(spec: Spec) -> list[str]:
    """The metrics a trial returns: the hpo objectives, else the algorithm's default
    objective on the validation data (on the training data without it)."""
    if spec.hpo is not None:
        return [o.metric for o in spec.hpo.objectives]
    base = FACTS[str(spec.selected())].default_objective
    if spec.data.validation is not None:
        return [f"eval_{base}"]
    return [base if base == "reward" else f"train_{base}"]


def run_health(spec: Spec) -> Health:
    """The health settings a trial runs with: `hpo.health` when written, else `health`."""
    if spec.hpo is not None and "health" in spec.hpo.model_fields_set:
        return spec.hpo.health
    return spec.health or Health()


def point_checks(ctx: Context) -> None:
    """The checks a concrete point gets beyond the rules: context length and memory."""
    check_context_length(ctx)
    check_memory(ctx)


def compile_trial(file: str, raw: dict[str, Any], point: space.Point, *, number: int,
                  run: RunRef, world: World | None = None) -> TrialDescription:
    """The description of trial ``number``: ``point`` applied to the merged tree ``raw``
    of ``file``, checked with every rule, derived, estimated and lowered for ``world``."""
    world = world or World()
    data = space.apply_point(raw, point)
    spec, errors = space.check_point(raw, point, file, extra=point_checks, data=data)
    tid = trial_id(data)
    directory = f"{run.output}/trials/{number}"
    reasons = [f"{e.code} {e.message}" for e in errors]
    if spec is None:
        return TrialDescription(number, tid, point, False, reasons, data=data, file=file,
                                errors=tuple(errors), directory=directory)
    devices = world.devices
    cpu_ranks = _cpu_ranks(spec)
    if devices is not None and cpu_ranks:  # CPU ranks (gloo) are processes, not devices
        devices = max(devices, cpu_ranks)
    single = devices is not None and devices < spec.world_size
    derived = derive(spec, world=1 if single else None)
    est = estimate_spec(spec, file)
    lowered = _for_machine(lower(spec, derived, f"{directory}/hf", run=run), world)
    launch = Launch()
    if lowered.processes > 1 and not single and lowered.trainer_class is not None:
        launch = Launch("torchrun", lowered.processes, lowered.strategy,
                        (lowered.job_config or {}).get("ddp_backend", "nccl"))
    elif lowered.processes > 1:
        lowered.notes.append(f"{devices} device(s) here, {lowered.processes} declared: the "
                             "trial runs in one process")
    algo = str(spec.selected())
    columns = keep_columns(algo) if algo in FACTS else None
    cv = spec.hpo.evaluation.cross_validation if spec.hpo is not None else None
    return TrialDescription(
        number=number, id=tid, params=point, feasible=not errors, reasons=reasons,
        derived=derived, memory=est.to_dict() if est else None, trainer=lowered,
        data=data, model=spec, file=file, errors=tuple(errors),
        objectives=tuple(objective_metrics(spec)),
        health=run_health(spec),
        folds=cv.n_folds if cv is not None else None,
        launch=launch,
        datasets=(DataSplit("train", spec.data.train, columns),
                  DataSplit("validation", spec.data.validation, columns)),
        directory=directory,
    )


def _cpu_ranks(spec: Spec) -> int:
    """Processes of a trial declared on CPUs (`hardware.gpu: CPU`, `gpus_per_node: N`)."""
    from specc.spec.catalog.gpus import lookup_gpu
    from specc.spec.parallel import parallel

    gpu = lookup_gpu(spec.hardware.gpu)
    return parallel(spec).gpus if gpu is not None and gpu.kind == "cpu" else 0


def _for_machine(lowered: Lowered, world: World) -> Lowered:
    """The trainer config for a machine without CUDA: on the CPU, float32 compute, no
    TF32 (each change is a note)."""
    if world.cuda or lowered.trainer_class is None:
        return lowered
    config = dict(lowered.config)
    notes = list(lowered.notes)
    if world.mps and not config.get("use_cpu"):
        notes.append("no CUDA device: training on Apple's MPS")
        config.pop("tf32", None)
        return replace(lowered, config=config, notes=notes)
    if not config.get("use_cpu"):
        notes.append("no CUDA device: running on the CPU")
    config["use_cpu"] = True
    if config.get("fp16"):
        notes.append("float16 training needs a GPU: using float32 compute on the CPU")
        config["fp16"] = False
    config.pop("tf32", None)
    return replace(lowered, config=config, notes=notes)
