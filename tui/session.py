"""What the screens share: the spec file, the editor's buffer, and where the study lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from specc.tui.studydata import default_storage

if TYPE_CHECKING:
    from specc.spec.models import Spec


@dataclass
class StudyTarget:
    """Where the study screen reads from, and how it was decided."""

    storage: str
    study: str | None
    pick_only_study: bool  # no name was given or known: a storage with one study shows it


@dataclass
class Session:
    """The app's state outside any one screen."""

    file: Path | None
    storage: str | None = None  # --storage
    study: str | None = None  # --study
    text: str = ""  # the editor's buffer
    saved_text: str = ""  # the buffer as last loaded or saved
    version: int = 0  # bumped on every edit of the buffer
    spec: Spec | None = field(default=None, repr=False)  # the last buffer that validated

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    @property
    def display_name(self) -> str:
        return str(self.file) if self.file else "(no spec)"

    def study_target(self) -> StudyTarget | None:
        """``--storage``, else the spec's ``hpo.storage``, else its output folder
        (``output_dir`` or ``runs/<name>``); None when there is nothing to go on."""
        spec = self.spec
        hpo = spec.hpo if spec is not None else None
        name = self.study or (hpo.study_name if hpo else None) or (spec.name if spec else None)
        if self.storage:
            return StudyTarget(self.storage, name, self.study is None)
        if spec is None:
            return None
        if hpo is not None and hpo.storage:
            return StudyTarget(hpo.storage, name, False)
        out = spec.output_dir or f"runs/{spec.name}"
        return StudyTarget(default_storage(out), name, False)
