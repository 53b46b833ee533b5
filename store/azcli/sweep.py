"""The folders that outlived their owner, removed by the next azctx command of any kind
(a read included): a secret in such a folder outlives its owner by one command at most.

One scan of the runtime folder finds both kinds. A run folder is named
``run-MARK-XXXXXXXX`` with the ``ProcessMark`` of the azctx that made it (a reused pid, or
a process in another pid namespace, does not count as its owner): it goes when that azctx
is gone (killed with SIGKILL). A session folder holds an ``owner`` file: the mark of the
session's shell (``-`` for a session without a shell) and its expiry in seconds since the
epoch; it goes when the shell is gone or the ttl ran out. The sweep reads names and
markers only: no store, no event (the next write records the sessions' ends and destroys
their keys), and nothing heavy is imported, since the prompt commands pay for it too.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Mapping

from azctx.store import processes
from azctx.store.azcli.runtime import RUN_PREFIX, existing_root

OWNER = "owner"
SESSION_PREFIX = "session-"
_RUN = re.compile(rf"{RUN_PREFIX}([0-9a-f.]+)-")


def run_owner(name: str) -> processes.ProcessMark | None:
    """The azctx that made the run folder ``name``, or None for any other name."""
    found = _RUN.match(name)
    if found is None:
        return None
    text = found.group(1)
    if text.isdigit():  # a folder of an older azctx, marked by its pid alone
        return processes.ProcessMark(int(text), "", "", "")
    return processes.parse(text)


def _session_over(directory: str, now: float) -> bool:
    try:
        with open(os.path.join(directory, OWNER), encoding="ascii") as file:
            mark_text, expires_text = file.read().split()[:2]
    except (OSError, ValueError):
        return False  # not a folder this version marks: the next write judges it
    if not expires_text.isdigit() or int(expires_text) <= now:
        return True
    mark = processes.parse(mark_text)
    return mark is not None and not processes.alive(mark)


def _outlived(name: str, path: str, now: float) -> bool:
    if name.startswith(SESSION_PREFIX):
        return _session_over(path, now)
    owner = run_owner(name)
    return owner is not None and not processes.alive(owner)


def sweep(environ: Mapping[str, str]) -> list[str]:
    """Remove the folders whose owner is gone; the ids of the sessions whose folder went.
    Quietly does nothing when there is no runtime folder yet or it cannot be read."""
    root = existing_root(environ)
    if root is None:
        return []
    gone: list[str] = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            if _outlived(entry.name, entry.path, now):
                import shutil  # only when there is something to remove

                shutil.rmtree(entry.path, ignore_errors=True)
                if entry.name.startswith(SESSION_PREFIX):
                    gone.append(entry.name[len(SESSION_PREFIX) :])
    return gone
