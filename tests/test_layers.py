"""Layer boundaries, asserted from `sys.modules` in a fresh interpreter."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys

from conftest import EXAMPLES

HEAVY = ("torch", "trl", "peft", "transformers", "datasets", "accelerate", "optuna", "textual",
         "numpy", "ray", "wandb", "sklearn")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if m.split(".")[0] in HEAVY)


def _validate_modules() -> set[str]:
    """The modules `specc validate` imports for every example."""
    files = [str(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    code = (
        "import contextlib, io\n"
        "from specc.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main(['validate', *{files!r}])\n"
    )
    mods = _modules_after(code)
    assert "specc.compiler.validate" in mods  # the probe really validated
    return mods


def test_validate_cli_imports_nothing_heavy() -> None:
    assert _heavy(_validate_modules()) == []


def test_validate_imports_no_dataclass_with_compiled_methods() -> None:
    """Every dataclass in a module `specc validate` imports is a `@record`: a plain
    `@dataclass` compiles its repr and eq from source text on every cold run."""
    names = sorted(m for m in _validate_modules() if m.split(".")[0] == "specc")
    assert len(names) > 50
    plain = []
    for name in names:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (isinstance(value, type) and dataclasses.is_dataclass(value)
                    and value.__module__ == name
                    and any(_compiled(getattr(value, m)) for m in ("__repr__", "__eq__"))):
                plain.append(f"{name}.{value.__qualname__}")
    assert plain == []


def _compiled(method: object) -> bool:
    """Whether ``method`` was compiled from source text by `dataclasses`."""
    code = getattr(method, "__code__", None)
    return code is not None and code.co_filename == "<string>"


def test_spec_and_compiler_import_nothing_heavy() -> None:
    mods = _modules_after("import specc.spec.check, specc.compiler.validate, specc.compiler.space")
    assert _heavy(mods) == []


def test_validate_never_imports_user_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "evil_rewards.py").write_text("raise SystemExit('imported user code!')\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "algorithm: grpo\npolicy: {model_name: 'specc:tiny-llama', train_global_batch_size: 4,"
        " train_micro_batch_size: 4}\n"
        "grpo: {num_prompts_per_step: 2, num_generations_per_prompt: 2}\n"
        "reward: {functions: [{name: './evil_rewards.py:score'}]}\n"
        "data: {train: {path: 'specc:arith-prompts'}}\n"
    )
    code = (
        "import os, contextlib, io\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from specc.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['validate', 'spec.yaml'])\n"
        "assert rc == 0, rc\n"
    )
    mods = _modules_after(code)
    assert "evil_rewards" not in mods
    assert _heavy(mods) == []


def test_no_top_level_compiler_or_runtime_package() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u;"
         "print([n for n in ('spec','compiler','runtime','tui') if u.find_spec(n)])"],
        capture_output=True, text=True, check=True, cwd="/",
    )
    assert out.stdout.strip() == "[]"


def test_validate_scans_no_installed_distributions_and_leaves_pydantic_plugins_alone(
) -> None:
    # building specc's models skips pydantic's plugin loader (it imports importlib.metadata
    # and reads every distribution's entry points): a tenth of a cold `specc validate`
    files = [str(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    code = (
        "import contextlib, io, os\n"
        "from specc.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main(['validate', *{files!r}])\n"
        "assert 'PYDANTIC_DISABLE_PLUGINS' not in os.environ\n"
    )
    mods = _modules_after(code)
    assert "specc.compiler.validate" in mods
    assert "importlib.metadata" not in mods
    assert "pydantic.plugin._loader" not in mods
    # a model of the user's own, built afterwards, goes through the real loader
    after = _modules_after("import specc.spec.models\nfrom pydantic import BaseModel\n"
                           "class Mine(BaseModel):\n    x: int\nassert Mine(x=1).x == 1\n"
                           "from pydantic.plugin import _loader\n"
                           "assert hasattr(_loader, 'entry_points')\n")
    assert "pydantic.plugin._loader" in after
