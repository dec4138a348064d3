"""Records: dataclasses whose ``__repr__``, ``__eq__`` and ``__hash__`` are shared, not generated.

For every class, :mod:`dataclasses` writes those methods out as source text and compiles
it at import: for the records a cold ``specc validate`` imports, that was 5% of its
instructions (callgrind, CPython 3.11). ``@record`` takes what ``@dataclass`` takes (``frozen``,
``slots``, ``kw_only``, ...) and gives the class the repr, ``==`` and hash a dataclass
would have, computed by three functions shared by every record: the same text (fields
with ``repr=False`` left out, ``...`` on recursion), equality only with an instance of
the very same class over the ``compare`` fields, and, when frozen, the hash of those
fields' tuple (a mutable record is unhashable). ``__init__``, ``fields()``,
``replace()`` and ``asdict()`` are the dataclass's own.

The spec, compiler and command modules use it (``tests/test_layers.py`` finds any
dataclass validate imports that does not); the runtime and the TUI, which import torch or
Textual anyway, keep plain dataclasses.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

_REPR = "__record_repr__"
_COMPARE = "__record_compare__"


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, _REPR))
    return f"{self.__class__.__qualname__}({shown})"


def _values(self: Any) -> tuple[Any, ...]:
    return tuple([getattr(self, name) for name in getattr(self, _COMPARE)])


def _eq(self: Any, other: object) -> object:  # a bool, or NotImplemented
    if other.__class__ is self.__class__:
        return _values(self) == _values(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(_values(self))


def _finish(cls: type[T], frozen: bool) -> type[T]:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    setattr(cls, _REPR, tuple(f.name for f in fields if f.repr))
    setattr(cls, _COMPARE, tuple(f.name for f in fields if f.compare))
    own = cls.__dict__
    shared: dict[str, Any] = {"__repr__": _repr, "__eq__": _eq}
    for name, method in shared.items():
        if name not in own:
            setattr(cls, name, method)
    if own.get("__hash__") is None:
        setattr(cls, "__hash__", _hash if frozen else None)  # noqa: B010
    return cls


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, frozen: bool = False, slots: bool = False, kw_only: bool = False,
           init: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T] | None = None, /, *, frozen: bool = False, slots: bool = False,
           kw_only: bool = False, init: bool = True) -> Any:
    """``@dataclass`` with shared repr, ``==`` and hash (see the module's docstring)."""

    def wrap(cls: type[T]) -> type[T]:
        made = dataclasses.dataclass(cls, init=init, repr=False, eq=False, frozen=frozen,
                                     slots=slots, kw_only=kw_only)
        return _finish(made, frozen)

    return wrap if cls is None else wrap(cls)
