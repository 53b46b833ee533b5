"""``azctx`` as a whole, and what every command does alike: the bare command,
``--version`` and ``--help``, shell completion, the ``--store`` option and where the store
lives; names that resolve or suggest (for every command that takes a NAME); the exit codes
of bad input, refusals and unusable stores or keys, in tables over every command;
confirmations of destructive commands; colour-free output; every command as a real process.

The tests of one command are in its own file beside this one (test_select.py, ...).
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import azctx.cli.app as cli_common
import azctx.cli.asking as asking
import pytest
import typer
import typer.main
from cli_runner import AzctxCli
from command_support import (
    ADD,
    ADD_T1,
    SUB_PROD,
    Run,
    _runner,
    add,
    fails,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# ------------------------------------------------------- through the CLI (in-process)


def test_version_help_and_bare_list(azctx_cli: AzctxCli) -> None:
    result = azctx_cli("--version")
    assert result.stdout == f"azctx {importlib.metadata.version('azctx')}\n"
    assert result.stderr == ""
    helped = azctx_cli("--help")
    assert "Usage: azctx" in helped.stdout
    assert "select" in helped.stdout
    empty = azctx_cli()
    assert empty.stdout == ""  # nothing to list yet, and a hint says how to begin
    assert empty.stderr.startswith("no contexts: add one with 'azctx add'")
    assert "'azctx import'" in empty.stderr
    add(azctx_cli, "dev")
    bare = azctx_cli()
    assert bare.stdout == azctx_cli("list").stdout
    assert "dev" in bare.stdout
    assert bare.stderr == ""


def test_azctx_with_only_its_own_options_lists_that_store(
    azctx_cli: AzctxCli, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    azctx_cli("--store", str(other), *ADD, "--name", "elsewhere")
    listed = azctx_cli("--store", str(other))
    assert listed.stdout == azctx_cli("--store", str(other), "list").stdout
    assert "elsewhere" in listed.stdout
    assert listed.stderr == ""
    assert azctx_cli("--store", str(other), "--version").stdout.startswith("azctx ")
    assert "No such command 'bogus'" in azctx_cli("--store", str(other), "bogus", code=2).stderr


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


# --------------------------------------------------------- names, help and completion


def test_misspelled_name_suggests_the_closest(two: AzctxCli) -> None:
    before = two.head()
    done = two("select", "prd", code=1)
    assert done.stdout == ""
    assert done.stderr == "error: no context named 'prd'\nhint: did you mean 'prod'?\n"
    assert two.head() == before
    shown = two("show", "dve", code=1)
    assert "did you mean 'dev'?" in shown.stderr


def test_unknown_name_far_from_any_points_at_list(two: AzctxCli) -> None:
    done = two("select", "zzzzzz", code=1)
    assert done.stderr == "error: no context named 'zzzzzz'\nhint: see 'azctx list'\n"


def test_ambiguous_subscription_lists_the_candidates(two: AzctxCli) -> None:
    two(
        "add", "--account", "bob@contoso.org", "--tenant", "t-1", "--subscription", SUB_PROD,
        "--subscription-name", "Contoso Prod", "--name", "prod-bob",
    )  # fmt: skip
    before = two.head()
    done = two("select", SUB_PROD, code=1)
    assert done.stderr.splitlines() == [
        f"error: '{SUB_PROD}' is the subscription of 2 contexts: 'prod', 'prod-bob'",
        "hint: name one of them",
    ]
    assert two.head() == before
    assert "2 contexts: 'prod', 'prod-bob'" in two("remove", "contoso prod", code=1).stderr


def test_a_context_name_wins_over_a_subscription_name(two: AzctxCli) -> None:
    two(
        "add", "--account", "ann@contoso.org", "--tenant", "t-1", "--subscription", "s-3",
        "--subscription-name", "dev", "--name", "other",
    )  # fmt: skip
    assert "'dev'" in two("select", "dev").stdout


def test_help_has_no_placeholders_and_every_option_a_line(azctx_cli: AzctxCli) -> None:
    import re

    commands = ["add", "list", "show", "select", "rename", "remove", "disconnect", "clear",
                "protect", "unprotect", "run", "export", "import", "history", "undo"]  # fmt: skip
    for name in commands:
        text = azctx_cli(name, "--help", env={"COLUMNS": "200"}).stdout
        assert not re.search(r"<\w+>|\{\w+", text), (name, text)
        for line in text.splitlines():
            if re.match(r"\s+(-\w, )?--[\w-]+", line):
                assert re.match(r"\s+\S.*\S\s{2,}\S", line), (name, line)  # option, then help
    top = azctx_cli("--help", env={"COLUMNS": "200"}).stdout
    assert "..." not in top.split("Commands:")[1]
    run_help = azctx_cli("run", "--help", env={"COLUMNS": "200"}).stdout
    assert "(when omitted, the default context)" in " ".join(run_help.split())


def test_bash_completion_escapes_a_bracketed_name(azctx_cli: AzctxCli) -> None:
    """Through typer's bash protocol (COMP_WORDS, COMP_CWORD, _AZCTX_COMPLETE), and
    the words it prints read back by bash itself as one word each."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    azctx_cli("add", "--account", "user1@contoso.org", "--tenant", "t", "--subscription", "s; 1")
    azctx_cli(
        "add",
        "--account",
        "ann@contoso.org",
        "--tenant",
        "t",
        "--subscription",
        "s",
        "--name",
        "dev box",
    )
    exe = str(Path(sys.executable).with_name("azctx"))
    env = {**os.environ, **{k: v for k, v in azctx_cli.env.items() if v is not None}}
    env.update(
        {"_AZCTX_COMPLETE": "complete_bash", "COMP_WORDS": "azctx select [us", "COMP_CWORD": "2"}
    )
    done = subprocess.run([exe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "\\[user1@contoso.org\\;\\ s\\;\\ 1\\]\n"
    env["COMP_WORDS"] = "azctx select "
    words = subprocess.run([exe], env=env, capture_output=True, text=True, check=True).stdout
    read_back = subprocess.run(
        ["bash", "--norc", "-c", 'eval "w=($1)"; printf "%s\\n" "${w[@]}"', "_", words],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert read_back.stdout.splitlines() == ["[user1@contoso.org; s; 1]", "dev box"]


# ------------------------------------------------------------------ as a real process


def _user_story(run: Run, tmp_path: Path) -> None:
    """add, list, show, current, select, rename, remove, undo, history, verify, --store."""
    assert run("--version").stdout.startswith("azctx ")
    sp = ("--account-type", "service-principal")
    added = run(*ADD_T1, "--account", "app-1", "--subscription", "s1", "--name", "a", *sp,
                "--secret-stdin", stdin="pw-a\n")  # fmt: skip
    assert (added.stdout, added.stderr) == (
        "added context 'a'; the default is now 'a' (operation 1)\n",
        "",
    )
    run("--store", str(tmp_path / "store" / "store.db"), *ADD_T1, "--account", "app-2",
        "--subscription", "s2", "--name", "b", *sp, "--secret-env", "B_SECRET",
        env={"B_SECRET": "pw-b", "AZCTX_STORE": str(tmp_path / "elsewhere.db")})  # fmt: skip
    run(
        *ADD_T1,
        "--account",
        "u@contoso.org",
        "--subscription",
        "s3",
        "--name",
        "c",
        "--no-select",
    )
    table = run("list").stdout.splitlines()
    assert [r.split()[0] for r in table] == ["NAME", "a", "*", "c"]
    assert run("list", "--names").stdout == "a\nb\nc\n"
    listed = json.loads(run("list", "--json", "--at", "1").stdout)
    assert [(i["name"], i["default"], i["credential"]) for i in listed] == [("a", True, "stored")]
    assert run("show").stdout.startswith("Name:              b\n")
    assert json.loads(run("show", "--json", "--at", "1").stdout)["name"] == "a"
    assert run("current").stdout == "b\n"
    run("select", "a")
    assert (
        run("select", "-").stdout
        == "the saved default context (user scope) is now 'b' (operation 5)\n"
    )
    run("rename", "c", "d")
    run("rename", "a", "d", "--force")  # replaces d
    run("remove", "d")
    run("remove", "b", "--force")  # the default
    undone = run("undo").stdout
    assert (
        undone
        == "undid operation 9 (remove 'b'): 'b' is back; the default is now 'b' (operation 10)\n"
    )
    run("undo", "10")  # undoing the undo removes b again
    rows = json.loads(run("history", "--json", "--limit", "3", "--context", "b",
                          "--since", "5").stdout)  # fmt: skip
    assert [(r["seq"], r["operation"]) for r in rows] == [(11, "undo"), (10, "undo"), (9, "remove")]
    verified = run("verify").stdout.splitlines()
    assert verified[0] == "ok: 11 operations, chain and ciphertexts verified"
    assert re.fullmatch(r"head: 11 [0-9a-f]{64}", verified[1])
    chain = run("verify", "--chain-only", env={"AZCTX_KEY_FILE": str(tmp_path / "none")})
    assert chain.stdout.splitlines() == ["ok: 11 operations, chain verified", verified[1]]


def _session_story(run: Run, tmp_path: Path) -> None:
    """autosave, session start/status/end (bash, fish, pwsh), key status/rotate,
    disconnect, clear, and history shown in local time."""
    run(*ADD_T1, "--account", "u@contoso.org", "--subscription", "s", "--name", "saved")
    run("autosave", "disable")
    assert json.loads(run("autosave", "status", "--json").stdout) == {
        "enabled": False,
        "source": "user",
    }
    line = run("session", "start", "--ttl", "1h").stdout
    match = re.match(r"export AZCTX_SESSION=(\S+)\n", line)
    assert match is not None, line
    mine = {"AZCTX_SESSION": match.group(1)}
    run(
        *ADD_T1,
        "--account",
        "u@contoso.org",
        "--subscription",
        "t",
        "--name",
        "temp",
        env=mine,
    )
    assert run("session", "status", env=mine).stdout.startswith(f"session {match.group(1)}: live")
    assert run("session", "end", env=mine).stdout.startswith("unset AZCTX_SESSION\n")
    ended = run("list", env=mine)
    assert ended.stdout == ""  # autosave is off and the session is gone
    assert ended.stderr.startswith(f"warning: session {match.group(1)} is ended")
    fish = run("session", "start", "--shell", "fish").stdout
    assert re.match(r"set -gx AZCTX_SESSION \S+\n", fish)
    pwsh = run("session", "start", "--shell", "pwsh").stdout
    assert re.match(r"\$env:AZCTX_SESSION = '\S+'\n", pwsh)
    run("autosave", "enable")
    assert run("autosave", "status").stdout == "autosave on (from user)\n"

    assert run("key", "status").stdout.startswith("master key ")
    new_key = tmp_path / "rotated.key"
    run("key", "rotate", "--new-key-file", str(new_key))
    rotated = {"AZCTX_KEY_FILE": str(new_key), "TZ": "Asia/Kolkata"}
    run("disconnect", "--yes", env=rotated)
    run("clear", "--yes", env=rotated)

    # The human history is in local time: a zone far from UTC shows the difference.
    table = run("history", env=rotated).stdout.splitlines()
    rows = json.loads(run("history", "--json", env=rotated).stdout)
    assert [r["operation"] for r in rows[:3]] == ["clear", "disconnect", "key-rotate"]
    ist = timezone(timedelta(hours=5, minutes=30))
    for text, row in zip(table[1:], rows, strict=True):
        local = datetime.fromisoformat(row["time"]).astimezone(ist)
        assert text.split()[1:3] == [local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")]


def test_every_command_as_a_real_process(azctx_env: dict[str, str], tmp_path: Path) -> None:
    """Two independent stores, one story each, run side by side to halve the wait."""
    stories = [(_user_story, tmp_path / "user"), (_session_story, tmp_path / "session")]
    with ThreadPoolExecutor(max_workers=len(stories)) as pool:
        futures = [
            pool.submit(story, _runner(_env_in(folder)), folder) for story, folder in stories
        ]
        for future in futures:
            future.result()


def _env_in(folder: Path) -> dict[str, str]:
    return {
        "AZCTX_STORE": str(folder / "store" / "store.db"),
        "AZCTX_KEY_FILE": str(folder / "keys" / "master.key"),
        "AZCTX_DATA_DIR": str(folder / "data"),
        "AZCTX_CONFIG_DIR": str(folder / "config"),
    }


# --------------------------------------------------------------- bad input and errors


LONG = "x" * 10_000
CONTROL = ("a\x07b", "two\nlines", "\x1b[2Jclear", "tab\there", "nul\x00")


#: Names no person can tell from others (bidi and zero-width characters), '-' (which
#: `select -` reads as "go back") and bytes that are not UTF-8 (as Python hands them on).
INVISIBLE = ("pay\u202eroll", "zero\u200bwidth", "soft\u00adhyphen", "-", "\udcff\udcfe")
NAMES = ["", LONG, *CONTROL, *INVISIBLE]


#: Other text values (accounts, tenants, ...) may hold any visible text.
TEXTS = ["", LONG, *CONTROL, "\udcff\udcfe"]


BAD_INPUT: list[tuple[str, ...]] = [
    *[("select", n) for n in NAMES if n != "-"],
    *[("show", n) for n in NAMES],
    *[("remove", n, "--force") for n in NAMES],
    *[("rename", n, "x") for n in NAMES],
    *[("rename", "dev", n) for n in NAMES],
    *[("history", "--context", n) for n in NAMES],
    *[("disconnect", a, "--yes") for a in TEXTS],
    *[(*ADD, "--name", n) for n in NAMES],
    *[(*ADD[:1], *ADD[3:], "--account", v) for v in TEXTS],
    *[(*ADD[:3], *ADD[5:], "--tenant", v) for v in TEXTS],
    *[(*ADD[:5], "--subscription", v) for v in TEXTS],
    *[(*ADD, "--subscription-name", v) for v in TEXTS],
    *[(*ADD, "--environment", v) for v in [*TEXTS, "Mars"]],
    (*ADD, "--account-type", "robot"),
    (*ADD, "--account-type", ""),
    (*ADD, "--certificate", ""),
    (*ADD, "--certificate", "/no/such/cert.pem"),
    (*ADD, "--secret-env", ""),
    (*ADD, "--secret-env", "AZCTX_TEST_UNSET_VARIABLE"),
    (*ADD, "--secret-stdin", "--secret-env", "HOME"),
    *[(cmd, *rest, "--at", w) for cmd, *rest in (("list",), ("show", "dev"))
      for w in ["", LONG, *CONTROL, "bogus", "0", "999", "-1", "1.5", "2026-13-45", "T"]],
    *[("history", "--since", w) for w in ["", LONG, "bogus", "999", "2026-02-30"]],
    *[("history", "--limit", n) for n in ["", "0", "-1", "x", LONG]],
    *[("undo", s) for s in ["", "0", "-1", "x", "9" * 10_000]],
    *[(*cmd, "--scope", s) for cmd in (("select", "dev"), ("remove", "dev"), ("clear", "--yes"),
      ("autosave", "enable"), ("disconnect", "--yes"), tuple(ADD)) for s in ["", "bad", "USER"]],
    *[("session", "start", "--ttl", t) for t in ["", "0m", "bogus", "400d", "-5m", LONG]],
    ("session", "start", "--shell", "tcsh"),
    ("key", "rotate", "--new-key-file", ""),
    ("--store", "", "list"),
    ("frob",),
    ("--frob", "list"),
    ("list", "--frob"),
    ("autosave", "maybe"),
    ("session", "restart"),
    ("key", "forget"),
    ("select",),
    ("rename", "dev"),
]  # fmt: skip


def _case_id(args: tuple[str, ...]) -> str:
    shown = " ".join(a if len(a) < 20 else f"<{len(a)} chars>" for a in args)
    return shown.encode("unicode_escape").decode()


@pytest.mark.parametrize("args", BAD_INPUT, ids=_case_id)
def test_bad_input_exits_2(seeded: AzctxCli, args: tuple[str, ...]) -> None:
    fails(seeded, 2, *args, input="")


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--at", "0001-01-01"),
        ("list", "--at", "9999-12-31T23:59:59"),
        ("history", "--since", "0001-01-01"),
        ("history", "--since", "9999-12-31"),
    ],
    ids=_case_id,
)
def test_the_ends_of_the_calendar_are_times_like_any_other(
    seeded: AzctxCli, args: tuple[str, ...]
) -> None:
    result = seeded(*args)
    assert result.stderr == ""


REFUSED: list[tuple[str, ...]] = [
    ("select", "nope"),
    ("show", "nope"),
    ("remove", "nope", "--force"),
    ("rename", "nope", "x"),
    ("rename", "dev", "prod"),  # taken, and no TTY to ask
    ("remove", "prod"),  # the default, and no TTY to ask
    ("disconnect",),
    ("clear",),
    ("disconnect", "nobody@contoso.org", "--yes"),
    (*ADD, "--name", "DEV"),  # the name is taken (in any case)
    ("undo", "999"),
    ("session", "end"),
    ("select", "dev", "--scope", "process"),  # no session
]


@pytest.mark.parametrize("args", REFUSED, ids=lambda a: " ".join(a))
def test_refusals_exit_1(seeded: AzctxCli, args: tuple[str, ...]) -> None:
    fails(seeded, 1, *args, input="")


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.text(min_size=257, max_size=400),
        st.builds(
            lambda a, c, b: a + c + b,
            st.text(max_size=20),
            st.characters(categories=["Cc"]),
            st.text(max_size=20),
        ),
    )
)
def test_any_invalid_name_is_bad_input(seeded: AzctxCli, name: str) -> None:
    fails(seeded, 2, "select", name)


KEY_16 = base64.b64encode(bytes(16)).decode()
KEY_WRONG = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("env", "code"),
    [
        ({"AZCTX_AUTOSAVE": "maybe"}, 2),
        ({"AZCTX_AUTOSAVE": ""}, 2),
        ({"AZCTX_AUTOSAVE": "1"}, 2),
        ({"AZCTX_LOCK_TIMEOUT": "soon"}, 2),
        ({"AZCTX_LOCK_TIMEOUT": "-1"}, 2),
        ({"AZCTX_LOCK_TIMEOUT": "nan"}, 2),
        ({"AZCTX_KEY": "not base64!"}, 3),
        ({"AZCTX_KEY": KEY_16}, 3),
        ({"AZCTX_KEY": KEY_WRONG}, 3),
        ({"AZCTX_KEY_FILE": "/nonexistent/master.key"}, 3),
    ],
    ids=lambda v: str(v),
)
@pytest.mark.parametrize("command", [("list",), ("current",), ("select", "dev")])
def test_bad_environment(
    seeded: AzctxCli, env: dict[str, str | None], code: int, command: tuple[str, ...]
) -> None:
    line = fails(seeded, code, *command, env=env)
    assert next(iter(env)) in line or "key" in line


def test_a_store_path_that_is_a_directory_exits_3(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = azctx_cli("--store", str(folder), "list", code=3)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) <= 2
    assert list(folder.iterdir()) == []


def test_a_file_that_is_not_a_store_exits_3(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    result = azctx_cli("--store", str(junk), "add", *ADD[1:], code=3)
    assert result.stderr.startswith("error: ")
    assert junk.read_bytes() == b"this is not a database" * 100


def test_missing_store_and_key_folders_are_created_private(
    azctx_cli: AzctxCli, azctx_env: dict[str, str]
) -> None:
    store, key = Path(azctx_env["AZCTX_STORE"]), Path(azctx_env["AZCTX_KEY_FILE"])
    assert not store.parent.exists() and not key.parent.exists()
    azctx_cli(*ADD)
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_default_store_lives_in_the_data_dir(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    data, config = tmp_path / "d" / "azctx", tmp_path / "c" / "azctx"
    env: dict[str, str | None] = {
        "AZCTX_STORE": None,
        "AZCTX_KEY_FILE": None,
        "AZCTX_DATA_DIR": str(data),
        "AZCTX_CONFIG_DIR": str(config),
    }
    azctx_cli(*ADD, env=env)
    assert (data / "store.db").is_file() and (config / "master.key").is_file()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_locked_store_exits_3_after_the_timeout(existing: AzctxCli) -> None:
    holder = sqlite3.connect(str(existing.env["AZCTX_STORE"]), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        before = existing.head()
        result = existing("select", "dev", env={"AZCTX_LOCK_TIMEOUT": "0.2"}, code=3)
        waited = time.monotonic() - started
        assert result.stdout == ""
        error, *hint = result.stderr.splitlines()
        assert error.startswith("error: ") and "locked" in error
        assert len(hint) <= 1
        assert 0.2 <= waited < 10
        # Reads do not need the write lock.
        assert existing("list", "--names", env={"AZCTX_LOCK_TIMEOUT": "0.2"}).stdout == "dev\n"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert existing.head() == before
    existing("select", "dev")


def test_a_key_file_with_loose_permissions_exits_3(existing: AzctxCli) -> None:
    key = Path(str(existing.env["AZCTX_KEY_FILE"]))
    key.chmod(0o644)
    line = fails(existing, 3, "list")
    assert str(key) in line or "permission" in line


def test_an_unreadable_key_file_exits_3(existing: AzctxCli, tmp_path: Path) -> None:
    key = Path(str(existing.env["AZCTX_KEY_FILE"]))
    as_folder = tmp_path / "key-is-a-folder"
    as_folder.mkdir(mode=0o700)
    # A variable naming a folder is bad input (exit 2), not an unreadable key.
    fails(existing, 2, "list", env={"AZCTX_KEY_FILE": str(as_folder)})
    if os.geteuid() != 0:  # root reads any file whatever its mode
        key.chmod(0o000)
        try:
            fails(existing, 3, "list")
        finally:
            key.chmod(0o600)


def test_a_key_file_with_garbage_exits_3(existing: AzctxCli, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")
    garbage.chmod(0o600)
    fails(existing, 3, "list", env={"AZCTX_KEY_FILE": str(garbage)})
    fails(existing, 3, "select", "dev", env={"AZCTX_KEY_FILE": str(garbage)})


# ------------------------------------------- a refused first command makes no store

REFUSED_FIRST = [
    ("select", "prod"),
    ("remove", "prod"),
    ("rename", "prod", "dev"),
    ("protect", "prod"),
    ("disconnect", "prod"),
    ("undo",),
    ("select", "-"),
]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("args", REFUSED_FIRST, ids=" ".join)
def test_a_refused_first_command_creates_no_store_and_no_key(
    args: tuple[str, ...], azctx_env: dict[str, str], tmp_path: Path
) -> None:
    before = _files(tmp_path)
    done = _runner(azctx_env)(*args, code=1)
    assert done.stdout == ""
    assert done.stderr.startswith("error: ")
    assert _files(tmp_path) == before
    assert not Path(azctx_env["AZCTX_STORE"]).exists()
    assert not Path(azctx_env["AZCTX_KEY_FILE"]).exists()


def test_the_first_command_that_is_not_refused_makes_the_store(
    azctx_env: dict[str, str],
) -> None:
    run = _runner(azctx_env)
    run("remove", "prod", code=1)
    run("add", "--account", "a@contoso.org", "--tenant", "t", code=2)  # --subscription is required
    assert not Path(azctx_env["AZCTX_STORE"]).exists()
    run("add", "--account", "a@contoso.org", "--tenant", "t", "--subscription", "s", code=0)
    assert Path(azctx_env["AZCTX_STORE"]).is_file()
    assert Path(azctx_env["AZCTX_KEY_FILE"]).is_file()


# ------------------------------------------ the typer app builds only the command it runs


def _built(typer_app: typer.Typer) -> set[str]:
    return set(typer.main.get_command(typer_app).commands)  # type: ignore[attr-defined]


def test_the_app_for_a_command_holds_that_command_alone() -> None:
    from azctx.cli.commands import app, app_for

    everything = _built(app)
    for name in everything:
        assert _built(app_for([name, "x"])) == {name}
    assert _built(app_for(["--store", "s.db", "session", "start"])) == {"session"}
    assert _built(app_for(["--store=s.db", "rename", "a", "b"])) == {"rename"}
    assert _built(app) == everything  # the whole app is left as it was


@pytest.mark.parametrize(
    "argv", [[], ["--help"], ["--version"], ["bogus"], ["--store"], ["--store", "s.db"]]
)
def test_help_options_and_unknown_words_get_the_whole_app(argv: list[str]) -> None:
    from azctx.cli.commands import app, app_for

    assert app_for(argv) is app


def test_completion_gets_the_whole_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from azctx.cli.commands import app, app_for

    monkeypatch.setenv("_AZCTX_COMPLETE", "complete_bash")
    assert app_for(["show", "x"]) is app
