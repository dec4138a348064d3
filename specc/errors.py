"""specc's exceptions: one hierarchy under :class:`SpeccError`.

A problem in a spec is never raised while it is checked (it is a diagnostic); these are
raised by the Python API and the runtime when a command cannot go on. Catch
:class:`SpeccError` for all of them. This module imports nothing, so every layer can use
it.
"""

from __future__ import annotations

__all__ = ["RunError", "SpeccError"]


class SpeccError(Exception):
    """Base class of every exception specc raises on purpose."""


class RunError(SpeccError, ValueError):
    """The study cannot start as asked (storage, sampler dependencies, a study of another
    shape under the same name)."""
