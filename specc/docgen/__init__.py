"""Generated documentation: one page per diagnostic code, the spec reference, the schema.

`make docs` (``python -m specc.docgen``) writes them; ``--check`` (and tests/test_docs.py)
fails when a committed file differs from what the sources give now. These read the
repository's `docs/` and `tests/cases/`, so they run from a checkout, not an installed wheel.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["generate", "stale", "write"]


def generate(root: Path) -> dict[Path, str]:
    """Every generated file, as {path relative to root: text}."""
    from specc.docgen import codes
    from specc.docgen.reference import reference
    from specc.spec.models import Spec
    from specc.spec.schema import json_schema

    schema = json_schema()
    raw = Spec.model_json_schema(mode="validation")
    required = {name: set(d.get("required", [])) for name, d in raw.get("$defs", {}).items()}
    required[""] = set(raw.get("required", []))
    out = codes.generate(root)
    out[Path("docs/spec.schema.json")] = json.dumps(schema, indent=2) + "\n"
    out[Path("docs/reference.md")] = reference(schema, required)
    return out


def stale(root: Path, files: dict[Path, str] | None = None) -> list[Path]:
    """Generated files that are missing or differ, and code pages of codes that are gone."""
    files = generate(root) if files is None else files
    out = [p for p, text in files.items()
           if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text]
    pages = root / "docs" / "codes"
    if pages.is_dir():
        out += [p.relative_to(root) for p in sorted(pages.glob("*.md"))
                if p.relative_to(root) not in files]
    return sorted(out)


def write(root: Path, files: dict[Path, str] | None = None) -> list[Path]:
    """Write every generated file; remove pages of codes that no longer exist."""
    files = generate(root) if files is None else files
    changed = stale(root, files)
    for p in changed:
        target = root / p
        if p in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[p], encoding="utf-8")
        else:
            target.unlink()
    return changed
