"""The recorded TRL field table against the installed TRL: a renamed or retyped field, a
new trainer option or a changed default fails here, not silently in a user's config."""

from __future__ import annotations

import dataclasses

from specc.spec.catalog import trl_fields, trl_fields_gen
from specc.spec.dialects import trl_table


def test_the_committed_table_is_what_the_installed_trl_declares() -> None:
    text = trl_fields_gen.render()
    assert trl_fields_gen.TARGET.read_text() == text, (
        "TRL's fields changed: run `python -m specc.spec.catalog.trl_fields_gen` and review")


def test_the_table_covers_every_config_field_of_the_installed_trl() -> None:
    for algo, qual in trl_fields_gen.CONFIG_CLASSES.items():
        cls = trl_fields_gen._resolve(qual)
        names = {f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}
        assert names <= set(trl_table.fields(algo)), algo


def test_every_mapped_name_is_a_trl_field() -> None:
    every = trl_table.all_fields()
    mapped = {*trl_table.PATHS, *trl_table.SPECIAL, *trl_table.FILLED,
              *(n for paths in trl_table.ALGO_PATHS.values() for n in paths)}
    assert sorted(mapped - every) == []
    for algo, paths in trl_table.ALGO_PATHS.items():
        assert set(paths) <= set(trl_table.fields(algo)), algo
    assert set(trl_table.RENAMED.values()) <= every
    assert trl_fields.REWARD_FUNCS and "accuracy_reward" in trl_fields.REWARD_FUNCS


def test_types_read_back() -> None:
    ok = trl_table.type_ok
    assert ok(4, "int") and not ok(True, "int") and ok(4, "float") and not ok("x", "float")
    assert ok(None, "int | None") and ok(["a"], "list[str] | None") and ok("a", "list[str]")
    assert ok("cosine", "str | Literal['linear', 'cosine']") and ok("${a.b}", "int")
    assert ok("no", "Literal['no', 'steps']") and not ok("never", "Literal['no', 'steps']")
