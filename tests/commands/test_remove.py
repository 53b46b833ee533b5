"""``azctx remove``: the decision (the default needs ``--force`` and falls back to an
earlier default; unknown names) and the command, which names the new default.

Removing by subscription id is checked with show's in test_show.py; removing a shell's
own default in tests/shell/test_shell_session.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from azctx.events import (
    ConfirmationNeeded,
    Refused,
)
from azctx.projections import decisions as d
from command_support import add, fails, start_session
from decision_support import Log

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def test_removing_the_default_needs_force_then_falls_back_to_an_earlier_default() -> None:
    log = Log()
    log.add("a")
    log.add("b")
    log.add("c")
    log.do(d.decide_remove(log.state, log.caller(), "b"))
    with pytest.raises(ConfirmationNeeded) as err:
        d.decide_remove(log.state, log.caller(), "c")
    assert err.value.hint is not None and "--force" in err.value.hint
    log.do(d.decide_remove(log.state, log.caller(), "C", force=True))
    assert log.view().default == "a"  # b was removed, a is the latest earlier that exists
    log.do(d.decide_remove(log.state, log.caller(), "a", force=True))
    assert log.view().default is None


def test_remove_unknown_is_refused() -> None:
    log = Log()
    with pytest.raises(Refused, match="no context named"):
        d.decide_remove(log.state, log.caller(), "ghost")


# ------------------------------------------------------- through the CLI (in-process)


def test_remove_of_the_default_falls_back_to_an_earlier_default(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    add(azctx_cli, "c", "--no-select")
    azctx_cli("remove", "c")  # not the default: no confirmation needed
    azctx_cli("remove", "b", "--force")
    assert azctx_cli("current").stdout == "a\n"
    azctx_cli("remove", "a", "--force")
    assert azctx_cli("current", code=1).stdout == ""
    assert azctx_cli("list").stdout == ""


# ------------------------------------------------------- through the CLI (in-process)


def test_removing_the_default_names_the_new_default(two: AzctxCli) -> None:
    two("select", "prod")
    two("select", "dev")
    done = two("remove", "dev", "--force")
    assert done.stdout == "removed context 'dev'; the default is now 'prod' (operation 5)\n"
    last = two("remove", "prod", "--force")
    assert last.stdout == "removed context 'prod'; the default is none now (operation 6)\n"


def test_the_question_names_the_default_the_shell_sees_or_the_saved_one(two: AzctxCli) -> None:
    session = start_session(two)
    shell: dict[str, str | None] = {"AZCTX_SESSION": session}
    two("select", "prod", env=shell)  # this shell's own default; the saved one stays 'dev'
    saved = fails(two, 1, "remove", "dev", env=shell)
    assert saved == "error: 'dev' is the saved default context (user scope)"
    own = fails(two, 1, "remove", "prod", env=shell)
    assert own == "error: 'prod' is this shell's default context"
    outside = fails(two, 1, "remove", "dev")
    assert outside == "error: 'dev' is the default context"
