"""The `checkpointing` block: NeMo RL's keys, honoured by `specc run`."""

from specc.spec.models.base import NemoBlock, PositiveInt


class Checkpointing(NemoBlock):
    """Checkpoints of a training run (NeMo RL's `checkpointing` keys). When enabled, every
    trial saves its model, optimizer and scheduler state, RNG state and step counter every
    `save_period` steps under its own folder (`trials/<n>/hf/checkpoint-<step>`); a trial
    whose worker died resumes from its last complete checkpoint when it is retried, instead
    of training again from step 1."""

    enabled: bool = False
    """Save checkpoints while training (and resume from them after a crash)."""
    checkpoint_dir: str | None = None
    """NeMo RL: where checkpoints go. specc keeps each trial's checkpoints in the trial's
    folder instead (W020 when set)."""
    save_period: PositiveInt | None = None
    """Save every this many optimizer steps (default: the evaluation period, else 100)."""
    keep_top_k: PositiveInt | None = None
    """Keep at most this many checkpoints per trial: the best ones by `metric_name` (the
    latest is always kept, for resuming); without `metric_name`, the most recent ones."""
    metric_name: str | None = None
    """Metric that ranks checkpoints for `keep_top_k` (`eval_loss`; NeMo RL's `val:loss`
    form is read as `eval_loss`)."""
    higher_is_better: bool | None = None
    """Whether a higher `metric_name` is better (default: higher is better for rewards and
    accuracies, lower for losses)."""

    def period(self, val_period: int | None) -> int:
        """The save period in steps."""
        return self.save_period or val_period or 100
