"""Forgiving reading of JSON import files, before their models (``import_models``) see
them.

Az PowerShell reads its files with case-insensitive dictionaries and property names, and
files written by other tools carry a BOM or a preamble; the helpers here accept all of
that, keep every object's members in file order for a case-insensitive lookup, and turn
malformed JSON into one ``BadInput`` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

from azctx.events import BadInput
from azctx.projections.formats.plans import MAX_IMPORT_BYTES

T = TypeVar("T")


class JsonObject:
    """A JSON object whose property names are looked up case-insensitively.

    The pairs are kept in file order, duplicates included, so a caller can refuse keys
    that collide (context names) instead of silently losing one.
    """

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs

    def get(self, key: str) -> object:
        """The value of ``key`` (an exact match first, then any case), or None."""
        folded = key.casefold()
        exact = [value for name, value in self.pairs if name == key]
        if exact:
            return exact[-1]  # json's own rule for a repeated key: the last wins
        for name, value in self.pairs:
            if name.casefold() == folded:
                return value
        return None

    def items(self) -> Iterator[tuple[str, object]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


def to_plain(value: object) -> Any:
    """``value`` with every JsonObject turned back into a dict (to re-serialize it)."""
    if isinstance(value, JsonObject):
        return {name: to_plain(item) for name, item in value.pairs}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value


def compact(value: object) -> str:
    return json.dumps(to_plain(value), separators=(",", ":"), ensure_ascii=False)


def show(text: str) -> str:
    """``text`` quoted for a one-line message: escapes control characters, and cuts a
    long value so a hostile key cannot flood the terminal."""
    quoted = repr(text)
    return quoted if len(quoted) <= 80 else quoted[:76] + "...'"


def bad(message: str) -> NoReturn:
    raise BadInput(message)


def _reject_constant(name: str) -> NoReturn:
    # NaN and Infinity are not JSON; Python would accept them by default.
    raise ValueError(f"{name} is not valid JSON")


def load_object(text: str, what: str) -> JsonObject:
    """The JSON object in ``text``: a BOM and any text before the first ``{`` are
    skipped (Az PowerShell does the same); anything but whitespace after it is refused."""
    if len(text) > MAX_IMPORT_BYTES:
        bad(f"{what} is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    start = text.find("{")
    if start < 0:
        bad(f"{what} is not a JSON object")
    decoder = json.JSONDecoder(object_pairs_hook=JsonObject, parse_constant=_reject_constant)
    try:
        value, end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        bad(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except ValueError as exc:  # a constant above, or a number with too many digits
        bad(f"{what} is not valid JSON: {str(exc).splitlines()[0]}")
    except RecursionError:
        bad(f"{what} is nested too deeply")
    if text[end:].strip():
        bad(f"{what} has text after its JSON object")
    if not isinstance(value, JsonObject):  # pragma: no cover - raw_decode at "{" is an object
        bad(f"{what} is not a JSON object")
    return value


def guarded(parse: Callable[[], T], what: str) -> T:
    """Run ``parse``, turning a RecursionError (deeply nested input meeting a recursive
    helper) into BadInput, so malformed input never escapes as another exception."""
    try:
        return parse()
    except RecursionError:
        bad(f"{what} is nested too deeply")
