"""Opening a store whose key file is behind its rotation, and the hint when no key
opens it.

``key rotate`` commits the store's new key records, then moves its new key file into
place. A process that opens the store in between (or after the rotation was killed
there) finds a key file one rotation behind: it waits briefly for a live rotation, and
finishes a dead one itself (``keys.settle_rotations``), so no crash at any point of a
rotation locks the user out. Only keys found beside the configured key file, in the
user's own folder, are ever used: never a path read from the database.
"""

from __future__ import annotations

import time

from . import keyring, keys
from .keys import MasterKey
from .recorder import Recorder

#: How long a process waits for another's live rotation to put the new key in place.
ROTATION_GRACE = 2.0


def checked_master(recorder: Recorder, master: MasterKey, stored_id: str) -> MasterKey:
    """The key that opens the store: ``master``, or the key a rotation (live or killed)
    left beside ``master``'s key file; checked against the key check. Leftovers of
    killed rotations are cleaned up on the way."""
    if master.key_id != stored_id:
        master = rotated_master(recorder, master, stored_id) or master
    elif master.path is not None and keys.rotation_pending(master.path):
        keys.settle_rotations(master.path, master.source, stored_id)
    keyring.check_master(recorder, master, stored_id, wrong_key_hint(recorder, master, stored_id))
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
            fresh, live = keys.settle_rotations(master.path, master.source, wanted)
        if fresh is not None:
            keyring.check_master(recorder, fresh, wanted, wrong_key_hint(recorder, fresh, wanted))
            return fresh
        if not live or time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def wrong_key_hint(recorder: Recorder, master: MasterKey, stored_id: str) -> str:
    """Which files may hold the key the store needs, as far as this process can tell."""
    hint = f"this key's id is {master.key_id}; the store needs key {stored_id}"
    try:
        rotated = recorder.get_meta(keyring.META_ROTATED_KEY_FILE)
    except Exception:  # only a hint: a damaged record must not hide the real error
        rotated = None
    if rotated:
        where = "".join(c for c in rotated.decode("utf-8", "replace") if c.isprintable())
        hint += f", which the last key rotate wrote to {where[:300]}"
    if master.path is not None:
        running = keys.rotation_leftovers(master.path)
        if running:
            hint += f"; a key rotate left {', '.join(str(p) for p in running)}"
    return hint
