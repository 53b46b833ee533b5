"""Plain-text and JSON rendering of what the store returns.

Output is plain text with no colour codes and no wrapping, so it pipes cleanly and
respects NO_COLOR trivially; machine-readable output is the ``--json`` documents.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    # Types only: the prompt commands render without loading the pydantic models.
    from azctx.projections.history import HistoryRow


class ShownContext(Protocol):
    """The fields of a context that the output shows (a pydantic ``Context`` or a
    ``projections.plain.PlainContext``)."""

    @property
    def name(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def account_type(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def subscription(self) -> str | None: ...
    @property
    def subscription_name(self) -> str | None: ...
    @property
    def environment(self) -> str: ...


class ShownItem(Protocol):
    """One row of a view (a ``projections.view.ViewContext`` or a
    ``projections.plain.PlainItem``)."""

    @property
    def context(self) -> ShownContext: ...
    @property
    def scope(self) -> str: ...
    @property
    def default(self) -> bool: ...
    @property
    def credential(self) -> str: ...


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes: a value from the store (or
    from an imported file) must not move the cursor, recolour or clear the terminal."""
    if not any(unicodedata.category(ch) == "Cc" for ch in text):
        return text
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch for ch in text)


def context_json(item: ShownItem) -> dict[str, Any]:
    ctx = item.context
    return {
        "name": ctx.name,
        "account": ctx.account,
        "account_type": ctx.account_type,
        "tenant": ctx.tenant,
        "subscription": ctx.subscription,
        "subscription_name": ctx.subscription_name,
        "environment": ctx.environment,
        "scope": item.scope,
        "default": item.default,
        "credential": item.credential,
    }


def utc_z(moment: datetime) -> str:
    """ISO-8601 UTC ending in ``Z``, as the SPEC's JSON wants."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def history_json(row: HistoryRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "time": utc_z(row.time),
        "user": row.user,
        "host": row.host,
        "scope": row.scope,
        "session": row.session,
        "operation": row.operation,
        "context": row.context,
        "undone_by": row.undone_by,
    }


def emit_json(document: Any, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    body = [list(headers), *[[printable(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in body) for i in range(len(headers))]
    lines = []
    for r in body:
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths[:-1], strict=True)] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def context_rows(items: Sequence[ShownItem]) -> str:
    headers = ("", "NAME", "ACCOUNT", "TENANT", "SUBSCRIPTION", "ENVIRONMENT", "SCOPE")
    rows = (
        (
            "*" if i.default else "",
            i.context.name,
            i.context.account,
            i.context.tenant,
            i.context.subscription_name or i.context.subscription or "",
            i.context.environment,
            i.scope,
        )
        for i in items
    )
    return table(headers, rows)


def context_detail(item: ShownItem) -> str:
    ctx = item.context
    fields = (
        ("Name", ctx.name),
        ("Default", "yes" if item.default else "no"),
        ("Account", ctx.account),
        ("Account type", ctx.account_type),
        ("Tenant", ctx.tenant),
        ("Subscription", ctx.subscription or ""),
        ("Subscription name", ctx.subscription_name or ""),
        ("Environment", ctx.environment),
        ("Scope", item.scope),
        ("Credential", item.credential),
    )
    return "\n".join(f"{k + ':':<19}{printable(v)}".rstrip() for k, v in fields)


def history_rows(rows: Sequence[HistoryRow]) -> str:
    headers = ("SEQ", "TIME", "USER", "HOST", "SCOPE", "OPERATION", "CONTEXT", "UNDONE BY")
    body = (
        (
            str(r.seq),
            local_time(r.time),
            r.user,
            r.host,
            r.scope if r.session is None else f"{r.scope} ({r.session})",
            r.operation,
            r.context or "",
            "" if r.undone_by is None else str(r.undone_by),
        )
        for r in rows
    )
    return table(headers, body)
