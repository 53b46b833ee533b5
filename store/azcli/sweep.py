"""Session folders whose shell is gone or whose ttl ran out, removed by the next azctx
command of any kind (a read included): a secret in such a folder outlives its shell
by one command at most.

Each session folder holds an ``owner`` file: the mark of the session's shell (as
``store.processes`` writes it, or ``-`` for a session without a shell) and its expiry
in seconds since the epoch. The sweep reads those markers only: one scan of the
runtime folder, no store, no event (the next write records the ends and destroys the
session keys).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from azctx.store import processes
from azctx.store.azcli.folders import remove_dir, write_private
from azctx.store.azcli.runtime import existing_root

OWNER = "owner"
SESSION_PREFIX = "session-"


def write_owner(directory: Path, shell: str | None, expires: datetime) -> None:
    write_private(directory / OWNER, f"{shell or '-'}\n{int(expires.timestamp())}\n")


def _dead(directory: str, now: float) -> bool:
    try:
        with open(os.path.join(directory, OWNER), encoding="ascii") as file:
            mark_text, expires_text = file.read().split()[:2]
    except (OSError, ValueError):
        return False  # not a folder this version marks: the next write judges it
    if not expires_text.isdigit() or int(expires_text) <= now:
        return True
    mark = processes.parse(mark_text)
    return mark is not None and not processes.alive(mark)


def sweep(environ: Mapping[str, str]) -> list[str]:
    """Remove the folders of dead sessions; the session ids whose folder went."""
    root = existing_root(environ)
    if root is None:
        return []
    gone: list[str] = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            if entry.name.startswith(SESSION_PREFIX) and _dead(entry.path, now):
                remove_dir(Path(entry.path))
                gone.append(entry.name[len(SESSION_PREFIX) :])
    return gone
