"""Bad input and unusable stores through the CLI: the exit code the SPEC's table names
(2 bad input, 1 refused, 3 key or store problem), exactly one ``error:`` line on stderr
(plus at most one ``hint:``), nothing on stdout, no traceback, and the log unchanged."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cli_runner import AzctxCli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from collections.abc import Iterator

LONG = "x" * 10_000
CONTROL = ("a\x07b", "two\nlines", "\x1b[2Jclear", "tab\there", "nul\x00")
ADD = ("add", "--account", "u@contoso.org", "--tenant", "t", "--subscription", "s")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzctxCli]:
    """A store with two contexts (one a service principal with a secret) and a live
    session, shared by the read-only cases of this module."""
    root = tmp_path_factory.mktemp("seeded")
    cli = AzctxCli(
        {
            "AZCTX_STORE": str(root / "store.db"),
            "AZCTX_KEY_FILE": str(root / "master.key"),
            "AZCTX_DATA_DIR": str(root / "data"),
            "AZCTX_CONFIG_DIR": str(root / "config"),
        }
    )
    cli(*ADD, "--name", "dev")
    sp = ("--account-type", "service-principal", "--secret-stdin")
    cli("add", "--account", "app-1", "--tenant", "t", "--subscription", "s2", "--name", "prod",
        *sp, input="pw\n")  # fmt: skip
    cli("session", "start")
    yield cli


def fails(
    cli: AzctxCli, code: int, *args: str, env: dict[str, str | None] | None = None, **kw: Any
) -> str:
    """Run a command that must fail with ``code``; returns its error line."""
    before = cli.head()
    result = cli(*args, env=env, code=code, **kw)
    shown = f"{args!r}: {result.stderr!r}"
    assert result.stdout == "", shown
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2, shown
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: "), shown
    if len(lines) == 2:
        assert lines[1].startswith("hint: "), shown
    assert len(lines[0]) < 600, shown  # a 10,000-character value is not echoed whole
    assert cli.head() == before, shown
    return lines[0]


# ---------------------------------------------------------------------------- arguments

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


SP = (*ADD, "--name", "new-sp", "--account-type", "service-principal", "--secret-stdin")
BAD_SECRETS: list[tuple[str, bytes]] = [
    ("not UTF-8", b"se\xffcret\n"),
    ("a NUL", b"sec\x00ret\n"),
    ("a control character", b"sec\x1bret"),
    ("over 64 KiB", b"s" * (64 * 1024 + 1)),
    ("far over 64 KiB", b"s" * (4 * 1024 * 1024)),
]


@pytest.mark.parametrize(("label", "secret"), BAD_SECRETS, ids=[b[0] for b in BAD_SECRETS])
def test_a_secret_past_the_rules_exits_2(seeded: AzctxCli, label: str, secret: bytes) -> None:
    line = fails(seeded, 2, *SP, input=secret)
    assert "secret" in line


@pytest.mark.parametrize("kind", ["user", "managed-identity"])
@pytest.mark.parametrize("source", ["--secret-stdin", "--secret-env"])
def test_a_secret_for_an_account_that_has_none_exits_2(
    seeded: AzctxCli, kind: str, source: str
) -> None:
    given = (source,) if source == "--secret-stdin" else (source, "HOME")
    line = fails(seeded, 2, *ADD, "--name", "x", "--account-type", kind, *given, input="pw\n")
    assert f"a {kind} account takes no secret" in line


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


def test_undo_of_a_session_start_is_refused(seeded: AzctxCli) -> None:
    start = next(r["seq"] for r in seeded.json("history") if r["operation"] == "session-start")
    assert "undo" in fails(seeded, 1, "undo", str(start))


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


# ---------------------------------------------------------------------------- environment

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


def test_an_unknown_session_warns_on_reads_and_refuses_process_changes(seeded: AzctxCli) -> None:
    env: dict[str, str | None] = {"AZCTX_SESSION": "s-0000000000000000"}
    read = seeded("list", "--names", env=env)
    assert read.stdout == "dev\nprod\n"
    assert read.stderr == (
        "warning: session s-0000000000000000 is unknown; showing the view without it\n"
    )
    fails(seeded, 1, "select", "dev", "--scope", "process", env=env)


# ---------------------------------------------------------------------------- the store


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


@pytest.fixture
def existing(azctx_cli: AzctxCli) -> AzctxCli:
    azctx_cli(*ADD, "--name", "dev")
    return azctx_cli


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


def test_select_dash_with_no_earlier_default_is_refused(existing: AzctxCli) -> None:
    assert "earlier default" in fails(existing, 1, "select", "-")


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


def test_rotate_with_a_key_from_the_environment_needs_a_new_key_file(
    existing: AzctxCli, tmp_path: Path
) -> None:
    # Move the store onto AZCTX_KEY: same key, from the variable.
    key_text = Path(str(existing.env["AZCTX_KEY_FILE"])).read_text().strip()
    env: dict[str, str | None] = {"AZCTX_KEY": key_text, "AZCTX_KEY_FILE": None}
    assert existing.json("key", "status", env=env)["source"] == "env"
    # The SPEC makes --new-key-file required in this case: a usage error.
    assert "AZCTX_KEY" in fails(existing, 2, "key", "rotate", env=env)
    taken = tmp_path / "taken.key"
    taken.write_text("x")
    fails(existing, 1, "key", "rotate", "--new-key-file", str(taken), env=env)
    assert taken.read_text() == "x"
