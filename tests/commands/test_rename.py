"""``azctx rename``: the decision (the default and its history follow, ``--force``
onto a taken name, a change of case, a session's process scope) and the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from azctx.events import (
    BadInput,
    ConfirmationNeeded,
    Refused,
)
from azctx.projections import decisions as d
from command_support import add
from decision_support import Log, names

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def test_rename_the_default_follows_and_history_follows_too() -> None:
    log = Log()
    log.add("old")
    log.add("other")
    log.do(d.decide_select(log.state, log.caller(), "old"))
    log.do(d.decide_rename(log.state, log.caller(), "OLD", "new"))
    assert names(log.view()) == ["new", "other"]
    assert log.view().default == "new"
    log.do(d.decide_select(log.state, log.caller(), "other"))
    log.do(d.decide_select_previous(log.state, log.caller()))
    assert log.view().default == "new"


def test_rename_onto_an_existing_name_needs_force_and_replaces_it() -> None:
    log = Log()
    log.add("a", "acct-a")
    log.add("b", "acct-b")
    with pytest.raises(ConfirmationNeeded) as err:
        d.decide_rename(log.state, log.caller(), "a", "B")
    assert err.value.hint == "--force replaces it"
    log.do(d.decide_rename(log.state, log.caller(), "a", "B", force=True))
    shown = log.view()
    assert names(shown) == ["B"]
    item = shown.get("b")
    assert item is not None and item.context.account == "acct-a" and shown.default == "B"


def test_rename_only_the_case_and_unknown_or_invalid_names() -> None:
    log = Log()
    log.add("prod")
    log.do(d.decide_rename(log.state, log.caller(), "prod", "Prod"))
    assert names(log.view()) == ["Prod"] and log.view().default == "Prod"
    with pytest.raises(Refused):
        d.decide_rename(log.state, log.caller(), "nope", "x")
    with pytest.raises(BadInput):
        d.decide_rename(log.state, log.caller(), "Prod", "")


def test_a_session_cannot_rename_a_user_context_in_its_process_scope() -> None:
    log = Log()
    sid = log.start()
    log.add("saved")
    with pytest.raises(Refused) as err:
        d.decide_rename(log.state, log.caller(sid), "saved", "x", scope="process")
    assert err.value.hint is not None and "--scope user" in err.value.hint


# ------------------------------------------------------- through the CLI (in-process)


def test_rename_follows_the_default_and_force_replaces(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    renamed = azctx_cli("rename", "b", "Bee")
    assert renamed.stdout == "renamed 'b' to 'Bee' (operation 3)\n"
    assert azctx_cli("current").stdout == "Bee\n"
    azctx_cli("rename", "a", "bee", "--force")
    assert azctx_cli("list", "--names").stdout == "bee\n"
    assert azctx_cli("current").stdout == "bee\n"


# ------------------------------------------------------- through the CLI (in-process)


def test_rename_by_subscription_name(two: AzctxCli) -> None:
    done = two("rename", "Contoso Prod", "production")
    assert "renamed 'prod' to 'production'" in done.stdout
