"""Results you can reproduce: a study resumed with a changed spec is refused (T006) unless
allowed, trials record their spec hash, and best.yaml is the best trial's own spec (real
CLI, real TRL trials of the tiny model, real SQLite storage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from test_run_study import db_states, results, specc_cache, specc_run, write_spec

from specc.spec.study_spec import flatten, spec_hash, study_keys

__all__ = ["specc_cache"]

HEALTH = "  health: {max_grad_norm: 50.0}\n"


def _load(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_study_keys_leave_out_budget_and_searched_paths() -> None:
    raw: dict[str, Any] = {
        "name": "x", "dpo": {"max_num_steps": 4}, "policy": {"optimizer": {"kwargs": {
            "lr": 1e-4}}}, "logger": {"tensorboard_enabled": True},
        "hpo": {"n_trials": 3, "sampler": {"type": "tpe"}, "health": {"max_grad_norm": 5},
                "search_space": {"policy.optimizer.kwargs.lr": {"type": "float"}}}}
    keys = study_keys(raw, ["policy.optimizer.kwargs.lr"])
    assert "policy.optimizer.kwargs.lr" not in keys and keys["dpo.max_num_steps"] == 4
    assert "hpo.n_trials" not in keys and "hpo.sampler.type" not in keys
    assert keys["hpo.health.max_grad_norm"] == 5 and "logger.tensorboard_enabled" not in keys
    more = {**raw, "hpo": {**raw["hpo"], "n_trials": 9}, "name": "y"}
    assert spec_hash(study_keys(more, ["policy.optimizer.kwargs.lr"])) == spec_hash(keys)
    other = {**raw, "dpo": {"max_num_steps": 6}}
    assert spec_hash(study_keys(other, ["policy.optimizer.kwargs.lr"])) != spec_hash(keys)


@pytest.mark.slow
def test_changed_spec_is_refused_then_allowed_and_best_yaml_is_the_trials_own(
        tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=2, n_trials=2, extra=HEALTH)
    out = tmp_path / "out"
    first = specc_run(str(spec), "--output", str(out), "--quiet")
    assert first.returncode == 0, first.stdout + first.stderr
    data = results(out)
    assert len({t["spec_hash"] for t in data["trials"]}) == 1

    # best.yaml is the best trial's own resolved spec minus hpo, key by key
    best = data["best"]
    own = _load(Path(best["trial_dir"]) / "spec.yaml")
    made = _load(out / "best.yaml")
    assert "hpo" not in made and made["health"] == own["hpo"]["health"]
    mine = flatten({k: v for k, v in made.items() if k not in ("name", "health")})
    theirs = flatten({k: v for k, v in own.items() if k not in ("name", "hpo")})
    assert mine == theirs

    # the same study with another max_num_steps: refused, naming the key
    changed = specc_run(str(spec), "--output", str(out), "--quiet", "--n-trials", "3",
                        "-o", "dpo.max_num_steps=3")
    assert changed.returncode == 2, changed.stdout + changed.stderr
    assert "T006" in changed.stderr and "`dpo.max_num_steps` 2 -> 3" in changed.stderr
    assert "--new-study" in changed.stderr and "Traceback" not in changed.stderr
    assert "<override 1>:1:1: error T006" in changed.stderr  # located where it changed
    assert len(db_states(out / "study.db")) == 2

    # allowed: the new trial records its own hash and results keep the two apart
    allowed = specc_run(str(spec), "--output", str(out), "--quiet", "--n-trials", "3",
                        "-o", "dpo.max_num_steps=3", "--allow-changed")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    data = results(out)
    assert len(data["trials"]) == 3 and len(data["spec_hashes"]) == 2
    new = [t for t in data["trials"] if t["spec_hash"] == data["spec_hash"]]
    assert [t["number"] for t in new] == [2]
    assert data["best"]["number"] == 2  # the best among the current spec's trials
    assert _load(out / "best.yaml")["dpo"]["max_num_steps"] == 3
    # and so does the report written at the end: a spec column, the versions listed
    summary = (out / "report" / "summary.md").read_text()
    first, second = (h[:12] for h in data["spec_hashes"])
    assert f"**spec versions**: {first}: trials 0, 1; {second}: trial 2" in summary
    assert "| duration |" in summary and "| spec |" in summary
    assert f"<td>{second}</td>" in (out / "report" / "report.html").read_text()

    # or a fresh study beside it
    fresh = specc_run(str(spec), "--output", str(out), "--quiet", "--n-trials", "1",
                      "-o", "dpo.max_num_steps=4", "--new-study")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("out-")]
    assert results(folder)["study"] == f"tiny-{folder.name.removeprefix('out-')}"
    assert len(db_states(out / "study.db")) == 3  # the old study is untouched


def test_pruner_report_counts_become_training_steps() -> None:
    """Trials report at training steps (10, 20, 30 with val_period 10); the spec counts
    reports: `n_warmup_steps: 2` still spares the first two reports."""
    import optuna

    from specc.compiler.sampling import build_pruner
    from specc.runtime.setup import pruner_in_steps
    from specc.spec.models.hpo import Hpo

    hpo = Hpo.model_validate({"pruner": {"type": "median", "n_startup_trials": 1,
                                         "n_warmup_steps": 2}})
    study = optuna.create_study(pruner=build_pruner(pruner_in_steps(hpo, 10)))
    for _ in range(2):
        t = study.ask()
        for step in (10, 20, 30):
            t.report(1.0, step)
        study.tell(t, 1.0)
    bad = study.ask()
    verdicts = []
    for step in (10, 20, 30):
        bad.report(5.0, step)
        verdicts.append(bad.should_prune())
    assert verdicts == [False, False, True]
