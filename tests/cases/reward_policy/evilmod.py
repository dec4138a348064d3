"""Never imported: a module beside the spec that a bare `evilmod:f` must not load."""

from pathlib import Path
from typing import Any

Path("EVIL_IMPORTED").write_text("evilmod ran")


def f(completions: list[Any], **kwargs: Any) -> list[float]:
    return [0.0 for _ in completions]
