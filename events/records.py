"""``Record``: the base of every record class, ``typing.NamedTuple``'s class syntax at a
third of its cost to define.

``typing.NamedTuple`` checks each field's annotation when a class is defined. With
postponed annotations, every annotation is text, and each check compiles it: defining
the fifty or so record classes a prompt command loads took a fifth of the command. A
``Record`` class is the same ``collections.namedtuple`` (fields, defaults, methods,
docstring, ``_replace``, ``_asdict``), with its annotations kept as text and left to mypy,
which checks them where it matters, before the code runs. To mypy, ``Record`` *is*
``typing.NamedTuple``.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

__all__ = ["Record"]

# What a namedtuple sets itself, which a class body may not replace.
_OWN = frozenset(
    [
        "__new__",
        "__init__",
        "__slots__",
        "__getnewargs__",
        "_fields",
        "_field_defaults",
        "_make",
        "_replace",
        "_asdict",
        "__match_args__",
    ]
)
# What every class body holds that the namedtuple already has its own of.
_GIVEN = frozenset(("__module__", "__qualname__", "__annotations__", "__doc__"))


class _RecordMeta(type):
    def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
        if not bases:  # ``Record`` itself
            return super().__new__(cls, name, bases, namespace)
        annotations: dict[str, str] = namespace.get("__annotations__", {})
        defaults = _defaults(name, annotations, namespace)
        fields, module = tuple(annotations), namespace["__module__"]
        # mypy knows namedtuple() only with literal arguments; these come from the class.
        record = collections.namedtuple(name, fields, defaults=defaults, module=module)  # type: ignore[misc]
        record.__annotations__ = annotations
        record.__qualname__ = namespace["__qualname__"]
        if namespace.get("__doc__"):
            record.__doc__ = namespace["__doc__"]
        for key, value in namespace.items():
            if key in _OWN:
                raise AttributeError(f"a record may not define {key}")
            if key not in _GIVEN and key not in annotations:
                setattr(record, key, value)
        return record


def _defaults(name: str, annotations: dict[str, str], namespace: dict[str, Any]) -> list[Any]:
    defaults: list[Any] = []
    for field in annotations:
        if field in namespace:
            defaults.append(namespace[field])
        elif defaults:
            raise TypeError(f"{name}: field {field} without a default follows one with it")
    return defaults


if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:

    class Record(metaclass=_RecordMeta):
        """The base of a record class: ``class Point(Record): x: int; y: int = 0``."""
