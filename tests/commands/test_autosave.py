"""``azctx autosave enable|disable|status``: where the setting comes from, its default
scope, and autosave off without a session (nothing shown, changes refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from azctx.events import (
    BadInput,
    Refused,
)
from azctx.projections import decisions as d
from azctx.projections.view import autosave
from command_support import add, start_session
from decision_support import Log

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def test_autosave_comes_from_env_then_own_session_then_user_then_default() -> None:
    log = Log()
    sid = log.start()
    assert autosave(log.state, log.caller()) == (True, "default")
    log.do(d.decide_autosave(log.state, log.caller(), False))
    assert autosave(log.state, log.caller(sid)) == (False, "user")
    log.do(d.decide_autosave(log.state, log.caller(sid), True, "process"))
    assert autosave(log.state, log.caller(sid)) == (True, "process")
    assert autosave(log.state, log.caller()) == (False, "user")
    assert autosave(log.state, log.caller(sid, env=False)) == (False, "env")


def test_autosave_enable_disable_defaults_to_the_user_scope() -> None:
    log = Log()
    sid = log.start()
    decision = d.decide_autosave(log.state, log.caller(sid, env=False), False)
    assert decision.event.scope == "user"
    assert d.decide_autosave(log.state, log.caller(sid), False, "process").event.session == sid
    with pytest.raises(Refused):
        d.decide_autosave(log.state, log.caller(), False, "process")
    with pytest.raises(BadInput):
        d.decide_autosave(log.state, log.caller(), False, "global")


# ------------------------------------------------------- through the CLI (in-process)


def test_autosave_commands_report_the_value_and_its_source(azctx_cli: AzctxCli) -> None:
    assert azctx_cli("autosave", "status").stdout == "autosave on (from default)\n"
    azctx_cli("autosave", "disable")
    assert azctx_cli.json("autosave", "status") == {"enabled": False, "source": "user"}
    env: dict[str, str | None] = {"AZCTX_AUTOSAVE": "TRUE"}
    assert azctx_cli.json("autosave", "status", env=env) == {"enabled": True, "source": "env"}
    session = start_session(azctx_cli)
    in_session: dict[str, str | None] = {"AZCTX_SESSION": session}
    azctx_cli("autosave", "enable", "--scope", "process", env=in_session)
    mine = azctx_cli.json("autosave", "status", env=in_session)
    assert mine == {"enabled": True, "source": "process"}
    assert azctx_cli.json("autosave", "status")["enabled"] is False
    azctx_cli("autosave", "enable")
    assert azctx_cli("autosave", "status").stdout == "autosave on (from user)\n"


def test_autosave_off_without_a_session_hides_everything_and_refuses_changes(
    azctx_cli: AzctxCli,
) -> None:
    add(azctx_cli, "saved")
    off: dict[str, str | None] = {"AZCTX_AUTOSAVE": "false"}
    listed = azctx_cli("list", env=off)
    assert (listed.stdout, listed.stderr) == ("", "")
    current = azctx_cli("current", env=off, code=1)
    assert (current.stdout, current.stderr) == ("", "")
    head = azctx_cli.head()
    refused = add(azctx_cli, "x", env=off, code=1)
    assert refused.stdout == ""
    error, hint = refused.stderr.splitlines()
    assert error.startswith("error: ")
    assert hint.startswith("hint: ") and 'eval "$(azctx session start)"' in hint
    assert azctx_cli.head() == head
    assert azctx_cli("list", "--names").stdout == "saved\n"  # hidden, not deleted
