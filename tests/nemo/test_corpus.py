"""NeMo RL's own example configs validate as NeMo RL declares them.

Every config under `examples/configs/` of the NeMo RL snapshot in `../shared` (295 files,
recipes included, with the parents they extend elsewhere under `examples/`) is validated in
one call. The only errors allowed are the real defects listed, each with its reason, in
`corpus_defects.json`; an expected defect that disappears fails too, so the list stays
current. Then a typo test misspells one key in every third file (cycling through depths 1-4) and
checks that each is an S001 at the key with the right "did you mean", except keys inside
mappings NeMo RL declares open (`dict[str, Any]`, pass-through blocks).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from specc.compiler.validate import validate_one
from specc.spec.check import check_file
from specc.spec.diagnostics import Collector, Diagnostic, Severity, dotted
from specc.spec.loader import load
from specc.spec.nemo import catalog as cat
from specc.spec.schema import json_schema

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpora" / "nemo-rl"
CONFIGS = sorted((CORPUS / "examples" / "configs").rglob("*.yaml"))
EXPECTED = Path(__file__).with_name("corpus_defects.json")
# The snapshot holds no `.git` or `pyproject.toml` (a user's NeMo RL clone has `.git`), so
# the project root rule would stop each recipe at its own folder: name it, as --root does.

Key = tuple[str, int, str, str]


def _rel(file: str) -> str:
    return os.path.relpath(os.path.normpath(os.path.abspath(file)), CORPUS)


def _key(d: Diagnostic) -> Key:
    return (_rel(d.file), d.line, d.code, d.path)


@pytest.fixture(scope="module")
def per_file() -> dict[Path, list[Diagnostic]]:
    """Each config's diagnostics (those of the parents it extends included)."""
    assert len(CONFIGS) == 295, "the NeMo RL snapshot in ../shared has 295 example configs"
    out = {}
    for f in CONFIGS:
        diags = Collector()
        validate_one(str(f), diags, root=str(CORPUS))
        out[f] = list(diags)
    return out


@pytest.fixture(scope="module")
def corpus(per_file: dict[Path, list[Diagnostic]]) -> list[Diagnostic]:
    return [d for diags in per_file.values() for d in diags]


def test_corpus_has_only_the_listed_defects(corpus: list[Diagnostic]) -> None:
    expected = json.loads(EXPECTED.read_text())["defects"]
    listed = {(e["file"], e["line"], e["code"], e["path"]) for e in expected}
    assert all(e["reason"].strip() for e in expected)
    found = {_key(d) for d in corpus if d.severity is Severity.ERROR}
    assert sorted(found - listed) == [], "errors on NeMo RL configs that are not real defects"
    assert sorted(listed - found) == [], "listed defects that validate no longer reports"


def test_corpus_reports_carried_keys_once_per_file(corpus: list[Diagnostic]) -> None:
    # one R030 per validated file at most (it points where its first key is written)
    carried = sum(d.code == "R030" for d in corpus)
    assert len(CONFIGS) // 2 < carried <= len(CONFIGS)


def _candidates(file: str) -> tuple[dict[str, Any], list[tuple[tuple[str | int, ...], Any]]]:
    """The loaded document, and the key paths written in ``file`` itself (not a parent)
    with their location."""
    loaded = load(file, Collector(), root=str(CORPUS))
    assert loaded.data is not None
    me = os.path.abspath(file)
    out = []
    for path, loc in loaded.locations.keys.items():
        if not path or not isinstance(path[-1], str) or os.path.abspath(loc.file) != me:
            continue
        if path[-1] in ("defaults", "_override_") or len(path[-1]) < 4:
            continue
        out.append((path, loc))
    return loaded.data, out


def _declared_open(data: dict[str, Any], parent: tuple[str | int, ...]) -> bool:
    """Whether NeMo RL declares the mapping at ``parent`` open (any key is valid there)."""
    c = cat.catalog()
    t: Any = c.master_type(c.masters_for(data))
    for i, part in enumerate(parent):
        nxt = cat.child(t, part)
        if nxt is None and i == 0:
            nxt = cat.child(c.master_type([cat.UNION_MASTER]), part)
        if nxt is None:
            nxt = c.undeclared(parent[:i], str(part)) if i else None
        if nxt is None:
            return False
        t = nxt
    return cat.is_open(t) or (bool(parent) and c.undeclared(parent, "\0") == "any")


def _typo(key: str) -> str:
    mid = len(key) // 2
    return key[:mid] + key[mid] + key[mid:]


def test_typos_throughout_the_corpus_are_caught() -> None:
    checked = open_ = 0
    failures: list[str] = []
    # every third file (a third of the corpus keeps the test fast; the depths cycle 1-4)
    for i, config in enumerate(CONFIGS[::3]):
        file = str(config)
        data, cands = _candidates(file)
        if not cands:
            continue
        depth = i % 4 + 1
        at_depth = [c for c in cands if len(c[0]) == depth] or cands
        path, loc = at_depth[(i // 4) % len(at_depth)]
        key = str(path[-1])
        lines = config.read_text().splitlines(keepends=True)
        line = lines[loc.line - 1]
        col = loc.column - 1
        assert line[col:col + len(key)] == key, (file, loc)
        lines[loc.line - 1] = line[:col] + _typo(key) + line[col + len(key):]
        diags = Collector()
        check_file(file, diags, text="".join(lines), root=str(CORPUS))
        typo_path = dotted((*path[:-1], _typo(key)))
        hits = [d for d in diags if d.code == "S001" and d.path == typo_path]
        if _declared_open(data, path[:-1]):
            open_ += 1
            assert hits == [], f"{file}: `{typo_path}` is inside an open mapping"
            continue
        checked += 1
        if len(hits) != 1:
            failures.append(f"{file}: no S001 for `{typo_path}`")
            continue
        d = hits[0]
        assert (os.path.abspath(d.file), d.line, d.column) == (
            os.path.abspath(file), loc.line, loc.column), f"{file}: `{typo_path}` misplaced"
        if d.hint != f"did you mean `{key}`?":
            failures.append(f"{file}: `{typo_path}`: {d.hint}")
    assert failures == []
    assert checked > 70 and open_ < checked


def test_schema_accepts_every_config_that_validates_clean(
        per_file: dict[Path, list[Diagnostic]]) -> None:
    """Schema and validate agree: each config validate accepts passes the exported JSON
    Schema, as an editor sees the file (on its own, before `defaults:` merging)."""
    validator = jsonschema.Draft202012Validator(json_schema())
    # clean: no error in the file itself (an error in a parent is the parent's)
    clean = [f for f, diags in per_file.items()
             if not any(d.severity is Severity.ERROR and Path(d.file).resolve() == f.resolve()
                        for d in diags)]
    assert len(clean) > 150
    yaml = YAML(typ="safe", pure=True)
    failures = {str(f.relative_to(CORPUS)): [
        f"{list(e.absolute_path)}: {e.message[:120]}"
        for e in validator.iter_errors(yaml.load(f.read_text()))][:3] for f in clean}
    assert {k: v for k, v in failures.items() if v} == {}
