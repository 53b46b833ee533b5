"""The files ``export`` writes and ``import`` reads (store/files.py), through the CLI:
no write through a symbolic link, nothing but regular files, never a block on a FIFO,
and a failed or interrupted export leaves the target as it was and no stray file."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azctx.store import files
from azctx.store.context_store import ContextStore
from typer.testing import CliRunner, Result

SECRET = "export-s3cr3t-\u00e9"
OLD = '{"old": "content"}\n'


@dataclass(frozen=True)
class Azctx:
    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "AZCTX_STORE": str(self.root / "store.db"),
            "AZCTX_KEY_FILE": str(self.root / "key"),
        }

    def __call__(self, *args: str) -> Result:
        from azctx.cli.commands import app

        unset: dict[str, str | None] = {"AZCTX_SESSION": None, "AZCTX_AUTOSAVE": None}
        return CliRunner().invoke(app, list(args), env={**unset, **self.env})

    def process(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A real azctx process: a FIFO that blocked it would fail the test, not hang."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
        return subprocess.run(
            [sys.executable, "-m", "azctx.cli", *args],
            env={**env, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def history(self) -> Any:
        result = self("history", "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


class Blocked(Exception):
    """A test blocked (on a FIFO) instead of being refused at once."""


@pytest.fixture(autouse=True)
def never_block() -> Iterator[None]:
    """In-process tests that would block on a FIFO fail instead of hanging the suite."""

    def blocked(_signum: int, _frame: object) -> None:
        raise Blocked("blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def azctx(tmp_path: Path) -> Azctx:
    root = tmp_path / "home"
    root.mkdir()
    with ContextStore(root / "store.db", environ={"AZCTX_KEY_FILE": str(root / "key")}) as lib:
        lib.add(
            account="0c0ffee0-1111-4222-8333-444455556666",
            account_type="service-principal",
            tenant="72f988bf-86f1-41af-91ab-2d7cd011db47",
            subscription="a1b2c3d4-0000-4000-8000-000000000001",
            name="sp",
            secret=SECRET,
        )
    return Azctx(root)


def snapshot(folder: Path) -> dict[str, tuple[str, int, bytes | str]]:
    """Every entry of ``folder``: kind, inode, and content or link target."""
    found: dict[str, tuple[str, int, bytes | str]] = {}
    for entry in sorted(folder.iterdir()):
        info = entry.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[entry.name] = ("link", info.st_ino, os.readlink(entry))
        elif stat.S_ISREG(info.st_mode):
            found[entry.name] = ("file", info.st_ino, entry.read_bytes())
        else:
            found[entry.name] = (stat.filemode(info.st_mode), info.st_ino, b"")
    return found


def no_secret_under(folder: Path) -> None:
    for entry in folder.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            assert SECRET.encode() not in entry.read_bytes(), entry


def one_error(result: Result | subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    assert exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2, result.stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), result.stderr
    for needle in needles:
        assert needle in lines[0], result.stderr


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("force", [False, True])
def test_export_never_writes_through_a_symlink(azctx: Azctx, tmp_path: Path, force: bool) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text(OLD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "ctx.json").symlink_to(victim)
    before = snapshot(out)
    args = ["export", str(out / "ctx.json"), "--include-secrets", *(["--force"] if force else [])]
    one_error(azctx(*args), 2, "symbolic link")
    assert victim.read_text() == OLD
    assert snapshot(out) == before


def test_export_to_a_dangling_symlink_creates_nothing(azctx: Azctx, tmp_path: Path) -> None:
    (tmp_path / "ctx.json").symlink_to(tmp_path / "created-through-the-link.json")
    one_error(azctx("export", str(tmp_path / "ctx.json"), "--force"), 2, "symbolic link")
    assert not (tmp_path / "created-through-the-link.json").exists()


@pytest.mark.parametrize("force", [False, True])
def test_export_to_a_fifo_is_refused_without_blocking(
    azctx: Azctx, tmp_path: Path, force: bool
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = azctx.process("export", str(fifo), "--include-secrets", *(["--force"] * force))
    one_error(result, 2, "not a regular file (a FIFO)")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "pipe"]


def test_export_to_a_directory_is_refused(azctx: Azctx, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    one_error(azctx("export", str(folder), "--force"), 2, "is a directory")
    assert list(folder.iterdir()) == []


def test_export_over_an_existing_file_needs_force(azctx: Azctx, tmp_path: Path) -> None:
    target = tmp_path / "ctx.json"
    target.write_text(OLD)
    one_error(azctx("export", str(target)), 1, "exists")
    assert target.read_text() == OLD


def test_force_replaces_the_file_whole_and_private(azctx: Azctx, tmp_path: Path) -> None:
    target = tmp_path / "ctx.json"
    target.write_text(OLD)
    target.chmod(0o644)
    inode = target.stat().st_ino
    result = azctx("export", str(target), "--include-secrets", "--force")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("exported 1 context(s)") and result.stderr == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != inode  # a new file renamed over the old one
    document = json.loads(target.read_text(encoding="utf-8"))
    assert list(document["Contexts"]) == ["sp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctx.json", "home"]


def test_a_new_export_without_secrets_follows_the_umask(azctx: Azctx, tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        result = azctx("export", str(tmp_path / "ctx.json"))
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "ctx.json").stat().st_mode) == 0o640


def _failing(name: str, error: int) -> Callable[..., Any]:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(error, os.strerror(error))

    fail.__name__ = name
    return fail


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(
    ("call", "error", "reason"),
    [
        ("fchmod", errno.EPERM, "Operation not permitted"),
        ("fsync", errno.EIO, "Input/output error"),
        ("replace", errno.EXDEV, "Invalid cross-device link"),
        ("link", errno.EXDEV, "Invalid cross-device link"),
    ],
)
def test_a_failing_export_changes_nothing_and_leaves_no_stray_file(
    azctx: Azctx,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    force: bool,
    call: str,
    error: int,
    reason: str,
) -> None:
    azctx.history()  # the store is open and settled before a system call is made to fail
    target = tmp_path / "out" / "ctx.json"
    target.parent.mkdir()
    if force:
        target.write_text(OLD)
    before = snapshot(target.parent)
    monkeypatch.setattr(os, call, _failing(call, error))
    args = ["export", str(target), "--include-secrets", *(["--force"] * force)]
    result = azctx(*args)
    monkeypatch.undo()
    if (call, force) in (("replace", False), ("link", True)):  # not on this path
        assert result.exit_code == 0, result.stderr
        return
    one_error(result, 2, f"cannot export to {target}: {reason}")
    assert "Traceback" not in result.stderr
    assert snapshot(target.parent) == before
    no_secret_under(tmp_path)


def test_a_write_cut_short_leaves_the_old_file(
    azctx: Azctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up after the first bytes: the target keeps its old content."""
    target = tmp_path / "ctx.json"
    target.write_text(OLD)
    real_write = os.write
    calls: list[int] = []

    def write(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, bytes(data[:10]))

    azctx.history()
    monkeypatch.setattr(files.os, "write", write)
    result = azctx("export", str(target), "--include-secrets", "--force")
    monkeypatch.undo()
    one_error(result, 2, "No space left on device")
    assert target.read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctx.json", "home"]


def test_an_interrupted_export_removes_its_temporary_file(
    azctx: Azctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ctx.json"
    target.write_text(OLD)

    def interrupt(_fd: int) -> None:
        raise KeyboardInterrupt

    azctx.history()
    monkeypatch.setattr(os, "fsync", interrupt)
    result = azctx("export", str(target), "--include-secrets", "--force")
    monkeypatch.undo()
    assert result.exit_code != 0
    assert target.read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctx.json", "home"]


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_put_at_the_target_meanwhile_is_not_followed(
    azctx: Azctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force: bool
) -> None:
    """Between the check and the final rename or link, someone puts a symbolic link at
    the target: the rename replaces the link itself, the link refuses to overwrite."""
    victim = tmp_path / "victim.json"
    victim.write_text(OLD)
    target = tmp_path / "ctx.json"
    real_fsync = os.fsync

    def fsync_then_plant(fd: int) -> None:
        real_fsync(fd)
        if not target.is_symlink():
            target.symlink_to(victim)

    azctx.history()
    monkeypatch.setattr(os, "fsync", fsync_then_plant)
    result = azctx("export", str(target), "--include-secrets", *(["--force"] * force))
    monkeypatch.undo()
    assert victim.read_text() == OLD
    if force:
        assert result.exit_code == 0, result.stderr
        assert not target.is_symlink() and "sp" in json.loads(target.read_text())["Contexts"]
    else:
        one_error(result, 1, "exists")
        assert target.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctx.json", "home", "victim.json"]


# ---------------------------------------------------------------- import


def test_import_of_a_fifo_is_refused_without_blocking(azctx: Azctx, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "link").symlink_to(fifo)
    before = azctx.history()
    for path in (fifo, tmp_path / "link"):
        one_error(azctx.process("import", str(path)), 2, "not a regular file (a FIFO)")
    assert azctx.history() == before


def test_import_stats_before_it_opens(
    azctx: Azctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    opened: list[str] = []
    real_open = os.open

    def record(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    azctx.history()
    monkeypatch.setattr(files.os, "open", record)
    result = azctx("import", str(fifo))
    monkeypatch.undo()
    one_error(result, 2, "a FIFO")
    assert str(fifo) not in opened


def test_import_checks_what_it_opened(
    azctx: Azctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path turns into a FIFO between the check and the open: the open does not
    block (O_NONBLOCK) and the check of the open file refuses it."""
    regular = tmp_path / "regular.json"
    regular.write_text("{}")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    real_stat = os.stat

    def stat_sees_a_file(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        return real_stat(regular if os.fspath(path) == str(fifo) else path, *args, **kwargs)

    before = azctx.history()
    monkeypatch.setattr(files.os, "stat", stat_sees_a_file)
    result = azctx("import", str(fifo))
    monkeypatch.undo()
    one_error(result, 2, "a FIFO")
    assert azctx.history() == before


def test_import_of_a_directory_or_dangling_link(azctx: Azctx, tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere.json")
    before = azctx.history()
    one_error(azctx("import", str(tmp_path)), 2, "is a directory")
    one_error(azctx("import", str(tmp_path / "dangling")), 2, "no such file")
    assert azctx.history() == before


def test_import_through_a_symlink_to_a_regular_file(azctx: Azctx, tmp_path: Path) -> None:
    exported = tmp_path / "ctx.json"
    assert azctx("export", str(exported)).exit_code == 0
    (tmp_path / "link.json").symlink_to(exported)
    result = azctx("import", str(tmp_path / "link.json"))
    assert result.exit_code == 0, result.stderr
    assert "imported 1 context(s)" in result.stdout


def test_a_target_name_near_the_length_limit(azctx: Azctx, tmp_path: Path) -> None:
    """The temporary file's longer name still fits beside a 250-byte target name."""
    target = tmp_path / ("\u00e9" * 120 + "x.json")  # 246 bytes in UTF-8
    result = azctx("export", str(target), "--include-secrets")
    assert result.exit_code == 0, result.stderr
    assert "sp" in json.loads(target.read_text(encoding="utf-8"))["Contexts"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", target.name]
