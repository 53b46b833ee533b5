"""``key rotate`` killed at every step: no crash may lock the user out.

The rotation writes its new key beside the key file (``.master.key.RANDOM.new``, locked
while the rotation lives), commits the store's new key records, then renames the new
key over the key file. A real process is SIGKILLed at each of those steps (by patching
the step to kill itself, and once by strace at the rename system call); afterwards
every command opens the store without help and no leftover stays behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from adversarial_support import (
    AZCTX,
    assert_error,
    home,
    invoke,
    run,
    sql,
    store_path,
)
from azctx.store.keys import master as keys
from azctx.store.keys import rotation

pytestmark = pytest.mark.adversarial

ADD = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name", "n"]

#: A process that runs ``azctx key rotate`` and SIGKILLs itself at one step of it.
_KILLER = """
import os, signal, sys
from azctx.store.keys import rotation
from azctx.store.log import Log

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

def after(function):
    def wrapped(*args, **kwargs):
        function(*args, **kwargs)
        die()
    return wrapped

step = sys.argv[1]
if step == "new-key-written":  # the new key file is on disk, the store untouched
    Log.rotate_master_key = die
elif step == "rewrapped":  # the store rewrapped inside its transaction, not committed
    Log.append = after(Log.append)
elif step == "committed":  # committed, the new key not yet renamed into place
    os.replace = die
elif step == "after-commit":  # committed, before anything is done with the new key file
    rotation.KeyRotation.commit = die
elif step == "renamed":  # renamed, the folder not yet flushed nor the rotation over
    replace, renamed = os.replace, []
    def replaced(*args, **kwargs):
        replace(*args, **kwargs)
        renamed.append(True)
    def flush(*args, **kwargs):
        if renamed:
            die()
    os.replace, rotation.fsync_folder = replaced, flush
from azctx.cli.main import main
sys.argv = ["azctx", "key", "rotate", *sys.argv[2:]]
main()
"""


def _key_file(env: dict[str, str]) -> Path:
    return Path(env["AZCTX_CONFIG_DIR"]) / "master.key"


def _leftovers(env: dict[str, str]) -> list[Path]:
    return sorted(_key_file(env).parent.glob(".master.key.*.new"))


def _store_key_id(env: dict[str, str]) -> str:
    ((value,),) = sql(store_path(env), "SELECT value FROM meta WHERE name = 'master_key_id'")
    return bytes(value).decode()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = home(tmp_path)
    assert invoke(ADD, environ).code == 0
    return environ


def _every_command_opens(env: dict[str, str]) -> None:
    listed = run(["list", "--names"], env)
    assert (listed.code, listed.out, listed.err) == (0, "n\n", ""), listed.describe()
    assert run(["verify"], env).code == 0
    assert run([*ADD[:-1], "m"], env).code == 0
    assert run(["history", "--limit", "1"], env).code == 0
    assert _leftovers(env) == []
    master = keys.read_key_file(_key_file(env))
    assert master is not None and master.key_id == _store_key_id(env)


@pytest.mark.parametrize("step", ["new-key-written", "rewrapped", "committed", "renamed"])
def test_a_rotation_killed_at_any_step_locks_nobody_out(env: dict[str, str], step: str) -> None:
    before = _store_key_id(env)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLER, step], env=env, capture_output=True, timeout=60
    )
    assert killed.returncode == -9, killed.stderr
    committed = _store_key_id(env) != before
    assert committed == (step in ("committed", "renamed"))
    _every_command_opens(env)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_rotation_killed_at_its_rename_by_strace(env: dict[str, str]) -> None:
    """The attack as it was run: the rename system call itself kills the process."""
    before = _store_key_id(env)
    killed = subprocess.run(
        ["strace", "-f", "-qq", "-o", os.devnull,
         "-e", "trace=rename,renameat,renameat2",
         "-e", "inject=rename,renameat,renameat2:signal=SIGKILL",
         AZCTX, "key", "rotate"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if "ptrace" in killed.stderr and "Operation not permitted" in killed.stderr:
        pytest.skip("ptrace is not permitted here")
    assert killed.returncode != 0, killed.stderr
    assert _store_key_id(env) != before  # killed after the commit, before the rename
    assert len(_leftovers(env)) == 1
    _every_command_opens(env)


@pytest.mark.parametrize("step", ["new-key-written", "after-commit"])
def test_a_rotation_to_a_new_key_file_killed_leaves_no_temporary_file(
    env: dict[str, str], tmp_path: Path, step: str
) -> None:
    new_file = tmp_path / "rotated" / "new.key"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLER, step, "--new-key-file", str(new_file)],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert sorted(p.name for p in new_file.parent.iterdir()) == ["new.key"]
    if step == "after-commit":  # the store needs the new key: it is where it was asked to be
        env = {**env, "AZCTX_KEY_FILE": str(new_file)}
    listed = run(["list", "--names"], env)
    assert (listed.code, listed.out) == (0, "n\n"), listed.describe()


def _simulate_commit_without_rename(env: dict[str, str]) -> rotation.KeyRotation:
    """The state a rotation is in between its commit and its rename, in this process:
    the store needs the new key, which is still only in the locked leftover."""
    from azctx.store.context_store import ContextStore

    caught: list[rotation.KeyRotation] = []
    original = rotation.KeyRotation.commit
    rotation.KeyRotation.commit = lambda self: caught.append(self)  # type: ignore[method-assign]
    try:
        with ContextStore(store_path(env), environ=env) as store:
            store.rotate_key()
    finally:
        rotation.KeyRotation.commit = original  # type: ignore[method-assign]
    return caught[0]


def test_a_live_rotation_is_waited_for_and_never_taken_over(env: dict[str, str]) -> None:
    rotation = _simulate_commit_without_rename(env)
    try:
        # Its lock is held: another command waits briefly, then says which file holds
        # the key, and leaves the live rotation's file alone.
        outcome = invoke(["list"], env)
        assert_error(outcome, 3, str(rotation.temp))
        assert rotation.temp.exists()
    finally:
        rotation._release()  # the rotation dies without renaming
    _every_command_opens(env)


def test_leftovers_of_killed_rotations_are_cleaned_up(env: dict[str, str]) -> None:
    folder = _key_file(env).parent
    stale = folder / ".master.key.0123456789ab.new"  # a rotation killed before its commit
    stale.write_text(keys.encode_key(keys.generate_key()) + "\n")
    stale.chmod(0o600)
    other = folder / "notes.txt"
    other.write_text("not ours")
    assert run(["list", "--names"], env).code == 0
    assert not stale.exists() and other.exists()


def test_the_hint_names_the_file_a_rotation_wrote(env: dict[str, str], tmp_path: Path) -> None:
    old = keys.read_key_file(_key_file(env))
    assert old is not None
    new_file = tmp_path / "rotated" / "new.key"
    assert run(["key", "rotate", "--new-key-file", str(new_file)], env).code == 0
    with_old_key = {**env, "AZCTX_KEY": keys.encode_key(old.key)}
    assert_error(invoke(["list"], with_old_key), 3, "does not open the store", str(new_file))
    with_new_file = {**env, "AZCTX_KEY_FILE": str(new_file)}
    assert invoke(["list", "--names"], with_new_file).out == "n\n"
