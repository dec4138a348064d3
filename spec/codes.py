"""The stable diagnostic codes. Each has a line in ``docs/diagnostics.md``.

A code never changes meaning once released; new problems get new codes.
The first letter names the family:

* ``Y`` reading the file (YAML, safety limits)
* ``R`` resolving (``extends``, ``${...}``, overrides)
* ``S`` schema (unknown keys, types, ranges)
* ``B`` batch arithmetic
* ``P`` precision and hardware
* ``O`` optimizer and scheduler
* ``N`` names: models, datasets, rewards, algorithms
* ``W`` settings that have no effect
* ``A`` advice from the seed guides
* ``M`` memory
* ``H`` the ``hpo`` block and its search space
* ``E`` editing a spec file in place (`specc set`, ``specc.edit``)
* ``T`` study storage and a run's output folder (`specc run`, `specc report`)
* ``X`` exporting the search to another engine (`specc export wandb-sweep`, `specc agent`)
"""

from __future__ import annotations

from typing import Literal

from specc.spec.records import record

SeverityName = Literal["error", "warning", "info"]


@record(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: SeverityName
    title: str
    #: Diagnostics with this code mean the input could not be read at all:
    #: `specc validate` exits 2 instead of 1.
    unreadable: bool = False


def _c(code: str, severity: SeverityName, title: str, *, unreadable: bool = False) -> CodeInfo:
    return CodeInfo(code, severity, title, unreadable)


_ALL = [
    # --- reading -----------------------------------------------------------------------------
    _c("Y001", "error", "file cannot be read (missing, a directory, or no permission)",
       unreadable=True),
    _c("Y002", "error", "file is larger than the size limit", unreadable=True),
    _c("Y003", "error", "file is not valid UTF-8 text", unreadable=True),
    _c("Y010", "error", "YAML syntax error"),
    _c("Y011", "error", "duplicate key in a mapping"),
    _c("Y012", "error", "tag that would construct an object is refused"),
    _c("Y013", "error", "alias expansion exceeds the node limit (alias bomb)"),
    _c("Y014", "error", "recursive alias"),
    _c("Y015", "error", "mapping key is not a plain string"),
    _c("Y016", "error", "document is not a mapping"),
    _c("Y017", "error", "more than one YAML document in a spec file"),
    _c("Y018", "error", "nesting deeper than the limit"),
    _c("Y019", "error", "invalid scalar for its tag"),
    _c("Y020", "error", "input is not a regular file (a FIFO, device or socket)",
       unreadable=True),
    _c("Y021", "error", "standard input cannot be read, or is named twice", unreadable=True),
    # --- resolving ---------------------------------------------------------------------------
    _c("R001", "error", "`extends`/`defaults` file not found"),
    _c("R002", "error", "`extends`/`defaults` cycle"),
    _c("R003", "error", "`extends`/`defaults` value is not a file name or list of names"),
    _c("R010", "error", "interpolation refers to a key that does not exist"),
    _c("R011", "error", "interpolation cycle"),
    _c("R012", "error", "malformed interpolation"),
    _c("R013", "error", "unknown interpolation resolver"),
    _c("R014", "error", "interpolation resolver arguments are invalid"),
    _c("R020", "error", "malformed command-line override"),
    _c("R040", "error", "`extends`/`defaults` names a file outside the project root"),
    _c("R041", "warning", "local model folder or data path outside the project root is not read"),
    _c("R042", "error", "interpolated string longer than the limit"),
    _c("R043", "error", "interpolation produces more than the per-file limit"),
    _c("R044", "error", "search space larger than the limit"),
    _c("R030", "info", "NeMo RL block carried through unmodelled"),
    _c("R031", "info", "alternative HPO dialect normalised"),
    _c("R035", "info", "TRL CLI or seed 002 config read as a specc spec"),
    _c("R036", "warning", "TRL field specc does not honour"),
    _c("R037", "error", "TRL CLI config's trainer cannot be told"),
    _c("R032", "info", "value read from the environment (`${oc.env:...}`) is not checked"),
    _c("R033", "info", "NeMo RL algorithm specc validates but does not train"),
    # --- schema ------------------------------------------------------------------------------
    _c("S001", "error", "unknown key"),
    _c("S002", "error", "wrong type"),
    _c("S003", "error", "value out of range"),
    _c("S004", "error", "required key missing"),
    _c("S005", "error", "value not among the allowed choices"),
    _c("S006", "error", "invalid value"),
    # --- batch arithmetic --------------------------------------------------------------------
    _c("B001", "error",
       "global batch is not micro batch x grad accumulation x data-parallel world"),
    _c("B002", "error", "GRPO rollouts per step are not a multiple of the global batch"),
    _c("B003", "error", "GRPO global batch does not divide by generations per prompt"),
    _c("B004", "error", "micro batch larger than the global batch"),
    _c("B005", "warning", "`hardware` and `cluster` disagree on the GPU count"),
    _c("B006", "error", "GPUs do not split into whole model-parallel replicas"),
    _c("B007", "error", "`hardware.gpus_per_trial` does not divide the declared GPUs"),
    # --- precision and hardware --------------------------------------------------------------
    _c("P001", "error", "precision not supported by the declared GPU"),
    _c("P002", "error", "unknown GPU"),
    _c("P003", "warning", "precision is unusual for the declared hardware"),
    _c("P004", "error", "quantisation compute dtype not supported by the declared GPU"),
    _c("P005", "error", "bitsandbytes quantisation on a GPU that is not CUDA"),
    # --- optimizer and scheduler -------------------------------------------------------------
    _c("O001", "error", "optimizer is not on the allow-list"),
    _c("O002", "error", "unknown keyword argument for the optimizer or scheduler"),
    _c("O003", "error", "keyword argument has the wrong type or range"),
    _c("O004", "error", "scheduler is not on the allow-list"),
    _c("O005", "error", "scheduler list milestones do not match the schedulers"),
    _c("O006", "error", "scheduler list milestones are not increasing"),
    _c("O007", "warning", "warmup is as long as or longer than training"),
    _c("O008", "error", "required scheduler keyword argument missing"),
    # --- names -------------------------------------------------------------------------------
    _c("N001", "error", "unknown built-in model"),
    _c("N002", "error", "local data path does not exist"),
    _c("N003", "error", "unknown built-in dataset"),
    _c("N004", "error", "unknown built-in reward function"),
    _c("N005", "error", "reward function is not `module:function`"),
    _c("N006", "error", "algorithm cannot be determined"),
    _c("N007", "error", "algorithm needs reward functions"),
    _c("N008", "warning", "dataset kind does not fit the algorithm"),
    _c("N009", "info", "model not in the offline architecture table"),
    _c("N010", "error", "local model path does not exist"),
    _c("N011", "error", "sequence length exceeds the model's maximum positions"),
    _c("N012", "error", "`specc run` cannot train this algorithm yet"),
    _c("N013", "error", "tracking backend's package is not installed"),
    _c("N017", "error", "TRL field belongs to another trainer's config"),
    _c("N018", "error", "TRL reward function name is unknown"),
    _c("N020", "error", "reward module is in the standard library or built in"),
    _c("N021", "error", "reward file is outside the project root"),
    _c("N022", "error", "reward file does not exist"),
    _c("N023", "error", "reward module is not installed (only a local file has its name)"),
    _c("N024", "info", "what `specc run` will import for a reward function"),
    _c("N014", "error", "`specc plan`/`specc run` refuse a NeMo RL algorithm specc does not "
       "train"),
    _c("N015", "error", "`specc run` cannot run this generation backend"),
    _c("N030", "error", "quantised base without LoRA"),
    _c("N031", "error", "`specc run` cannot load a quantised base on this machine"),
    _c("N032", "error", "`specc run` cannot generate with vLLM on this machine"),
    _c("N033", "error", "`specc run` cannot run tensor, pipeline or context parallelism"),
    _c("N034", "error", "DeepSpeed ZeRO without the `deepspeed` package"),
    # --- no effect ---------------------------------------------------------------------------
    _c("W001", "warning", "LoRA settings with LoRA disabled"),
    _c("W002", "warning", "block for an algorithm that is not selected"),
    _c("W003", "warning", "setting has no effect for this algorithm"),
    _c("W004", "warning", "`hpo` block without a search space"),
    _c("W005", "warning", "`data.validation` unused under cross-validation"),
    _c("W006", "warning", "path that validate cannot check on this machine"),
    _c("W007", "warning", "optimizer NeMo RL imports that specc cannot check"),
    _c("W008", "warning", "key in a NeMo RL block that NeMo RL neither declares nor reads"),
    _c("W009", "warning", "null where NeMo RL declares a value of another type"),
    _c("W020", "warning", "`checkpointing.checkpoint_dir` is not used"),
    _c("W021", "warning", "health threshold for an algorithm its rule does not watch"),
    _c("W010", "warning", "sharding strategy over one data-parallel replica"),
    _c("W011", "warning", "`cpu_offload` with `strategy: ddp`"),
    _c("W012", "warning", "setting for 4-bit quantisation with `bits: 8`"),
    _c("W013", "warning", "vLLM setting with another generation backend"),
    _c("W015", "warning", "algorithm key `specc run` accepts but cannot honour"),
    _c("W016", "warning", "generation backend `specc run` cannot use"),
    _c("W017", "warning", "`env` block that specc's trainers do not roll out"),
    _c("W022", "warning", "`hpo.pruner` under the Ray backend, which uses `hpo.scheduler`"),
    _c("W023", "warning", "`hpo.sampler` settings under PBT/PB2, which choose their own points"),
    _c("W024", "warning", "scheduler count beyond the reports a trial makes"),
    _c("W025", "warning", "scheduler key that its `type` does not read"),
    _c("W026", "warning", "PBT/PB2 with fewer than two trials running at once"),
    # --- advice ------------------------------------------------------------------------------
    _c("A001", "warning", "DPO/ORPO beta outside the recommended range"),
    _c("A002", "info", "LoRA alpha is not 2 x r"),
    _c("A003", "warning", "learning rate outside the typical range for the algorithm"),
    _c("A004", "info", "GRPO KL beta outside the typical range"),
    _c("A005", "info", "value outside the range the seed guides recommend"),
    _c("A006", "warning", "gradient clipping disabled or very loose"),
    # --- memory ------------------------------------------------------------------------------
    _c("M001", "error", "estimated peak memory exceeds the GPU"),
    _c("M002", "warning", "estimated peak memory is above 90% of the GPU"),
    _c("M003", "info", "memory not estimated: model shape unknown"),
    _c("M004", "error", "estimated host memory exceeds `hardware.host_memory_gb`"),
    # --- hpo ---------------------------------------------------------------------------------
    _c("H001", "error", "search-space path does not exist in the spec"),
    _c("H002", "error", "distribution does not fit the field's type"),
    _c("H003", "error", "log-scaled range needs low > 0"),
    _c("H004", "error", "low must be below high"),
    _c("H005", "error", "pruners need a single objective"),
    _c("H006", "error", "grid sampler needs enumerable dimensions"),
    _c("H007", "error", "objective metric is not reported by the algorithm"),
    _c("H008", "warning", "part of the search space is infeasible"),
    _c("H009", "error", "every point of the search space is infeasible"),
    _c("H010", "error", "`when` refers to an unknown dimension or value"),
    _c("H011", "error", "sampler does not support this search space"),
    _c("H012", "error", "search-space value violates the field's range"),
    _c("H013", "warning", "step does not divide the range"),
    _c("H014", "error", "unknown preset or profile"),
    _c("H015", "error", "multi-objective study needs a multi-objective sampler"),
    _c("H016", "warning", "grid budget differs from the number of grid points"),
    _c("H017", "error", "objective needs validation data"),
    _c("H018", "error", "objective is neither a metric name nor a safe expression"),
    _c("H019", "error", "Ray Tune scheduler under the Optuna backend"),
    _c("H020", "info", "`backend: ray_tune` read as `ray`"),
    _c("H021", "error", "PBT/PB2 mutation is not a key of the search space"),
    _c("H022", "error", "PBT/PB2 mutation of a key that cannot change mid-training"),
    _c("H023", "error", "PBT/PB2 with no searched key it may perturb"),
    _c("H024", "error", "PB2 mutation of a categorical dimension"),
    _c("H025", "error", "PBT/PB2 with a conditional search space"),
    _c("H026", "error", "Ray Tune scheduler with several objectives"),
    _c("H027", "error", "PBT/PB2 with checkpointing disabled"),
    _c("H028", "error", "PBT/PB2 with cross-validation"),
    _c("H029", "error", "ASHA `grace_period` above `max_t`"),
    # --- editing in place (`specc set`) -------------------------------------------------------
    _c("E001", "error", "path cannot be set: it runs through a value or a missing list item"),
    _c("E002", "error", "value cannot be edited in place (anchor, alias or unusual layout)"),
    _c("E003", "info", "value came from an `extends` parent; the file now overrides it"),
    _c("E004", "info", "an interpolation was replaced by a plain value"),
    _c("E005", "error", "file is read-only: not written without --force"),
    _c("E006", "error", "folder is not writable: the file cannot be replaced"),
    # --- study storage and outputs (`specc run`, `specc report`) ------------------------------
    _c("T001", "error", "study storage cannot be opened or used"),
    _c("T002", "error", "SQLite study database is damaged and was not changed"),
    _c("T003", "warning", "SQLite study database was repaired"),
    _c("T004", "info", "temporary files of an interrupted write were removed"),
    _c("T005", "error", "output path is taken by a directory or cannot be written"),
    _c("T006", "error", "study was made from another spec"),
    # --- exporting the search (`specc export wandb-sweep`, `specc agent`) ----------------------
    _c("X001", "error", "nothing to export: the spec has no `hpo` search space"),
    _c("X002", "warning", "W&B sweeps optimise one metric: only the first objective is swept"),
    _c("X003", "info", "sampler becomes the nearest W&B sweep method"),
    _c("X004", "warning", "sampler setting has no W&B equivalent and is not carried over"),
    _c("X005", "warning", "pruner has no W&B early termination and is not carried over"),
    _c("X006", "warning", "pruner setting has no W&B equivalent and is not carried over"),
    _c("X007", "warning", "conditional dimension (`when`): W&B samples it in every run"),
    _c("X008", "warning", "study setting has no W&B equivalent and is not carried over"),
    _c("X009", "info", "`hpo.parallel`: a sweep runs as many trials at once as it has agents"),
    _c("X010", "info", "dimension renamed: W&B parameter names allow only letters, digits, "
       "`_`, `.` and `-`"),
    _c("X011", "info", "objective expression: the agent logs its value as `objective`"),
    _c("X012", "error", "dimension cannot be written as a W&B parameter"),
    _c("X013", "error", "W&B's sweep engine rejects the exported configuration"),
    _c("X014", "info", "not checked against W&B's sweep schema: `sweeps` is not installed"),
    _c("X015", "error", "W&B's parameters do not match the spec's search space"),
    _c("X016", "info", "Ray scheduler becomes W&B's hyperband early termination"),
    _c("X017", "warning", "population-based training is not carried over to a W&B sweep"),
]

CODES: dict[str, CodeInfo] = {c.code: c for c in _ALL}
UNREADABLE: frozenset[str] = frozenset(c.code for c in _ALL if c.unreadable)


def markdown() -> str:
    """The code table as Markdown (the source of ``docs/diagnostics.md``'s index)."""
    lines = ["| code | severity | meaning |", "|---|---|---|"]
    lines += [f"| `{c.code}` | {c.severity} | {c.title} |" for c in _ALL]
    return "\n".join(lines)
