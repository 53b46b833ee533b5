"""``azctx add``: the decision (default name, a taken name, ``--force``, clouds, no
``--select``), the command in-process (it selects, secrets from stdin or a variable), a
secret that never shows in a real process's arguments, output or files, and the secrets
it refuses.

Bad input of every option is also in the table of test_azctx.py.
"""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from azctx.events import (
    Added,
    BadInput,
    Refused,
)
from azctx.projections import decisions as d
from azctx.store.context_store import ContextStore
from cli_runner import AzctxCli
from command_support import (
    ADD,
    ADD_T1,
    _console_script,
    _runner,
    add,
    fails,
    secret_of,
    start_session,
)
from decision_support import Log

# ---------------------------------------------------------------- the decision (pure)


def test_add_default_name_taken_name_force_and_credential() -> None:
    log = Log()
    first = log.add(None, subscription="123456-7890")
    assert first.event.subject == "[ann@contoso.org; 123456-7890]"
    with pytest.raises(Refused) as err:
        log.add("[ANN@contoso.org; 123456-7890]")
    assert "already exists" in err.value.message and err.value.hint is not None
    replaced = log.add("[ANN@contoso.org; 123456-7890]", "bot@x", force=True, key="k1")
    assert isinstance(replaced.event.op, Added) and replaced.event.op.replaced
    item = log.view().get("[ann@contoso.org; 123456-7890]")
    assert item is not None and item.context.account == "bot@x" and item.credential == "stored"
    assert item.context.name == "[ANN@contoso.org; 123456-7890]"  # case as given


@pytest.mark.parametrize("bad", ["", "x" * 257, "tab\there", "nul\x00"])
def test_add_refuses_invalid_names_with_exit_2(bad: str) -> None:
    log = Log()
    with pytest.raises(BadInput):
        log.add(bad)
    assert log.entries == []


def test_add_normalizes_builtin_clouds_and_refuses_unknown_ones() -> None:
    log = Log()
    request = d.AddRequest(account="a", tenant="t", name="cn", environment="azurechinacloud")
    decision = d.decide_add(log.state, log.caller(), request)
    assert isinstance(decision.event.op, Added)
    assert decision.event.op.context.environment == "AzureChinaCloud"
    with pytest.raises(BadInput):
        d.decide_add(
            log.state, log.caller(), d.AddRequest(account="a", tenant="t", environment="Mars")
        )
    with pytest.raises(BadInput):
        d.decide_add(
            log.state, log.caller(), d.AddRequest(account="a", tenant="t", account_type="robot")
        )


def test_add_without_select_keeps_the_default() -> None:
    log = Log()
    log.add("one")
    log.add("two", select=False)
    assert log.view().default == "one"


# ------------------------------------------------------- through the CLI (in-process)


def test_add_selects_and_list_marks_the_default_in_an_aligned_table(azctx_cli: AzctxCli) -> None:
    first = add(azctx_cli, "dev", "--subscription-name", "Dev Subscription")
    assert first.stdout == "added context 'dev'; the default is now 'dev' (operation 1)\n"
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


# ------------------------------------------------------------------ as a real process


def _forms(secret: str) -> list[bytes]:
    """The ways a careless program could have written the secret down."""
    raw = secret.encode()
    return [raw, secret.encode("utf-16-le"), base64.b64encode(raw), raw.hex().encode()]


def _process_text(pid: int, name: str) -> bytes:
    return Path(f"/proc/{pid}/{name}").read_bytes()


def _waiting_on_stdin(pid: int) -> bool:
    """True once the process sleeps in a read (it has started and is blocked on stdin)."""
    try:
        state = _process_text(pid, "stat").rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state == b"S"


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_a_secret_never_shows_in_arguments_output_or_files(
    azctx_env: dict[str, str], azctx_cli: AzctxCli, tmp_path: Path
) -> None:
    secret = f"S3cr3t-{secrets.token_hex(16)}"
    env_secret = f"Env-{secrets.token_hex(16)}"
    run = _runner(azctx_env)
    run(*ADD_T1, "--account", "first@contoso.org", "--subscription", "s0")
    store = Path(azctx_env["AZCTX_STORE"])
    # A reader kept open so that SQLite keeps the WAL and SHM files for us to read.
    reader = sqlite3.connect(str(store))
    try:
        reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
        base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
        child = subprocess.Popen(
            [_console_script(), *ADD_T1, "--account", "app-1", "--subscription", "s1",
             "--account-type", "service-principal", "--name", "sp", "--secret-stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**base, **azctx_env},
        )  # fmt: skip
        assert child.stdin is not None
        child.stdin.write(f"{secret}\n".encode())
        child.stdin.flush()
        deadline = time.monotonic() + 60
        while not _waiting_on_stdin(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The process now holds the secret and waits for the end of stdin.
        assert child.poll() is None
        visible = _process_text(child.pid, "cmdline") + _process_text(child.pid, "environ")
        assert b"--secret-stdin" in visible
        assert not any(form in visible for form in _forms(secret))
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert (
            out.decode() == "added context 'sp'; the default is now 'sp' (operation 2)\n"
            and err == b""
        )

        sp = ("--account-type", "service-principal")
        run(*ADD_T1, "--account", "app-2", "--subscription", "s2", *sp,
            "--secret-env", "THE_SECRET", env={"THE_SECRET": env_secret})  # fmt: skip

        outputs = [out, err]
        for args in (["list"], ["list", "--json"], ["show", "sp"], ["show", "sp", "--json"],
                     ["history"], ["history", "--json"], ["verify"], ["key", "status"],
                     ["remove", "sp", "--force"], ["undo"]):  # fmt: skip
            result = azctx_cli(*args)
            outputs += [result.stdout.encode(), result.stderr.encode()]
        failed = azctx_cli("add", "--account", "app-1", "--tenant", "t", "--subscription", "s1",
                           "--name", "sp", code=1)  # fmt: skip
        outputs += [failed.stdout.encode(), failed.stderr.encode()]
        for text in outputs:
            assert not any(form in text for s in (secret, env_secret) for form in _forms(s))

        wal = store.with_name(store.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0  # it was really looked at
        files = [p for folder in (tmp_path,) for p in folder.rglob("*") if p.is_file()]
        assert store in files and wal in files
        for path in files:
            data = path.read_bytes()
            for s in (secret, env_secret):
                assert not any(form in data for form in _forms(s)), path
    finally:
        reader.close()
    # The secrets are there, sealed: the library gets them back with the key.

    with ContextStore(str(store), environ=azctx_env) as opened:
        variables = opened.environment_for("sp").variables
        assert variables["AZURE_CLIENT_SECRET"] == secret


# --------------------------------------------------------------- bad input and errors


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


def test_add_says_which_default_it_made_and_no_select_keeps_it(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "dev")
    kept = add(azctx_cli, "prod", "--no-select")
    assert kept.stdout == "added context 'prod' (operation 2)\n"
    session = start_session(azctx_cli)
    shell: dict[str, str | None] = {"AZCTX_SESSION": session}
    mine = add(azctx_cli, "mine", "--scope", "process", env=shell)
    assert mine.stdout == "added context 'mine'; this shell's default is now 'mine' (operation 4)\n"
