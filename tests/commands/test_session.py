"""``azctx session start|end|status|list``: the session's status and the start and
end decisions, then the commands: the shell lines they print, a session's own process
scope, and an ended or unknown session (warned on reads, refused changes).

Sessions in real shells are in tests/shell/; ``--scope process`` as a mechanism of every
operation in tests/projections/test_projections.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from azctx.events import (
    BadInput,
    Refused,
)
from azctx.projections import decisions as d
from azctx.projections.view import Caller, session_status
from cli_runner import AzctxCli
from command_support import SESSION_LINE, UTC_Z, add, fails, start_session
from decision_support import ACTOR, T0, Log

# ---------------------------------------------------------------- the decision (pure)


def test_session_status_none_live_ended_unknown_expired() -> None:
    log = Log()
    sid = log.start("s-000000000000000c", hours=1)
    other = log.start("s-000000000000000d")
    assert session_status(log.state, log.caller()) == "none"
    assert session_status(log.state, log.caller(sid)) == "live"
    assert session_status(log.state, log.caller("s-zzz")) == "unknown"
    later = Caller(actor=ACTOR, time=T0 + timedelta(hours=2), session=sid)
    assert session_status(log.state, later) == "expired"
    log.do(d.decide_session_end(log.state, log.caller(other), session_id=other))
    assert session_status(log.state, log.caller(other)) == "ended"


def test_session_start_and_end_decisions() -> None:
    log = Log()
    with pytest.raises(BadInput):
        d.decide_session_start(
            log.state, log.caller(), session_id="bad", expires=T0 + timedelta(hours=1)
        )
    sid = log.start("s-000000000000000e")
    with pytest.raises(Refused):
        d.decide_session_start(
            log.state, log.caller(), session_id=sid, expires=T0 + timedelta(hours=1)
        )
    assert log.state.sessions[sid].actor == ACTOR and not log.state.sessions[sid].ended
    log.do(d.decide_session_end(log.state, log.caller(sid), session_id=sid, reason="ended"))
    assert log.state.sessions[sid].ended
    with pytest.raises(Refused):
        d.decide_session_end(log.state, log.caller(sid), session_id=sid)
    with pytest.raises(Refused):
        d.decide_session_end(log.state, log.caller(), session_id="s-nope")


# ------------------------------------------------------- through the CLI (in-process)


def test_a_session_has_its_own_process_scope(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "saved")
    started = azctx_cli("session", "start", "--ttl", "30m")
    assert started.stderr.startswith("azctx: session ")
    session = SESSION_LINE.fullmatch(started.stdout.splitlines()[0])
    assert session is not None
    mine: dict[str, str | None] = {"AZCTX_SESSION": session.group(1), "AZCTX_AUTOSAVE": "false"}
    assert azctx_cli("list", env=mine).stdout == ""
    add(azctx_cli, "temp", env=mine)
    listed = azctx_cli.json("list", env=mine)
    assert [(i["name"], i["scope"], i["default"]) for i in listed] == [("temp", "process", True)]
    assert azctx_cli("list", "--names").stdout == "saved\n"  # other shells do not see it
    status = azctx_cli.json("session", "status", env=mine)
    assert (status["session"], status["state"]) == (session.group(1), "live")
    assert UTC_Z.fullmatch(status["expires"])
    assert azctx_cli("session", "status", env=mine).stdout.startswith(
        f"session {session.group(1)}: live"
    )
    history = azctx_cli.json("history", "--limit", "1")
    assert (history[0]["scope"], history[0]["session"]) == ("process", session.group(1))


@pytest.mark.parametrize(
    ("shell", "start", "end"),
    [
        ("bash", "export AZCTX_SESSION={}", "unset AZCTX_SESSION"),
        ("fish", "set -gx AZCTX_SESSION '{}'", "set -e AZCTX_SESSION"),
        (
            "pwsh",
            "$env:AZCTX_SESSION = '{}'",
            "Remove-Item Env:AZCTX_SESSION -ErrorAction SilentlyContinue",
        ),
    ],
)
def test_session_start_and_end_print_shell_lines(
    azctx_cli: AzctxCli, shell: str, start: str, end: str
) -> None:
    started = azctx_cli("session", "start", "--shell", shell)
    pattern = re.escape(start).replace(r"\{\}", r"([A-Za-z0-9_-]+)")
    # and the session's AZURE_CONFIG_DIR, and its folder for the prompt segment
    first, folder, own = started.stdout.splitlines()
    match = re.fullmatch(pattern, first)
    assert match is not None, started.stdout
    assert folder.startswith(("export AZURE_CONFIG_DIR=", "set -gx AZURE_CONFIG_DIR ", "$env:AZ"))
    assert "AZCTX_SESSION_DIR" in own
    sid = match.group(1)
    ended = azctx_cli("session", "end", "--shell", shell, env={"AZCTX_SESSION": sid})
    assert ended.stdout.splitlines()[0] == end
    assert "AZCTX_SESSION_DIR" in ended.stdout.splitlines()[-1]
    assert "ended" in ended.stderr


def test_an_ended_session_warns_on_reads_and_refuses_process_changes(
    azctx_cli: AzctxCli,
) -> None:
    add(azctx_cli, "saved")
    sid = start_session(azctx_cli)
    mine: dict[str, str | None] = {"AZCTX_SESSION": sid}
    add(azctx_cli, "temp", "--scope", "process", env=mine)
    azctx_cli("session", "end", env=mine)
    listed = azctx_cli("list", "--names", env=mine)
    assert listed.stdout == "saved\n"
    assert listed.stderr == f"warning: session {sid} is ended; showing the view without it\n"
    status = azctx_cli("session", "status", env=mine, code=1)
    assert status.stdout == f"session {sid}: ended\n"
    head = azctx_cli.head()
    refused = azctx_cli("select", "saved", "--scope", "process", env=mine, code=1)
    lines = refused.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert azctx_cli.head() == head
    unknown = azctx_cli("current", env={"AZCTX_SESSION": "s-00000000deadbeef"})
    assert unknown.stdout == "saved\n"
    assert unknown.stderr.startswith("warning: session s-00000000deadbeef is unknown")


# --------------------------------------------------------------- bad input and errors


def test_an_unknown_session_warns_on_reads_and_refuses_process_changes(seeded: AzctxCli) -> None:
    env: dict[str, str | None] = {"AZCTX_SESSION": "s-0000000000000000"}
    read = seeded("list", "--names", env=env)
    assert read.stdout == "dev\nprod\n"
    assert read.stderr == (
        "warning: session s-0000000000000000 is unknown; showing the view without it\n"
    )
    fails(seeded, 1, "select", "dev", "--scope", "process", env=env)
