"""The `data` and `reward` blocks."""

from pydantic import Field

from specc.spec.models.base import (
    Block,
    FreeForm,
    NemoBlock,
    NonNegInt,
    PositiveInt,
    empty_dict,
    empty_list,
)


class DataSource(NemoBlock):
    """One dataset split: a built-in, a local file or folder (NeMo RL keys accepted)."""

    path: str | None = None
    """`specc:arith-prefs` / `specc:arith-prompts` (built-in, offline), or a local
    jsonl/json/parquet file or `datasets` folder."""
    split: str | None = None
    """Split to use (`train`, `validation`)."""
    max_samples: PositiveInt | None = None
    """Use at most this many examples."""
    dataset_name: str | None = None
    """NeMo RL dataset name (e.g. `HelpSteer3`); specc runs only `path` datasets."""
    data_path: str | None = None
    """NeMo RL's name for `path`."""
    subset: str | None = None
    """Dataset configuration name."""
    prompt_key: str | None = None
    """Column holding the prompt (default `prompt`)."""
    chosen_key: str | None = None
    """Column holding the preferred response (default `chosen`)."""
    rejected_key: str | None = None
    """Column holding the dispreferred response (default `rejected`)."""
    completion_key: str | None = None
    """Column holding the target completion for SFT (default `completion`)."""
    answer_key: str | None = None
    """Column holding the verifiable answer for rewards (default `answer`)."""
    label_key: str | None = None
    """Column holding the desirable/undesirable label for KTO (default `label`)."""
    prompt_file: str | None = None
    """NeMo RL: a prompt template file. Carried through."""
    system_prompt_file: str | None = None
    """NeMo RL: a system prompt file. Carried through."""

    @property
    def location(self) -> str | None:
        return self.path or self.data_path


class Data(NemoBlock):
    """Training and validation data."""

    train: DataSource | None = None
    """Training split."""
    validation: DataSource | None = None
    """Validation split; the HPO objective is computed on it."""
    default: DataSource | None = None
    """NeMo RL: defaults applied to `train` and `validation`."""
    max_input_seq_length: PositiveInt | None = None
    """NeMo RL: input length limit (usually `${policy.max_total_sequence_length}`)."""
    shuffle: bool = True
    """Shuffle the training data each epoch."""
    num_workers: NonNegInt | None = None
    """Data-loader worker processes."""
    dataset_name: str | None = None
    """NeMo RL's older single-dataset form. Carried through."""
    prompt_file: str | None = None
    """NeMo RL: a prompt template file. Carried through."""
    system_prompt_file: str | None = None
    """NeMo RL: a system prompt file. Carried through."""
    train_data_path: str | None = None
    """NeMo RL: training file for `ResponseDataset`. Carried through."""
    val_data_path: str | None = None
    """NeMo RL: validation file for `ResponseDataset`. Carried through."""
    input_key: str | None = None
    """NeMo RL: input column. Carried through."""
    output_key: str | None = None
    """NeMo RL: output column. Carried through."""
    val_data_paths: dict[str, str] | None = None
    """NeMo RL: several named validation files. Carried through."""


class RewardFunction(Block):
    """A weighted reward function."""

    name: str
    """`specc.rewards:exact_match` (built-in), `module:function` of an installed module,
    or `./rewards.py:score`, a file inside the project root relative to the spec
    (imported only by `specc run`; never from the working directory, never the standard
    library)."""
    weight: float = 1.0
    """Weight in the sum of rewards; negative weights are penalties."""
    kwargs: FreeForm = Field(default_factory=empty_dict)
    """Keyword arguments bound to the function."""


class Reward(Block):
    """Reward functions for algorithms that generate (GRPO, RLOO, RS-SFT, AWR, PPO)."""

    functions: list[RewardFunction] = Field(default_factory=empty_list)
    """Reward functions, summed with their weights."""
    normalize: bool = False
    """Scale the summed reward to [0, 1] by the weights' range (seed 003)."""
