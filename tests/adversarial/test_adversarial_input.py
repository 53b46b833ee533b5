"""Bad input and a hostile file system: random arguments and environment values never
give a traceback, an exit code outside 0-3 or a changed log on failure; a read-only
store, an impossible parent folder, a store path that is a folder and a full disk each
give a clear error and leave the log as it was."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from adversarial_support import (
    Outcome,
    assert_error,
    fingerprint,
    home,
    invoke,
    run,
    store_path,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.adversarial

COMMANDS = [
    ["add"], ["list"], ["show"], ["current"], ["select"], ["rename"], ["remove"],
    ["disconnect"], ["clear"], ["autosave", "enable"], ["autosave", "status"], ["history"],
    ["undo"], ["verify"], ["session", "start"], ["session", "status"], ["session", "end"],
    ["export"], ["import"], ["key", "status"], [],
]  # fmt: skip
OPTIONS = [
    "--account", "--tenant", "--subscription", "--name", "--scope", "--json", "--at",
    "--since", "--limit", "--force", "--yes", "--context", "--ttl", "--shell", "--store",
    "--account-type", "--environment", "--secret-env", "--no-select", "--chain-only", "-",
    "--", "--help", "--version", "--include-secrets", "--from-az-cli",
]  # fmt: skip
# Text without NUL (no OS lets it into argv or the environment) and without surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
HUGE = st.integers(min_value=1, max_value=4).map(lambda n: "x" * (10 ** (n + 2)))
NUMBERS = st.sampled_from(["0", "-1", "1", "99999999999999999999999", "1e309", "nan", "3"])
WORD = st.one_of(st.sampled_from(OPTIONS), TEXT, HUGE, NUMBERS, st.just("base"))
ENV_VALUES = st.one_of(TEXT, NUMBERS, st.sampled_from(["true", "FALSE", "s-0", ""]))


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = home(tmp_path_factory.mktemp("fuzz"))
    for name in ("base", "other"):
        args = ["add", "--account", f"{name}@x", "--tenant", "t", "--subscription", "s",
                "--name", name]  # fmt: skip
        assert invoke(args, env).code == 0
    return env


def _check(outcome: Outcome, before: object, env: dict[str, str]) -> None:
    assert outcome.code in (0, 1, 2, 3), outcome.describe()
    assert "Traceback" not in outcome.err + outcome.out, outcome.describe()
    assert "internal error" not in outcome.err, outcome.describe()
    if outcome.code != 0:
        assert outcome.err.startswith("error: ") or outcome.err == "", outcome.describe()
        assert fingerprint(store_path(env)) == before, outcome.describe()


@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])  # fmt: skip
@given(
    command=st.sampled_from(COMMANDS),
    words=st.lists(WORD, max_size=6),
    environ=st.dictionaries(
        st.sampled_from(["AZCTX_AUTOSAVE", "AZCTX_SESSION", "AZCTX_LOCK_TIMEOUT", "AZCTX_KEY"]),
        ENV_VALUES,
        max_size=2,
    ),
)
def test_random_arguments_and_environment(
    populated: dict[str, str], command: list[str], words: list[str], environ: dict[str, str]
) -> None:
    env = {**populated, **environ}
    before = fingerprint(store_path(env))
    args = [*command, *words]
    outcome = invoke(args, env, stdin="")
    _check(outcome, before, env)


@pytest.mark.parametrize(
    "args",
    [
        ["add", "--tenant", "t", "--name", "\u202e\u0007evil", "--account", "a",
         "--subscription", "s"],
        ["select", "x" * 100_000],
        ["--store", "history", "list"],
        ["list", "--at", "\ud7ff" * 3],
        ["history", "--limit", "99999999999999999999999999"],
    ],
)  # fmt: skip
def test_real_processes_with_bad_arguments(
    populated: dict[str, str], args: list[str], tmp_path: Path
) -> None:
    env = {**populated, "TMPDIR": str(tmp_path)}
    before = fingerprint(store_path(env))
    _check(run(args, env), before, env)


# -- the file system -----------------------------------------------------------------------

ADD = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name"]


def _chattr(flag: str, *paths: Path) -> bool:
    tool = shutil.which("chattr")
    if tool is None:
        return False
    done = subprocess.run([tool, flag, *map(str, paths)], capture_output=True, check=False)
    return done.returncode == 0


def test_a_read_only_store_folder(tmp_path: Path) -> None:
    """Root ignores permission bits, so the folder and the files are made immutable
    (chattr +i), which binds root too; skipped, saying so, where that is impossible."""
    env = home(tmp_path)
    assert invoke([*ADD, "first"], env).code == 0
    db = store_path(env)
    before = fingerprint(db)
    files = [p for p in db.parent.iterdir()]
    if os.geteuid() != 0:
        for path in [*files, db.parent]:
            path.chmod(0o500 if path.is_dir() else 0o400)
        frozen = True
    else:
        frozen = _chattr("+i", *files, db.parent)
    if not frozen:
        pytest.skip("running as root without chattr +i support here: cannot make it read-only")
    try:
        assert_error(run([*ADD, "second"], env), 3, str(db))
        assert_error(run(["list"], env), 3)
    finally:
        if os.geteuid() == 0:
            _chattr("-i", *files, db.parent)
        else:
            for path in [*files, db.parent]:
                path.chmod(0o700 if path.is_dir() else 0o600)
    assert fingerprint(db) == before


def test_missing_parent_folders_are_made_private(tmp_path: Path) -> None:
    env = {**home(tmp_path), "AZCTX_STORE": str(tmp_path / "a" / "b" / "store.db")}
    assert invoke([*ADD, "n"], env).code == 0
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700


def test_a_parent_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    env = {**home(tmp_path), "AZCTX_STORE": str(tmp_path / "file" / "sub" / "store.db")}
    assert_error(invoke([*ADD, "n"], env), 3, "cannot use store path")
    assert (tmp_path / "file").read_text() == "not a folder"


def test_a_store_path_that_is_a_folder(tmp_path: Path) -> None:
    env = {**home(tmp_path), "AZCTX_STORE": str(tmp_path / "data")}
    for args in ([*ADD, "n"], ["list"], ["verify"]):
        assert_error(invoke(args, env), 3, "is a directory")
    assert list((tmp_path / "data").iterdir()) == []


def _tiny_file_limit(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk(tmp_path: Path) -> None:
    """A file-size limit (ulimit -f) makes every write past it fail with EFBIG, as a
    full disk fails with ENOSPC: a clear error, and the log as it was."""
    env = home(tmp_path)
    assert invoke([*ADD, "first"], env).code == 0
    db = store_path(env)
    before = fingerprint(db)
    limit = 4096  # less than one WAL frame: the first page written fails
    outcome = run(["add", "--account", "a" * 1000, "--tenant", "t" * 1000, "--subscription",
                   "s" * 1000, "--name", "n" * 256], env,
                  preexec_fn=lambda: _tiny_file_limit(limit))  # fmt: skip
    assert_error(outcome, 3)
    assert fingerprint(db) == before
    assert run(["verify"], env).code == 0
    assert run([*ADD, "after"], env).code == 0  # and it recovers once there is room
