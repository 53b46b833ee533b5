"""Plain-text and JSON rendering of what the store returns.

Output is plain text; only ``list`` colours its rows, and only on a terminal without
``NO_COLOR`` or ``TERM=dumb`` (``Layout``). Machine-readable output is the ``--json``
documents and ``list --names``.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from azctx.events.records import Record

if TYPE_CHECKING:
    from azctx.projections.history import HistoryRow
    from azctx.projections.view import View, ViewContext
    from azctx.store.context_store import ContextStore
    from azctx.store.results import KeyStatus, OperationResult, SessionRow, SessionStatus


class Echo(Protocol):
    """How a command writes a line: ``typer.echo`` in the typer app, a plain write on
    the prompt path (``cli/fast_path.py``); the output is the same, since every value
    shown is made ``printable`` first."""

    def __call__(self, text: str, /, *, err: bool = False) -> None: ...


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes: a value from the store (or
    from an imported file) must not move the cursor, recolour or clear the terminal."""
    if not any(unicodedata.category(ch) == "Cc" for ch in text):
        return text
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch for ch in text)


def context_json(item: ViewContext) -> dict[str, Any]:
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
        "protected": ctx.protected,
    }


def utc_z(moment: datetime) -> str:
    """ISO-8601 UTC ending in ``Z``, as the documented JSON wants."""
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


ELLIPSIS = "…"
#: No column of a fitted table is cut narrower than this.
MIN_COLUMN = 8
DEFAULT_ROW = "\x1b[1;32m"  # bold green
PROTECTED_ROW = "\x1b[31m"  # red
PROTECTED_DEFAULT_ROW = "\x1b[1;31m"
RESET = "\x1b[0m"


class Layout(Record):
    """How wide a table may be (None: as wide as it is) and whether it is coloured."""

    width: int | None = None
    colour: bool = False


def layout(environ: Mapping[str, str], *, wide: bool = False) -> Layout:
    """The terminal's width unless ``wide``; colour only on a terminal, never with
    ``NO_COLOR`` (any value) or ``TERM=dumb``."""
    import shutil  # only a table needs the width

    colour = sys.stdout.isatty() and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"
    return Layout(None if wide else shutil.get_terminal_size().columns, colour)


def _fitted(widths: list[int], width: int | None) -> list[int]:
    """Column widths shrunk, widest first, until the row fits in ``width``."""
    fitted = list(widths)
    if width is None:
        return fitted
    while sum(fitted) + 2 * (len(fitted) - 1) > width:
        widest = max(range(1, len(fitted)), key=lambda i: fitted[i])  # never the marks
        if fitted[widest] <= MIN_COLUMN:
            break
        fitted[widest] -= 1
    return fitted


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + ELLIPSIS


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    width: int | None = None,
    styles: Sequence[str] = (),
) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded.
    Cells too long for ``width`` end in an ellipsis; ``styles`` colours each row
    (an empty style leaves it plain)."""
    body = [list(headers), *[[printable(c) for c in r] for r in rows]]
    widths = _fitted([max(len(r[i]) for r in body) for i in range(len(headers))], width)
    lines = []
    for n, r in enumerate(body):
        cut = [_cut(c, w) for c, w in zip(r, widths, strict=True)]
        cells = [c.ljust(w) for c, w in zip(cut[:-1], widths[:-1], strict=True)] + [cut[-1]]
        line = "  ".join(cells).rstrip()
        style = styles[n - 1] if 0 < n <= len(styles) else ""
        lines.append(f"{style}{line}{RESET}" if style else line)
    return "\n".join(lines)


def _marks(item: ViewContext) -> str:
    """``*`` the default, ``!`` a protected context."""
    return ("*" if item.default else " ") + ("!" if item.context.protected else "")


def _style(item: ViewContext) -> str:
    if item.context.protected:
        return PROTECTED_DEFAULT_ROW if item.default else PROTECTED_ROW
    return DEFAULT_ROW if item.default else ""


def context_rows(items: Sequence[ViewContext], shape: Layout = Layout()) -> str:
    """``list``: marks, name, subscription (its name, else its id) and account, fitted
    to the terminal; ``shape.width`` None shows every column in full."""
    rows: list[tuple[str, ...]]
    if shape.width is None:
        headers: tuple[str, ...] = ("", "NAME", "ACCOUNT", "TENANT", "SUBSCRIPTION")
        headers += ("SUBSCRIPTION NAME", "ENVIRONMENT", "SCOPE", "CREDENTIAL")
        rows = [
            (
                _marks(i),
                i.context.name,
                i.context.account,
                i.context.tenant,
                i.context.subscription or "",
                i.context.subscription_name or "",
                i.context.environment,
                i.scope,
                i.credential,
            )
            for i in items
        ]
    else:
        headers = ("", "NAME", "SUBSCRIPTION", "ACCOUNT")
        rows = [
            (
                _marks(i),
                i.context.name,
                i.context.subscription_name or i.context.subscription or "",
                i.context.account,
            )
            for i in items
        ]
    styles = [_style(i) for i in items] if shape.colour else []
    return table(headers, rows, shape.width, styles)


def context_detail(item: ViewContext) -> str:
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
        ("Protected", "yes" if ctx.protected else "no"),
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
            (r.context or "") + ("" if r.renamed_to is None else f" → {r.renamed_to}"),
            "" if r.undone_by is None else str(r.undone_by),
        )
        for r in rows
    )
    return table(headers, body)


def local_expiry(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def session_json(status: SessionStatus) -> dict[str, Any]:
    return {
        "session": status.session_id,
        "state": status.state,
        "expires": None if status.expires is None else utc_z(status.expires),
    }


def session_row_json(row: SessionRow) -> dict[str, Any]:
    return {
        "session": row.session_id,
        "pid": row.pid,
        "shell": row.shell,
        "started": utc_z(row.started),
        "expires": utc_z(row.expires),
        "default": row.default,
        "this_shell": row.mine,
    }


def session_rows(rows: Sequence[SessionRow], shape: Layout = Layout()) -> str:
    """``session list``: one line per session, '*' for the caller's own. A pane too
    narrow for every column leaves out the start and the pid first, then cuts cells."""
    if not rows:
        return "no live session on this host"
    headers = ("", "SESSION", "PID", "SHELL", "STARTED", "EXPIRES", "DEFAULT")
    cells = [
        (
            "*" if row.mine else "",
            row.session_id,
            "-" if row.pid is None else str(row.pid),
            row.shell or "-",
            local_time(row.started),
            local_time(row.expires),
            row.default or "-",
        )
        for row in rows
    ]
    full = table(headers, cells)
    if shape.width is None or max(len(line) for line in full.splitlines()) <= shape.width:
        return full
    keep = (0, 1, 3, 5, 6)  # without STARTED and PID
    return table([headers[i] for i in keep], [[r[i] for i in keep] for r in cells], shape.width)


def session_text(status: SessionStatus) -> str:
    if status.session_id is None:
        return 'no session (start one with: eval "$(azctx session start)")'
    tail = ""
    if status.expires is not None and status.state == "live":
        tail = f", expires {local_expiry(status.expires)}"
    return f"session {status.session_id}: {status.state}{tail}"


def key_json(status: KeyStatus) -> dict[str, Any]:
    return {
        "source": status.source,
        "path": status.path,
        "key_id": status.key_id,
        "store": status.store,
    }


_KEY_SOURCES = {"env": "the AZCTX_KEY variable", "env-file": "AZCTX_KEY_FILE", "file": "key file"}


def key_text(status: KeyStatus) -> str:
    origin = _KEY_SOURCES.get(status.source, status.source)
    path = f" {status.path}" if status.path else ""
    return f"master key {status.key_id} from {origin}{path}\nstore: {status.store}"


def show_list(
    view: View, *, json_: bool, names: bool, echo: Echo, wide: bool = False, new: bool = False
) -> None:
    """``azctx list``: a table fitted to the terminal (every column with ``wide``),
    the names alone, or the JSON array; the table of a ``new`` store (``is_new``) says
    how to begin."""
    if json_:
        emit_json([context_json(i) for i in view.contexts])
    elif names:
        for item in view.contexts:
            echo(printable(item.context.name))
    elif view.contexts:
        echo(context_rows(view.contexts, layout(os.environ, wide=wide)))
    elif new:  # on stderr: a script reading the table still reads nothing
        echo(
            "no contexts: add one with 'azctx add', or bring in Azure PowerShell's or the"
            " Azure CLI's with 'azctx import'",
            err=True,
        )


def is_new(store: ContextStore, view: View) -> bool:
    """Whether ``view``, of the store now, shows a store nothing was written to yet
    (a view emptied by removals, or by autosave being off, is not new)."""
    return not view.contexts and store.state().seq == 0


def show_current(name: str | None, *, echo: Echo) -> int:
    """``azctx current``: the default's name alone, or nothing and exit code 1."""
    if name is None:
        return 1
    echo(printable(name))
    return 0


def show_result(result: OperationResult, *, echo: Echo) -> None:
    """What a change says: its notes on stderr, its summary on stdout."""
    for note in result.notes:
        echo(printable(note), err=True)
    echo(printable(result.summary))
