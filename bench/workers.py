"""Child processes of the benchmark (run as ``python bench/workers.py KIND ...``).

``writer STORE COUNT NAME...``: open the store, print ``ready``, wait for a line on
stdin (so every writer of a round starts together, imports done), then make COUNT
selects through ``ContextStore``, cycling through the names; print the end time.

``replay-rss STORE``: rebuild the state from operation 0 and print, as JSON, the
resident memory before the replay, the peak after it, and the operation count.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def writer(store: str, count: int, names: list[str]) -> None:
    from azctx.store.context_store import ContextStore

    with ContextStore(store) as contexts:
        contexts.current()  # the store is open and every import is done
        print("ready", flush=True)
        sys.stdin.readline()
        for index in range(count):
            contexts.select(names[(index + os.getpid()) % len(names)])
    print(json.dumps({"end": time.time()}))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def replay_rss(store: str) -> None:
    from azctx.events import decode
    from azctx.projections.state import State, replay
    from azctx.store import open_log

    with open_log(store) as log:
        before = _rss_mb()
        started = time.perf_counter()
        state = replay(State.empty(), ((e.seq, decode(e.payload)) for e in log.entries()))
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"before_mb": before, "peak_mb": peak, "ops": state.seq, "s": elapsed}))


def main(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "writer":
        writer(rest[0], int(rest[1]), rest[2:])
    elif kind == "replay-rss":
        replay_rss(rest[0])
    else:
        raise SystemExit(f"unknown worker {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
