"""A hostile file system at the path of ``export`` and ``import``: symbolic links (to a
file, to a folder, dangling, to a FIFO), FIFOs, folders, sockets and devices. Every
combination is refused with exit 2 and one error line, never blocks (each command is a
real process with a time limit), never writes through a link, and changes nothing: not
the store, not the folder, not what a link points at; no secret is left anywhere."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from adversarial_support import assert_error, fingerprint, home, invoke, run, store_path

pytestmark = pytest.mark.adversarial

SECRET = "adversarial-files-s3cr3t"
VICTIM_TEXT = '{"DefaultContextKey": "Default", "Contexts": {}, "EnvironmentTable": {}}\n'


def _link_to_file(folder: Path) -> Path:
    victim = folder / "victim.json"
    victim.write_text(VICTIM_TEXT)
    (folder / "target").symlink_to(victim)
    return folder / "target"


def _link_to_folder(folder: Path) -> Path:
    (folder / "victim-dir").mkdir()
    (folder / "target").symlink_to(folder / "victim-dir", target_is_directory=True)
    return folder / "target"


def _dangling_link(folder: Path) -> Path:
    (folder / "target").symlink_to(folder / "would-be-created.json")
    return folder / "target"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "target")
    return folder / "target"


def _link_to_fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe")
    (folder / "target").symlink_to(folder / "pipe")
    return folder / "target"


def _folder(folder: Path) -> Path:
    (folder / "target").mkdir()
    return folder / "target"


def _socket(folder: Path) -> Path:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(folder / "target"))
    server.close()  # the socket file stays
    return folder / "target"


def _device(_folder: Path) -> Path:
    return Path("/dev/zero")  # endless: a reader that does not check would never stop


KINDS: dict[str, Callable[[Path], Path]] = {
    "link-to-file": _link_to_file,
    "link-to-folder": _link_to_folder,
    "dangling-link": _dangling_link,
    "fifo": _fifo,
    "link-to-fifo": _link_to_fifo,
    "folder": _folder,
    "socket": _socket,
    "device": _device,
}
OPERATIONS = {
    "export": ["export"],
    "export-force": ["export", "--force"],
    "export-secrets-force": ["export", "--include-secrets", "--force"],
    "import": ["import"],
    "import-az-cli": ["import", "--from-az-cli"],
}
# Reading through a link to a regular file is allowed (it is what the user named).
ALLOWED = {("link-to-file", "import"), ("link-to-file", "import-az-cli")}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    environ = home(tmp_path_factory.mktemp("files"))
    add = ["add", "--account", "0c0ffee0-1111-4222-8333-444455556666", "--tenant", "t",
           "--subscription", "s", "--name", "sp", "--account-type", "service-principal",
           "--secret-stdin"]  # fmt: skip
    assert invoke(add, environ, stdin=SECRET).code == 0
    yield environ


def _state(folder: Path) -> dict[str, tuple[int, int, bytes | str]]:
    """Every entry under ``folder`` (links not followed): mode, inode, content."""
    found: dict[str, tuple[int, int, bytes | str]] = {}
    for entry in sorted(folder.rglob("*")):
        info = entry.lstat()
        if stat.S_ISLNK(info.st_mode):
            content: bytes | str = os.readlink(entry)
        elif stat.S_ISREG(info.st_mode):
            content = entry.read_bytes()
        else:
            content = b""
        found[str(entry.relative_to(folder))] = (info.st_mode, info.st_ino, content)
    return found


CASES = [
    (kind, operation)
    for kind in KINDS
    for operation in OPERATIONS
    if (kind, operation) not in ALLOWED
]


@pytest.mark.parametrize(("kind", "operation"), CASES)
def test_a_path_that_is_not_a_regular_file(
    env: dict[str, str], tmp_path: Path, kind: str, operation: str
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    target = KINDS[kind](folder)
    before_store = fingerprint(store_path(env))
    before_folder = _state(folder)

    outcome = run([*OPERATIONS[operation], str(target)], env, timeout=60)

    assert_error(outcome, 2, str(target))
    assert outcome.out == "", outcome.describe()
    assert len(outcome.err.splitlines()) <= 2, outcome.describe()
    assert "internal error" not in outcome.err, outcome.describe()
    assert fingerprint(store_path(env)) == before_store
    assert _state(folder) == before_folder
    for entry in folder.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            assert SECRET.encode() not in entry.read_bytes(), entry
