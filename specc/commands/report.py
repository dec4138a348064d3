"""`specc report DIR | --storage URL`: a study's results as HTML, PNGs and a summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write a study's report: a self-contained HTML page, PNG charts and "
        "summary.md",
        description="Read a study (read-only) and write report.html (interactive charts, "
        "opens offline), one PNG per chart and summary.md (settings, counts with the reasons "
        "trials were pruned or failed, the best trial or the Pareto set with its spec). "
        "Exit 0: written; 2: no such folder, storage or study, or a study with no trials.")
    p.add_argument("dir", nargs="?", metavar="DIR",
                   help="a `specc run` output folder (its study.db or study.journal, "
                   "results.json, best.yaml and trials/)")
    p.add_argument("--storage", metavar="URL", default=None,
                   help="the study's Optuna storage: sqlite:///PATH, a journal file (PATH.journal, "
                   "journal:PATH) or "
                   "postgresql://... (with DIR: the storage of that folder's study)")
    p.add_argument("--study", metavar="NAME", default=None,
                   help="study name in the storage (default: the folder's study, else the "
                   "only study in the storage)")
    p.add_argument("--output", metavar="DIR", default=None,
                   help="where to write (default: DIR/report/, or the report/ folder "
                   "beside a local storage file of a `specc run` folder, else "
                   "./report-<study>/)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.dir is None and args.storage is None:
        print("specc report: error: give a `specc run` output folder DIR, or --storage URL",
              file=sys.stderr)
        return 2
    try:
        from specc.runtime.report.build import ReportError, build_report
    except ImportError as e:
        return _missing(e)

    def say(msg: str) -> None:
        if not args.quiet:
            print(f"specc report: {msg}", file=sys.stderr, flush=True)

    try:
        rep = build_report(args.dir, storage=args.storage, study=args.study,
                           output=args.output, say=say)
    except ReportError as e:
        print(f"specc report: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        return _missing(e)
    for cid, why in rep.notes.items():
        say(f"not drawn: {cid}: {why}")
    print(f"report: {rep.html}")
    print(f"summary: {rep.summary}")
    print(f"charts: {len(rep.pngs)} PNG(s) in {rep.output}")
    return 0


def _missing(e: ImportError) -> int:
    print(f"specc report: error: needs Optuna, plotly and matplotlib: "
          f"pip install 'specc-llm[run,report]' ({e})", file=sys.stderr)
    return 2
