"""specc: compile and validate LLM fine-tuning experiments.

``specc.load``, ``specc.plan``, ``specc.run`` and ``specc.report`` (see
:mod:`specc.runtime.api`) are imported on first use, so ``import specc`` stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["SpecDocument", "SpecError", "edit", "load", "plan", "report", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from specc.runtime import api

        return getattr(api, name)
    raise AttributeError(f"module 'specc' has no attribute {name!r}")
