"""`specc run`: real studies of the built-in tiny model on the CPU, offline.

Each study trains `specc:tiny-llama` with LoRA for a few steps per trial (seconds), so
these tests exercise the real trial body (TRL trainers), the real Optuna storage and the
real command line: results.json contract, best.yaml validity, resuming to a total budget,
failure isolation, infeasible points, kill -9 and Ctrl-C recovery. The fast unit tests at
the end cover the budget ledger, dead-worker detection and the sampler/pruner mapping.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from specc.cli import main

pytestmark = pytest.mark.slow

TINY = """\
specc: 1
name: {name}
algorithm: dpo
policy:
  model_name: specc:tiny-llama
  tokenizer: {{name: "${{policy.model_name}}"}}
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 4
  train_micro_batch_size: 2
  optimizer: {{name: torch.optim.AdamW, kwargs: {{lr: 1.0e-4}}}}
  lora: {{enabled: true, r: 4, alpha: 8}}
dpo:
  reference_policy_kl_penalty: 0.1
  max_num_steps: {steps}
  val_period: 2
  seed: 1
data:
  train: {{path: specc:arith-prefs, split: train}}
  validation: {{path: specc:arith-prefs, split: validation, max_samples: 16}}
hardware: {{gpu: CPU}}
"""

HPO = """\
hpo:
  sampler: {{type: {sampler}, seed: 0}}
  pruner: {{type: {pruner}}}
  objectives: [{{metric: eval_loss, direction: minimize}}]
  n_trials: {n_trials}
{extra}  search_space:
{space}
"""

LR = "    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5, high: 1.0e-3, log: true}"


def write_spec(path: Path, *, name: str = "tiny", steps: int = 4, hpo: bool = True,
               sampler: str = "random", pruner: str = "none", n_trials: int = 3,
               space: str = LR, extra: str = "") -> Path:
    text = TINY.format(name=name, steps=steps)
    if hpo:
        text += HPO.format(sampler=sampler, pruner=pruner, n_trials=n_trials, space=space,
                           extra=extra)
    path.write_text(text)
    return path


@pytest.fixture(scope="session", autouse=True)
def specc_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache folder (the materialised tiny model) for the whole session."""
    cache = Path(os.environ.get("SPECC_TEST_CACHE") or tmp_path_factory.mktemp("specc-cache"))
    old = os.environ.get("SPECC_CACHE")
    os.environ["SPECC_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("SPECC_CACHE", None)
    else:
        os.environ["SPECC_CACHE"] = old


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def specc_run(*args: str, cwd: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specc", "run", *args], cwd=cwd, env=env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def results(out: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((out / "results.json").read_text()))


def finished(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in data["trials"] if t["state"] in ("COMPLETE", "PRUNED", "FAIL")]


def db_states(db: Path) -> list[tuple[int, str]]:
    try:
        with sqlite3.connect(db, timeout=30) as con:
            return list(con.execute("select number, state from trials order by number"))
    except sqlite3.Error:
        return []


# --- whole studies -------------------------------------------------------------------------------

def test_study_results_best_yaml_and_resume(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "spec.yaml", pruner="median", n_trials=3,
                      extra="  keep_best_n: 1\n")
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # third-party import-time notices (bitsandbytes' optional kernels) stay out of the output
    assert "kernels" not in proc.stdout + proc.stderr, proc.stderr
    data = results(out)
    assert data["study"] == "tiny" and data["directions"] == ["minimize"]
    assert data["n_trials"] == 3
    assert [t["number"] for t in data["trials"]] == [0, 1, 2]
    for t in data["trials"]:
        assert set(t) >= {"number", "state", "params", "values", "reason", "intermediate",
                          "duration_s", "trial_dir"}
        assert t["state"] in ("COMPLETE", "PRUNED", "FAIL")
        assert set(t["params"]) == {"policy.optimizer.kwargs.lr"}
        if t["state"] == "COMPLETE":
            assert len(t["values"]) == 1 and t["reason"] is None
            assert t["intermediate"]  # every evaluation was reported
        else:
            assert t["values"] is None and t["reason"]
        tdir = Path(t["trial_dir"])
        assert (tdir / "spec.yaml").exists() and (tdir / "metrics.jsonl").exists()
        assert (tdir / "log.txt").exists()
    best = data["best"]
    complete = [t for t in data["trials"] if t["state"] == "COMPLETE"]
    assert best["value"] == min(t["values"][0] for t in complete)
    # keep_best_n: 1 -- only the best trial keeps its adapter
    kept = sorted(p.parent.parent.name for p in out.glob("trials/*/adapter/adapter_config.json"))
    assert kept == [str(best["number"])]
    assert "trial" in proc.stdout and "best" in proc.stdout  # plain progress lines

    # best.yaml: a complete spec with the best parameters and no hpo block, valid as is
    best_yaml = out / "best.yaml"
    text = best_yaml.read_text()
    assert "hpo:" not in text and str(best["params"]["policy.optimizer.kwargs.lr"]) in text
    assert main(["validate", str(best_yaml)]) == 0
    capsys.readouterr()

    # the same command again: the budget is met, nothing runs
    again = specc_run(str(spec), "--output", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert len(db_states(out / "study.db")) == 3
    assert results(out)["trials"] == data["trials"]
    # a larger total budget continues the study to exactly that many trials
    more = specc_run(str(spec), "--output", str(out), "--quiet", "--n-trials", "4")
    assert more.returncode == 0, more.stderr
    assert [n for n, _ in db_states(out / "study.db")] == [0, 1, 2, 3]
    assert len(finished(results(out))) == 4


def test_api_single_run_saves_adapter_and_calls_callbacks(tmp_path: Path) -> None:
    import specc

    spec = write_spec(tmp_path / "single.yaml", name="single", steps=2, hpo=False)
    events: list[tuple[Any, ...]] = []

    class Recorder:
        def on_study_start(self, info: dict[str, Any]) -> None:
            events.append(("start", info["n_trials"]))

        def on_trial_start(self, number: int, params: dict[str, Any]) -> None:
            events.append(("trial_start", number, params))

        def on_trial_end(self, number: int, state: str, values: Any, reason: Any) -> None:
            events.append(("trial_end", number, state))

        def on_study_end(self, summary: Any) -> None:
            events.append(("end", summary.best_number))

    summary = specc.run(str(spec), output=str(tmp_path / "out"), callbacks=[Recorder()],
                        progress=False)
    assert [e[0] for e in events] == ["start", "trial_start", "trial_end", "end"]
    assert events[2] == ("trial_end", 0, "COMPLETE")
    assert summary.best_number == 0 and summary.best_params == {}
    assert summary.best_value is not None and summary.counts["COMPLETE"] == 1
    assert (tmp_path / "out" / "trials" / "0" / "adapter" / "adapter_config.json").exists()
    assert main(["validate", str(tmp_path / "out" / "best.yaml")]) == 0
    # the API's other entry points
    assert specc.load(str(spec)).name == "single"
    assert specc.plan(str(spec)).name == "single"
    bad = tmp_path / "bad.yaml"
    bad.write_text(spec.read_text().replace("max_num_steps: 2", "max_num_steps: -2"))
    with pytest.raises(specc.SpecError) as err:
        specc.run(str(bad), output=str(tmp_path / "bad"), progress=False)
    assert err.value.diagnostics and "max_num_steps" in str(err.value)


GRPO = """\
specc: 1
name: grpo-boom
algorithm: grpo
policy:
  model_name: specc:tiny-llama
  tokenizer: {name: "${policy.model_name}"}
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 4
  train_micro_batch_size: 4
  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-5}}
  lora: {enabled: true, r: 4, alpha: 8}
  generation: {max_new_tokens: 8, temperature: 1.0}
grpo:
  num_prompts_per_step: 2
  num_generations_per_prompt: 2
  max_num_steps: 2
  val_period: 2
  max_val_samples: 4
  seed: 1
data:
  train: {path: specc:arith-prompts, split: train}
  validation: {path: specc:arith-prompts, split: validation}
reward:
  functions:
    - {name: "specc.rewards:exact_match", weight: 1.0}
hardware: {gpu: CPU}
hpo:
  sampler: {type: grid}
  pruner: {type: none}
  objectives: [{metric: eval_reward, direction: maximize}]
  n_trials: 2
  search_space:
    reward.functions.0.name:
      type: categorical
      choices: ["./bad_rewards.py:boom", "specc.rewards:exact_match"]
"""


def test_reward_that_raises_fails_its_trial_and_the_study_completes(tmp_path: Path) -> None:
    (tmp_path / "bad_rewards.py").write_text(
        'def boom(completions, **kw):\n    raise ValueError("boom")\n')
    (tmp_path / "grpo.yaml").write_text(GRPO)
    proc = specc_run("grpo.yaml", "--output", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(tmp_path / "out")
    by_reward = {t["params"]["reward.functions.0.name"]: t for t in data["trials"]}
    assert len(finished(data)) == 2
    boom = by_reward["./bad_rewards.py:boom"]
    assert boom["state"] == "FAIL" and "boom" in boom["reason"]
    assert by_reward["specc.rewards:exact_match"]["state"] == "COMPLETE"
    assert data["best"]["params"] == {"reward.functions.0.name": "specc.rewards:exact_match"}


def test_infeasible_point_is_recorded_and_never_launched(tmp_path: Path) -> None:
    # micro batch 3 does not divide the global batch of 4: rule B001 at that point only
    space = "    policy.train_micro_batch_size: {type: categorical, choices: [2, 3]}"
    spec = write_spec(tmp_path / "spec.yaml", steps=2, sampler="grid", n_trials=5,
                      space=space)
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(out)
    assert data["n_trials"] == 2  # a grid's budget is at most its size
    by_micro = {t["params"]["policy.train_micro_batch_size"]: t for t in data["trials"]}
    bad = by_micro[3]
    # PRUNED: the sampler learns from it (a FAIL it would ignore); a grid point counts
    assert bad["state"] == "PRUNED" and bad["reason"].startswith("infeasible: B0")
    assert bad.get("infeasible") is True
    tdir = Path(bad["trial_dir"])
    assert (tdir / "spec.yaml").exists()  # what would have run
    assert not (tdir / "metrics.jsonl").exists() and not (tdir / "log.txt").exists()
    assert by_micro[2]["state"] == "COMPLETE"


def _wait_for(pred: Any, timeout: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        if proc.poll() is not None:
            raise AssertionError(f"specc run ended early: {proc.communicate()}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("timed out waiting for the study")


def test_kill_9_then_same_command_finishes_exactly_n_trials(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=8, n_trials=3)
    out = tmp_path / "out"
    db = out / "study.db"
    cmd = [sys.executable, "-m", "specc", "run", str(spec), "--output", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True)
    # kill it while trial 1 trains, after trial 0 finished
    _wait_for(lambda: db_states(db)[:2] == [(0, "COMPLETE"), (1, "RUNNING")]
              and (out / "trials" / "1" / "metrics.jsonl").exists(), 240, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {n: s for n, s in db_states(db)}
    assert before[0] == "COMPLETE" and before[1] == "RUNNING"
    first = results(out)["trials"][0]

    again = specc_run(str(spec), "--output", str(out), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    data = results(out)
    done = finished(data)
    assert len(done) == 3 and len(data["trials"]) == 3
    assert not any(t["state"] == "RUNNING" for t in data["trials"])
    assert all(s != "RUNNING" for _, s in db_states(db))
    assert data["trials"][0] == first  # the finished trial is kept as it was
    retried = data["trials"][1]
    assert retried["attempts"] == [{"number": 1, "state": "FAIL", "reason": "worker died"}]
    assert retried["number"] > 1 and retried["state"] == "COMPLETE"
    # the retry ran the killed trial's parameters
    with sqlite3.connect(db) as con:
        rows = dict(con.execute(
            "select t.number, p.param_value from trials t join trial_params p "
            "on p.trial_id = t.trial_id"))
    assert rows[1] == rows[retried["number"]]


def test_orphaned_running_trial_without_worker_is_recovered(tmp_path: Path) -> None:
    """A worker killed between creating its trial and recording itself leaves a RUNNING
    trial with no identity and no heartbeat: it is given up after a while and retried."""
    import datetime

    import optuna

    from specc.runtime import storage as st

    study = optuna.create_study(storage=st.open_storage(f"sqlite:///{tmp_path}/s.db"))
    orphan = study.ask()
    orphan.suggest_int("n", 0, 9)
    assert st.reap_dead_trials(study) == []  # too young to tell
    later = datetime.datetime.now() + datetime.timedelta(seconds=st.ORPHAN_AFTER + 1)

    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return later

    old = st.datetime  # type: ignore[attr-defined]
    st.datetime = Clock  # type: ignore[attr-defined]
    try:
        assert st.reap_dead_trials(study) == [orphan.number]
    finally:
        st.datetime = old  # type: ignore[attr-defined]
    assert [t.state.name for t in study.trials] == ["FAIL", "WAITING"]


def test_ctrl_c_marks_the_trial_and_the_next_run_resumes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=8, n_trials=2)
    out = tmp_path / "out"
    db = out / "study.db"
    cmd = [sys.executable, "-m", "specc", "run", str(spec), "--output", str(out)]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for(lambda: (0, "RUNNING") in db_states(db)
              and (out / "trials" / "0" / "metrics.jsonl").exists(), 240, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted: run the same command to resume" in stderr
    assert db_states(db) == [(0, "FAIL"), (1, "WAITING")]
    assert results(out)["trials"][0]["reason"] == "interrupted"

    again = specc_run(str(spec), "--output", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    data = results(out)
    assert len(finished(data)) == 2
    assert data["trials"][0]["attempts"][0]["reason"] == "interrupted"


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "spec.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text(spec.read_text().replace("max_num_steps: 4", "max_num_steps: -4"))
    assert main(["run", str(bad), "--output", str(tmp_path / "o")]) == 1
    assert "max_num_steps" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["run", str(spec), "--workers", "0"])
    assert e.value.code == 2
    # SQLite does not take parallel writers
    assert main(["run", str(spec), "--workers", "2", "--storage",
                 f"sqlite:///{tmp_path}/x.db", "--output", str(tmp_path / "o")]) == 2
    assert "parallel writers" in capsys.readouterr().err


# --- fast units ----------------------------------------------------------------------------------

def test_every_pruner_and_sampler_is_mapped_explicitly() -> None:
    import optuna

    from specc.compiler.sampling import build_pruner, build_sampler
    from specc.spec.models.hpo import Hpo

    kinds = {"none": optuna.pruners.NopPruner, "median": optuna.pruners.MedianPruner,
             "percentile": optuna.pruners.PercentilePruner,
             "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
             "hyperband": optuna.pruners.HyperbandPruner,
             "threshold": optuna.pruners.ThresholdPruner,
             "patient": optuna.pruners.PatientPruner}
    for name, cls in kinds.items():
        extra = {"lower": 0.0} if name == "threshold" else {"patience": 2} \
            if name == "patient" else {}
        hpo = Hpo.model_validate({"pruner": {"type": name, **extra}})
        assert isinstance(build_pruner(hpo), cls), name
    assert isinstance(build_pruner(Hpo()), optuna.pruners.NopPruner)  # default: none
    median = build_pruner(Hpo.model_validate(
        {"pruner": {"type": "median", "n_startup_trials": 2, "n_warmup_steps": 1}}))
    assert isinstance(median, optuna.pruners.MedianPruner)
    assert median._n_startup_trials == 2 and median._n_warmup_steps == 1
    two = Hpo.model_validate({"pruner": {"type": "median"},
                              "objectives": [{"metric": "eval_loss"},
                                             {"metric": "peak_memory_gb"}]})
    assert isinstance(build_pruner(two), optuna.pruners.NopPruner)

    tpe = build_sampler(Hpo.model_validate(
        {"sampler": {"type": "tpe", "n_startup_trials": 3, "multivariate": True,
                     "constant_liar": False}}), 5, None)
    assert isinstance(tpe, optuna.samplers.TPESampler)
    assert tpe._n_startup_trials == 3 and tpe._multivariate and not tpe._constant_liar
    nsga = build_sampler(Hpo.model_validate(
        {"sampler": {"type": "nsga2", "population_size": 8}}), 1, None)
    assert isinstance(nsga, optuna.samplers.NSGAIISampler) and nsga._population_size == 8
    grid = build_sampler(Hpo.model_validate({"sampler": {"type": "grid"}}), None, {"a": [1, 2]})
    assert isinstance(grid, optuna.samplers.GridSampler)
    assert isinstance(build_sampler(Hpo.model_validate({"sampler": {"type": "random"}}), 1,
                                    None), optuna.samplers.RandomSampler)


def test_conditional_dimensions_are_ordered_and_suggested_only_when_active() -> None:
    import optuna

    from specc.compiler.sampling import ordered_dims, suggest
    from specc.spec.models.hpo import Hpo

    hpo = Hpo.model_validate({"search_space": {
        "policy.lora.r": {"type": "categorical", "choices": [4, 8],
                          "when": {"policy.lora.enabled": True}},
        "policy.lora.enabled": {"type": "categorical", "choices": [True, False]},
        "policy.optimizer.kwargs.lr": {"type": "float", "low": 1e-5, "high": 1e-3,
                                       "log": True}}})
    dims = ordered_dims(dict(hpo.search_space))
    assert [n for n, _ in dims][:2] == ["policy.lora.enabled", "policy.lora.r"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        point = suggest(study.ask(), dims)
        assert ("policy.lora.r" in point) == point["policy.lora.enabled"]
        seen.add(point["policy.lora.enabled"])
    assert seen == {True, False}


def _loop(study: Any, budget: int) -> Any:
    import types

    from specc.runtime.loop import TrialLoop
    from specc.runtime.setup import Config

    loop = TrialLoop.__new__(TrialLoop)
    loop.study = study
    loop.setup = types.SimpleNamespace(grid=None)  # type: ignore[assignment]
    loop.cfg = Config(file="", overrides=[], output="", storage="", study_name="s",
                      budget=budget)
    return loop


def test_budget_ledger_surplus_and_retries() -> None:
    import optuna

    from specc.runtime.outputs import SURPLUS, Ledger
    from specc.runtime.storage import retry

    study = optuna.create_study()
    trials = [study.ask() for _ in range(3)]  # three racing workers, budget 2
    loop = _loop(study, 2)
    assert [loop._surplus(t) for t in trials] == [False, False, True]
    trials[2].set_user_attr(SURPLUS, True)
    study.tell(trials[2], state=optuna.trial.TrialState.FAIL)
    study.tell(trials[0], 1.0)
    # trial 1's worker died: FAIL, retried with the same parameters in the same slot
    trials[1].suggest_float("x", 0, 1)
    study.tell(trials[1], state=optuna.trial.TrialState.FAIL)
    retry(study, study.trials[1], "worker died")
    led = Ledger.of(study.trials)
    assert led.used == 2 and led.waiting() == 1 and len(led.finished()) == 1
    assert [t.number for t in led.surplus] == [2]
    popped = study.ask()
    assert popped.number == 3 and popped.params == study.trials[1].params
    assert study.trials[3].system_attrs["failed_trial"] == 1  # a retry: no new slot
    study.tell(popped, 2.0)
    led = Ledger.of(study.trials)
    assert len(led.finished()) == 2 and [a.number for a in led.attempts(study.trials[3])] == [1]


def test_dead_workers_are_failed_and_retried(tmp_path: Path) -> None:
    import optuna

    from specc.runtime.storage import WORKER, identity, open_storage, reap_dead_trials

    storage = open_storage(f"sqlite:///{tmp_path}/s.db")
    study = optuna.create_study(storage=storage, study_name="s")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = study.ask()
    dead.suggest_int("n", 0, 9)
    dead.set_user_attr(WORKER, {**identity(), "pid": gone.pid, "start": "1.00"})
    alive = study.ask()
    alive.set_user_attr(WORKER, identity())
    assert reap_dead_trials(study) == [dead.number]
    by_number = {t.number: t for t in study.trials}
    assert by_number[dead.number].state.name == "FAIL"
    assert by_number[dead.number].user_attrs["reason"] == "worker died"
    assert by_number[alive.number].state.name == "RUNNING"
    waiting = [t for t in study.trials if t.state.name == "WAITING"]
    assert len(waiting) == 1 and waiting[0].params == by_number[dead.number].params
    assert waiting[0].system_attrs["failed_trial"] == dead.number
    assert reap_dead_trials(study) == []  # nothing twice


def test_early_stopping_counts_trials_without_improvement() -> None:
    import optuna

    from specc.runtime.loop import stale_count

    study = optuna.create_study()
    for v in (3.0, 2.0, 2.5, 2.1):
        study.add_trial(optuna.trial.create_trial(value=v))
    assert stale_count(study.trials, ["minimize"]) == 2
    study.add_trial(optuna.trial.create_trial(value=1.0))
    assert stale_count(study.trials, ["minimize"]) == 0


def test_timeouts_and_light_imports() -> None:
    from specc.errors import RunError
    from specc.runtime.setup import parse_timeout

    assert parse_timeout(90) == 90 and parse_timeout("30m") == 1800
    assert parse_timeout("2h") == 7200 and parse_timeout("1d") == 86400
    assert parse_timeout(None) is None
    with pytest.raises(RunError):
        parse_timeout("soon")
    # `specc validate` and `import specc` stay free of optuna and torch
    valid = str(Path(__file__).parent / "cases" / "valid_minimal" / "spec.yaml")
    code = ("import sys, specc; from specc.cli import main; "
            f"main(['validate', {valid!r}]); "
            "assert 'optuna' not in sys.modules and 'torch' not in sys.modules, 'heavy'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, env=env())
    assert proc.returncode == 0, proc.stderr


def test_best_spec_is_standalone(tmp_path: Path) -> None:
    from specc.runtime.outputs import best_spec

    (tmp_path / "specs" / "data").mkdir(parents=True)
    (tmp_path / "specs" / "data" / "train.jsonl").write_text("{}\n")
    out = tmp_path / "runs" / "x"
    out.mkdir(parents=True)
    data: dict[str, Any] = {
        "name": "x", "output_dir": "runs/x", "extends": "base.yaml", "hpo": {"n_trials": 3},
        "policy": {"model_name": "specc:tiny-llama"},
        "data": {"train": {"path": "data/train.jsonl"},
                 "validation": {"path": "specc:arith-prefs"}}}
    best = best_spec(data, spec_dir=str(tmp_path / "specs"), output=out, hpo=True)
    assert "hpo" not in best and "extends" not in best
    assert best["name"] == "x-best" and best["output_dir"] == "runs/x/best"
    assert (out / best["data"]["train"]["path"]).resolve() == \
        (tmp_path / "specs" / "data" / "train.jsonl").resolve()
    assert best["data"]["validation"]["path"] == "specc:arith-prefs"
    assert data["data"]["train"]["path"] == "data/train.jsonl"  # input untouched


def test_repeated_run_is_not_trained_again(tmp_path: Path) -> None:
    """A grid over a conditional space proposes (lora off, r 4) and (lora off, r 8): the
    same run, as r is inactive. The second is recorded with the first one's values."""
    space = ("    policy.lora.enabled: {type: categorical, choices: [false, true]}\n"
             "    policy.lora.r: {type: categorical, choices: [4, 8], "
             "when: {policy.lora.enabled: true}}")
    spec = write_spec(tmp_path / "spec.yaml", sampler="grid", n_trials=4, space=space)
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trials = results(out)["trials"]
    assert [t["state"] for t in trials] == ["COMPLETE"] * 4
    off = [t for t in trials if t["params"]["policy.lora.enabled"] is False]
    assert len(off) == 2
    first, second = sorted(off, key=lambda t: t["number"])
    assert second["same_as"] == first["number"] and second["values"] == first["values"]
    assert "same_as" not in first and not (Path(second["trial_dir"]) / "metrics.jsonl").exists()
    assert sum("same_as" in t for t in trials) == 1
