"""Where every key and value of a spec was written.

The YAML reader records a :class:`Loc` for each key path; merges (``extends``)
and overrides keep the location of whoever set the value last, so a
diagnostic always points into the file that is responsible for it.
"""

from __future__ import annotations

from dataclasses import field

from specc.spec.records import record

PathPart = str | int
Path = tuple[PathPart, ...]


@record(frozen=True, slots=True)
class Loc:
    """A 1-based span in one file."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0


@record
class Locations:
    """Key path -> location of its value, and of its key."""

    values: dict[Path, Loc] = field(default_factory=dict)
    keys: dict[Path, Loc] = field(default_factory=dict)

    def find(self, path: Path, *, on_key: bool = False) -> Loc | None:
        """The location of ``path``, or of its nearest written ancestor."""
        p = tuple(path)
        if on_key and p in self.keys:
            return self.keys[p]
        while p:
            if p in self.values:
                return self.values[p]
            if p in self.keys:
                return self.keys[p]
            p = p[:-1]
        return self.values.get(())

    def value(self, path: Path) -> Loc | None:
        return self.values.get(tuple(path))

    def set_subtree(self, prefix: Path, other: Locations, other_prefix: Path = ()) -> None:
        """Replace locations under ``prefix`` with ``other``'s under ``other_prefix``."""
        self.drop_subtree(prefix)
        n = len(other_prefix)
        for table, mine in ((other.values, self.values), (other.keys, self.keys)):
            for p, loc in table.items():
                if p[:n] == other_prefix:
                    mine[prefix + p[n:]] = loc

    def drop_subtree(self, prefix: Path) -> None:
        n = len(prefix)
        for table in (self.values, self.keys):
            for p in [p for p in table if p[:n] == prefix and len(p) > n]:
                del table[p]

    def copy(self) -> Locations:
        return Locations(dict(self.values), dict(self.keys))
