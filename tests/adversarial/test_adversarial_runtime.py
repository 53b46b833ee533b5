"""The runtime folder and the private Azure CLI folders in it: another local user who can
write ``$XDG_RUNTIME_DIR`` (or a folder on the way to it) never gets azctx to use a folder
they can swap; ``run`` leaves no secret folder behind whatever signal ends it (SIGKILL
leaves one only until the next azctx command of any kind); a run folder is told alive by
more than its pid; azctx makes no core dumps; the Azure CLI's telemetry does not bring a
removed folder back; and a full runtime folder is one ``error:`` line."""

from __future__ import annotations

import errno
import os
import pwd
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from adversarial_support import AZCTX, assert_error, home, run, store_path
from azctx.store import processes
from azctx.store.azcli import runtime, sweep
from azctx.store.context_store import ContextStore

pytestmark = pytest.mark.adversarial

NOBODY = 65534
SECRET = "run-folder-secret-Zq81"
FAULTS = ("SIGABRT", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS", "SIGSEGV")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to own files as others)")


def _private(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


# -- which folder is trusted ---------------------------------------------------------------


def test_a_private_xdg_runtime_dir_is_used(tmp_path: Path) -> None:
    xdg = _private(tmp_path / "xdg")
    assert runtime.runtime_root({"XDG_RUNTIME_DIR": str(xdg)}) == xdg / "azctx"


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o755, 0o1777])
def test_an_xdg_runtime_dir_open_to_others_is_passed_over(tmp_path: Path, mode: int) -> None:
    xdg = _private(tmp_path / "xdg")
    xdg.chmod(mode)
    temp = _private(tmp_path / "tmp")
    root = runtime.runtime_root({"XDG_RUNTIME_DIR": str(xdg), "TMPDIR": str(temp)})
    assert not str(root).startswith(str(xdg))
    assert not (xdg / "azctx").exists()


def test_an_xdg_runtime_dir_that_is_a_symlink_is_passed_over(tmp_path: Path) -> None:
    real = _private(tmp_path / "real")
    (tmp_path / "link").symlink_to(real)
    root = runtime.runtime_root({"XDG_RUNTIME_DIR": str(tmp_path / "link")})
    assert not str(root).startswith(str(tmp_path))


@needs_root
def test_folders_of_another_user_on_the_way_are_passed_over(tmp_path: Path) -> None:
    # XDG_RUNTIME_DIR itself another user's; then a parent of it another user's.
    theirs = _private(tmp_path / "theirs")
    os.chown(theirs, NOBODY, NOBODY)
    assert not str(runtime.runtime_root({"XDG_RUNTIME_DIR": str(theirs)})).startswith(str(tmp_path))
    parent = _private(tmp_path / "parent")
    mine = _private(parent / "mine")
    os.chown(parent, NOBODY, NOBODY)
    assert not str(runtime.runtime_root({"XDG_RUNTIME_DIR": str(mine)})).startswith(str(tmp_path))


@needs_root
def test_an_azctx_folder_planted_by_another_user_is_never_used(tmp_path: Path) -> None:
    xdg = _private(tmp_path / "xdg")
    planted = _private(tmp_path / "attacker")
    os.chown(planted, NOBODY, NOBODY)
    (xdg / "azctx").symlink_to(planted)
    root = runtime.runtime_root({"XDG_RUNTIME_DIR": str(xdg)})
    assert not str(root).startswith(str(tmp_path))
    (xdg / "azctx").unlink()
    _private(xdg / "azctx")
    os.chown(xdg / "azctx", NOBODY, NOBODY)
    assert not str(runtime.runtime_root({"XDG_RUNTIME_DIR": str(xdg)})).startswith(str(tmp_path))


# -- two real users --------------------------------------------------------------------------


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


@pytest.fixture
def victim_and_attacker() -> Iterator[tuple[pwd.struct_passwd, pwd.struct_passwd]]:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd to create a victim and an attacker")
    yield _user("azctx-victim"), _user("azctx-attacker")


def _as(user: pwd.struct_passwd, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """``azctx ARGS`` as ``user``, in a forked child that drops root with ``os.setuid``
    (the interpreter may live where other users cannot read it: everything is imported
    before, by the same commands run once as root)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            os.environ.clear()
            os.environ.update(env)
            sys.argv = ["azctx", *args]
            from azctx.cli.main import main

            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:
            os.write(2, f"test child: {exc!r}\n".encode())
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    with os.fdopen(out_r) as out, os.fdopen(err_r) as err:
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out.read(), err.read()


def test_a_run_as_the_victim_never_uses_a_runtime_dir_the_attacker_can_write(
    victim_and_attacker: tuple[pwd.struct_passwd, pwd.struct_passwd], tmp_path: Path
) -> None:
    victim, attacker = victim_and_attacker
    add = ["add", "--account", "sp1", "--tenant", "t", "--subscription", "s", "--name", "sp"]
    add += ["--account-type", "service-principal", "--secret-env", "S"]
    probe = ["run", "--context", "sp", "--", "/bin/sh", "-c", "echo $AZURE_CONFIG_DIR"]
    warm = {**home(tmp_path / "warm"), "S": SECRET}
    warm["XDG_RUNTIME_DIR"] = str(_private(tmp_path / "x"))
    # Every module the commands need imported here, as root, before the child forks.
    import azctx.cli.fast_path  # noqa: F401
    from adversarial_support import invoke

    assert invoke(add, warm).code == 0
    assert invoke(probe, warm).code == 0
    base = Path("/tmp") / f"azctx-adv-{os.getpid()}-{time.monotonic_ns()}"
    try:
        base.mkdir(mode=0o755)
        root = base / "victim"
        env = home(root)
        xdg = root / "xdg"
        xdg.mkdir()
        for folder in (root, *root.iterdir()):
            os.chown(folder, victim.pw_uid, victim.pw_gid)
        xdg.chmod(0o777)  # the attacker can swap what is in it
        env.update(HOME=str(root), XDG_RUNTIME_DIR=str(xdg), S=SECRET)
        code, _, err = _as(victim, add, env)
        assert code == 0, err
        code, out, err = _as(victim, probe, env)
        assert code == 0, err
        folder = Path(out.strip())
        assert folder.is_absolute() and not str(folder).startswith(str(xdg)), folder
        assert not (xdg / "azctx").exists()
        assert not folder.exists()  # removed when CMD ended
        assert attacker.pw_uid != victim.pw_uid
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- what run leaves behind -------------------------------------------------------------------

CHILD = "import pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text('x'); time.sleep(300)"


@pytest.fixture
def sp_env(tmp_path: Path) -> dict[str, str]:
    env = home(tmp_path)
    env["XDG_RUNTIME_DIR"] = str(_private(tmp_path / "xdg"))
    env["HOME"] = str(tmp_path / "home")
    with ContextStore(store_path(env), environ=env) as store:
        store.add(
            account="sp1", tenant="t", subscription="s", name="sp",
            account_type="service-principal", secret=SECRET,
        )  # fmt: skip
    return env


def _runs(env: dict[str, str]) -> list[str]:
    folder = Path(env["XDG_RUNTIME_DIR"]) / "azctx"
    return sorted(p.name for p in folder.glob("run-*")) if folder.exists() else []


def _wait(predicate: object, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + 120
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def _default_dispositions() -> None:  # between fork and exec
    for name in FAULTS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def _cores_allowed() -> None:  # between fork and exec: as a user with `ulimit -c unlimited`
    _default_dispositions()
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _start_run(
    env: dict[str, str], ready: Path, before: Callable[[], None] = _default_dispositions
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [AZCTX, "run", "--context", "sp", "--", sys.executable, "-c", CHILD, str(ready)],
        env=env, start_new_session=True, stderr=subprocess.DEVNULL, preexec_fn=before,
    )  # fmt: skip


@pytest.mark.parametrize("name", FAULTS)
def test_a_fault_signal_sent_to_run_leaves_no_secret_folder(
    sp_env: dict[str, str], tmp_path: Path, name: str
) -> None:
    signum = getattr(signal, name)
    ready = tmp_path / "ready"
    process = _start_run(sp_env, ready)
    try:
        _wait(ready.exists, "CMD started")
        assert len(_runs(sp_env)) == 1
        os.kill(process.pid, signum)
        assert process.wait(timeout=120) == 128 + signum
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
    assert _runs(sp_env) == []


@pytest.mark.parametrize("command", [["list"], ["current"], ["select", "sp"], ["verify"]])
def test_a_folder_left_by_kill_9_goes_with_the_next_command_of_any_kind(
    sp_env: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    ready = tmp_path / "ready"
    process = _start_run(sp_env, ready)
    try:
        _wait(ready.exists, "CMD started")
        left = _runs(sp_env)
        assert len(left) == 1
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # CMD too
    assert _runs(sp_env) == left  # SIGKILL cannot be caught: it is there until ...
    done = run(command, sp_env)
    assert done.code == 0, done.describe()
    assert _runs(sp_env) == []  # ... the next command


def test_a_live_run_folder_of_another_pid_namespace_or_a_reused_pid_is_told_apart(
    sp_env: dict[str, str],
) -> None:
    root = runtime.runtime_root(sp_env)
    me = processes.current()
    other_namespace = me._replace(namespace=str(int(me.namespace or "0") + 1))
    reused = me._replace(start=str(int(me.start or "0") + 1))
    folders = {
        "mine": root / f"run-{me.text()}-aaaaaaaa",
        "namespace": root / f"run-{other_namespace.text()}-bbbbbbbb",
        "reused": root / f"run-{reused.text()}-cccccccc",
    }
    for folder in folders.values():
        _private(folder)
    sweep.sweep(sp_env)
    assert folders["mine"].exists() and folders["namespace"].exists()
    assert not folders["reused"].exists()  # this pid, but not the process that made it


def test_azctx_makes_no_core_dump(sp_env: dict[str, str], tmp_path: Path) -> None:
    """Started with core dumps allowed (the soft limit raised to the hard one), azctx
    turns them off for itself before it reads a secret."""
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("core dumps cannot be allowed here (hard limit 0): nothing to show")
    ready = tmp_path / "ready"
    process = _start_run(sp_env, ready, _cores_allowed)
    try:
        _wait(ready.exists, "CMD started")
        status = Path(f"/proc/{process.pid}/status")
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        core = next(line for line in limits.splitlines() if line.startswith("Max core"))
        assert core.split()[4] == "0", core  # the soft limit
        if status.exists():
            # not dumpable: /proc/PID is root's then, whoever runs azctx
            assert os.stat(f"/proc/{process.pid}").st_uid == 0
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def test_the_azure_cli_does_not_bring_a_removed_run_folder_back(
    sp_env: dict[str, str], az: str
) -> None:
    bin_dir = str(Path(az).parent)
    env = {**sp_env, "PATH": f"{bin_dir}:{sp_env.get('PATH', '')}"}
    done = run(["run", "--context", "sp", "--", az, "config", "get", "core"], env, timeout=180)
    assert done.code in (0, 1), done.describe()
    time.sleep(3)  # the CLI's telemetry sender runs after az has exited
    assert _runs(env) == []
    leftovers = list((Path(env["XDG_RUNTIME_DIR"]) / "azctx").glob("*"))
    assert leftovers == []


def test_a_full_runtime_folder_is_one_error_line(
    sp_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from adversarial_support import invoke
    from azctx.store import files

    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "write_all", full)
    outcome = invoke(["run", "--context", "sp", "--", "true"], sp_env)
    assert_error(outcome, 3, "No space left on device")
    assert "internal error" not in outcome.err
    assert _runs(sp_env) == []


def test_the_runtime_folder_is_this_users_and_0700(sp_env: dict[str, str]) -> None:
    root = runtime.runtime_root(sp_env)
    info = os.lstat(root)
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.getuid()
