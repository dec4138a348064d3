"""`specc set FILE path=value ...`: edit values in a spec file in place.

Only the edited values' text changes (comments, quoting and layout stay); a key the file
does not write gets new lines. The result is validated like `specc validate` and the
file is left untouched when the edits introduce errors. Values are read like `-o`.
Exit 0: written (or nothing to change); 1: the edits would introduce errors, or a path
cannot be edited; 2: usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "set", help="edit values in a spec file in place (comments and layout kept)",
        description="Set values in FILE in place, keeping every comment, quote style and "
        "layout: only each edited value's text changes, or new `key: value` lines are "
        "added for keys the file does not write. Values are read like -o overrides. The "
        "result is validated first; when the edits introduce errors they are printed and "
        "FILE is left untouched. A read-only file or folder is not written unless --force. "
        "Exit 0: written; 1: the edits introduce errors, a path cannot be edited, or the "
        "file may not be written; 2: usage error or unreadable file.")
    p.add_argument("file", metavar="FILE", help="spec file (YAML) to edit")
    p.add_argument("assignments", nargs="+", metavar="PATH=VALUE",
                   help="e.g. policy.optimizer.kwargs.lr=1e-5; quote keys that hold dots: "
                   "'hpo.search_space[\"policy.lora.r\"].choices=[8, 16]'")
    p.add_argument("--dry-run", "-n", action="store_true",
                   help="print a unified diff of the edit; write nothing")
    p.add_argument("--output", metavar="NEW", default=None,
                   help="write the edited spec to NEW instead of changing FILE")
    p.add_argument("--force", action="store_true",
                   help="write even a read-only file (mode 0444) or into a read-only folder "
                   "(the file's mode is kept)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from specc.runtime.api import SpecError
    from specc.runtime.document import SpecDocument
    from specc.spec.diagnostics import Diagnostic, dotted
    from specc.spec.edit import position
    from specc.spec.loader import split_override
    from specc.spec.render import render

    parsed = []
    for a in args.assignments:
        split = split_override(a)
        if split is None:
            print(f"specc set: `{a}` is not PATH=VALUE (for example "
                  "policy.optimizer.kwargs.lr=1e-5)", file=sys.stderr)
            return 2
        parsed.append(split)

    def err(diags: list[Diagnostic], texts: dict[str, str], file: str) -> None:
        sys.stdout.flush()
        render("text", diags, texts, [file], sys.stderr)

    def line(d: Diagnostic) -> str:
        return f"{d.file}:{d.line}:{d.column}: {d.severity.value} {d.code} {d.message}"

    try:
        doc = SpecDocument(args.file)
    except SpecError as e:
        err(e.diagnostics, e.texts, args.file)
        return 2
    try:
        for path, value in parsed:
            doc.set(path, value)
    except SpecError as e:
        err(e.diagnostics, e.texts, args.file)
        print(f"specc set: {args.file} is unchanged", file=sys.stderr)
        return 1
    except TypeError as e:  # only from the Python API's values; kept for safety
        print(f"specc set: {e}", file=sys.stderr)
        return 2

    dest = args.output or args.file
    result = doc.check(dest)
    if result.new_errors:
        err(result.new_errors + result.new_warnings, result.texts, dest)
        print(f"specc set: not written: the edit introduces "
              f"{len(result.new_errors)} error(s); {args.file} is unchanged", file=sys.stderr)
        return 1
    if not (args.force or args.dry_run) and (args.output is not None or doc.changed):
        from specc.spec.atomic import check_writable
        from specc.spec.diagnostics import Collector

        refused = Collector()
        if not check_writable(dest, refused):
            err(refused.items, {}, dest)
            print(f"specc set: not written; {dest} is unchanged", file=sys.stderr)
            return 1
    for c in doc.changes:
        ln, col = position(doc.text, c.value_at)
        if c.kind == "replace":
            what = f"{c.old.strip()} -> {c.new.strip()}"
        elif c.kind == "insert":
            what = f"added ({c.new.strip().splitlines()[-1].strip(' ,')})"
        else:
            what = "unchanged"
        print(f"{dest}:{ln}:{col}: {dotted(c.path)}: {what}")
    for n in doc.notes:
        print(line(n))
    if result.new_warnings:
        err(result.new_warnings, result.texts, dest)
    sys.stderr.flush()
    if result.old_errors:
        codes = ", ".join(sorted({d.code for d in result.old_errors}))
        print(f"specc set: note: {args.file} already had {len(result.old_errors)} error(s) "
              f"before this edit ({codes}); they do not block it", file=sys.stderr)
    if args.dry_run:
        sys.stdout.write(doc.diff(dest))
        print(f"dry run: {dest} not written")
        return 0
    if args.output is None and not doc.changed:
        print(f"{args.file}: nothing to change")
        return 0
    try:
        if args.output is not None:
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
        doc.save(dest)
    except OSError as e:
        print(f"specc set: cannot write {dest}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"wrote {dest}")
    return 0
