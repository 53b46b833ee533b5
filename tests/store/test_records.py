"""``Record``, the base of every record class: it behaves as ``typing.NamedTuple`` does
(fields, defaults, methods, docstrings, ``_replace``, pickling), and refuses what
``typing.NamedTuple`` refuses."""

from __future__ import annotations

import pickle

import pytest
from azctx.events.records import Record
from azctx.events.values import Context


class Point(Record):
    """A point on a line of text."""

    line: int
    column: int = 0
    label: str | None = None

    def moved(self, by: int) -> Point:
        return self._replace(column=self.column + by)

    @property
    def origin(self) -> bool:
        return self.line == 0 and self.column == 0


def test_a_record_is_a_named_tuple_with_its_fields_and_defaults() -> None:
    point = Point(3)
    assert point == (3, 0, None)
    assert isinstance(point, tuple)
    assert Point._fields == ("line", "column", "label")
    assert Point._field_defaults == {"column": 0, "label": None}
    assert Point(line=1, label="x") == Point(1, 0, "x")
    assert repr(Point(1, 2)) == "Point(line=1, column=2, label=None)"
    assert point._asdict() == {"line": 3, "column": 0, "label": None}


def test_a_record_keeps_its_methods_docstring_and_names() -> None:
    assert Point(1, 2).moved(3) == Point(1, 5)
    assert Point(0).origin and not Point(1).origin
    assert Point.__doc__ == "A point on a line of text."
    assert Point.__module__ == __name__
    assert Point.__qualname__ == "Point"
    assert Point.__annotations__ == {"line": "int", "column": "int", "label": "str | None"}


def test_a_record_pickles_and_matches() -> None:
    assert pickle.loads(pickle.dumps(Point(1, 2, "a"))) == Point(1, 2, "a")
    match Point(4, 5):
        case Point(line, column):
            assert (line, column) == (4, 5)
        case _:
            pytest.fail("a record matches its fields by position")


def test_a_field_without_a_default_after_one_with_it_is_refused() -> None:
    with pytest.raises(TypeError, match="field b without a default follows one with it"):

        class Bad(Record):
            a: int = 0
            b: int


def test_a_record_may_not_replace_what_the_tuple_defines() -> None:
    with pytest.raises(AttributeError, match="_replace"):

        class Bad(Record):
            a: int

            def _replace(self) -> None: ...


def test_the_domain_records_are_records() -> None:
    assert Context.__bases__ == (tuple,)
    assert "name" in Context._fields
