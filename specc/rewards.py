"""Built-in reward functions (`specc.rewards:<name>` in a spec).

Each follows TRL's reward-function protocol: it takes the batch's `completions`
(strings, or chat messages) and the dataset's other columns as keyword arguments
(`answer` for `specc:arith-prompts`) and returns one float per completion. They are
plain Python, so `specc plan --emit python` copies their source into the scripts.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Helpers the reward functions use; emitted scripts copy these too.
HELPERS = ("_text", "_first_number")

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _text(completion: Any) -> str:
    """The text of a completion (a string, or a list of chat messages)."""
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def _first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return float(match.group()) if match else None


def exact_match(completions: list[Any], answer: list[Any] | None = None,
                **kwargs: Any) -> list[float]:
    """1.0 when the completion's first number equals the answer, else 0.0."""
    answers = answer or [None] * len(completions)
    out = []
    for c, a in zip(completions, answers, strict=False):
        got = _first_number(_text(c))
        out.append(1.0 if got is not None and a is not None and got == float(a) else 0.0)
    return out


def numeric_closeness(completions: list[Any], answer: list[Any] | None = None,
                      **kwargs: Any) -> list[float]:
    """1 / (1 + |number - answer|): partial credit for near misses; 0 without a number."""
    answers = answer or [None] * len(completions)
    out = []
    for c, a in zip(completions, answers, strict=False):
        got = _first_number(_text(c))
        out.append(0.0 if got is None or a is None else 1.0 / (1.0 + abs(got - float(a))))
    return out


def json_valid(completions: list[Any], **kwargs: Any) -> list[float]:
    """1.0 when the completion parses as JSON, else 0.0."""
    out = []
    for c in completions:
        try:
            json.loads(_text(c))
        except ValueError:
            out.append(0.0)
        else:
            out.append(1.0)
    return out


def length_penalty(completions: list[Any], target: int = 8, scale: float = 0.05,
                   **kwargs: Any) -> list[float]:
    """Minus `scale` per character beyond `target` (0 for short completions)."""
    return [-scale * max(len(_text(c).strip()) - target, 0) for c in completions]


def format_reward(completions: list[Any], **kwargs: Any) -> list[float]:
    """1.0 when the completion is just a number (optionally signed), else 0.0."""
    return [1.0 if re.fullmatch(r"\s*-?\d+\s*", _text(c)) else 0.0 for c in completions]
