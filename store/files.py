"""The files ``import`` reads and ``export`` writes, and the one atomic write every
file azctx writes goes through (``write_atomically``).

Both refuse anything that is not a regular file (a directory, a FIFO, a device, a
socket) with exit 2 and one line, and neither can block on one: ``import`` checks what
the path is before opening it, opens without blocking and checks again what it opened;
``export`` never opens the target at all. It writes a temporary file in the target's
directory (0600 when it holds secrets, from its creation on), flushes it to disk and
then links it into place (a new file) or renames it over the old one (``--force``), so
the target is either what it was or the whole new export, never an empty or partial
file, and a symbolic link at the target is refused, never written through. Any failure
removes the temporary file again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from azctx.events import BadInput, Refused

#: Where a file system has no hard links, a new export is created in place instead.
_NO_HARD_LINKS = {
    errno.EPERM,
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EMLINK,
    errno.ENOSYS,
}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def read_import_file(path: str) -> str:
    """The text of an import file; exit 2 for anything that is not a readable regular
    file within the size limit. A FIFO or a device is refused before it is opened, and
    the open itself cannot block (the path may change in between)."""
    text = _read_import(path, missing_ok=False)
    assert text is not None  # missing_ok=False raises instead
    return text


def read_file_beside(path: str) -> str | None:
    """The text of a file an import reads beside its own (the Azure CLI's stored
    service principals and custom clouds), or None when there is none; refused as
    ``read_import_file`` refuses anything else."""
    return _read_import(path, missing_ok=True)


def _read_import(path: str, *, missing_ok: bool) -> str | None:
    from azctx.projections.formats.plans import MAX_IMPORT_BYTES

    try:
        _check_import(path, os.stat(path))
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        if missing_ok:
            return None
        raise BadInput(f"cannot import {path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {_reason(exc)}") from None
    try:
        info = os.fstat(fd)
        _check_import(path, info)
        if info.st_size > MAX_IMPORT_BYTES:
            limit = MAX_IMPORT_BYTES // (1024 * 1024)
            raise BadInput(f"cannot import {path}: larger than the {limit} MiB limit")
        data = _read_all(fd, MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {_reason(exc)}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_IMPORT_BYTES:  # it grew after the check
        raise BadInput(f"cannot import {path}: larger than the size limit")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"cannot import {path}: not UTF-8 text") from None


def _check_import(path: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise BadInput(f"cannot import {path}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"cannot import {path}: not a regular file ({_kind(info.st_mode)})")


def _read_all(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def write_export_file(path: str, text: str, *, private: bool, force: bool) -> None:
    """Write an export: never over an existing file without ``force`` (exit 1), never
    through a symbolic link or into anything but a regular file (exit 2), and never a
    partial file: the target holds its old content or the whole export. A file holding
    secrets is 0600 before its first byte is written."""
    _check_export_target(path, force=force)
    try:
        write_atomically(path, text.encode("utf-8"), private=private, overwrite=force)
    except FileExistsError:
        if force:  # only a directory cannot be renamed over
            raise BadInput(f"cannot export to {path}: it is a directory") from None
        raise Refused(f"{path} exists", hint="pass --force to overwrite it") from None
    except IsADirectoryError:
        raise BadInput(f"cannot export to {path}: it is a directory") from None
    except OSError as exc:
        raise BadInput(f"cannot export to {path}: {_reason(exc)}") from None


def _check_export_target(path: str, *, force: bool) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BadInput(f"cannot export to {path}: {_reason(exc)}") from None
    if stat.S_ISLNK(info.st_mode):
        raise BadInput(f"cannot export to {path}: it is a symbolic link (never written through)")
    if stat.S_ISDIR(info.st_mode):
        raise BadInput(f"cannot export to {path}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"cannot export to {path}: not a regular file ({_kind(info.st_mode)})")
    if not force:
        raise Refused(f"{path} exists", hint="pass --force to overwrite it")


# --- the one atomic write ---------------------------------------------------------------


def write_atomically(
    path: str | os.PathLike[str], data: bytes, *, private: bool = True, overwrite: bool = True
) -> None:
    """Put ``data`` at ``path`` whole or not at all: every file azctx writes goes
    through here (exports, key files, the Azure CLI folders' files).

    A temporary file is created beside ``path`` (``O_EXCL|O_NOFOLLOW``: never an
    existing file, never through a link) with its final mode from creation on (0600
    when ``private``, else 0644 less the umask), written and flushed to disk; then it
    is renamed over ``path`` (``overwrite``; a link there is replaced, not followed) or
    linked in as a new name (``FileExistsError`` when anything is there), and the folder
    is flushed so the new name lasts too. Any failure is the ``OSError`` it was, with the
    temporary file removed."""
    target = os.fspath(path)
    temporary = _write_temporary(target, data, private=private)
    try:
        if overwrite:
            os.replace(temporary, target)
        else:
            link_new(temporary, target)
            _remove_quietly(temporary)
    except BaseException:
        _remove_quietly(temporary)
        raise
    _sync_directory(target)


def _write_temporary(path: str, data: bytes, *, private: bool) -> str:
    """A new file beside ``path`` holding ``data``, flushed to disk; its name."""
    folder, name = os.path.split(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    # shortened so that a target name near the file system's limit still fits
    short = os.fsdecode(os.fsencode(name)[:200])
    temporary = os.path.join(folder, f".{short}.{os.urandom(6).hex()}.azctx-tmp")
    fd = os.open(temporary, flags, 0o600 if private else 0o644)
    try:
        try:
            if private:
                os.fchmod(fd, 0o600)  # whatever the umask
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(temporary)
        raise
    return temporary


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd`` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def link_new(temporary: str, path: str) -> None:
    """``temporary`` linked in as the new name ``path``, which must not exist
    (``FileExistsError``, also for a link there: never followed)."""
    try:
        os.link(temporary, path, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        _create_from(temporary, path)


def _create_from(temporary: str, path: str) -> None:
    """Without hard links: create ``path`` exclusively (never through a symbolic link)
    with the temporary file's mode and content; removed again if that fails."""
    mode = stat.S_IMODE(os.stat(temporary).st_mode)
    with open(temporary, "rb") as source:
        data = source.read()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, mode)
    try:
        try:
            os.fchmod(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(path)
        raise


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries to disk, so a name just created or renamed in it lasts;
    an ``OSError`` when that fails (key rotation must know)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(path: str) -> None:
    """Best effort: make the new name durable too."""
    with contextlib.suppress(OSError):
        fsync_folder(os.path.dirname(os.path.abspath(path)))


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


__all__ = ["read_file_beside", "read_import_file", "write_atomically", "write_export_file"]
