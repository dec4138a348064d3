"""Stable codes, documented: the code list, the docs page and the sources stay in step."""

from __future__ import annotations

import re

from specc.spec.codes import CODES

from conftest import ROOT

DOCS = ROOT / "docs" / "diagnostics.md"


def test_every_code_has_a_docs_section_and_no_stale_ones() -> None:
    documented = re.findall(r"^### ([A-Z]\d{3})$", DOCS.read_text(), flags=re.M)
    assert sorted(documented) == sorted(CODES)
    assert len(documented) == len(set(documented))


def test_docs_state_each_codes_severity() -> None:
    text = DOCS.read_text()
    for code, info in CODES.items():
        section = text.split(f"### {code}\n", 1)[1].split("\n### ", 1)[0]
        assert f"— {info.severity}" in section, code


def test_every_code_is_produced_somewhere() -> None:
    sources = "".join(p.read_text() for d in ("spec", "compiler") for p in (ROOT / d).rglob("*.py")
                      if p.name != "codes.py")
    unused = [c for c in CODES if f'"{c}"' not in sources]
    assert unused == []
