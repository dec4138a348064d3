"""What the screens share: the spec file, the editor's buffer, and where the study lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from specc.spec.atomic import check_writable, write_atomic
from specc.spec.defaults import output_dir
from specc.spec.defaults import storage_url as default_storage
from specc.tui.files import Stamp, read_spec

if TYPE_CHECKING:
    from specc.spec.diagnostics import Diagnostic
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
    stamp: Stamp | None = None  # the file on disk as last loaded or saved
    #: why the file was not read (validate's limits: size, not a regular file, not text);
    #: the editor is then read-only and saving is refused
    refused: list[Diagnostic] = field(default_factory=list, repr=False)

    def load(self) -> None:
        """Read the file into the buffer (a missing file is an empty buffer: saving
        creates it). A file validate refuses is not read: an empty buffer and
        :attr:`refused` say why."""
        text, self.refused = read_spec(self.file) if self.file is not None else ("", [])
        self.text = self.saved_text = text
        self.version += 1
        self.stamp = Stamp.of(self.file) if self.file else None

    def ensure_spec(self) -> Spec | None:
        """The spec of the buffer, checked now if the editor has not yet (any thread)."""
        if self.spec is None and self.file is not None and not self.refused:
            from specc.spec.check import check_file
            from specc.spec.diagnostics import Collector

            self.spec = check_file(str(self.file), Collector(), text=self.text).spec
        return self.spec

    def save(self, text: str | None = None) -> str | None:
        """Write ``text`` (default: the buffer) to the file atomically; why not, or None."""
        from specc.spec.diagnostics import Collector

        if self.file is None:
            return "no file to save to: start with `specc tui FILE`"
        if self.refused:
            return f"not saved: {self.file} was not opened ({self.refused[0].message})"
        text = self.text if text is None else text
        refused = Collector()
        if not check_writable(self.file, refused):  # `specc set`'s rule: a 0444 file stays
            return f"not saved: {refused.items[0].message}"
        try:
            write_atomic(self.file, text)
        except OSError as e:
            return f"not saved: {e}"
        self.saved_text = self.text = text
        self.stamp = Stamp.of(self.file)
        return None

    def output_dir(self) -> Path | None:
        """Where `specc run` of the spec writes (None before the spec first validated)."""
        spec = self.ensure_spec()
        return Path(output_dir(spec)) if spec is not None else None

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
