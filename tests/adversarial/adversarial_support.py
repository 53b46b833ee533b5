"""Shared helpers of the adversarial suite (``tests/adversarial/test_*.py``); no tests here.

Everything runs against a store in a tmp folder: the installed ``azctx`` console script
as a real subprocess (with its own environment, TMPDIR included), the CLI in-process
through typer's CliRunner (cheap), the ``ContextStore`` library, and raw sqlite3 for
looking at, or tampering with, the database behind azctx's back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

AZCTX = shutil.which("azctx") or "azctx"
LOG_COLUMNS = (
    "seq",
    "time",
    "kind",
    "scope",
    "session",
    "key_id",
    "nonce",
    "ciphertext",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Outcome:
    """What one azctx command did: exit code, stdout, stderr (kept apart)."""

    code: int
    out: str
    err: str

    def describe(self) -> str:
        return f"exit {self.code}\nstdout: {self.out[:400]!r}\nstderr: {self.err[:800]!r}"


def home(tmp: Path) -> dict[str, str]:
    """An environment for azctx confined to ``tmp``: store, key file, platform dirs and
    temp dir all inside it; no key or store inherited from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    for name in ("data", "config", "tmp"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    env.update(
        AZCTX_DATA_DIR=str(tmp / "data"),
        AZCTX_CONFIG_DIR=str(tmp / "config"),
        AZCTX_STORE=str(tmp / "data" / "store.db"),
        TMPDIR=str(tmp / "tmp"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def store_path(env: Mapping[str, str]) -> Path:
    return Path(env["AZCTX_STORE"])


def run(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    stdin: str | None = None,
    timeout: float = 60,
    preexec_fn: Callable[[], None] | None = None,
) -> Outcome:
    """The installed console script as a real process."""
    done = subprocess.run(
        [AZCTX, *args],
        env=dict(env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def invoke(args: Sequence[str], env: Mapping[str, str], *, stdin: str | None = None) -> Outcome:
    """The same command in-process (CliRunner swaps os.environ for ``env`` meanwhile)."""
    from azctx.cli.commands import app

    runner = CliRunner()
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AZCTX_")}
    result = runner.invoke(app, list(args), input=stdin, env={**unset, **env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"azctx {list(args)} raised {result.exception!r}")
    return Outcome(result.exit_code, result.stdout, result.stderr)


def assert_error(outcome: Outcome, code: int, *needles: str) -> None:
    """A clean failure: the exit code, an ``error:`` line, no traceback, no stdout."""
    assert outcome.code == code, outcome.describe()
    assert outcome.err.startswith("error: "), outcome.describe()
    assert "Traceback" not in outcome.err, outcome.describe()
    for needle in needles:
        assert needle in outcome.err, outcome.describe()


def sql(db: Path, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Raw SQL behind azctx's back, committed at once."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute(query, tuple(params)).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def log_rows(db: Path) -> list[tuple[Any, ...]]:
    return sql(db, f"SELECT {', '.join(LOG_COLUMNS)} FROM log ORDER BY seq")


def fingerprint(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The whole log and the data keys: equal before and after means nothing changed."""
    keys = sql(db, "SELECT key_id, kind, session, wrapped FROM data_keys ORDER BY key_id")
    return log_rows(db), keys
