"""`specc init`'s scaffolds: a commented spec for an algorithm, a hardware profile and a mode.

The text is assembled from small tables, each value with the reason it has that value:

* :mod:`.hardware` -- seed 003's "Hardware-Specific Settings" (M1 Max, RTX 4090, A100
  40/80 GB, multi-GPU DDP) and the CPU, adjusted where specc's memory estimate says the
  seed's numbers do not fit (as ``examples/hw_*.yaml`` explain);
* :mod:`.tables` -- seed 002's local / cluster modes, and per algorithm its learning rate,
  schedule, epochs and objective (seed 003's stage tables);
* :mod:`.blocks` -- policy, the algorithm's block, data, reward and hardware;
* :mod:`.search` -- the `hpo` block: the algorithm's preset and the mode's profile from
  :mod:`specc.spec.presets`, kept inside the seed guides' advice ranges, written out so
  the file shows every dimension;
* :mod:`.text` -- a small writer of commented YAML; :mod:`.build` puts it together.

:func:`scaffold` returns the text and is deterministic; `tests/test_init.py` validates
every combination. Nothing here imports torch, TRL or Optuna.
"""

from specc.spec.scaffold.build import SCHEMA_FILE, describe, scaffold
from specc.spec.scaffold.hardware import HARDWARE, Hardware, HardwareName
from specc.spec.scaffold.tables import (
    ALGORITHMS_INFO,
    MODES,
    OBJECTIVES,
    RUNNABLE,
    TINY,
    Choice,
    Mode,
    ModeName,
    choose,
    default_name,
)

__all__ = [
    "ALGORITHMS_INFO",
    "HARDWARE",
    "MODES",
    "OBJECTIVES",
    "RUNNABLE",
    "SCHEMA_FILE",
    "TINY",
    "Choice",
    "Hardware",
    "HardwareName",
    "Mode",
    "ModeName",
    "choose",
    "default_name",
    "describe",
    "scaffold",
]
