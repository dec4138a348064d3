"""Datasets for a trial: built-ins, local JSON-lines/JSON/Parquet files and saved folders.

Nothing is downloaded: a hub dataset name is refused with a clear reason.
"""

from __future__ import annotations

import os
from typing import Any

from specc.compiler import builtin_data
from specc.errors import SpeccError
from specc.spec.builtins import BUILTIN_PREFIX, DATASETS
from specc.spec.facts import FACTS, keep_columns
from specc.spec.models.data import DataSource

_RENAMES = (("prompt_key", "prompt"), ("chosen_key", "chosen"), ("rejected_key", "rejected"),
            ("completion_key", "completion"), ("answer_key", "answer"), ("label_key", "label"))


class DataError(SpeccError):
    """A dataset that cannot be loaded; the message is the trial's failure reason."""


def load_split(src: DataSource | None, algorithm: str, default_split: str,
               spec_dir: str) -> Any:
    """A `datasets.Dataset` with the columns ``algorithm`` needs, or None."""
    if src is None or src.location is None:
        return None
    from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

    loc = src.location
    split = src.split or default_split
    if loc.startswith(BUILTIN_PREFIX):
        if loc not in DATASETS:
            raise DataError(f"unknown built-in dataset {loc}")
        rows = builtin_data.rows(loc, split)
        if algorithm == "kto":
            rows = builtin_data.kto_view(rows)
        ds = Dataset.from_list(rows)
    else:
        path = os.path.expanduser(loc)
        if not os.path.isabs(path):
            near = os.path.join(spec_dir, path)
            path = near if os.path.exists(near) else path
        if os.path.isdir(path):
            loaded = load_from_disk(path)
            ds = loaded[split] if isinstance(loaded, DatasetDict) else loaded
        elif os.path.isfile(path):
            kind = "parquet" if path.endswith(".parquet") else "json"
            ds = load_dataset(kind, data_files=path, split="train")
        else:
            raise DataError(f"data path {loc} does not exist (specc never downloads datasets)")
    for key, standard in _RENAMES:
        column = getattr(src, key)
        if column and column in ds.column_names and column != standard:
            ds = ds.rename_column(column, standard)
    facts = FACTS[algorithm]
    missing = [c for c in facts.columns if c not in ds.column_names]
    if algorithm == "sft" and "text" in ds.column_names:
        missing = []
    if missing:
        raise DataError(f"{loc} ({split}) lacks column(s) {', '.join(missing)} needed by "
                        f"{algorithm}; map them with e.g. `prompt_key:`")
    if not facts.keeps_extra_columns:
        keep = [c for c in keep_columns(algorithm) or () if c in ds.column_names]
        ds = ds.select_columns(keep)
    if src.max_samples:
        ds = ds.select(range(min(src.max_samples, len(ds))))
    return ds
