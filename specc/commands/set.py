"""`specc set` (in progress)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("set", help="(in progress)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print("specc set: not built yet")
    return 2
