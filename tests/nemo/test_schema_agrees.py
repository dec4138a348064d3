"""The exported JSON Schema accepts every file `specc validate` accepts: every example in
`examples/` (each file as an editor sees it: on its own, before `extends:` merging), and an
integer written `8.0` is treated alike by both. The NeMo RL corpus configs that validate
clean are checked against the schema in `test_corpus.py` (it validates them once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from specc.compiler.validate import validate_files
from specc.spec.diagnostics import Severity
from specc.spec.schema import json_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _doc(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def _clean(files: list[Path]) -> list[Path]:
    result = validate_files([str(f) for f in files])
    bad = {Path(d.file).resolve() for d in result.diagnostics if d.severity is Severity.ERROR}
    return [f for f in files if f.resolve() not in bad]


def test_schema_accepts_every_example(validator: Any) -> None:
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    assert examples
    failures = {f.name: [e.message for e in validator.iter_errors(_doc(f))][:3]
                for f in _clean(examples)}
    assert {k: v for k, v in failures.items() if v} == {}


def test_an_integer_written_as_float_is_treated_alike(validator: Any, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("algorithm: dpo\npolicy:\n  model_name: specc:tiny-llama\n"
                    "  train_global_batch_size: 8.0\n  train_micro_batch_size: 4\n"
                    "data:\n  train: {path: 'specc:arith-prefs'}\ndpo: {}\n")
    errors = [d for d in validate_files([str(spec)]).diagnostics
              if d.severity is Severity.ERROR]
    assert errors == []
    assert list(validator.iter_errors(_doc(spec))) == []
