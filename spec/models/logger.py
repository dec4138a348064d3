"""The `logger` block: experiment tracking, in NeMo RL's layout.

`specc run` lowers it to TRL's `report_to` (TensorBoard, Weights & Biases, MLflow), one
tracked run per trial, with the trial's resolved spec and search-space parameters logged
as the run's config. Keys NeMo RL has that specc does not act on (`monitor_gpus`,
`gpu_monitoring`, `num_val_samples_to_print`, SwanLab) are typed, checked, and reported
once as carried through.
"""

from specc.spec.models.base import NemoBlock, NonNegInt, PositiveFloat


class WandbLogger(NemoBlock):
    """Weights & Biases settings. Offline runs: set `WANDB_MODE=offline` in the
    environment (`wandb sync` uploads them later)."""

    project: str | None = None
    """W&B project (sets `WANDB_PROJECT`; default: the study name)."""
    name: str | None = None
    """Run name; each trial's run is `<name>-trial-<n>` (default: the study name)."""
    entity: str | None = None
    """W&B team or user the runs belong to (sets `WANDB_ENTITY`)."""


class TensorboardLogger(NemoBlock):
    """TensorBoard settings (works offline; needs only the `tensorboard` package)."""

    log_dir: str | None = None
    """Folder for the event files; trial `n` writes `<log_dir>/<study>/trial-<n>`.
    Default: `<logger.log_dir>/tensorboard/<study>/trial-<n>`, or
    `<output>/tensorboard/trial-<n>` without `logger.log_dir`. `tensorboard --logdir` on
    the parent folder compares trials."""


class MlflowLogger(NemoBlock):
    """MLflow settings."""

    experiment_name: str | None = None
    """MLflow experiment (sets `MLFLOW_EXPERIMENT_NAME`; default: the study name)."""
    run_name: str | None = None
    """Run name; each trial's run is `<run_name>-trial-<n>` (default: the study name)."""
    tracking_uri: str | None = None
    """Tracking server or store, e.g. `http://localhost:5000` or `file:./mlruns` (sets
    `MLFLOW_TRACKING_URI`; default: MLflow's own default or the environment's)."""
    run_id: str | None = None
    """NeMo RL's run to resume; carried through (specc starts one run per trial)."""
    artifact_location: str | None = None
    """NeMo RL's artifact store for a new experiment; carried through (the tracking
    server's default applies)."""


class SwanlabLogger(NemoBlock):
    """SwanLab settings (NeMo RL); carried through, specc does not log to SwanLab."""

    project: str | None = None
    """SwanLab project."""
    name: str | None = None
    """SwanLab run name."""


class GpuMonitoring(NemoBlock):
    """NeMo RL's GPU metrics collection; carried through (W&B records system metrics on
    its own)."""

    collection_interval: PositiveFloat | None = None
    """Seconds between GPU metric samples."""
    flush_interval: PositiveFloat | None = None
    """Seconds between flushes to the loggers."""


class Logger(NemoBlock):
    """Experiment tracking (NeMo RL layout): which backends each trial reports to, and
    where. Every trial is its own run, named `<name>-trial-<n>`, whose config holds the
    trial's resolved spec and its search-space parameters."""

    log_dir: str | None = None
    """Base folder for tracking files, relative to the working directory: TensorBoard
    events under `tensorboard/<study>/trial-<n>`, W&B files under `wandb/`. Default: the
    run's output folder (`<output>/tensorboard/trial-<n>`, `<output>/wandb`)."""
    tensorboard_enabled: bool | None = None
    """Log to TensorBoard (works offline)."""
    wandb_enabled: bool | None = None
    """Log to Weights & Biases (needs `pip install wandb`; `WANDB_MODE=offline` to log
    without a network)."""
    mlflow_enabled: bool | None = None
    """Log to MLflow (needs `pip install mlflow`)."""
    swanlab_enabled: bool | None = None
    """NeMo RL's SwanLab switch; carried through (specc does not log to SwanLab)."""
    monitor_gpus: bool | None = None
    """NeMo RL's GPU monitoring switch; carried through."""
    num_val_samples_to_print: NonNegInt | None = None
    """NeMo RL: validation samples printed per evaluation; carried through."""
    tensorboard: TensorboardLogger | None = None
    """TensorBoard settings."""
    wandb: WandbLogger | None = None
    """Weights & Biases settings."""
    mlflow: MlflowLogger | None = None
    """MLflow settings."""
    swanlab: SwanlabLogger | None = None
    """SwanLab settings (carried through)."""
    gpu_monitoring: GpuMonitoring | None = None
    """GPU monitoring intervals (carried through)."""


#: Logger keys specc types and checks but does not act on (reported once as carried).
CARRIED_LOGGER_KEYS: tuple[tuple[str, ...], ...] = (
    ("swanlab_enabled",), ("monitor_gpus",), ("num_val_samples_to_print",), ("swanlab",),
    ("gpu_monitoring",), ("mlflow", "run_id"), ("mlflow", "artifact_location"),
)
