"""`@record` behaves as `@dataclass` does: the same repr, equality and hash (that validate
imports no dataclass with compiled methods is in test_layers.py)."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import field
from typing import Any

import pytest

from specc.spec import records
from specc.spec.records import record


def _twins(frozen: bool, slots: bool) -> tuple[Any, Any]:
    """The same class as a dataclass and as a record."""

    def body() -> dict[str, Any]:
        return {"__annotations__": {"a": "int", "b": "list[int]", "hidden": "str",
                                    "loose": "float"},
                "b": field(default_factory=list), "hidden": field(default="x", repr=False),
                "loose": field(default=0.0, compare=False)}

    plain: Any = dataclasses.dataclass(frozen=frozen, slots=slots)(type("Point", (), body()))
    rec: Any = record(frozen=frozen, slots=slots)(type("Point", (), body()))
    return plain, rec


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("slots", [False, True])
def test_a_record_is_a_dataclass_with_the_same_repr_eq_and_hash(frozen: bool,
                                                                  slots: bool) -> None:
    plain, rec = _twins(frozen, slots)
    for args in [(1,), (1, [2, 3]), (1, [], "y", 2.5)]:
        p, r = plain(*args), rec(*args)
        assert repr(p) == repr(r)
        assert p == plain(*args) and r == rec(*args)
    assert rec(1, loose=1.0) == rec(1, loose=2.0)  # compare=False
    assert rec(1, hidden="a") != rec(1, hidden="b")  # repr=False still compares
    assert rec(1) != rec(2)
    assert (rec(1) == plain(1)) is False  # another class is never equal
    assert rec(1).__eq__(plain(1)) is NotImplemented
    assert all(map(dataclasses.is_dataclass, [rec, rec(1)]))
    assert [f.name for f in dataclasses.fields(rec)] == [f.name for f in dataclasses.fields(plain)]
    assert dataclasses.replace(rec(1), a=5) == rec(5)
    assert dataclasses.asdict(rec(1, [2])) == dataclasses.asdict(plain(1, [2]))
    assert rec.__match_args__ == plain.__match_args__
    if frozen:
        with pytest.raises(dataclasses.FrozenInstanceError):
            rec(1).a = 2
    else:
        assert rec.__hash__ is None
        with pytest.raises(TypeError, match="unhashable"):
            hash(rec(1))


def test_a_frozen_records_hash_is_its_fields_tuple_as_a_dataclasss_is() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int
        b: str = "x"
        c: float = field(default=0.0, compare=False)

    @record(frozen=True)
    class Rec:
        a: int
        b: str = "x"
        c: float = field(default=0.0, compare=False)

    assert hash(Rec(1, "y", 3.0)) == hash(Plain(1, "y", 3.0)) == hash((1, "y"))
    assert {Rec(1), Rec(1, c=9.0), Rec(2)} == {Rec(1), Rec(2)}


def test_a_recursive_record_reprs_as_a_dataclass_does() -> None:
    @record
    class Node:
        child: Any = None

    @dataclasses.dataclass
    class PlainNode:
        child: Any = None

    n, p = Node(), PlainNode()
    n.child, p.child = n, p
    assert repr(n) == repr(p).replace("PlainNode", "Node") == (
        "test_a_recursive_record_reprs_as_a_dataclass_does.<locals>.Node(child=...)")


def test_a_records_own_methods_win() -> None:
    @record(frozen=True)
    class Shown:
        a: int

        def __repr__(self) -> str:
            return "mine"

    assert repr(Shown(1)) == "mine"
    assert Shown(1) == Shown(1)


def test_a_subclass_record_uses_its_own_fields() -> None:
    @record(frozen=True)
    class Base:
        a: int

    @record(frozen=True)
    class Child(Base):
        b: int = 0

    assert repr(Child(1, 2)).endswith("Child(a=1, b=2)")
    assert Child(1, 2) != Child(1, 3)
    assert Base(1) != Child(1)


def test_records_pickle() -> None:
    from specc.spec.locations import Loc

    loc = Loc("spec.yaml", 3, 4)
    assert pickle.loads(pickle.dumps(loc)) == loc
    assert Loc.__repr__ is records._repr
