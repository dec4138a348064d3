"""Objectives users ask for: one reward component as the objective of a reward-weight
search (the weighted sum trains), and an expression of reported metrics (real GRPO
trials of the tiny model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_run_study import GRPO, results, specc_cache, specc_run

pytestmark = pytest.mark.slow
__all__ = ["specc_cache"]

SEARCH = """\
hpo:
  sampler: {type: grid}
  pruner: {type: none}
  objectives:
    - {metric: eval_rewards/exact_match/mean, direction: maximize}
    - {metric: "eval_rewards/format_reward/mean - 0.01 * completion_length", direction: maximize}
  n_trials: 2
  search_space:
    reward.functions.1.weight: {type: categorical, choices: [0.1, 10.0]}
"""


def test_reward_component_and_expression_objectives(tmp_path: Path) -> None:
    text = GRPO[: GRPO.index("hpo:")].replace(
        '    - {name: "specc.rewards:exact_match", weight: 1.0}\n',
        '    - {name: "specc.rewards:exact_match", weight: 1.0}\n'
        '    - {name: "specc.rewards:format_reward", weight: 1.0}\n')
    (tmp_path / "grpo.yaml").write_text(text + SEARCH)
    proc = specc_run("grpo.yaml", "--output", "out", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(tmp_path / "out")
    assert [t["state"] for t in data["trials"]] == ["COMPLETE", "COMPLETE"], data["trials"]
    for t in data["trials"]:
        logged = (tmp_path / t["trial_dir"] / "metrics.jsonl").read_text()
        assert '"eval_rewards/exact_match/mean"' in logged
        assert 0.0 <= t["values"][0] <= 1.0  # the component, not the weighted sum
        assert t["values"][1] <= 1.0
    # the weighted sum moved with the weight; the component objective did not inflate
    assert data["pareto"]
