"""Stages that chain: a `policy.model_name` naming a previous run's output folder or an
adapter folder, `specc merge`, and the three-stage pipeline of `examples/pipeline/`
(ORPO -> RS-SFT -> GRPO), each stage starting from the previous stage's best model."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from specc.cli import main
from specc.spec.stages import STAGE_FILE, resolve_model

from conftest import EXAMPLES


def _adapter(folder: Path, base: str = "specc:tiny-llama") -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps(
        {"base_model_name_or_path": "/somewhere/else", "peft_type": "LORA"}))
    (folder / STAGE_FILE).write_text(json.dumps({"base_model": base}))
    return folder


def test_a_run_folder_is_its_best_trials_saved_adapter_or_model(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "stage1"
    _adapter(run / "trials" / "2" / "adapter")
    (run / "results.json").write_text(json.dumps({"best": {"number": 2}}))
    ref = resolve_model("runs/stage1", str(tmp_path))
    assert (ref.kind, ref.base, ref.trial, ref.problem) == ("adapter", "specc:tiny-llama", 2,
                                                            None)
    assert ref.path == str(run / "trials" / "2" / "adapter")
    shutil.rmtree(run / "trials" / "2" / "adapter")
    (run / "trials" / "2" / "model").mkdir()
    (run / "trials" / "2" / "model" / "config.json").write_text("{}")
    ref = resolve_model(str(run), "")
    assert ref.kind == "model" and ref.model_dir == str(run / "trials" / "2" / "model")


def test_an_adapter_folder_names_its_base(tmp_path: Path) -> None:
    ref = resolve_model("a", str(tmp_path)) if _adapter(tmp_path / "a", "./base") else None
    assert ref is not None and ref.kind == "adapter" and ref.base == "./base"
    (tmp_path / "a" / STAGE_FILE).unlink()  # PEFT's own record is the fallback
    assert resolve_model(str(tmp_path / "a"), "").base == "/somewhere/else"
    assert resolve_model("org/hub-model", str(tmp_path)).kind == "name"


def test_unusable_stage_outputs_are_n010(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "runs" / "stage1"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"best": None}))
    spec = tmp_path / "spec.yaml"
    spec.write_text("specc: 1\nalgorithm: sft\npolicy: {model_name: ./runs/stage1}\n"
                    "data: {train: {path: 'specc:arith-prompts'}}\n")
    assert main(["validate", str(spec)]) == 1
    out = capsys.readouterr().out
    assert "N010" in out and "has no complete trial yet" in out
    (run / "results.json").write_text(json.dumps({"best": {"number": 0}}))
    assert main(["validate", str(spec)]) == 1
    assert "saved no model" in capsys.readouterr().out


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The three stages run from a scratch folder, each shrunk with `-o`."""
    home = tmp_path_factory.mktemp("pipeline")
    old_cwd, old_cache = os.getcwd(), os.environ.get("SPECC_CACHE")
    os.environ["SPECC_CACHE"] = os.environ.get("SPECC_TEST_CACHE") or str(home / "cache")
    shutil.copytree(EXAMPLES / "pipeline", home / "pipeline")
    os.chdir(home)
    try:
        for spec, extra in (
                ("stage1_orpo.yaml", ["orpo.max_num_steps=4", "orpo.val_period=2"]),
                ("stage2_rs_sft.yaml", ["rs_sft.num_rounds=1", "rs_sft.reward_threshold=-1",
                                        "rs_sft.num_samples_per_prompt=2",
                                        "data.train.max_samples=8",
                                        "data.validation.max_samples=4"]),
                ("stage3_grpo.yaml", ["grpo.max_num_steps=2", "grpo.val_period=1",
                                      "data.validation.max_samples=4"])):
            argv = ["run", f"pipeline/{spec}", "--quiet"]
            for o in extra:
                argv += ["-o", o]
            assert main(argv) == 0, spec
        yield home
    finally:
        os.chdir(old_cwd)
        if old_cache is None:
            os.environ.pop("SPECC_CACHE", None)
        else:
            os.environ["SPECC_CACHE"] = old_cache


def _trial(home: Path, stage: int) -> Path:
    out = home / "runs" / f"web4-pipeline-stage{stage}"
    results = json.loads((out / "results.json").read_text())
    assert results["trials"][0]["state"] == "COMPLETE", results["trials"][0]["reason"]
    return out / "trials" / str(results["best"]["number"])


@pytest.mark.slow
def test_each_stage_starts_from_the_previous_stages_best_model(pipeline: Path) -> None:
    one, two, three = (_trial(pipeline, s) for s in (1, 2, 3))
    assert json.loads((one / "adapter" / STAGE_FILE).read_text()) == {
        "base_model": "specc:tiny-llama"}
    log2 = (two / "log.txt").read_text()
    assert f"stage: adapter {one / 'adapter'} on specc:tiny-llama, merged into it" in log2
    # stage 2 merged stage 1's adapter in memory: it saves the merged model
    assert (two / "model" / "config.json").exists() and not (two / "adapter").exists()
    log3 = (three / "log.txt").read_text()
    assert f"stage: starting from {two / 'model'}" in log3
    # once stage 1 has run, stage 2 validates clean: its model's shape is stage 1's base
    assert main(["validate", str(pipeline / "pipeline" / "stage2_rs_sft.yaml")]) == 0


@pytest.mark.slow
def test_merge_writes_a_model_equal_to_adapter_on_base(pipeline: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from specc.runtime.tiny_model import materialize

    out = tmp_path / "merged"
    assert main(["merge", str(pipeline / "runs" / "web4-pipeline-stage1"), "--output",
                 str(out)]) == 0
    merged = AutoModelForCausalLM.from_pretrained(out)
    merged.eval()  # type: ignore[no-untyped-call]
    base = AutoModelForCausalLM.from_pretrained(materialize())
    adapter = _trial(pipeline, 1) / "adapter"
    peft = PeftModel.from_pretrained(base, str(adapter))
    peft.eval()
    ids = torch.tensor([[5, 17, 42, 9, 3]])
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, peft(ids).logits, atol=1e-5)
    assert (out / "tokenizer.json").exists()
    assert main(["merge", str(out), "--output", str(tmp_path / "x")]) == 2  # not an adapter


@pytest.mark.slow
def test_an_unmerged_adapter_is_trained_further(pipeline: Path) -> None:
    from safetensors.torch import load_file

    os.chdir(pipeline)
    assert main(["run", "pipeline/stage2_rs_sft.yaml", "--quiet", "--output", "runs/kept",
                 "-o", "policy.merge_adapter=false", "-o", "rs_sft.num_rounds=1",
                 "-o", "rs_sft.best_of_n=false",
                 "-o", "rs_sft.reward_threshold=-1", "-o", "rs_sft.num_samples_per_prompt=2",
                 "-o", "data.train.max_samples=8", "-o", "data.validation.max_samples=4"]) == 0
    kept = pipeline / "runs" / "kept" / "trials" / "0" / "adapter"
    assert json.loads((kept / STAGE_FILE).read_text()) == {"base_model": "specc:tiny-llama"}
    before = load_file(str(_trial(pipeline, 1) / "adapter" / "adapter_model.safetensors"))
    after = load_file(str(kept / "adapter_model.safetensors"))
    assert set(before) == set(after)  # the same adapter ...
    assert any(not (before[k] == after[k]).all() for k in before)  # ... trained further


@pytest.mark.slow
def test_emitted_later_stage_loads_the_previous_stage(pipeline: Path, tmp_path: Path) -> None:
    """`--emit python` of stage 2: the script loads stage 1's adapter onto its base and
    merges it, as `specc run` does, without importing specc."""
    import subprocess
    import sys

    os.chdir(pipeline)
    out = tmp_path / "scripts"
    assert main(["plan", "pipeline/stage2_rs_sft.yaml", "--emit", "python", "--output",
                 str(out), "-o", "data.train.max_samples=2", "-o", "rs_sft.num_rounds=1",
                 "-o", "rs_sft.num_samples_per_prompt=2",
                 "-o", "data.validation.max_samples=2"]) == 0
    (script,) = sorted(out.glob("trial_*.py"))
    text = script.read_text()
    assert f"ADAPTER = {str(_trial(pipeline, 1) / 'adapter')!r}" in text
    assert "MERGE_ADAPTER = True" in text
    runner = ("import sys, runpy; sys.modules['specc'] = None; "
              f"sys.argv = [{str(script)!r}, '--max-steps', '1', '--output-dir', "
              f"{str(tmp_path / 'run')!r}]; runpy.run_path(sys.argv[0], run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
