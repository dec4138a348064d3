"""specc: compile and validate LLM fine-tuning experiments.

``specc.load``, ``specc.plan``, ``specc.run``, ``specc.report`` and ``specc.edit`` (see
:mod:`specc.runtime.api`, the one module of the public API) are imported on first use,
so ``import specc`` stays light; type checkers and editors see their real signatures
through the ``TYPE_CHECKING`` imports below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specc.errors import SpeccError, SpecError
    from specc.runtime.api import SpecDocument, edit, load, plan, report, run

__version__ = "0.1.0"
__all__ = ["SpecDocument", "SpecError", "SpeccError", "edit", "load", "plan", "report", "run"]


def __getattr__(name: str) -> Any:
    if name in ("SpecError", "SpeccError"):
        from specc import errors

        return getattr(errors, name)
    if name in __all__:
        from specc.runtime import api

        return getattr(api, name)
    raise AttributeError(f"module 'specc' has no attribute {name!r}")
