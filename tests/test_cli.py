"""The ``azctx`` command line, in-process through typer's CliRunner: every command of
SPEC §3 (but import/export/run), its output formats, scopes and sessions (§2),
confirmations, colour-free output and shell completion.

Real ``azctx`` subprocesses are in test_cli_subprocess.py, bad input in test_cli_errors.py.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import azctx.cli.app as cli_common
import azctx.cli.asking as asking
import pytest
from azctx.store.context_store import ContextStore

if TYPE_CHECKING:
    from cli_runner import AzctxCli

CONTEXT_FIELDS = {
    "name",
    "account",
    "account_type",
    "tenant",
    "subscription",
    "subscription_name",
    "environment",
    "scope",
    "default",
    "credential",
    "protected",
}
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
UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
SESSION_LINE = re.compile(r"export AZCTX_SESSION=(\S+)")


def add(
    cli: AzctxCli, name: str, *extra: str, account: str = "user1@contoso.org", **kw: Any
) -> Any:
    return cli(
        "add",
        "--account",
        account,
        "--tenant",
        "tenant-1",
        "--subscription",
        f"sub-{name}",
        "--name",
        name,
        *extra,
        **kw,
    )


def start_session(cli: AzctxCli) -> str:
    result = cli("session", "start")
    match = SESSION_LINE.fullmatch(result.stdout.splitlines()[0])
    assert match is not None, result.stdout
    return match.group(1)


def secret_of(cli: AzctxCli, name: str) -> str | None:
    environ = {k: v for k, v in cli.env.items() if v is not None}
    with ContextStore(environ["AZCTX_STORE"], environ=environ) as store:
        return store.environment_for(name).variables.get("AZURE_CLIENT_SECRET")


# ---------------------------------------------------------------------------- basics


def test_version_help_and_bare_list(azctx_cli: AzctxCli) -> None:
    result = azctx_cli("--version")
    assert result.stdout == f"azctx {importlib.metadata.version('azctx')}\n"
    assert result.stderr == ""
    helped = azctx_cli("--help")
    assert "Usage: azctx" in helped.stdout
    assert "select" in helped.stdout
    assert azctx_cli().stdout == ""  # nothing to list yet
    add(azctx_cli, "dev")
    bare = azctx_cli()
    assert bare.stdout == azctx_cli("list").stdout
    assert "dev" in bare.stdout
    assert bare.stderr == ""


def test_add_selects_and_list_marks_the_default_in_an_aligned_table(azctx_cli: AzctxCli) -> None:
    first = add(azctx_cli, "dev", "--subscription-name", "Dev Subscription")
    assert first.stdout == "added context 'dev' (operation 1)\n"
    assert first.stderr == ""
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "Prod", *sp, account="app-id-1", input="pw\n")
    azctx_cli(
        "add",
        "--account",
        "user1@contoso.org",
        "--tenant",
        "tenant-1",
        "--subscription",
        "123456-7890-1234-564321",
        "--no-select",
    )
    assert azctx_cli("current").stdout == "Prod\n"
    assert azctx_cli("list", "--names").stdout == (
        "[user1@contoso.org; 123456-7890-1234-564321]\ndev\nProd\n"
    )

    lines = azctx_cli("list").stdout.splitlines()
    header, rows = lines[0], lines[1:]
    assert header.split() == ["NAME", "SUBSCRIPTION", "ACCOUNT"]
    assert [r[:1] for r in rows] == [" ", " ", "*"]
    assert rows[2].split()[1] == "Prod"
    assert "Dev Subscription" in rows[1]  # the subscription's name, when it has one
    for column in ("NAME", "SUBSCRIPTION", "ACCOUNT"):
        at = header.index(column)
        assert all(r[at - 1] == " " and r[at] != " " for r in rows), (column, lines)


def test_show_prints_one_context_with_the_credential_as_stored_or_none(
    azctx_cli: AzctxCli,
) -> None:
    add(azctx_cli, "dev")
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "sp", *sp, account="app-1", input="pw\n")
    shown = azctx_cli("show").stdout.splitlines()
    fields = dict(line.split(":", 1) for line in shown)
    assert {k: v.strip() for k, v in fields.items()} == {
        "Name": "sp",
        "Default": "yes",
        "Account": "app-1",
        "Account type": "service-principal",
        "Tenant": "tenant-1",
        "Subscription": "sub-sp",
        "Subscription name": "",
        "Environment": "AzureCloud",
        "Scope": "user",
        "Credential": "stored",
        "Protected": "no",
    }
    assert all(line == line.rstrip() for line in shown)
    # Names match in any case; the credential belongs to the account, not the context.
    assert "Credential:        none" in azctx_cli("show", "DEV").stdout


def test_secret_stdin_strips_one_newline_and_secret_env_reads_the_variable(
    azctx_cli: AzctxCli,
) -> None:
    sp = ("--account-type", "service-principal")
    add(azctx_cli, "crlf", *sp, "--secret-stdin", account="a1", input="p w\r\n")
    add(azctx_cli, "env", *sp, "--secret-env", "MY_SECRET", account="a3", env={"MY_SECRET": "e!"})
    assert secret_of(azctx_cli, "crlf") == "p w"
    # Only one newline is stripped: a second one is part of the secret, a control
    # character, which no stored value may hold.
    refused = azctx_cli(
        "add", "--account", "a2", "--tenant", "t", "--subscription", "s", "--name", "two",
        *sp, "--secret-stdin", input="pw\n\n", code=2,
    )  # fmt: skip
    assert refused.stderr == "error: the secret cannot contain control characters\n"
    assert secret_of(azctx_cli, "env") == "e!"


# ---------------------------------------------------------------------------- JSON


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


def test_list_and_show_json_have_exactly_the_spec_fields(azctx_cli: AzctxCli) -> None:
    assert azctx_cli.json("list") == []
    add(azctx_cli, "dev", "--subscription-name", "Dev", "--environment", "azurechinacloud")
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "sp", *sp, account="app-1", input="pw\n")
    listed = azctx_cli.json("list")
    assert [set(item) for item in listed] == [CONTEXT_FIELDS, CONTEXT_FIELDS]
    dev, sp = listed
    assert dev == {
        "name": "dev",
        "account": "user1@contoso.org",
        "account_type": "user",
        "tenant": "tenant-1",
        "subscription": "sub-dev",
        "subscription_name": "Dev",
        "environment": "AzureChinaCloud",
        "scope": "user",
        "default": False,
        "credential": "none",
        "protected": False,
    }
    assert (sp["default"], sp["credential"], sp["account_type"]) == (
        True,
        "stored",
        "service-principal",
    )
    assert azctx_cli.json("show") == sp
    assert azctx_cli.json("show", "dev") == dev
    assert azctx_cli.json("show", "dev", "--at", "1") == {**dev, "default": True}


# ---------------------------------------------------------------------------- history, --at


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


def test_at_shows_the_view_after_an_operation_or_a_time(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    azctx_cli("remove", "a")
    assert azctx_cli("list", "--names").stdout == "b\n"
    assert azctx_cli("list", "--names", "--at", "1").stdout == "a\n"
    assert azctx_cli("list", "--names", "--at", "2").stdout == "a\nb\n"
    first_time = azctx_cli.json("history")[-1]["time"]
    assert azctx_cli("list", "--names", "--at", first_time).stdout == "a\n"
    local = datetime.fromisoformat(first_time).astimezone().replace(tzinfo=None)
    at_local = local.isoformat(timespec="microseconds")
    assert azctx_cli("list", "--names", "--at", at_local).stdout == "a\n"
    assert azctx_cli("show", "a", "--at", "2").stdout.startswith("Name:              a\n")
    assert azctx_cli("show", "--at", "1").stdout.startswith("Name:              a\n")


# ---------------------------------------------------------------------------- changes


def test_select_and_select_dash_toggle(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    assert (
        azctx_cli("select", "-").stdout
        == "the saved default context (user scope) is now 'a' (operation 3)\n"
    )
    assert (
        azctx_cli("select", "-").stdout
        == "the saved default context (user scope) is now 'b' (operation 4)\n"
    )
    assert azctx_cli("current").stdout == "b\n"
    assert (
        azctx_cli("select", "A").stdout
        == "the saved default context (user scope) is now 'a' (operation 5)\n"
    )
    assert azctx_cli("current").stdout == "a\n"


def test_rename_follows_the_default_and_force_replaces(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    renamed = azctx_cli("rename", "b", "Bee")
    assert renamed.stdout == "renamed 'b' to 'Bee' (operation 3)\n"
    assert azctx_cli("current").stdout == "Bee\n"
    azctx_cli("rename", "a", "bee", "--force")
    assert azctx_cli("list", "--names").stdout == "bee\n"
    assert azctx_cli("current").stdout == "bee\n"


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
        "undid operation 5 (disconnect 'app-1'): 'a', 'b' are back (operation 6)\n"
    )
    listed = {i["name"]: i["credential"] for i in azctx_cli.json("list")}
    assert listed == {"a": "none", "b": "none", "other": "none"}
    assert secret_of(azctx_cli, "a") is None


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


def test_verify_prints_the_count_and_the_head_hash(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    add(azctx_cli, "a")
    azctx_cli("select", "a")
    seq, head = azctx_cli.head()
    full = azctx_cli("verify")
    assert full.stdout == (
        f"ok: 2 operations, chain and ciphertexts verified\nhead: {seq} {head.hex()}\n"
    )
    no_key: dict[str, str | None] = {"AZCTX_KEY_FILE": str(tmp_path / "missing.key")}
    assert azctx_cli("verify", env=no_key, code=3).stderr.startswith("error: ")
    chain = azctx_cli("verify", "--chain-only", env=no_key)
    assert chain.stdout == f"ok: 2 operations, chain verified\nhead: 2 {head.hex()}\n"


def test_key_status_and_rotate(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    add(azctx_cli, "a", "--account-type", "service-principal", "--secret-stdin", input="pw\n")
    before = azctx_cli.json("key", "status")
    assert before == {
        "source": "env-file",
        "path": azctx_cli.env["AZCTX_KEY_FILE"],
        "key_id": before["key_id"],
        "store": azctx_cli.env["AZCTX_STORE"],
    }
    assert before["key_id"] in azctx_cli("key", "status").stdout
    new_key = tmp_path / "rotated" / "new.key"
    new_key.parent.mkdir()
    rotated = azctx_cli("key", "rotate", "--new-key-file", str(new_key))
    assert str(new_key) in rotated.stdout
    assert stat.S_IMODE(new_key.stat().st_mode) == 0o600
    old = azctx_cli("list", code=3)
    assert old.stdout == "" and old.stderr.startswith("error: ")
    azctx_cli.env["AZCTX_KEY_FILE"] = str(new_key)
    after = azctx_cli.json("key", "status")
    assert after["key_id"] != before["key_id"]
    assert secret_of(azctx_cli, "a") == "pw"


def test_store_option_wins_over_the_variable_and_creates_missing_folders(
    azctx_cli: AzctxCli, tmp_path: Path
) -> None:
    other = tmp_path / "deep" / "er" / "other.db"
    azctx_cli(
        "--store", str(other), "add", "--account", "a", "--tenant", "t", "--subscription", "s"
    )
    assert azctx_cli("--store", str(other), "list", "--names").stdout == "[a; s]\n"
    assert azctx_cli("list", "--names").stdout == ""  # $AZCTX_STORE is another store
    for folder in (other.parent, other.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    url = f"sqlite:///{tmp_path / 'url.db'}"
    azctx_cli("--store", url, "add", "--account", "u", "--tenant", "t", "--subscription", "s")
    assert azctx_cli("list", "--names", env={"AZCTX_STORE": url}).stdout == "[u; s]\n"


# ---------------------------------------------------------------------------- scopes, sessions


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


def test_user_select_shadowed_by_the_session_default_says_so(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    mine: dict[str, str | None] = {"AZCTX_SESSION": start_session(azctx_cli)}
    azctx_cli("select", "b", env=mine)  # in a live session: the session's own default
    shadowed = azctx_cli("select", "a", "--scope", "user", env=mine)
    assert shadowed.stdout.startswith("the saved default context (user scope) is now 'a'")
    assert shadowed.stderr.startswith("hint: ") and "'b'" in shadowed.stderr
    assert len(shadowed.stderr.splitlines()) == 1
    assert azctx_cli("current", env=mine).stdout == "b\n"
    assert azctx_cli("current").stdout == "a\n"
    plain = azctx_cli("select", "b")  # no session: nothing shadows it
    assert plain.stderr == ""


# ---------------------------------------------------------------------------- confirmations

DESTRUCTIVE = [
    ("remove", ["remove", "b"]),
    ("rename", ["rename", "a", "b"]),
    ("disconnect", ["disconnect"]),
    ("clear", ["clear"]),
]


def _two_contexts(cli: AzctxCli) -> None:
    add(cli, "a")
    add(cli, "b")


@pytest.mark.parametrize(("label", "args"), DESTRUCTIVE, ids=[d[0] for d in DESTRUCTIVE])
def test_destructive_commands_without_a_tty_or_flag_are_refused(
    azctx_cli: AzctxCli, label: str, args: list[str]
) -> None:
    _two_contexts(azctx_cli)
    head = azctx_cli.head()
    refused = azctx_cli(*args, code=1)
    assert refused.stdout == ""
    error, hint = refused.stderr.splitlines()
    assert error.startswith("error: ")
    flag = "--yes" if label in ("disconnect", "clear") else "--force"
    assert hint == f"hint: pass {flag} to confirm"
    assert azctx_cli.head() == head


@pytest.mark.parametrize(("label", "args"), DESTRUCTIVE, ids=[d[0] for d in DESTRUCTIVE])
def test_destructive_commands_ask_on_a_tty(
    azctx_cli: AzctxCli, monkeypatch: pytest.MonkeyPatch, label: str, args: list[str]
) -> None:
    monkeypatch.setattr(asking, "stdin_is_tty", lambda: True)
    _two_contexts(azctx_cli)
    head = azctx_cli.head()
    declined = azctx_cli(*args, input="n\n", code=1)
    assert "? [y/N]" in declined.stdout
    assert declined.stderr == "error: cancelled; nothing was changed\n"
    assert azctx_cli.head() == head
    accepted = azctx_cli(*args, input="y\n")
    assert "(operation 3)" in accepted.stdout
    assert azctx_cli.head()[0] == 3
    left = {"remove": "a\n", "rename": "b\n", "disconnect": "", "clear": ""}
    assert azctx_cli("list", "--names").stdout == left[label]


def test_flags_skip_the_question(azctx_cli: AzctxCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asking, "stdin_is_tty", lambda: True)
    _two_contexts(azctx_cli)
    azctx_cli("rename", "a", "b", "--force", input="")
    azctx_cli("remove", "b", "--force", input="")
    add(azctx_cli, "c")
    azctx_cli("disconnect", "--yes", input="")
    add(azctx_cli, "d")
    azctx_cli("clear", "-y", input="")
    assert azctx_cli("list").stdout == ""


# ---------------------------------------------------------------------------- output hygiene


def test_no_colour_codes_anywhere_even_on_a_colour_terminal(azctx_cli: AzctxCli) -> None:
    colour: dict[str, str | None] = {"TERM": "xterm-256color", "NO_COLOR": "1", "COLUMNS": "20"}
    add(azctx_cli, "a-rather-long-context-name-for-a-narrow-terminal", env=colour)
    # The harness refuses any escape code in any output; a narrow terminal must not wrap.
    listed = azctx_cli("list", env=colour).stdout.splitlines()
    assert len(listed) == 2
    assert len(azctx_cli("history", env=colour).stdout.splitlines()) == 2
    for args in (["--help"], ["add", "--help"], ["show"], ["nope"], ["select", "zz"]):
        azctx_cli(*args, env=colour, code=None)
    azctx_cli("--help", env={"TERM": "xterm-256color", "NO_COLOR": None, "FORCE_COLOR": None})


def test_values_with_control_characters_are_refused_not_printed(azctx_cli: AzctxCli) -> None:
    bad = add(azctx_cli, "x", "--subscription-name", "\x1b[31mred", code=2)
    assert bad.stdout == ""
    assert azctx_cli.head() == (0, bytes(32))


# ---------------------------------------------------------------------------- completion


def test_show_completion_prints_a_bash_script(azctx_cli: AzctxCli) -> None:
    # A real process, as a user runs it: typer builds its completion option from the
    # environment it is first imported in, which in-process runs share across tests.
    done = subprocess.run(
        [sys.executable, "-m", "azctx.cli", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env={**os.environ, **{k: v for k, v in azctx_cli.env.items() if v is not None}},
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "_AZCTX_COMPLETE=complete_bash" in done.stdout
    assert "complete -o default -F _azctx_completion azctx" in done.stdout


def test_context_names_complete_from_the_store(
    azctx_cli: AzctxCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    add(azctx_cli, "Dev")
    add(azctx_cli, "prod")
    add(azctx_cli, "dev-2")
    for key, value in azctx_cli.env.items():
        if value is not None:
            monkeypatch.setenv(key, value)
    ctx = typer.Context(typer.main.get_command(cli_common.app))
    ctx.params["store"] = azctx_cli.env["AZCTX_STORE"]
    assert cli_common.complete_names(ctx, "") == ["Dev", "dev-2", "prod"]
    assert cli_common.complete_names(ctx, "DE") == ["Dev", "dev-2"]
    ctx.params["store"] = str(Path(os.devnull))  # not a store: nothing, and no error
    assert cli_common.complete_names(ctx, "") == []

    words = {"_AZCTX_COMPLETE": "complete_bash", "COMP_WORDS": "azctx select p", "COMP_CWORD": "2"}
    assert azctx_cli(env=dict(words)).stdout == "prod\n"
