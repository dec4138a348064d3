"""`specc init`: every scaffold validates cleanly; the command writes, refuses, prints.

The scaffolds are data (spec/scaffold.py): every algorithm x hardware profile x mode x
search on/off is generated and validated with the real validator (memory estimate and
search-space corners included), the CPU ones are also compiled to a plan, and one CPU
scaffold is run for real, as written, with only its length and trial budget overridden.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from itertools import product
from pathlib import Path

import pytest

from specc.cli import main
from specc.commands import init as init_cmd
from specc.compiler.plan import build_plan
from specc.compiler.validate import validate_one
from specc.spec import scaffold as sc
from specc.spec.diagnostics import Collector
from specc.spec.models.root import ALGORITHMS

COMBOS = list(product(ALGORITHMS, sc.HARDWARE, sc.MODES, (True, False)))
CPU = [c for c in COMBOS if c[1] == "cpu"]


def _id(combo: tuple[str, str, str, bool]) -> str:
    a, h, m, hpo = combo
    return f"{a}-{h}-{m}-{'hpo' if hpo else 'single'}"


def _text(combo: tuple[str, str, str, bool]) -> str:
    a, h, m, hpo = combo
    return sc.scaffold(a, h, m, hpo=hpo)  # type: ignore[arg-type]


def _problems(file: str, text: str | None = None) -> list[str]:
    diags = Collector()
    validate_one(file, diags, text=text)
    return [f"{d.line}: {d.severity.value} {d.code} [{d.path}] {d.message}" for d in diags]


# --- the scaffolds --------------------------------------------------------------------------


@pytest.mark.parametrize("combo", COMBOS, ids=_id)
def test_every_scaffold_validates_without_any_diagnostic(
        combo: tuple[str, str, str, bool]) -> None:
    """No error, no warning, not even info: memory fits, every search point is feasible."""
    text = _text(combo)
    assert _problems(f"{_id(combo)}.yaml", text) == []
    assert ("\nhpo:" in text) is combo[3]


@pytest.mark.parametrize("combo", CPU, ids=_id)
def test_cpu_scaffolds_compile_to_a_plan(combo: tuple[str, str, str, bool],
                                         tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(_text(combo))
    diags = Collector()
    runnable = combo[0] in sc.RUNNABLE
    plan = build_plan(str(path), diags=diags, for_run=runnable)
    assert plan is not None, [d.message for d in diags]
    assert plan.trials and all(t.feasible for t in plan.trials)
    assert plan.algorithm == combo[0]
    for t in plan.trials:
        assert t.derived is not None and t.derived.effective_batch_size == \
            plan.spec.policy.train_global_batch_size  # type: ignore[union-attr]
        assert (t.trainer is not None and t.trainer.trainer_class is not None) is runnable
    if combo[3]:
        assert plan.space["dimensions"] and plan.study["n_trials"] >= 10


def _uncommented(text: str) -> list[str]:
    """Key and item lines with neither a trailing comment nor a comment line right above
    at the same indentation."""
    lines = text.splitlines()
    bad = []
    for i, line in enumerate(lines):
        body = line.strip()
        if not body or body.startswith("#"):
            continue
        if re.search(r"\s# \S", line):
            continue
        above = lines[i - 1] if i else ""
        indent = len(line) - len(line.lstrip())
        if above.strip().startswith("# ") and len(above) - len(above.lstrip()) == indent:
            continue
        bad.append(line)
    return bad


@pytest.mark.parametrize("combo", COMBOS, ids=_id)
def test_every_key_says_why(combo: tuple[str, str, str, bool]) -> None:
    text = _text(combo)
    assert _uncommented(text) == []
    assert all(len(line) <= 120 for line in text.splitlines() if not line.startswith("#     "))


def test_the_comment_check_can_fail() -> None:
    text = "a: 1    # why\n# why\nb: 2\nc: 3\nd:  # why\n# wrong indent\n  e: 4\n"
    assert _uncommented(text) == ["c: 3", "  e: 4"]


def test_header_names_the_file_commands_and_schema() -> None:
    text = sc.scaffold("grpo", "a100-80gb", "cluster", file="exp/g.yaml")
    head = text.split("\nspecc: 1", 1)[0]
    for verb in ("validate", "plan", "run"):
        assert f"#     specc {verb} exp/g.yaml " in head
    assert re.search(r"^# yaml-language-server: \$schema=\./spec\.schema\.json$", head,
                     re.MULTILINE)
    assert "specc schema --output spec.schema.json" in head
    assert head.splitlines()[0].startswith("# Group Relative Policy Optimization (GRPO)")
    # cluster: a shared study is shown as a comment only, never as a live value
    assert "#   storage: postgresql://" in text and "\n  storage:" not in text


def test_plan_only_algorithms_say_so() -> None:
    for algo in ALGORITHMS:
        text = sc.scaffold(algo)
        assert ("cannot train" in text) is (algo not in sc.RUNNABLE)


def test_output_is_deterministic_across_processes() -> None:
    """The same arguments give the same bytes, whatever the hash seed."""
    code = ("import hashlib, itertools; from specc.spec import scaffold as sc; "
            "from specc.spec.models.root import ALGORITHMS; "
            "print(hashlib.sha256(''.join(sc.scaffold(a, h, m, hpo=p) for a, h, m, p in "
            "itertools.product(ALGORITHMS, sc.HARDWARE, sc.MODES, (True, False)))"
            ".encode()).hexdigest())")
    digests = set()
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        digests.add(out.stdout.strip())
    here = hashlib.sha256("".join(_text(c) for c in COMBOS).encode()).hexdigest()
    assert digests == {here}


def test_model_option_adapts_length_and_lora_targets() -> None:
    text = sc.scaffold("dpo", "rtx4090", "local", model="gpt2")
    assert "model_name: gpt2" in text
    assert "max_total_sequence_length: 1024" in text  # GPT-2's positions
    assert "target_modules: all-linear" in text  # GPT-2 has no q_proj ... down_proj
    assert _problems("gpt2.yaml", text) == []
    # a real model on the CPU trains LoRA adapters at a real model's learning rate
    cpu = sc.scaffold("dpo", "cpu", "local", model="Qwen/Qwen2.5-0.5B-Instruct")
    assert "enabled: true" in cpu and "lr: 5.0e-6" in cpu
    assert [p for p in _problems("qwen.yaml", cpu) if " error " in p] == []


def test_cli_choices_match_the_tables() -> None:
    assert init_cmd.ALGORITHMS == ALGORITHMS
    assert tuple(sc.HARDWARE) == init_cmd.HARDWARE
    assert tuple(sc.MODES) == init_cmd.MODES
    assert set(sc.ALGORITHMS_INFO) == set(ALGORITHMS) == set(sc.OBJECTIVES)


# --- the command ----------------------------------------------------------------------------


def test_init_writes_the_default_scaffold_and_prints_next_steps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "dpo-cpu-local.yaml"
    assert path.read_text() == sc.scaffold("dpo", "cpu", "local", file="dpo-cpu-local.yaml")
    assert out.startswith("wrote dpo-cpu-local.yaml: dpo on the CPU (local mode)")
    assert "0 errors, 0 warnings, 0 info in 1 file" in out
    for verb in ("validate", "plan", "run"):
        assert f"  specc {verb} dpo-cpu-local.yaml\n" in out
    assert main(["validate", str(path)]) == 0


def test_init_refuses_to_overwrite_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "spec.yaml"
    target.write_text("keep: me\n")
    assert main(["init", str(target), "--algorithm", "orpo"]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    assert target.read_text() == "keep: me\n"
    assert main(["init", str(target), "--algorithm", "orpo", "--force"]) == 0
    assert target.read_text() == sc.scaffold("orpo", file=str(target))
    assert main(["init", str(tmp_path)]) == 2  # a directory
    assert "is a directory" in capsys.readouterr().err


def test_init_stdout_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--stdout", "-a", "grpo", "--hardware", "m1-max", "--mode",
                 "cluster", "--no-hpo"]) == 0
    captured = capsys.readouterr()
    assert captured.out == sc.scaffold("grpo", "m1-max", "cluster", hpo=False)
    assert captured.err == ""  # clean: nothing to report
    assert list(tmp_path.iterdir()) == []


def test_init_reports_errors_of_a_model_too_large(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "big.yaml"
    code = main(["init", str(target), "--hardware", "rtx4090",
                 "--model", "meta-llama/Llama-3.1-70B"])
    out = capsys.readouterr().out
    assert code == 1 and target.exists()  # written, so it can be edited
    assert "error M001" in out and "1 error" in out
    assert main(["init", "--stdout", "--model", " "]) == 2


def test_init_no_longer_notes_ppo_as_plan_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "p.yaml"), "-a", "ppo"]) == 0  # specc run trains it
    assert "cannot train" not in capsys.readouterr().out


def test_init_rejects_unknown_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["init", "--hardware", "tpu"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_init_imports_no_training_stack() -> None:
    code = ("import sys, io, contextlib; from specc.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['init', '--stdout']) == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'trl', 'peft', "
            "'transformers', 'optuna', 'textual'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# --- one scaffold, really run ----------------------------------------------------------------


@pytest.mark.slow
def test_cpu_scaffold_runs_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    """`specc init` then `specc run` on the file as written: 2 trials of 4 DPO steps."""
    spec = tmp_path / "dpo-cpu-local.yaml"
    assert main(["init", str(spec)]) == 0
    capsys.readouterr()
    cache = os.environ.get("SPECC_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "SPECC_CACHE": cache}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "specc", "run", str(spec), "-o", "dpo.max_num_steps=4",
         "-o", "dpo.val_period=2", "--n-trials", "2", "--output", str(out), "--quiet"],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["study"] == "dpo-cpu-local" and data["directions"] == ["minimize"]
    assert [t["state"] for t in data["trials"]] == ["COMPLETE", "COMPLETE"]
    assert set(data["trials"][0]["params"]) == {
        "policy.optimizer.kwargs.lr", "dpo.reference_policy_kl_penalty", "dpo.sft_loss_weight"}
    assert main(["validate", str(out / "best.yaml")]) == 0



def test_init_writes_the_schema_its_modeline_names(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "exp.yaml"
    done = subprocess.run([sys.executable, "-m", "specc", "init", str(target)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    modeline = next(line for line in text.splitlines() if "$schema=" in line)
    schema = target.parent / modeline.split("$schema=", 1)[1].strip()
    assert schema.is_file()
    assert json.loads(schema.read_text())["$schema"].startswith("https://json-schema.org/")
    again = subprocess.run([sys.executable, "-m", "specc", "init", "--no-schema",
                            str(tmp_path / "bare" / "x.yaml")], capture_output=True,
                           text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert not (tmp_path / "bare" / "spec.schema.json").exists()
