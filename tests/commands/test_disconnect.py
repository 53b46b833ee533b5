"""``azctx disconnect``: the decision (every context of the account goes and its key
is shredded; the default's account without a name; inside a session) and the command,
whose undo brings the contexts back without the credential.

The shredded secret's unrecoverability on the raw rows is in
tests/store/test_context_store.py and tests/adversarial/test_adversarial_leaks.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from azctx.events import (
    Disconnected,
    Refused,
)
from azctx.projections import decisions as d
from command_support import add, secret_of
from decision_support import Log, names

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def test_disconnect_removes_every_context_of_the_account_and_shreds_its_key() -> None:
    log = Log()
    log.add("a1", "ann@x", key="k-ann")
    log.add("a2", "ANN@x", subscription="sub-2")
    log.add("b", "bob@x", key="k-bob")
    decision = d.decide_disconnect(log.state, log.caller(), "ann@x")
    assert decision.event.shredded == ("k-ann",)
    log.do(decision)
    assert names(log.view()) == ["b"]
    assert "k-ann" in log.state.shredded and "ann@x" not in log.state.user.credentials
    with pytest.raises(Refused):
        d.decide_disconnect(log.state, log.caller(), "ann@x")


def test_disconnect_without_account_takes_the_default_contexts_account() -> None:
    log = Log()
    log.add("a", "ann@x")
    log.add("b", "bob@x", key="k-bob")
    decision = d.decide_disconnect(log.state, log.caller())
    assert isinstance(decision.event.op, Disconnected) and decision.event.op.account == "bob@x"
    log.do(decision)
    assert log.view().default == "a"  # the default went back to the earlier one
    log.do(d.decide_remove(log.state, log.caller(), "a", force=True))
    with pytest.raises(Refused, match="no default"):
        d.decide_disconnect(log.state, log.caller())


def test_disconnect_in_a_session_hides_the_accounts_user_contexts_there() -> None:
    log = Log()
    sid = log.start()
    log.add("saved", "ann@x", key="k-user")
    log.add("mine", "ann@x", session=sid, scope="process", key="k-sess")
    log.do(d.decide_disconnect(log.state, log.caller(sid), "ann@x", scope="process"))
    assert names(log.view(sid)) == []
    assert names(log.view()) == ["saved"]
    assert log.state.shredded == {"k-sess"}


# ------------------------------------------------------- through the CLI (in-process)


def test_disconnect_destroys_the_credential_and_undo_brings_contexts_back_without_it(
    azctx_cli: AzctxCli,
) -> None:
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "a", *sp, account="app-1", input="pw\n")
    add(azctx_cli, "b", account="app-1")
    add(azctx_cli, "other", account="someone@contoso.org")
    azctx_cli("select", "a")
    assert azctx_cli("disconnect", "--yes").stderr == ""  # the default's account
    assert azctx_cli("list", "--names").stdout == "other\n"
    assert azctx_cli("undo").stdout == (
        "undid operation 5 (disconnect 'app-1'): 'a', 'b' are back; the default is now 'a'"
        " (operation 6)\n"
    )
    listed = {i["name"]: i["credential"] for i in azctx_cli.json("list")}
    assert listed == {"a": "none", "b": "none", "other": "none"}
    assert secret_of(azctx_cli, "a") is None


# ------------------------------------------------------- through the CLI (in-process)


def test_disconnect_and_clear_name_what_goes(two: AzctxCli) -> None:
    refused = two("disconnect", "ann@contoso.org", code=1)
    assert refused.stderr == (
        "error: disconnecting 'ann@contoso.org' removes 2 context(s) and its credential\n"
        "hint: pass --yes to confirm\n"
    )
    done = two("disconnect", "ann@contoso.org", "--yes")
    assert done.stdout.startswith("disconnected 'ann@contoso.org': 2 context(s) removed")
    assert "the default is none now" in done.stdout
    two("undo")
    cleared = two("clear", code=1)
    assert cleared.stderr.startswith("error: clearing the user scope removes 2 context(s)")
    assert two("clear", "--yes").stdout.startswith(
        "cleared the user scope: 2 context(s) and 0 credential(s) removed"
    )
