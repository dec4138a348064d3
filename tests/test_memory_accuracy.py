"""The memory estimate against the peak of real TRL runs (benchmarks/memory_accuracy.py --quick).

Each configuration trains a tiny random model for two steps with the real TRL trainer
(SFT with and without LoRA, DPO with a reference model, GRPO with generation) on CPU,
measures the peak with torch's ``MemTracker`` and compares it with
``specc.compiler.memory.estimate`` (overhead excluded).  A few seconds each.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = ROOT / "benchmarks" / "memory_accuracy.py"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("specc_memory_accuracy", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()
QUICK = bench.select(quick=True)


def test_quick_subset_covers_the_algorithms() -> None:
    assert 3 <= len(QUICK) <= 4
    assert {c.algorithm for c in QUICK} == {"sft", "dpo", "grpo"}
    assert any(c.lora for c in QUICK) and any(not c.lora for c in QUICK)
    assert len(bench.CONFIGS) >= 12


@pytest.mark.slow
@pytest.mark.parametrize("cfg", QUICK, ids=[c.name for c in QUICK])
def test_estimate_matches_measured_peak(cfg: Any) -> None:
    result = bench.run_config(cfg, "cpu")
    low, high = bench.TARGET_EACH
    assert result.measured_bytes > 0
    assert result.estimate_bytes == (sum(result.components.values())
                                     - result.components["overhead"])
    assert low <= result.ratio <= high, (
        f"{cfg.name}: estimate {result.estimate_bytes} / measured {result.measured_bytes} "
        f"= {result.ratio:.3f}; components {result.components}; "
        f"measured at peak {result.peak_breakdown} ({result.peak_phase})")
