"""Defaults that `plan`, `run` and the TUI must agree on: where a spec's run writes, what
its study is called and where the study is stored."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from specc.spec.storage_url import JOURNAL_PREFIX

if TYPE_CHECKING:
    from specc.spec.models import Spec

__all__ = ["DEFAULT_LORA_TARGETS", "output_dir", "storage_url", "study_name"]

#: The LoRA target modules when a spec names none (Llama-like projection names).
DEFAULT_LORA_TARGETS: tuple[str, ...] = (
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
)


def output_dir(spec: Spec) -> str:
    """Where `specc run` writes: `output_dir`, else `runs/<name>`."""
    return spec.output_dir or f"runs/{spec.name}"


def study_name(spec: Spec) -> str:
    """The Optuna study's name: `hpo.study_name`, else the spec's name."""
    return (spec.hpo.study_name if spec.hpo is not None else None) or spec.name


def storage_url(output: str | os.PathLike[str], workers: int = 1) -> str:
    """The study's storage when none is given: an existing study in ``output`` wins (its
    journal, else its SQLite file); a new one is SQLite for one worker, a journal file
    (which takes parallel writers) for several."""
    journal, db = Path(output) / "study.journal", Path(output) / "study.db"
    if journal.exists():
        return f"{JOURNAL_PREFIX}{journal}"
    if db.exists() or workers <= 1:
        return f"sqlite:///{db}"
    return f"{JOURNAL_PREFIX}{journal}"
