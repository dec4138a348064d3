"""The `hpo` block: search space, sampler, pruner, objectives and budget."""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from specc.spec.models.base import (
    Block,
    NonNegFloat,
    NonNegInt,
    PositiveFloat,
    PositiveInt,
    empty_dict,
)
from specc.spec.models.health import Health

Scalar = bool | int | float | str | None
SamplerType = Literal["grid", "random", "tpe", "cmaes", "gp", "qmc", "nsga2"]
PrunerType = Literal[
    "none", "median", "percentile", "successive_halving", "hyperband", "threshold", "patient"
]
BackendName = Literal["optuna", "ray", "ray_tune"]
SchedulerType = Literal["asha", "hyperband", "pbt", "pb2"]
MULTI_OBJECTIVE_SAMPLERS: frozenset[str] = frozenset({"nsga2", "tpe", "random", "grid", "gp",
                                                      "qmc"})


class Sampler(Block):
    """How the next trial's parameters are chosen (an Optuna sampler)."""

    type: SamplerType = "tpe"
    """`grid`, `random`, `tpe` (Bayesian), `cmaes`, `gp`, `qmc` or `nsga2` (multi-objective)."""
    seed: int | None = None
    """Seed for reproducible suggestions."""
    n_startup_trials: NonNegInt | None = None
    """TPE/GP/CMA-ES: random trials before the model takes over."""
    multivariate: bool | None = None
    """TPE: model parameters jointly (Optuna 5 default)."""
    constant_liar: bool | None = None
    """TPE: avoid duplicate suggestions from parallel workers."""
    group: bool | None = None
    """TPE: decompose conditional spaces into groups."""
    population_size: PositiveInt | None = None
    """NSGA-II / CMA-ES population size."""
    mutation_prob: Annotated[float, Field(ge=0, le=1)] | None = None
    """NSGA-II mutation probability."""
    crossover_prob: Annotated[float, Field(ge=0, le=1)] | None = None
    """NSGA-II crossover probability."""
    sigma0: PositiveFloat | None = None
    """CMA-ES initial step size."""
    restart_strategy: Literal["ipop", "bipop"] | None = None
    """CMA-ES restart strategy."""
    qmc_type: Literal["sobol", "halton"] | None = None
    """QMC sequence."""
    scramble: bool | None = None
    """QMC scrambling."""


class Pruner(Block):
    """When to stop unpromising trials early. Always explicit: specc never lets
    Optuna fall back to its silent MedianPruner default."""

    type: PrunerType = "none"
    """`none`, `median`, `percentile`, `successive_halving`, `hyperband`, `threshold`, `patient`."""
    n_startup_trials: NonNegInt | None = None
    """Median/percentile: trials that finish before pruning starts."""
    n_warmup_steps: NonNegInt | None = None
    """Median/percentile: reports in a trial before it can be pruned."""
    interval_steps: PositiveInt | None = None
    """Median/percentile: check every this many reports."""
    percentile: Annotated[float, Field(ge=0, le=100)] | None = None
    """Percentile pruner: keep trials above this percentile."""
    min_resource: PositiveInt | None = None
    """Successive halving / hyperband: minimum reports before a rung."""
    max_resource: PositiveInt | Literal["auto"] | None = None
    """Hyperband: maximum reports per trial."""
    reduction_factor: Annotated[int, Field(ge=2)] | None = None
    """Successive halving / hyperband: keep 1/reduction_factor per rung."""
    lower: float | None = None
    """Threshold pruner: prune below this."""
    upper: float | None = None
    """Threshold pruner: prune above this."""
    patience: PositiveInt | None = None
    """Patient pruner: reports without improvement tolerated."""
    min_delta: NonNegFloat | None = None
    """Patient pruner: change that counts as improvement."""
    wrapped: Literal["none", "median", "percentile"] | None = None
    """Patient pruner: the pruner it wraps."""


class Scheduler(Block):
    """A Ray Tune trial scheduler (`backend: ray` only; the Optuna backend uses `pruner`).
    Counts are in reports (evaluations), as the pruner's are: a trial reports every
    `evaluation.val_period` steps."""

    type: SchedulerType
    """`asha` (asynchronous successive halving), `hyperband`, `pbt` (population-based
    training) or `pb2` (PBT with a Gaussian-process bandit choosing the new values)."""
    grace_period: PositiveInt | None = None
    """ASHA: reports a trial makes before it can be stopped (default 1)."""
    max_t: PositiveInt | None = None
    """ASHA/Hyperband: most reports a trial makes (default: the trial's own number of
    evaluations)."""
    reduction_factor: Annotated[float, Field(ge=2)] | None = None
    """ASHA/Hyperband: keep 1/reduction_factor of the trials at each rung (default 4 for
    ASHA, 3 for Hyperband)."""
    brackets: PositiveInt | None = None
    """ASHA: number of brackets (default 1)."""
    perturbation_interval: PositiveInt | None = None
    """PBT/PB2: reports between two exploit/explore decisions of a trial (default 1). A
    checkpoint is saved at each report, so a trial can take another's weights."""
    mutations: list[str] | None = None
    """PBT/PB2: the searched keys that may change mid-training (default: every searched
    key that can: learning rate, weight decay, KL/beta coefficients, reward weights,
    sampling temperature...). Keys that fix the model or its shapes (LoRA rank, model,
    batch sizes) cannot."""
    quantile_fraction: Annotated[float, Field(gt=0, le=0.5)] | None = None
    """PBT/PB2: the bottom fraction that copies the top fraction (default 0.25)."""
    resample_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    """PBT: chance that a mutated key is drawn anew from its distribution instead of
    perturbed (default 0.25)."""
    perturbation_factors: Annotated[list[PositiveFloat], Field(min_length=2,
                                                               max_length=2)] | None = None
    """PBT: the factors a continuous key is scaled by when perturbed (default
    [1.2, 0.8])."""
    synch: bool | None = None
    """PBT/PB2: wait for the whole population at each interval (default false)."""


class Objective(Block):
    """A metric the study optimises."""

    metric: str = "eval_loss"
    """A metric the trial reports (`eval_loss`, `eval_reward`, one reward function's
    `eval_rewards/<fn>/mean`, `eval_rewards/accuracies`), or an expression of them with
    numbers, `+ - * /`, `min`, `max`, `abs` (`eval_rewards/exact_match/mean - 0.01 *
    completion_length`; division with spaces). Parsed, never run."""
    direction: Literal["minimize", "maximize"] = "minimize"
    """Whether lower or higher is better."""


class _Dim(Block):
    when: dict[str, Scalar | list[Scalar]] | None = None
    """Conditional dimension: sampled only when the named dimension takes (one of) these
    values, e.g. `when: {policy.lora.enabled: true}`."""


class FloatDim(_Dim):
    """A real-valued dimension."""

    type: Literal["float"]
    """Dimension kind."""
    low: float
    """Lowest value (inclusive)."""
    high: float
    """Highest value (inclusive)."""
    log: bool = False
    """Sample on a log scale (learning rates); needs low > 0."""
    step: PositiveFloat | None = None
    """Discretisation step; not combinable with `log`."""


class IntDim(_Dim):
    """An integer dimension."""

    type: Literal["int"]
    """Dimension kind."""
    low: int
    """Lowest value (inclusive)."""
    high: int
    """Highest value (inclusive)."""
    log: bool = False
    """Sample on a log scale; needs low > 0."""
    step: PositiveInt = 1
    """Step between values."""


class CategoricalDim(_Dim):
    """A choice among listed values."""

    type: Literal["categorical"]
    """Dimension kind."""
    choices: Annotated[list[Scalar], Field(min_length=1)]
    """Values to choose from."""


def _dim_kind(v: Any) -> str:
    t = v.get("type") if isinstance(v, dict) else None
    return t if t in ("float", "int", "categorical") else "unknown"


class _UnknownDim(_Dim):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["float", "int", "categorical"]
    """Dimension kind: `float`, `int` or `categorical`."""


Dimension = Annotated[
    Annotated[FloatDim, Tag("float")]
    | Annotated[IntDim, Tag("int")]
    | Annotated[CategoricalDim, Tag("categorical")]
    | Annotated[_UnknownDim, Tag("unknown")],
    Discriminator(_dim_kind),
]


class CrossValidation(Block):
    """K-fold evaluation of each trial (seed 001): the trial trains k times from the base
    weights, each time holding out one of k contiguous parts of `data.train` for
    evaluation, and its objective is the mean over the folds (`data.validation` is then
    unused). Pruners see the folds' reports one after another."""

    n_folds: Annotated[int, Field(ge=2)] = 5
    """Folds: each trial trains this many times, on (k-1)/k of the training rows."""


class Evaluation(Block):
    """How each trial is trained and scored during the search."""

    max_steps: PositiveInt | None = None
    """Optimizer steps per trial (overrides the algorithm block's `max_num_steps`)."""
    val_period: PositiveInt | None = None
    """Report the objective every this many steps (pruners act on these reports)."""
    cross_validation: CrossValidation | None = None
    """Score each trial by k-fold cross-validation of `data.train` (k training runs per
    trial)."""


class Hpo(Block):
    """A hyperparameter search: an Optuna study whose trials are training runs."""

    backend: BackendName = "optuna"
    """Who runs the trials: `optuna` (worker processes sharing an Optuna storage) or `ray`
    (Ray Tune trials on this machine or a Ray cluster, each reserving its CPUs and GPUs;
    Optuna's sampler still chooses the points unless a `pbt`/`pb2` scheduler does).
    `ray_tune` is another name for `ray`. `specc run --backend` overrides it."""

    preset: str | None = None
    """Named search space (`grpo`, `dpo`, `optimizer`, `lora`, `generation`, `full`,
    `conservative`, `aggressive`)."""
    profile: str | None = None
    """Named study profile (`quick`, `conservative`, `aggressive`, `distributed`)."""
    sampler: Sampler = Field(default_factory=Sampler)
    """The sampler."""
    pruner: Pruner = Field(default_factory=Pruner)
    """The pruner (default `none`)."""
    scheduler: Scheduler | None = None
    """A Ray Tune scheduler (`backend: ray`): `asha`, `hyperband`, `pbt`, `pb2`."""
    objectives: Annotated[list[Objective], Field(min_length=1)] = Field(
        default_factory=lambda: [Objective()])
    """What to optimise; two or more make a multi-objective study."""
    n_trials: PositiveInt = 20
    """Total trials in the study, across restarts."""
    timeout: PositiveInt | str | None = None
    """Wall-clock limit: seconds, or `30m`, `2h`, `1d`."""
    storage: str | None = None
    """Optuna storage URL (default `sqlite:///<output>/study.db`)."""
    study_name: str | None = None
    """Study name (default: the spec's `name`)."""
    parallel: PositiveInt = 1
    """Local worker processes."""
    early_stopping_patience: PositiveInt | None = None
    """End the study after this many finished trials without improvement."""
    keep_best_n: NonNegInt | None = None
    """Keep the adapters of the best N trials."""
    max_failed_trials: PositiveInt | None = None
    """Stop the study after this many failed trials."""
    max_infeasible_in_a_row: PositiveInt | None = 25
    """End the study when the sampler proposes this many infeasible points in a row
    (infeasible points are recorded, never trained, and not counted in `n_trials`; null:
    no limit)."""
    evaluation: Evaluation = Field(default_factory=Evaluation)
    """Per-trial training length and reporting."""
    health: Health = Field(default_factory=Health)
    """Warning signs that stop a trial, for the search's trials (over the top-level
    `health`)."""
    search_space: dict[str, Dimension] = Field(default_factory=empty_dict)
    """Dotted paths into this spec mapped to distributions."""
