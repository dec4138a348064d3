"""`specc plan --emit python`: standalone scripts that train with TRL and PEFT directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specc.cli import main

SPEC = """\
specc: 1
name: emit-dpo
algorithm: dpo
policy:
  model_name: ./model
  precision: float32
  max_total_sequence_length: 32
  train_global_batch_size: 4
  train_micro_batch_size: 2
  optimizer: {kwargs: {lr: 1.0e-4}}
  lora: {enabled: true, r: 4, alpha: 8, target_modules: [q_proj, v_proj]}
dpo: {max_num_steps: 10}
data:
  train: {path: "specc:arith-prefs"}
hardware: {gpu: CPU}
hpo:
  sampler: {type: grid}
  pruner: {type: none}
  objectives: [{metric: train_loss, direction: minimize}]
  n_trials: 2
  search_space:
    dpo.reference_policy_kl_penalty: {type: categorical, choices: [0.1, 0.2]}
"""


def _tiny_model(path: Path) -> None:
    """A tiny random Llama and its tokenizer, saved with `save_pretrained`."""
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from specc.runtime.tiny_model import build_tokenizer

    tok = build_tokenizer()
    assert isinstance(tok, PreTrainedTokenizerFast)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)


def test_emitted_script_trains_without_specc(tmp_path: Path) -> None:
    _tiny_model(tmp_path / "model")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "scripts"
    assert main(["plan", str(spec), "--emit", "python", "--output", str(out)]) == 0
    scripts = sorted(out.glob("trial_*.py"))
    assert len(scripts) == 2
    # the grid's trials come in the sampler's order: take the one with beta 0.2
    script = next(p for p in scripts if "'beta': 0.2" in p.read_text())
    text = script.read_text()
    assert "import specc" not in text and "from specc" not in text
    # run it in an interpreter where `import specc` fails
    runner = ("import sys, runpy; sys.modules['specc'] = None; "
              f"sys.argv = [{str(script)!r}, '--max-steps', '2', '--output-dir', "
              f"{str(tmp_path / 'run')!r}]; runpy.run_path(sys.argv[0], run_name='__main__')")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["global_step"] == 2
    assert result["train_loss"] == result["train_loss"]  # finite, not NaN
    assert (tmp_path / "run").exists()


@pytest.mark.parametrize("algo", ["rs_sft", "awr", "ppo"])
def test_own_trainers_emit_scripts_that_run_without_specc(algo: str, tmp_path: Path) -> None:
    """RS-SFT, AWR and PPO scripts carry specc's trainers beside them (`vendored_algorithms/`)
    and train in an interpreter where `import specc` fails."""
    from conftest import EXAMPLES

    out = tmp_path / "scripts"
    small = ["-o", "data.train.max_samples=4", "-o", "data.validation.max_samples=2",
             "-o", "policy.generation.max_new_tokens=4"]
    if algo != "ppo":
        small += ["-o", f"{algo}.num_samples_per_prompt=2"]
    if algo == "rs_sft":  # keep every sample, so the round trains
        small += ["-o", "rs_sft.reward_threshold=-1.0"]
    else:
        small += ["-o", "policy.train_global_batch_size=4", "-o", "ppo.ppo_epochs=1"]
    assert main(["plan", str(EXAMPLES / f"{algo}.yaml"), "--emit", "python", "--output",
                 str(out), *small]) == 0
    (script,) = sorted(out.glob("trial_*.py"))
    text = script.read_text()
    assert "import specc" not in text and "from specc" not in text
    vendored = out / "vendored_algorithms"
    for module in vendored.glob("*.py"):
        body = module.read_text()
        runtime_lines = [ln for ln in body.splitlines()
                         if ("import specc" in ln or "from specc." in ln)
                         and not ln.startswith("    ")]  # TYPE_CHECKING/local imports only
        assert runtime_lines == [], (module.name, runtime_lines)
    runner = ("import sys, runpy; sys.modules['specc'] = None; "
              f"sys.argv = [{str(script)!r}, '--max-steps', '1', '--output-dir', "
              f"{str(tmp_path / 'run')!r}]; runpy.run_path(sys.argv[0], run_name='__main__')")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["global_step"] >= 1
