"""Render diagnostics: one place, a registry of formats chosen by name."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import TextIO

from specc.spec.codes import CODES
from specc.spec.diagnostics import Diagnostic, Severity

DOCS_URL = "docs/diagnostics.md"

Renderer = Callable[[Sequence[Diagnostic], dict[str, str], list[str], bool], str]


def _counts(diags: Sequence[Diagnostic]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for d in diags:
        out[d.severity.value] += 1
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render_text(diags: Sequence[Diagnostic], texts: dict[str, str], files: list[str],
                color: bool = False) -> str:
    """Human output: `file:line:col: severity CODE message`, the source line, a caret, a hint."""
    out: list[str] = []
    lines_cache: dict[str, list[str]] = {}
    for d in diags:
        sev = d.severity.value
        if color:
            sev = f"{_COLORS[d.severity]}{_BOLD}{sev}{_RESET}"
        where = d.file or "<spec>"
        if d.line:
            where += f":{d.line}:{d.column}" if d.column else f":{d.line}"
        head = f"{where}: {sev} {d.code} {d.message}"
        out.append(f"{_BOLD}{head}{_RESET}" if color else head)
        src = texts.get(d.file)
        if src is not None and d.line:
            lines = lines_cache.setdefault(d.file, src.splitlines())
            if 0 < d.line <= len(lines):
                text = lines[d.line - 1].replace("\t", " ")
                num = str(d.line)
                pad = " " * len(num)
                width = 1
                if d.end_line == d.line and d.end_column > d.column:
                    width = d.end_column - d.column
                col = max(d.column, 1)
                width = max(1, min(width, max(len(text) - col + 1, 1)))
                if len(text) > 160:
                    text = text[:157] + "..."
                out.append(f" {pad} |")
                out.append(f" {num} | {text}")
                caret = " " * (col - 1) + "^" * width
                out.append(f" {pad} | {_COLORS[d.severity] + caret + _RESET if color else caret}")
        if d.path:
            out.append(f"   = path: {d.path}")
        if d.hint:
            out.append(f"   = hint: {d.hint}")
        out.append("")
    c = _counts(diags)
    summary = ", ".join([_plural(c["error"], "error"), _plural(c["warning"], "warning"),
                         f"{c['info']} info"])
    out.append(f"{summary} in {_plural(len(files), 'file')}")
    return "\n".join(out) + "\n"


def render_json(diags: Sequence[Diagnostic], texts: dict[str, str], files: list[str],
                color: bool = False) -> str:
    """One JSON object with a list `diagnostics` and a `summary`."""
    payload = {
        "version": 1,
        "files": files,
        "diagnostics": [d.to_dict() for d in diags],
        "summary": {**_counts(diags), "files": len(files)},
    }
    return json.dumps(payload, indent=2) + "\n"


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def render_github(diags: Sequence[Diagnostic], texts: dict[str, str], files: list[str],
                  color: bool = False) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's lines."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for d in diags:
        props = [f"file={_gh_escape(d.file, True)}"]
        if d.line:
            props.append(f"line={d.line}")
            if d.column:
                props.append(f"col={d.column}")
            if d.end_line:
                props.append(f"endLine={d.end_line}")
        props.append(f"title={_gh_escape(f'{d.code} {d.path}'.strip(), True)}")
        msg = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        out.append(f"::{level[d.severity]} {','.join(props)}::{_gh_escape(msg)}")
    return "\n".join(out) + ("\n" if out else "")


def render_sarif(diags: Sequence[Diagnostic], texts: dict[str, str], files: list[str],
                 color: bool = False) -> str:
    """SARIF 2.1.0, for GitHub code scanning and other viewers."""
    from specc import __version__

    used = sorted({d.code for d in diags})
    rules = [{
        "id": code,
        "name": code,
        "shortDescription": {"text": CODES[code].title},
        "helpUri": f"{DOCS_URL}#{code.lower()}",
        "defaultConfiguration": {"level": _sarif_level(Severity(CODES[code].severity))},
    } for code in used]
    results = []
    for d in diags:
        region: dict[str, int] = {}
        if d.line:
            region["startLine"] = d.line
            if d.column:
                region["startColumn"] = d.column
            if d.end_line:
                region["endLine"] = d.end_line
                if d.end_column:
                    region["endColumn"] = d.end_column
        loc: dict[str, object] = {"artifactLocation": {"uri": _uri(d.file)}}
        if region:
            loc["region"] = region
        results.append({
            "ruleId": d.code,
            "ruleIndex": used.index(d.code),
            "level": _sarif_level(d.severity),
            "message": {"text": d.message + (f" Hint: {d.hint}" if d.hint else "")},
            "locations": [{"physicalLocation": loc,
                           "logicalLocations": [{"fullyQualifiedName": d.path}] if d.path else []}],
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "specc", "version": __version__,
                                "informationUri": "https://github.com/specc/specc",
                                "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _sarif_level(sev: Severity) -> str:
    return {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}[sev]


def _uri(file: str) -> str:
    if not file or file.startswith("<"):
        return file or "spec"
    return os.path.relpath(file).replace(os.sep, "/") if os.path.isabs(file) else file


RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}


def render(fmt: str, diags: Sequence[Diagnostic], texts: dict[str, str], files: list[str],
           stream: TextIO, *, color: bool = False) -> None:
    text = RENDERERS[fmt](diags, texts, files, color)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    # unpaired surrogates (from escapes in the YAML) and characters the terminal cannot
    # show are written as backslash escapes instead of crashing the report
    stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
