"""Health rules that fit the algorithm: a NaN trial is PRUNED with its reason (the sampler
learns from it), an SFT trial is not stopped by the policy-gradient entropy rule, a single
spike stops nothing (real CLI and TRL trainers on the tiny model; the callback unit tests
feed it logged values as the trainer would)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_run_study import results, specc_cache, specc_run

from specc.spec.models.health import Health

__all__ = ["specc_cache"]
SPEC = Path(__file__).parent / "data" / "health_nan.yaml"


class _Heard:
    """What a study layer hears from the callback."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        return False

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        pass

    def warn(self, step: int, text: str) -> None:
        self.warnings.append(text)


class _Control:
    should_training_stop = False


class _State:
    def __init__(self, step: int) -> None:
        self.global_step = step


def _feed(tmp_path: Path, algorithm: str, rows: list[dict[str, float]],
          health: dict[str, Any] | None = None) -> tuple[Any, _Heard]:
    from specc.runtime.callbacks import TrialCallback

    heard = _Heard()
    cb = TrialCallback(heard, Health.model_validate(health or {}), tmp_path / "m.jsonl", None,
                       algorithm=algorithm)
    control = _Control()
    for i, row in enumerate(rows, start=1):
        cb.on_log(None, _State(i), control, logs=row)
        if control.should_training_stop:
            break
    cb.close()
    return cb, heard


def test_rules_fit_the_algorithm_and_wait_for_their_window(tmp_path: Path) -> None:
    # one spike of the gradient norm stops nothing; `patience` in a row does
    spike = [{"grad_norm": 1.0}, {"grad_norm": 50.0}, {"grad_norm": 1.0}, {"grad_norm": 1.0}]
    cb, _ = _feed(tmp_path, "dpo", spike)
    assert cb.stop_reason is None
    cb, _ = _feed(tmp_path, "dpo", [{"grad_norm": 50.0}] * 4)
    assert cb.pruned and cb.stop_reason.startswith("health: grad_norm 50 > 10 for 3 logged")
    # NaN at once
    cb, _ = _feed(tmp_path, "sft", [{"loss": float("nan")}])
    assert cb.pruned and cb.stop_reason == "health: loss is nan at step 1"
    # entropy and KL: policy-gradient RL only
    low = [{"entropy": 0.2, "kl": 0.9}] * 5
    for algo in ("sft", "dpo"):
        cb, _ = _feed(tmp_path, algo, low)
        assert cb.stop_reason is None, algo
    cb, _ = _feed(tmp_path, "grpo", low)
    assert cb.stop_reason is not None and "kl 0.9 > 0.3" in cb.stop_reason
    cb, _ = _feed(tmp_path, "grpo", low, {"max_kl": 5.0, "by_algorithm": {
        "grpo": {"min_entropy": 0.1}}})
    assert cb.stop_reason is None  # thresholds per algorithm
    # warning rows warn once and let the trial train
    cb, heard = _feed(tmp_path, "dpo", [{"grad_norm": 7.0, "rewards/margins": -0.5}] * 6)
    assert cb.stop_reason is None and len(heard.warnings) == 2
    assert any("rewards/margins -0.5 < 0" in w for w in heard.warnings)


@pytest.mark.slow
def test_nan_trial_is_pruned_with_its_health_reason(tmp_path: Path) -> None:
    import optuna

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text())
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "W021" in proc.stdout + proc.stderr  # min_entropy has no effect for sft
    by_lr = {t["params"]["policy.optimizer.kwargs.lr"]: t for t in results(out)["trials"]}
    nan = by_lr[1e38]
    assert nan["state"] == "PRUNED" and nan["reason"].startswith("health: grad_norm is nan")
    study = optuna.load_study(study_name="nan", storage=f"sqlite:///{out}/study.db")
    pruned = next(t for t in study.trials if t.number == nan["number"])
    assert pruned.state.name == "PRUNED" and pruned.user_attrs["specc_health"] == nan["reason"]
    # SFT with a low entropy (below the 1000 written) trains to its end
    fine = by_lr[1e-4]
    assert fine["state"] == "COMPLETE"
    logged = (Path(fine["trial_dir"]) / "metrics.jsonl").read_text()
    assert '"entropy": 5.6' in logged
