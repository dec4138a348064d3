"""Every spec in `examples/` validates cleanly, and together they cover every algorithm.

The examples are documentation that runs: each must pass `specc validate` with exit
status 0 and no errors. Warnings and info are allowed only where an example says in its
comments why they are deliberate (listed in ``DELIBERATE`` below), so a new warning in
an example -- or a validator change that starts warning about one -- shows up here.

Files in ``examples/base/`` exist to be extended. One that validates on its own is
tested like any other example; one that is a fragment (no algorithm yet, N006) must have
no other errors and must be extended by at least one example.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from specc.compiler.validate import Validation, validate_files
from specc.spec.diagnostics import Severity
from specc.spec.models.root import ALGORITHMS

from conftest import EXAMPLES, ROOT

ALL = sorted(EXAMPLES.rglob("*.yaml"))
BASES = [p for p in ALL if p.parent.name == "base"]
SPECS = [p for p in ALL if p not in BASES]
SCHEMA = ROOT / "docs" / "spec.schema.json"

#: Non-error diagnostics an example produces on purpose, and explains in its comments.
DELIBERATE: dict[str, set[str]] = {
    # NeMo RL blocks (dtensor_cfg, logger extras, ...) carried through; checkpoint_dir
    # unused (specc keeps checkpoints in each trial's folder); NeMo RL keys specc run does
    # not honour (W015: val_batches, val_at_start, ...).
    "nemo_rl_dpo.yaml": {"R030", "W020", "W015"},
    "nemo_rl_grpo.yaml": {"R030", "W020", "W015"},
    # `max_prompt_length` sizes the memory estimate; TRL 1.16 does not truncate with it.
    **{f: {"W015"} for f in ("hw_a100_40gb.yaml", "hw_a100_80gb.yaml", "hw_m1_max.yaml",
                            "hw_multi_gpu.yaml", "hw_rtx4090.yaml", "kto.yaml", "orpo.yaml",
                            "web4_stage1_dpo.yaml", "web4_stage1_orpo.yaml")},
    # a later stage names the previous stage's output folder, which exists once that stage
    # has run: before, validate reads the name as a hub id (say so in the header).
    "pipeline/stage2_rs_sft.yaml": {"N009", "M003"},
    "pipeline/stage3_grpo.yaml": {"N009", "M003"},
}

#: A base that names no algorithm is a fragment: N006 is expected when it stands alone.
FRAGMENT_CODES = {"N006"}

_MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)
_EXTENDS = re.compile(r"^(?:extends|defaults):\s*(.+)$", re.MULTILINE)


def _rel(path: Path) -> str:
    return path.relative_to(EXAMPLES).as_posix()


def _validate(path: Path) -> Validation:
    return validate_files([str(path)])


def _describe(result: Validation) -> str:
    return "\n".join(f"{d.file}:{d.line}:{d.column} {d.severity} {d.code} [{d.path}] {d.message}"
                     for d in result.diagnostics)


def _errors(result: Validation) -> list[str]:
    return [d.code for d in result.diagnostics if d.severity is Severity.ERROR]


def test_examples_exist() -> None:
    assert SPECS, "examples/ has no specs"


@pytest.mark.parametrize("path", SPECS, ids=[_rel(p) for p in SPECS])
def test_example_validates(path: Path) -> None:
    result = _validate(path)
    assert int(result.exit_code) == 0, _describe(result)
    assert not _errors(result), _describe(result)
    allowed = DELIBERATE.get(_rel(path), set())
    unexpected = [d for d in result.diagnostics
                  if d.severity is not Severity.ERROR and d.code not in allowed]
    assert not unexpected, "undeclared warnings/info:\n" + _describe(result)


@pytest.mark.parametrize("path", BASES, ids=[_rel(p) for p in BASES])
def test_base_is_sound_and_used(path: Path) -> None:
    result = _validate(path)
    errors = _errors(result)
    if errors:
        # A fragment: only "no algorithm yet" is acceptable.
        assert set(errors) <= FRAGMENT_CODES, _describe(result)
    else:
        assert int(result.exit_code) == 0, _describe(result)
        assert not [d for d in result.diagnostics if d.severity is Severity.WARNING], \
            _describe(result)
    users = [p for p in ALL if p != path and any(
        (p.parent / name.strip().strip("\"'")).resolve() == path.resolve()
        for m in _EXTENDS.finditer(p.read_text(encoding="utf-8"))
        for name in m.group(1).strip("[]").split(","))]
    assert users, f"{_rel(path)} is extended by no example"


@pytest.mark.parametrize("path", ALL, ids=[_rel(p) for p in ALL])
def test_example_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), "an example starts with a comment block saying what it is"
    header = text.split("\nspecc:", 1)[0]
    assert "seed" in header.lower(), "the header names the seed document it re-expresses"
    m = _MODELINE.search(header)
    assert m, "missing `# yaml-language-server: $schema=...` modeline"
    target = Path(os.path.normpath(path.parent / m.group(1)))
    assert target == SCHEMA, f"modeline points at {target}, not {SCHEMA}"


def test_every_algorithm_has_an_example() -> None:
    selected: dict[str, list[str]] = {}
    for path in SPECS:
        result = _validate(path)
        spec = result.checked[0].spec
        algorithm = spec.selected() if spec is not None else None
        if algorithm is not None:
            selected.setdefault(algorithm, []).append(_rel(path))
    missing = [a for a in ("sft", "dpo", "orpo", "kto", "grpo", "rloo", "rs_sft", "awr", "ppo")
               if a not in selected]
    assert not missing, f"no example selects {missing}; have {selected}"
    assert set(ALGORITHMS) <= set(selected)
