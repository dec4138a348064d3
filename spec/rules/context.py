"""What every rule sees."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from specc.spec import keypath
from specc.spec.diagnostics import Collector
from specc.spec.locations import Path
from specc.spec.models import Spec
from specc.spec.models.algorithms import Algorithm
from specc.spec.records import record

if TYPE_CHECKING:
    from specc.spec.nemo.walk import Walked


@record
class Context:
    """A validated spec, the data it came from, and the collector rules add to."""

    spec: Spec
    data: dict[str, Any]
    diags: Collector
    file: str
    #: True while checking a point of the search space: rules that only concern the
    #: spec as written (no-effect warnings, advice, info) stay quiet.
    point: bool = False
    #: The keys NeMo RL's declaration decided on (None: not checked against NeMo RL).
    nemo: Walked | None = None

    @property
    def nemo_only(self) -> str | None:
        """The NeMo RL algorithm this document is when specc does not train it."""
        return self.nemo.master if self.nemo is not None and self.nemo.nemo_only else None

    @property
    def algorithm(self) -> Algorithm | None:
        return self.spec.selected()

    def written(self, path: Path) -> bool:
        """Whether ``path`` was written in the spec (not a default)."""
        return keypath.has(self.data, path)

    def local_path(self, name: str) -> str:
        """Resolve a relative path against the spec file's folder."""
        expanded = os.path.expanduser(name)
        if os.path.isabs(expanded):
            return expanded
        base = os.path.dirname(self.file) if self.file and not self.file.startswith("<") else ""
        here = os.path.join(base, expanded)
        return here if os.path.exists(here) or not os.path.exists(expanded) else expanded

    def total_steps(self) -> int | None:
        """Optimizer steps the run will take, when the spec bounds them."""
        if self.spec.hpo and self.spec.hpo.evaluation.max_steps:
            return self.spec.hpo.evaluation.max_steps
        block = self.spec.block()
        return block.max_num_steps if block else None
