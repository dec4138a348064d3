"""The NeMo RL snapshot in ../shared holds no `.git` or `pyproject.toml`, so the project
root rule would stop each recipe at its own folder; a user's NeMo RL clone has `.git`.
These tests name the snapshot as a root, as `--root` (or `$SPECC_ROOT`) would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from specc.spec.sources import ROOT_ENV

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "nemo-rl"


@pytest.fixture(scope="package", autouse=True)
def corpus_is_a_root() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ROOT_ENV, str(CORPUS))
        yield
