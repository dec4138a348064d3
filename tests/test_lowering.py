"""The lowering tables against the installed TRL and PEFT: a renamed option fails here."""

from __future__ import annotations

import dataclasses
import importlib
import warnings
from pathlib import Path
from typing import Any

import pytest

from specc.compiler.derive import derive
from specc.compiler.lowering import (
    ALGORITHM_FIELDS,
    COMMON_FIELDS,
    PEFT_FIELDS,
    TARGETS,
    lower,
)
from specc.compiler.plan import build_plan
from specc.spec.models import Spec

from conftest import EXAMPLES


def _resolve(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _fields(cls: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("algorithm", sorted(TARGETS))
def test_every_table_entry_is_a_field_of_the_installed_config(algorithm: str) -> None:
    target = TARGETS[algorithm]
    config_cls = _resolve(target.config)
    _resolve(target.trainer)  # the trainer class exists where the table says
    missing = [f for f in (*COMMON_FIELDS, *ALGORITHM_FIELDS[algorithm])
               if f not in _fields(config_cls)]
    assert missing == [], f"{target.config} has no field(s) {missing}"


def test_peft_fields_exist() -> None:
    from peft import LoraConfig

    assert [f for f in PEFT_FIELDS if f not in _fields(LoraConfig)] == []


def _runnable_examples() -> list[Path]:
    return [p for p in sorted(EXAMPLES.glob("*.yaml"))
            if "algorithm" in p.read_text() or "dpo:" in p.read_text()]


@pytest.mark.parametrize("path", _runnable_examples(), ids=lambda p: p.name)
def test_lowered_configs_construct(path: Path, tmp_path: Path) -> None:
    """Each example's first trials build real TRL config and PEFT objects."""
    from peft import LoraConfig

    plan = build_plan(str(path), preview=2)
    assert plan is not None, path
    for trial in plan.trials:
        if trial.trainer is None or trial.trainer.config_class is None or not trial.feasible:
            continue
        # constructed here in one process: lower for a world of 1, as `specc run` does
        spec = Spec.model_validate(trial.spec)
        low = lower(spec, derive(spec, world=1), str(tmp_path))
        # precision flags are checked against this (CPU) machine at construction
        config = {**low.config, "output_dir": str(tmp_path), "use_cpu": True,
                  "bf16": False, "fp16": False}
        config.pop("tf32", None)
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)  # a deprecated name fails here
            assert low.config_class is not None
            _resolve(low.config_class)(**config)
        if low.peft is not None:
            LoraConfig(**low.peft)
