"""`specc export wandb-sweep`: the spec's search as a W&B sweep configuration, checked by
W&B's own sweep engine (the `sweeps` package, a dev dependency).

Cases are data: `tests/cases/export_<name>/spec.yaml` and `export.yaml` (the exit status,
every diagnostic as `{code, line, path}` and the configuration written); regenerate with
`SPECC_UPDATE_CASES=1` and review the diff. `tests/data/wandb_export_examples.yaml` holds
the diagnostic codes of every example with an `hpo` block.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from specc.cli import main
from specc.commands.export import export_file
from specc.compiler import wandb_check
from specc.compiler.wandb_sweep import parameter_names, point_from_params
from specc.spec.diagnostics import Collector, exit_code
from specc.spec.models.hpo import Hpo

from conftest import CASES, EXAMPLES, ROOT

EXPORT_CASES = sorted(p for p in CASES.glob("export_*") if (p / "spec.yaml").exists())
EXAMPLES_EXPECTED = ROOT / "tests" / "data" / "wandb_export_examples.yaml"
UPDATE = bool(os.environ.get("SPECC_UPDATE_CASES"))


def _export(folder: Path, file: str = "spec.yaml") -> dict[str, Any]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        done = export_file(file)
    finally:
        os.chdir(cwd)
    return {"exit": int(exit_code(done.diagnostics)),
            "diagnostics": [{"code": d.code, "line": d.line, "path": d.path}
                            for d in done.diagnostics],
            "config": done.result.config if done.result else None}


def _load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def _dump(data: Any, path: Path) -> None:
    out = YAML()
    out.default_flow_style = None
    with path.open("w") as f:
        out.dump(data, f)


@pytest.mark.parametrize("case", EXPORT_CASES, ids=[p.name for p in EXPORT_CASES])
def test_export_case(case: Path) -> None:
    actual = _export(case)
    expected_file = case / "export.yaml"
    if UPDATE:
        _dump(actual, expected_file)
    assert expected_file.exists(), f"{expected_file} is missing; SPECC_UPDATE_CASES=1"
    expected = _load(expected_file)
    assert actual["exit"] == expected["exit"]
    assert actual["diagnostics"] == expected["diagnostics"]
    assert actual["config"] == expected["config"]
    if actual["config"] is not None:  # what is written, W&B's engine accepts
        assert wandb_check.check_config(actual["config"]).violations == []


def test_every_x_code_but_the_engine_s_own_has_a_case() -> None:
    produced = {d["code"] for c in EXPORT_CASES for d in _load(c / "export.yaml")["diagnostics"]}
    # X013 (the engine rejects the export) and X015 (the agent's parameters) are tested
    # below and in test_wandb_agent.py
    assert {f"X{i:03d}" for i in range(1, 15)} - {"X013"} <= produced


def test_mapping_of_each_dimension_kind() -> None:
    space = _load(CASES / "export_space" / "export.yaml")["config"]["parameters"]
    assert space["policy.optimizer.kwargs.lr"]["distribution"] == "log_uniform_values"
    assert space["dpo.reference_policy_kl_penalty"] == {  # aligned step: W&B rounds to q
        "distribution": "q_uniform", "min": 0.1, "max": 0.5, "q": 0.1}
    assert space["policy.max_grad_norm"] == {"values": [0.25, 0.75]}  # off W&B's q grid
    assert space["policy.lora.alpha"]["distribution"] == "q_log_uniform_values"
    assert space["dpo.seed"] == {"distribution": "int_uniform", "min": 1, "max": 100}
    assert space["policy.lora.enabled"] == {"values": [True, False]}
    assert "policy.lora.target_modules_0_" in space  # renamed (X010)


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_exports_or_yields_its_expected_diagnostics(example: str) -> None:
    got = _export(EXAMPLES, example)
    codes = sorted({d["code"] for d in got["diagnostics"] if d["code"].startswith("X")})
    if UPDATE:  # (run serially: one file for all examples)
        expected = _load(EXAMPLES_EXPECTED) if EXAMPLES_EXPECTED.exists() else {}
        expected[example] = {"exit": got["exit"], "codes": codes}
        _dump(dict(sorted(expected.items())), EXAMPLES_EXPECTED)
    assert _load(EXAMPLES_EXPECTED)[example] == {"exit": got["exit"], "codes": codes}
    if got["config"] is None:  # a single run: nothing to sweep
        assert got["exit"] == 1 and codes == ["X001"]
    else:
        assert got["exit"] == 0
        assert wandb_check.check_config(got["config"]).violations == []


def test_every_example_with_a_search_is_exported() -> None:
    expected = _load(EXAMPLES_EXPECTED)
    assert sorted(expected) == sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    exported = sorted(k for k, v in expected.items() if v["codes"] != ["X001"])
    assert exported == sorted(p.name for p in EXAMPLES.glob("*.yaml")
                              if "\nhpo:" in p.read_text())


def test_engine_rejection_is_x013_and_a_missing_engine_x014(monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    diags = Collector()
    bad = {"method": "bayes", "metric": {"name": "eval_loss"},
           "parameters": {"lr": {"distribution": "uniform", "min": 2.0, "max": 1.0}}}
    assert wandb_check.check(bad, diags) is False
    assert [d.code for d in diags] == ["X013"] and "min 2.0 is not less than max" in \
        diags.items[0].message
    monkeypatch.setattr(wandb_check, "sweeps_installed", lambda: False)
    diags = Collector()
    assert wandb_check.check(bad, diags) is True
    assert [d.code for d in diags] == ["X014"]


def test_export_needs_neither_wandb_nor_sweeps_nor_torch(tmp_path: Path) -> None:
    """Export with wandb and sweeps unimportable: the configuration is written (X014 says
    it went unchecked), and nothing heavy is imported."""
    out = tmp_path / "sweep.yaml"
    probe = (
        "import sys, json\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('wandb', 'sweeps'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from specc.cli import main\n"
        f"rc = main(['export', 'wandb-sweep', {str(EXAMPLES / 'quickstart.yaml')!r}, "
        f"'--output', {str(out)!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('wandb', 'sweeps', 'torch', 'optuna', 'transformers', 'numpy'))\n"
        "print(json.dumps({'rc': rc, 'heavy': heavy}))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"rc": 0, "heavy": []}, proc.stderr
    assert "X014" in proc.stderr and "not installed" in proc.stderr
    assert _load(out)["parameters"]["policy.optimizer.kwargs.lr"]["min"] == 1.0e-5


def test_cli_writes_the_file_and_exits_like_validate(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec = EXAMPLES / "quickstart.yaml"
    out = tmp_path / "sub" / "sweep.yaml"
    assert main(["export", "wandb-sweep", str(spec), "--output", str(out),
                 "--spec-path", "quickstart.yaml"]) == 0
    cfg = _load(out)
    assert cfg["command"] == ["${env}", "specc", "agent", "quickstart.yaml", "--params",
                              "${args_json_file}"]
    assert cfg["program"] == "quickstart.yaml" and cfg["run_cap"] == 6
    err = capsys.readouterr().err
    assert "warning X005" in err and "quickstart.yaml:49:12" in err  # file:line:col
    assert main(["export", "wandb-sweep", str(spec)]) == 0  # to standard output
    assert capsys.readouterr().out.startswith("# W&B sweep configuration")
    single = CASES / "export_nothing" / "spec.yaml"
    assert main(["export", "wandb-sweep", str(single), "-O", str(tmp_path / "x.yaml")]) == 1
    assert not (tmp_path / "x.yaml").exists()
    assert "error X001" in capsys.readouterr().err
    assert main(["export", "wandb-sweep", str(spec), "-o", "policy.precision=fp7"]) == 1
    assert "error S005" in capsys.readouterr().err
    assert main(["export", "wandb-sweep", str(tmp_path / "missing.yaml")]) == 2
    assert "error Y001" in capsys.readouterr().err
    assert main(["export", "wandb-sweep", str(spec), "--format", "json", "-q"]) == 0
    got = json.loads(capsys.readouterr().err)
    assert {d["code"] for d in got["diagnostics"]} == {"X004", "X005"}


# --- W&B's parameters back as a point ------------------------------------------------------------

def _hpo(space: dict[str, Any]) -> Hpo:
    return Hpo.model_validate({"search_space": space})


def test_point_from_params_snaps_checks_and_drops_inactive_dimensions() -> None:
    hpo = _hpo({
        "a.lr": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True},
        "a.r": {"type": "int", "low": 8, "high": 32, "step": 4},
        "a.q": {"type": "float", "low": 0.25, "high": 0.75, "step": 0.25},
        "a.on": {"type": "categorical", "choices": [True, False]},
        "a.n": {"type": "categorical", "choices": [1, 2]},
        "a.d": {"type": "float", "low": 0.0, "high": 0.1, "when": {"a.on": True}},
        "x.m[0]": {"type": "categorical", "choices": ["q", "k"]},
    })
    w = parameter_names(hpo.search_space)
    assert w["x.m[0]"] == "x.m_0_"
    point, problems = point_from_params(hpo, {
        "a.lr": 0.001, "a.r": 13.0, "a.q": 0.5000000000000001, "a.on": False, "a.n": 2.0,
        "a.d": 0.05, "x.m_0_": "k"})
    assert problems == []
    assert point == {"a.lr": 0.001, "a.r": 12, "a.q": 0.5, "a.on": False, "a.n": 2,
                     "x.m[0]": "k"}  # a.d dropped: its condition does not hold
    assert isinstance(point["a.r"], int) and point["a.on"] is False
    _, problems = point_from_params(hpo, {"a.lr": 5.0, "a.r": 12, "a.q": 0.5, "a.on": 1,
                                          "a.n": 3, "zz": 1})
    messages = sorted(p.message for p in problems)
    assert any("`zz`, which is not a dimension" in m for m in messages)
    assert any("`a.lr` = 5.0: outside" in m for m in messages)
    assert any("`a.on` = 1: not one of the choices" in m for m in messages)  # 1 is not True
    assert any("`a.n` = 3: not one of" in m for m in messages)
    assert any("no value for `x.m[0]` (W&B parameter `x.m_0_`)" in m for m in messages)
