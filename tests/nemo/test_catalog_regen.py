"""The committed NeMo RL catalog is what the generator makes from the snapshot's source.

The generator reads `../shared/corpora/nemo-rl/nemo_rl` with `ast` (never importing it);
any difference from `spec/nemo/catalog.json` fails, so the catalog cannot drift from the
source it says it came from. Regenerate: see docs/nemo-rl.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from specc.spec.models.policy import GenerationBackend
from specc.spec.nemo import catalog as cat
from specc.spec.nemo.generate import build, render

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared" / "corpora" / "nemo-rl" / "nemo_rl"
COMMIT = "7ea279abfbeb698b092856d0dab61e7cf39bc909"


def test_catalog_is_regenerated_from_source_unchanged() -> None:
    fresh = render(build(str(SOURCE), COMMIT))
    committed = Path(cat.CATALOG_FILE).read_text()
    assert fresh == committed, "spec/nemo/catalog.json is stale: regenerate it (docs/nemo-rl.md)"


def test_catalog_is_stamped_and_complete() -> None:
    c = cat.catalog()
    assert (c.version, c.commit) == ("0.6.0", COMMIT)
    assert {"grpo", "dpo", "sft", "rm", "distillation", "eval", "ppo"} <= set(c.masters)
    policy = c.fields("nemo_rl.models.policy:PolicyConfig")
    # a union of TypedDicts (enabled/disabled variants) and NotRequired fields
    assert cat.keys(policy["dtensor_cfg"].type)[:2] == ["enabled", "env_vars"]
    assert not policy["megatron_cfg"].required and policy["model_name"].required
    # `policy.generation` is a GenerationConfig; its subclasses' keys (vllm_cfg) count
    assert cat.child(policy["generation"].type, "vllm_cfg") is not None
    assert cat.is_open(policy["hf_config_overrides"].type)  # dict[str, Any]


def test_specc_generation_backends_are_nemo_rls_and_hf() -> None:
    assert set(get_args(GenerationBackend)) == {"hf", *cat.catalog().generation_backends}
