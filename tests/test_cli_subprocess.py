"""Every command run as a real ``azctx`` process (the installed console script), and
a secret given on stdin or through a variable that never shows: not in any output,
not in the process's ``ps``-visible arguments, not in the database, its WAL or SHM."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cli_runner import AzctxCli

Run = Callable[..., subprocess.CompletedProcess[str]]
ADD = ("add", "--tenant", "tenant-1")


def _console_script() -> str:
    """The ``azctx`` installed next to this interpreter (else the one on PATH)."""
    beside = Path(sys.executable).with_name("azctx")
    found = str(beside) if beside.is_file() else shutil.which("azctx")
    assert found is not None, "the azctx console script is not installed (pip install -e .)"
    return found


def _runner(env: dict[str, str]) -> Run:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    base.update(env)
    base.pop("NO_COLOR", None)  # no colour must come from the output not being a TTY
    exe = _console_script()

    def run(
        *args: str, stdin: str = "", code: int = 0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [exe, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            timeout=120,
            check=False,
        )
        shown = f"azctx {args!r} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert done.returncode == code, shown
        assert "\x1b" not in done.stdout + done.stderr, shown
        assert "Traceback" not in done.stderr, shown
        return done

    return run


def _user_story(run: Run, tmp_path: Path) -> None:
    """add, list, show, current, select, rename, remove, undo, history, verify, --store."""
    assert run("--version").stdout.startswith("azctx ")
    sp = ("--account-type", "service-principal")
    added = run(*ADD, "--account", "app-1", "--subscription", "s1", "--name", "a", *sp,
                "--secret-stdin", stdin="pw-a\n")  # fmt: skip
    assert (added.stdout, added.stderr) == ("added context 'a' (operation 1)\n", "")
    run("--store", str(tmp_path / "store" / "store.db"), *ADD, "--account", "app-2",
        "--subscription", "s2", "--name", "b", *sp, "--secret-env", "B_SECRET",
        env={"B_SECRET": "pw-b", "AZCTX_STORE": str(tmp_path / "elsewhere.db")})  # fmt: skip
    run(*ADD, "--account", "u@contoso.org", "--subscription", "s3", "--name", "c", "--no-select")
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
    assert run("undo").stdout == "undid operation 9 (remove 'b'): 'b' is back (operation 10)\n"
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
    run(*ADD, "--account", "u@contoso.org", "--subscription", "s", "--name", "saved")
    run("autosave", "disable")
    assert json.loads(run("autosave", "status", "--json").stdout) == {
        "enabled": False,
        "source": "user",
    }
    line = run("session", "start", "--ttl", "1h").stdout
    match = re.match(r"export AZCTX_SESSION=(\S+)\n", line)
    assert match is not None, line
    mine = {"AZCTX_SESSION": match.group(1)}
    run(*ADD, "--account", "u@contoso.org", "--subscription", "t", "--name", "temp", env=mine)
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


# ---------------------------------------------------------------------------- secrets


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
    run(*ADD, "--account", "first@contoso.org", "--subscription", "s0")
    store = Path(azctx_env["AZCTX_STORE"])
    # A reader kept open so that SQLite keeps the WAL and SHM files for us to read.
    reader = sqlite3.connect(str(store))
    try:
        reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
        base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
        child = subprocess.Popen(
            [_console_script(), *ADD, "--account", "app-1", "--subscription", "s1",
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
        assert out.decode() == "added context 'sp' (operation 2)\n" and err == b""

        sp = ("--account-type", "service-principal")
        run(*ADD, "--account", "app-2", "--subscription", "s2", *sp,
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
    from azctx.store.context_store import ContextStore

    with ContextStore(str(store), environ=azctx_env) as opened:
        variables = opened.environment_for("sp").variables
        assert variables["AZURE_CLIENT_SECRET"] == secret
