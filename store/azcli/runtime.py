"""azctx's runtime folder, where the private Azure CLI folders of ``run`` and of shell
sessions live: which folder it is and why it can be trusted.

The folder is ``azctx`` in ``$XDG_RUNTIME_DIR``, else ``azctx-UID`` in ``/dev/shm``, else
in the temp folder: the first one that passes the checks below. A path is only as safe
as every folder on the way to it, since whoever may write a folder can swap what is in
it. So each folder from ``/`` down to the runtime folder must be owned by root or by
this user, and one that others may write must be sticky (``/tmp``, ``/dev/shm``: there
nobody but its owner renames or removes an entry). ``$XDG_RUNTIME_DIR`` itself must be
this user's, mode 0700 and not a symbolic link, as the XDG rule says; azctx's own folder
must be this user's real directory (it is made 0700). Once those hold, no other
(unprivileged) user can change the path under azctx between a check and its use, which
is why the folder can then be used by its path. A candidate that fails is passed over
for the next one, never "repaired".

Run folders are named ``run-MARK-XXXXXXXX`` with the ``ProcessMark`` of the azctx that
made them (pid, start time, boot, pid namespace: a reused pid or a process in another
container does not count as the owner); ``sweep`` removes those whose owner is gone.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from azctx.events.errors import StoreError
from azctx.store import processes

RUN_PREFIX = "run-"


def setting(environ: Mapping[str, str], name: str) -> str | None:
    """A variable from ``environ``, else from this process's environment: a library
    caller's ``environ`` holds azctx's variables, the folders are the process's."""
    return environ[name] if name in environ else os.environ.get(name)


def _candidates(environ: Mapping[str, str]) -> Iterator[tuple[Path, bool]]:
    """Each candidate folder, and whether its parent must be this user's own (0700)."""
    uid = os.getuid()
    runtime = setting(environ, "XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        yield Path(runtime) / "azctx", True
    yield Path("/dev/shm") / f"azctx-{uid}", False
    temp = setting(environ, "TMPDIR") or "/tmp"
    if os.path.isabs(temp):
        yield Path(temp) / f"azctx-{uid}", False


def _trusted_way(folder: str) -> bool:
    """Whether every folder from ``/`` to ``folder`` (its real path) is root's or this
    user's, and sticky wherever others may write it."""
    uid = os.getuid()
    path = Path(os.path.realpath(folder))
    for step in (*reversed(path.parents), path):
        try:
            info = os.lstat(step)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (0, uid):
            return False
        shared = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if shared and not info.st_mode & stat.S_ISVTX:
            return False
    return True


def _own_private_folder(path: Path) -> bool:
    """``$XDG_RUNTIME_DIR``: this user's real directory, open to nobody else."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def _usable_parent(parent: Path, own: bool) -> bool:
    if own and not _own_private_folder(parent):
        return False
    return _trusted_way(str(parent))


def check_private_dir(path: Path) -> bool:
    """Whether ``path`` is this user's real directory (not a link), made 0700 if it is."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return True


def existing_root(environ: Mapping[str, str]) -> Path | None:
    """The runtime folder if it exists already (nothing is created)."""
    for candidate, own in _candidates(environ):
        if not _usable_parent(candidate.parent, own):
            continue
        with contextlib.suppress(OSError):
            if check_private_dir(candidate):
                return candidate
    return None


def runtime_root(environ: Mapping[str, str]) -> Path:
    """azctx's own 0700 folder on the first trusted one of ``$XDG_RUNTIME_DIR``,
    ``/dev/shm`` and the temp folder, created if need be."""
    for candidate, own in _candidates(environ):
        if not _usable_parent(candidate.parent, own):
            continue
        with contextlib.suppress(FileExistsError, PermissionError):
            os.mkdir(candidate, 0o700)
        with contextlib.suppress(OSError):
            if check_private_dir(candidate):
                return candidate
    raise StoreError(
        "no private folder for the Azure CLI's files",
        hint="set XDG_RUNTIME_DIR to a folder only you can use (mode 0700)",
    )


def inside(root: Path, name: str) -> Path:
    """``root / name``, checked after joining to be an entry of ``root`` itself: a name
    read from a store (a session id) never leads anywhere else."""
    path = root / name
    if name in ("", ".", "..") or os.sep in name or os.path.dirname(path) != str(root):
        raise StoreError(f"refusing the folder name {name[:80]!r}: not inside {root}")
    return path


def run_prefix() -> str:
    """The name prefix of this process's run folders."""
    return f"{RUN_PREFIX}{processes.current().text()}-"
