"""``azctx clear``: the decision in the user and the process scope, and the command
with its undo and the undo of that undo.

What clear and disconnect say they removed is checked in test_disconnect.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azctx.projections import decisions as d
from command_support import add
from decision_support import Log, names

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def test_clear_user_scope_and_process_scope() -> None:
    log = Log()
    sid = log.start()
    other = log.start("s-000000000000000b")
    log.add("a", "ann@x", key="k1")
    log.add("b", "bob@x", key="k2")
    log.add("p", session=sid, scope="process")
    log.do(d.decide_clear(log.state, log.caller(sid), "process"))
    assert names(log.view(sid)) == [] and log.view(sid).default is None
    assert names(log.view(other)) == ["a", "b"]
    log.do(d.decide_clear(log.state, log.caller()))
    assert names(log.view()) == [] and log.view().default is None
    assert log.state.shredded == {"k1", "k2"}


# ------------------------------------------------------- through the CLI (in-process)


def test_clear_undo_and_undo_of_undo(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    azctx_cli("clear", "--yes")
    assert azctx_cli("list").stdout == ""
    azctx_cli("undo", "3")
    assert azctx_cli("list", "--names").stdout == "a\nb\n"
    azctx_cli("undo", "4")  # undoing the undo clears again
    assert azctx_cli("list").stdout == ""
    undone = {r["seq"]: r["undone_by"] for r in azctx_cli.json("history")}
    assert undone[3] is None and undone[4] == 5
    failed = azctx_cli("undo", "1", code=1)
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: ")
