"""`python -m specc.docgen [--check] [--root DIR]`: write or check the generated docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specc.docgen import stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m specc.docgen",
                                     description="Regenerate docs/codes/, docs/reference.md, "
                                     "docs/spec.schema.json and spec/code_help.json.")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the repository checkout (default: the current folder)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a generated file is out of date")
    args = parser.parse_args(argv)
    root: Path = args.root
    if not (root / "docs" / "diagnostics.md").is_file():
        print(f"{root}: not a specc checkout (no docs/diagnostics.md)", file=sys.stderr)
        return 2
    if args.check:
        out_of_date = stale(root)
        for p in out_of_date:
            print(f"out of date: {p}")
        if out_of_date:
            print("run `make docs`", file=sys.stderr)
        return 1 if out_of_date else 0
    for p in write(root):
        print(f"wrote {p}" if (root / p).exists() else f"removed {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
