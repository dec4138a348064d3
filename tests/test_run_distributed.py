"""Distributed `specc run`: several local workers on a journal file, and several processes
sharing one study in PostgreSQL (the server of this project's machines, 127.0.0.1:5432,
trust auth, database `test`). Neither is skipped: the PostgreSQL fixture starts the server
when it is down and fails loudly when it cannot."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

SPEC = """\
specc: 1
name: dist
algorithm: dpo
policy:
  model_name: specc:tiny-llama
  tokenizer: {name: "${policy.model_name}"}
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 4
  train_micro_batch_size: 2
  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-4}}
  lora: {enabled: true, r: 4, alpha: 8}
dpo:
  reference_policy_kl_penalty: 0.1
  max_num_steps: 2
  val_period: 2
  seed: 1
data:
  train: {path: specc:arith-prefs, split: train}
  validation: {path: specc:arith-prefs, split: validation, max_samples: 16}
hardware: {gpu: CPU}
hpo:
  sampler: {type: random, seed: 0}
  pruner: {type: none}
  n_trials: 4
  search_space:
    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5, high: 1.0e-3, log: true}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = os.environ.get("SPECC_TEST_CACHE") or os.environ.get("SPECC_CACHE") \
        or str(tmp_path_factory.mktemp("specc-cache"))
    return {**os.environ, "SPECC_CACHE": cache, "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}


def command(spec: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "specc", "run", str(spec), "--quiet", *args]


def check_one_study(trials: list[Any], n_trials: int) -> list[Any]:
    """Exactly ``n_trials`` budgeted trials, all finished, none run twice; returns them."""
    surplus = [t for t in trials if t.user_attrs.get("specc_surplus")]
    counted = [t for t in trials if t not in surplus]
    assert len(counted) == n_trials, [(t.number, t.state.name) for t in trials]
    assert all(t.state.name == "COMPLETE" for t in counted)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    lrs = [t.params["policy.optimizer.kwargs.lr"] for t in counted]
    assert len(set(lrs)) == n_trials  # no point run twice
    for t in surplus:  # a surplus trial never trained
        assert t.state.name == "FAIL" and "surplus" in t.user_attrs["reason"]
    return counted


def test_two_local_workers_share_one_journal_study(tmp_path: Path,
                                                   env: dict[str, str]) -> None:
    import optuna

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    proc = subprocess.run(command(spec, "--output", str(out), "--workers", "2"), env=env,
                          capture_output=True, text=True, timeout=400, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "study.journal").exists() and not (out / "study.db").exists()
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "study.journal")))
    study = optuna.load_study(study_name="dist", storage=storage)
    counted = check_one_study(study.trials, 4)
    data = json.loads((out / "results.json").read_text())
    assert sorted(t["number"] for t in data["trials"]) == sorted(t.number for t in counted)
    assert all(t["state"] == "COMPLETE" for t in data["trials"])
    # every trial trained once, in its own folder
    logs = glob.glob(str(out / "trials" / "*" / "metrics.jsonl"))
    assert len(logs) == 4


def _postgres_ready() -> None:
    """The project's PostgreSQL server: start it when it is down; fail when it cannot run."""
    import psycopg2

    def up() -> bool:
        try:
            psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test",
                             connect_timeout=3).close()
            return True
        except psycopg2.OperationalError:
            return False

    if up():
        return
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") \
        else []
    for v in versions:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", v, "main", "start"],
                       capture_output=True, timeout=60, check=False)
    for _ in range(30):
        if up():
            return
        time.sleep(1)
    pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (database `test`)")


@pytest.mark.postgres
def test_two_postgresql_workers_share_one_study(tmp_path: Path, env: dict[str, str]) -> None:
    from test_storage_safety import fresh_database

    _postgres_ready()
    # a fresh database: both "machines" also create its tables at once (the schema race)
    with fresh_database() as url:
        _two_machines(tmp_path, env, url)


def _two_machines(tmp_path: Path, env: dict[str, str], pg_url: str) -> None:
    import optuna

    from specc.spec.storage_url import driver_url

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    name = f"specc-test-{uuid.uuid4().hex[:10]}"
    args = ("--storage", pg_url, "--study-name", name)
    try:
        procs = [subprocess.Popen(command(spec, "--output", str(tmp_path / f"m{i}"), *args),
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for i in range(2)]
        outs = [p.communicate(timeout=400) for p in procs]
        for p, (o, e) in zip(procs, outs, strict=True):
            assert p.returncode == 0, o + e
        study = optuna.load_study(study_name=name, storage=driver_url(pg_url))
        counted = check_one_study(study.trials, 4)
        # each "machine" kept the folders of the trials it ran, and nothing else
        ran = [int(Path(p).parent.name) for i in range(2)
               for p in glob.glob(str(tmp_path / f"m{i}" / "trials" / "*" / "metrics.jsonl"))]
        assert sorted(ran) == sorted(t.number for t in counted)
        # the same command again adds nothing: the budget is the study's total
        again = subprocess.run(command(spec, "--output", str(tmp_path / "m0"), *args),
                               env=env, capture_output=True, text=True, timeout=200,
                               check=False)
        assert again.returncode == 0, again.stderr
        assert len(optuna.load_study(study_name=name,
                                     storage=driver_url(pg_url)).trials) == len(study.trials)
    finally:
        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=name, storage=driver_url(pg_url))
