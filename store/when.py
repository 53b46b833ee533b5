"""Parsing the times users type: WHEN (``--at``, ``--since``) and session ttls."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from azctx.events import BadInput
from azctx.events.records import Record

_TTL = re.compile(r"(\d{1,9})([smhd])")
_TTL_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_TTL = timedelta(days=366)


class When(Record):
    """Either an operation number or an aware point in time."""

    seq: int | None = None
    time: datetime | None = None


def parse_when(text: str, option: str = "--at") -> When:
    """All digits: an operation number; else ISO-8601, a time without zone being local."""
    value = text.strip()
    if value.isdigit() and value.isascii():
        return When(seq=int(value))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise BadInput(
                f"{option} takes an operation number or an ISO-8601 date/time, not {text!r}"[:300],
                hint="e.g. 42, 2026-11-26, 2026-11-26T09:30 or 2026-11-26T09:30:00Z",
            ) from None
    if moment.tzinfo is None:
        moment = _local(moment)
    return When(time=moment)


def _local(moment: datetime) -> datetime:
    """A time without a zone as local time. The C library cannot place the first or
    last days of the calendar (year 1, year 9999) in a zone: there, an hour or two
    either way changes no answer, so they are read as UTC."""
    try:
        return moment.astimezone()
    except (ValueError, OverflowError, OSError):
        return moment.replace(tzinfo=UTC)


def parse_ttl(text: str) -> timedelta:
    match = _TTL.fullmatch(text.strip())
    if match is None:
        raise BadInput(
            f"--ttl takes a duration like 30m, 12h or 7d, not {text!r}"[:300],
            hint="units: s, m, h, d",
        )
    ttl = timedelta(**{_TTL_UNITS[match.group(2)]: int(match.group(1))})
    if ttl <= timedelta(0) or ttl > MAX_TTL:
        raise BadInput(f"--ttl must be more than 0 and at most {MAX_TTL.days} days")
    return ttl


def parse_bool_env(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BadInput(
        f"{name} must be true or false, not {value!r}"[:300], hint=f"unset {name} or fix it"
    )
