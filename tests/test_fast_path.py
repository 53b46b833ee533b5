"""The fast path (cli/fast.py) gives exactly what the typer app gives: the same stdout,
stderr and exit code for ``current``, ``list`` and ``select NAME`` on the same store
(for ``select``, on two copies of it, which end up holding the same events), errors
included, and it declines every command line it cannot run exactly as the typer app
would."""

from __future__ import annotations

import base64
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import typer.testing
from azctx.cli import fast
from azctx.store.context_store import ContextStore

if TYPE_CHECKING:
    from conftest import AzctxCli

READS = [
    ("current",),
    ("list",),
    ("list", "--json"),
    ("list", "--names"),
    ("list", "--json", "--names"),
    ("list", "--names", "--json"),
]


def fast_run(args: tuple[str, ...], env: dict[str, str | None]) -> tuple[int, str, str]:
    """``args`` through the fast path, in-process, captured like CliRunner captures."""
    runner = typer.testing.CliRunner()
    with runner.isolation(env=env) as streams:
        try:
            fast.main(list(args))
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        else:
            raise AssertionError(f"the fast path declined {args!r}")
        sys.stdout.flush()  # as the interpreter does at exit
        sys.stderr.flush()
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return code, out.decode(), err.decode()


def typer_run(cli: AzctxCli, args: tuple[str, ...], env: dict[str, str | None]) -> Any:
    return cli(*args, env=env, code=None)


def assert_same(cli: AzctxCli, args: tuple[str, ...], env: dict[str, str | None]) -> None:
    full = {**cli.env, **env}
    code, out, err = fast_run(args, full)
    expected = typer_run(cli, args, env)
    assert (code, out, err) == (expected.exit_code, expected.stdout, expected.stderr), args


def seed(env: dict[str, str], *, select: bool = True) -> None:
    environ = {k: v for k, v in {**os.environ, **env}.items() if not k.startswith("AZCTX_S")}
    environ.update(env)
    with ContextStore(env["AZCTX_STORE"], environ=environ) as store:
        store.add(account="user1@contoso.org", tenant="t-1", subscription="s-1", name="dev")
        store.add(
            account="app-ü@contoso.org",
            tenant="t-2",
            subscription="s-2",
            subscription_name="Production ✓",
            name="Prod Ω",
            select=select,
        )


@pytest.mark.parametrize("args", READS)
def test_reads_match_the_typer_app(
    azctx_cli: AzctxCli, azctx_env: dict[str, str], args: Any
) -> None:
    seed(azctx_env)
    assert_same(azctx_cli, args, {})


def test_no_default_and_empty_store_match(azctx_cli: AzctxCli, azctx_env: dict[str, str]) -> None:
    # A brand-new store: created on first use by whichever path runs first.
    for args in READS:
        assert_same(azctx_cli, args, {})
    seed(azctx_env, select=False)
    azctx_cli("remove", "dev", "--force")
    for args in READS:
        assert_same(azctx_cli, args, {})


@pytest.mark.parametrize(
    "env",
    [
        {"AZCTX_AUTOSAVE": "maybe"},  # bad input: exit 2
        {"AZCTX_AUTOSAVE": "false"},  # empty view
        {"AZCTX_SESSION": "s-0123456789abcdef"},  # unknown session: a warning
        {"AZCTX_KEY": base64.b64encode(bytes(32)).decode()},  # wrong key: exit 3
        {"AZCTX_KEY": "not base64!"},  # malformed key: exit 3
    ],
)
def test_errors_and_warnings_match(
    azctx_cli: AzctxCli, azctx_env: dict[str, str], env: dict[str, str | None]
) -> None:
    seed(azctx_env)
    for args in (("current",), ("list",), ("list", "--json")):
        assert_same(azctx_cli, args, env)


def test_unusable_store_path_matches(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for args in (("current",), ("list",)):
        assert_same(azctx_cli, args, {"AZCTX_STORE": str(folder)})


def test_an_ended_session_warns_alike(azctx_cli: AzctxCli, azctx_env: dict[str, str]) -> None:
    seed(azctx_env)
    started = azctx_cli("session", "start")
    session = started.stdout.splitlines()[0].split("=", 1)[1]
    azctx_cli("session", "end", env={"AZCTX_SESSION": session})
    for args in (("current",), ("list", "--names")):
        assert_same(azctx_cli, args, {"AZCTX_SESSION": session})


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["current", "extra"], {}),
        (["list", "--at", "1"], {}),
        (["list", "--json", "--json"], {}),
        (["list", "--help"], {}),
        (["--store", "x.db", "current"], {}),
        (["current"], {"_AZCTX_COMPLETE": "bash_complete"}),
        (["current"], {"AZCTX_STORE": " "}),
        (["show"], {}),
        (["select", "-"], {}),
        (["select", "dev", "--scope", "user"], {}),
        (["select", "--scope", "user", "dev"], {}),
        (["select", "--help"], {}),
        (["select", "bad\x07name"], {}),
        (["select", ""], {}),
        (["select"], {}),
        (["select", "a", "b"], {}),
        ([], {}),
    ],
)
def test_declines_what_only_typer_handles(argv: list[str], env: dict[str, str]) -> None:
    assert fast.plan(argv, env) is None


@pytest.mark.parametrize("argv", [list(a) for a in READS] + [["select", "dev"]])
def test_takes_the_prompt_commands(argv: list[str]) -> None:
    assert fast.plan(argv, {"AZCTX_STORE": "/somewhere/store.db"}) is not None


def _events(env: dict[str, str]) -> list[dict[str, object]]:
    """The store's events as dicts, without the moment they were made."""
    from azctx.events import decode
    from azctx.store import open_log

    environ = {**os.environ, **env}
    with open_log(env["AZCTX_STORE"], environ=environ) as log:
        return [decode(e.payload).model_dump(exclude={"time"}) for e in log.entries()]


@pytest.mark.parametrize(
    ("name", "env"),
    [
        ("dev", {}),
        ("PROD Ω", {}),  # found under its case-folded name, shown as it was added
        ("nope", {}),  # refused: exit 1
        ("dev", {"AZCTX_AUTOSAVE": "maybe"}),  # bad input: exit 2
        ("dev", {"AZCTX_AUTOSAVE": "false"}),  # no live session: refused
        ("dev", {"AZCTX_SESSION": "s-0123456789abcdef"}),  # an unknown session
        ("dev", {"AZCTX_KEY": base64.b64encode(bytes(32)).decode()}),  # wrong key: exit 3
    ],
)
def test_select_matches_the_typer_app(
    azctx_cli: AzctxCli, azctx_env: dict[str, str], tmp_path: Path, name: str, env: dict[str, str]
) -> None:
    seed(azctx_env, select=False)
    store = Path(azctx_env["AZCTX_STORE"])
    copy = tmp_path / "copy"
    shutil.copytree(store.parent, copy)
    other = {**azctx_env, "AZCTX_STORE": str(copy / store.name)}
    code, out, err = fast_run(("select", name), {**azctx_cli.env, **env})
    expected = typer_run(azctx_cli, ("select", name), {**env, "AZCTX_STORE": other["AZCTX_STORE"]})
    their_err = expected.stderr.replace(other["AZCTX_STORE"], azctx_env["AZCTX_STORE"])
    assert (code, out, err) == (expected.exit_code, expected.stdout, their_err)
    assert _events(azctx_env) == _events(other)


def test_select_in_a_session_notes_alike(azctx_cli: AzctxCli, azctx_env: dict[str, str]) -> None:
    seed(azctx_env)
    started = azctx_cli("session", "start")
    session = {"AZCTX_SESSION": started.stdout.splitlines()[0].split("=", 1)[1]}
    azctx_cli("select", "Prod Ω", "--scope", "process", env=session)
    code, out, err = fast_run(("select", "dev"), {**azctx_cli.env, **session})
    assert code == 0
    assert err.startswith("hint: session ") and "has its own default 'Prod Ω'" in err
    assert out.startswith("default context is now 'dev' (operation ")
    seq = int(out.rsplit(" ", 1)[1].rstrip(")\n"))
    expected = typer_run(azctx_cli, ("select", "dev"), session)
    assert (expected.exit_code, expected.stderr) == (code, err)
    assert expected.stdout == f"default context is now 'dev' (operation {seq + 1})\n"
