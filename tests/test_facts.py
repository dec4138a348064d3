"""One home per fact: the algorithm table, the defaults and the key-path grammar."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from specc.compiler.lowering import NOT_LOWERED, TARGETS
from specc.compiler.memory import DEFAULT_LORA_TARGETS as MEMORY_TARGETS
from specc.spec import defaults, keypath
from specc.spec.facts import FACTS, GENERATES, RUNNABLE, keep_columns
from specc.spec.metrics import METRICS
from specc.spec.models.algorithms import Algorithm
from specc.spec.models.policy import Lora


def test_every_algorithm_has_facts() -> None:
    assert list(FACTS) == list(typing.get_args(Algorithm))


def test_layers_read_the_table() -> None:
    assert set(TARGETS) == RUNNABLE
    assert set(NOT_LOWERED) == set(FACTS) - RUNNABLE
    assert {n: m for n, m in METRICS.items()} == {n: f.metrics for n, f in FACTS.items()}
    assert Lora().target_modules == list(defaults.DEFAULT_LORA_TARGETS)
    assert MEMORY_TARGETS == defaults.DEFAULT_LORA_TARGETS
    # a generating algorithm's data keeps every column: its reward functions read them
    assert all(keep_columns(a) is None for a in GENERATES)
    assert keep_columns("dpo") == ("prompt", "chosen", "rejected", "text")


def test_storage_default_follows_an_existing_study(tmp_path: Path) -> None:
    assert defaults.storage_url(tmp_path) == f"sqlite:///{tmp_path / 'study.db'}"
    assert defaults.storage_url(tmp_path, 2) == f"journal:{tmp_path / 'study.journal'}"
    (tmp_path / "study.journal").write_text("")
    assert defaults.storage_url(tmp_path, 1) == f"journal:{tmp_path / 'study.journal'}"


@pytest.mark.parametrize("text", [
    "policy.scheduler[0].kwargs.lr", 'hpo.search_space["policy.lora.r"].low', "name",
])
def test_keypath_round_trip(text: str) -> None:
    path = keypath.parse(text)
    assert path is not None
    assert keypath.render(path) == text


def test_keypath_get_set_delete() -> None:
    data: dict[str, typing.Any] = {"a": [{"b": 1}], "c": None}
    assert keypath.get(data, ("a", 0, "b")) == (True, 1)
    assert keypath.get(data, ("a", 1)) == (False, None)
    assert keypath.set_value(data, ("c", "d"), 2) and data["c"] == {"d": 2}
    assert not keypath.set_value(data, ("a", 3, "b"), 2)
    assert not keypath.set_value(data, ("a", 0, "b", "x"), 2)  # through a scalar
    assert keypath.delete(data, ("a", 0, "b")) and data["a"] == [{}]
    assert keypath.value_at(data, ("nope",), "dflt") == "dflt"
