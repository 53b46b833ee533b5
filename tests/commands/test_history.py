"""``azctx history``: the rows (newest first, filters, undone by), its JSON fields,
``--limit``, ``--context`` and ``--since``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from azctx.projections.history import history_rows
from azctx.projections.state import undone_by
from command_support import UTC_Z, add, start_session
from decision_support import busy_log

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def test_history_rows_newest_first_with_filters_and_undone_by() -> None:
    log = busy_log()
    rows = history_rows(log.entries, undone_by(log.entries))
    assert [r.seq for r in rows] == list(range(len(log.entries), 0, -1))
    by_seq = {r.seq: r for r in rows}
    assert by_seq[7].operation == "disconnect" and by_seq[7].undone_by == 8
    assert by_seq[8].operation == "undo" and by_seq[8].undone_by is None
    assert by_seq[2].context == "a" and by_seq[2].user == "ann" and by_seq[2].host == "box"
    assert by_seq[1].operation == "session-start" and by_seq[1].context is None
    assert by_seq[5].scope == "user" and by_seq[4].scope == "process"
    assert by_seq[4].session is not None and by_seq[5].session is None

    assert [r.seq for r in history_rows(log.entries, {}, limit=2)] == [10, 9]
    assert [r.seq for r in history_rows(log.entries, {}, context="A")] == [5, 2]
    assert [r.seq for r in history_rows(log.entries, {}, context="a2")] == [8, 7, 5]
    since = log.entries[4][1].time
    assert [r.seq for r in history_rows(log.entries, {}, since=since)] == [10, 9, 8, 7, 6, 5]
    assert [r.seq for r in history_rows(log.entries, {}, after=8)] == [10, 9]


# ------------------------------------------------------- through the CLI (in-process)


HISTORY_FIELDS = {
    "seq",
    "time",
    "user",
    "host",
    "scope",
    "session",
    "operation",
    "context",
    "undone_by",
}


OPERATIONS = {
    "add",
    "select",
    "rename",
    "remove",
    "disconnect",
    "clear",
    "autosave",
    "undo",
    "import",
    "session-start",
    "session-end",
    "key-rotate",
}


def _every_operation(cli: AzctxCli, tmp_path: Path) -> None:
    """One of each operation kind the CLI under test can make (import is tested apart)."""
    add(cli, "a")
    add(cli, "b", "--account-type", "service-principal", "--secret-stdin", input="pw\n")
    cli("select", "a")
    cli("rename", "b", "c")
    add(cli, "d", account="other@contoso.org")
    cli("remove", "d", "--force")
    cli("disconnect", "user1@contoso.org", "--yes")
    cli("undo")
    cli("autosave", "disable")
    cli("autosave", "enable")
    session = start_session(cli)
    cli("session", "end", env={"AZCTX_SESSION": session})
    cli("clear", "--yes")
    new_key = tmp_path / "new.key"
    cli("key", "rotate", "--new-key-file", str(new_key))
    cli.env["AZCTX_KEY_FILE"] = str(new_key)


def test_history_json_has_exactly_the_spec_fields(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    _every_operation(azctx_cli, tmp_path)
    rows = azctx_cli.json("history")
    assert all(set(r) == HISTORY_FIELDS for r in rows)
    assert [r["seq"] for r in rows] == list(range(len(rows), 0, -1))  # newest first
    assert {r["operation"] for r in rows} == OPERATIONS - {"import"}
    for r in rows:
        assert UTC_Z.fullmatch(r["time"]), r
        assert datetime.fromisoformat(r["time"]).tzinfo == UTC
        assert isinstance(r["user"], str) and r["user"]
        assert isinstance(r["host"], str) and r["host"]
    times = [datetime.fromisoformat(r["time"]) for r in rows]
    assert times == sorted(times, reverse=True)
    by_op = {r["operation"]: r for r in rows}
    assert by_op["rename"]["context"] in ("b", "c")  # either name is the one acted on
    assert by_op["session-start"]["session"] is not None
    assert by_op["key-rotate"]["context"] is None
    assert by_op["disconnect"]["undone_by"] == by_op["undo"]["seq"]
    assert by_op["add"]["undone_by"] is None


def test_history_limit_context_and_since(azctx_cli: AzctxCli) -> None:
    for name in ("a", "b", "c"):
        add(azctx_cli, name)
    azctx_cli("select", "A")
    assert [r["seq"] for r in azctx_cli.json("history", "--limit", "2")] == [4, 3]
    assert [r["seq"] for r in azctx_cli.json("history", "--context", "a")] == [4, 1]
    assert [r["seq"] for r in azctx_cli.json("history", "--since", "2")] == [4, 3]
    rows = azctx_cli.json("history")
    second = rows[-2]["time"]  # operation 2
    # A time includes operations at that very moment; a number is "the state after N".
    assert [r["seq"] for r in azctx_cli.json("history", "--since", second)] == [4, 3, 2]
    assert azctx_cli.json("history", "--context", "nobody") == []

    table = azctx_cli("history").stdout.splitlines()
    assert table[0].split() == [
        "SEQ", "TIME", "USER", "HOST", "SCOPE", "OPERATION", "CONTEXT", "UNDONE", "BY",
    ]  # fmt: skip
    for line, row in zip(table[1:], rows, strict=True):
        local = datetime.fromisoformat(row["time"]).astimezone()
        assert line.split()[:3] == [
            str(row["seq"]),
            local.strftime("%Y-%m-%d"),
            local.strftime("%H:%M:%S"),
        ]
