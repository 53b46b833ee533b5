"""Rotating the master key, and opening a store whose key file is behind a rotation.

``key rotate`` writes the new key beside the key file (locked, under a name of its own),
commits the store's new key records, then moves the new key file into place. A process
that opens the store in between (or after the rotation was killed there) finds a key file
one rotation behind: it waits briefly for a live rotation and finishes a dead one itself
(``settle_rotations``), so no crash at any point of a rotation locks the user out. Only
keys found beside the configured key file, in the rotation's own leftovers, are tried.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from azctx.events.errors import BadInput, Refused
from azctx.store import locks, paths
from azctx.store.backends.recorder import Recorder
from azctx.store.errors import MalformedKeyError, MissingKeyError
from azctx.store.files import fsync_folder, link_new, write_all
from azctx.store.keys import data_keys
from azctx.store.keys import master as keys
from azctx.store.keys.master import (
    KEY_ENV,
    KeySource,
    MasterKey,
    MasterKeyInfo,
    check_folder,
    encode_key,
    generate_key,
    read_key_file,
)

_LEFTOVER_SUFFIX = ".new"

#: A leftover that holds no whole key and is older than this was cut short by a crash
#: (a live rotation takes its lock right after creating its file).
_STALE_PARTIAL = 60.0


class KeyRotation:
    """A new master key already safely on disk under a temporary name, next to where it
    will live, locked while this object lives. ``commit()`` (after the store's rotation
    committed) moves it into place; ``abandon()`` (if the rotation failed) deletes it.
    If the process dies in between, the next command finishes or cleans up after it
    (``settle_rotations``). Its repr leaves the key out."""

    def __init__(self, key: bytes, path: Path, temp: Path, replaces: bool, fd: int) -> None:
        self.key = key
        self.path = path
        self.temp = temp
        self.replaces = replaces
        self._fd = fd

    def __repr__(self) -> str:
        return f"KeyRotation(path={self.path!r}, temp={self.temp!r}, replaces={self.replaces})"

    def commit(self) -> None:
        try:
            if self.replaces:  # else it is at ``path`` already (``prepare_rotation``)
                os.replace(self.temp, self.path)
                fsync_folder(self.path.parent)
        except OSError as exc:
            raise MissingKeyError(
                f"the store now needs the new key, but it could not be moved to {self.path}:"
                f" {exc.strerror or exc}",
                hint=f"the new key is in {self.temp}; move it to {self.path}",
            ) from None
        finally:
            self._release()

    def abandon(self) -> None:
        with contextlib.suppress(OSError):
            if not self.replaces and os.path.samestat(os.stat(self.path), os.fstat(self._fd)):
                os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.unlink(self.temp)
        self._release()

    def _release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1


def rotation_leftovers(path: Path) -> list[Path]:
    """The ``.NAME.*.new`` files of rotations beside ``path`` (live or not)."""
    prefix = f".{path.name}."
    try:
        with os.scandir(path.parent) as found:
            return sorted(
                Path(entry.path)
                for entry in found
                if entry.name.startswith(prefix) and entry.name.endswith(_LEFTOVER_SUFFIX)
            )
    except OSError:
        return []


def rotation_pending(path: Path) -> bool:
    """True while a rotation's new key waits beside ``path`` to replace it."""
    return bool(rotation_leftovers(path))


def _is_live(leftover: Path) -> bool:
    """Whether a running rotation still holds ``leftover``'s lock."""
    try:
        fd = locks.open_lock_file(leftover, create=False)
    except OSError:
        return False
    try:
        return not locks.hold(fd, shared=True, wait=False)
    except OSError:
        return True  # cannot tell (no flock here): never touch it
    finally:
        os.close(fd)


def _leftover_key(leftover: Path, source: KeySource) -> MasterKey | None:
    """The whole key in a dead rotation's file, or None (deleted if long cut short)."""
    try:
        return read_key_file(leftover, source)
    except (MalformedKeyError, MissingKeyError):
        with contextlib.suppress(OSError):
            if time.time() - os.stat(leftover).st_mtime > _STALE_PARTIAL:
                os.unlink(leftover)
        return None


def settle_rotations(path: Path, source: KeySource, wanted: str) -> tuple[MasterKey | None, bool]:
    """Finish or clean up after rotations killed beside the key file ``path``: a dead
    rotation's key that the store needs (``wanted``, its id) is moved over ``path`` and
    returned (the store committed the rotation, the rename never ran); a dead
    rotation's other keys are deleted (it never committed). The second value says
    whether a rotation is still running there."""
    installed, live = None, False
    for leftover in rotation_leftovers(path):
        if _is_live(leftover):
            live = True
            continue
        key = _leftover_key(leftover, source)
        if key is None:
            continue
        with contextlib.suppress(OSError):
            if key.key_id == wanted and installed is None:
                os.replace(leftover, path)
                fsync_folder(path.parent)
                installed = MasterKey(key.key, source, path)
            else:
                os.unlink(leftover)
    return installed, live


def prepare_rotation(info: MasterKeyInfo, new_key_file: str | Path | None = None) -> KeyRotation:
    """Make a new key and write it (0600, flushed, locked) beside its destination before
    the store is touched: ``new_key_file`` if given (it must not exist yet; the key is
    linked there at once, so after a crash past the commit it is where it was asked to
    be), else the key file in use. A key from ``AZCTX_KEY`` has no file to replace, so
    then ``new_key_file`` is required."""
    path, replaces = _rotation_target(info, new_key_file)
    key = generate_key()
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}{_LEFTOVER_SUFFIX}")
    fd = -1
    try:
        paths.ensure_private_dir(path.parent)
        check_folder(path.parent)
        fd = _write_locked(temp, (encode_key(key) + "\n").encode("ascii"))
        if not replaces:
            # At its final place at once, and by that name only (the lock goes with the
            # file): a crash leaves no temporary name behind, only this new key.
            link_new(str(temp), str(path))
            os.unlink(temp)
        fsync_folder(path.parent)
    except OSError as exc:
        rotation = KeyRotation(key, path, temp, replaces, fd)
        rotation.abandon()
        if isinstance(exc, FileExistsError):
            raise Refused(
                f"{path} already exists", hint="name a new file for the new key"
            ) from None
        raise MissingKeyError(
            f"cannot write the new key next to {path}: {exc.strerror or exc}",
            hint=f"check {path.parent}",
        ) from None
    return KeyRotation(key, path, temp, replaces, fd)


def _rotation_target(info: MasterKeyInfo, new_key_file: str | Path | None) -> tuple[Path, bool]:
    if new_key_file is not None:
        path = Path(new_key_file).expanduser()
        if path.exists():
            raise Refused(f"{path} already exists", hint="name a new file for the new key")
        return path, False
    if info.source in ("file", "env-file") and info.path is not None:
        return info.path, True
    raise BadInput(
        f"the master key comes from {KEY_ENV}, so there is no key file to replace",
        hint="give --new-key-file PATH, then point AZCTX_KEY_FILE (or AZCTX_KEY) at it",
    )


def _write_locked(path: Path, data: bytes) -> int:
    """Create ``path`` (0600), lock it, then write and flush ``data``; returns the open,
    locked descriptor."""
    fd = locks.open_lock_file(path, new=True)
    try:
        with contextlib.suppress(OSError):  # no flock here: a leftover counts as live
            locks.hold(fd)
        os.fchmod(fd, 0o600)
        write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: How long a process waits for another's live rotation to put the new key in place.
ROTATION_GRACE = 2.0


def checked_master(recorder: Recorder, master: MasterKey, stored_id: str) -> MasterKey:
    """The key that opens the store: ``master``, or the key a rotation (live or killed)
    left beside ``master``'s key file; checked against the key check. Leftovers of
    killed rotations are cleaned up on the way."""
    if master.key_id != stored_id:
        master = rotated_master(recorder, master, stored_id) or master
    elif master.path is not None and rotation_pending(master.path):
        settle_rotations(master.path, master.source, stored_id)
    data_keys.check_master(recorder, master, stored_id, wrong_key_hint(recorder, master, stored_id))
    return master


def rotated_master(recorder: Recorder, master: MasterKey, wanted: str) -> MasterKey | None:
    """The key now in (or beside) ``master``'s key file, if it is the one the store
    needs (id ``wanted``): another process rotated the key. While that rotation is
    still running we wait for it, briefly."""
    if master.path is None:
        return None
    deadline = time.monotonic() + ROTATION_GRACE
    while True:
        fresh = keys.read_key_file(master.path, master.source)
        live = False
        if fresh is None or fresh.key_id != wanted:
            fresh, live = settle_rotations(master.path, master.source, wanted)
        if fresh is not None:
            data_keys.check_master(recorder, fresh, wanted, wrong_key_hint(recorder, fresh, wanted))
            return fresh
        if not live or time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def wrong_key_hint(recorder: Recorder, master: MasterKey, stored_id: str) -> str:
    """Which files may hold the key the store needs, as far as this process can tell."""
    hint = f"this key's id is {master.key_id}; the store needs key {stored_id}"
    try:
        rotated = recorder.get_meta(data_keys.META_ROTATED_KEY_FILE)
    except Exception:  # only a hint: a damaged record must not hide the real error
        rotated = None
    if rotated:
        where = "".join(c for c in rotated.decode("utf-8", "replace") if c.isprintable())
        hint += f", which the last key rotate wrote to {where[:300]}"
    if master.path is not None:
        running = rotation_leftovers(master.path)
        if running:
            hint += f"; a key rotate left {', '.join(str(p) for p in running)}"
    return hint
