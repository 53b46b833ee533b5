"""Child processes of the benchmark (run as ``python bench/workers.py KIND ...``).

``writer STORE COUNT NAME...``: open the store, print ``ready``, then for every line
read on stdin (so every writer of a round starts together, imports done) make COUNT
selects through ``ContextStore``, cycling through the names, and print when it
started and ended them;
exit at the end of stdin (one process serves every round of a figure).

``raw-writer DATABASE COUNT``: the same, but each operation is a raw ``sqlite3``
single-row INSERT (WAL, ``synchronous=FULL``) taken in turn through azctx's write queue:
what the queue and SQLite alone allow, the reference for ``writer``.

``replay-rss STORE``: rebuild the state from operation 0 and print, as JSON, the
resident memory before the replay, the peak after it, and the operation count.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path


def writer(store: str, count: int, names: list[str]) -> None:
    from azctx.store.context_store import ContextStore

    with ContextStore(store) as contexts:
        contexts.current()  # the store is open and every import is done
        print("ready", flush=True)
        turn = os.getpid()
        for _go in sys.stdin:
            start = time.time()
            for _ in range(count):
                contexts.select(names[turn % len(names)])
                turn += 1
            print(json.dumps({"start": start, "end": time.time()}), flush=True)


def raw_writer(database: str, count: int) -> None:
    import internals  # noqa: F401  (its imports done before ``ready``, as the writer's are)

    conn = sqlite3.connect(database, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous = FULL")
    path = Path(database)
    print("ready", flush=True)
    for _go in sys.stdin:
        start = time.time()
        _raw_round(conn, path, count)
        print(json.dumps({"start": start, "end": time.time()}), flush=True)
    conn.close()


def _raw_round(conn: sqlite3.Connection, path: Path, count: int) -> None:
    from internals import write_turn

    for _ in range(count):
        with write_turn(path):
            conn.execute("BEGIN IMMEDIATE")
            # Like an append: read the head, then write the row after it.
            (head,) = conn.execute("SELECT coalesce(max(seq), 0) FROM log").fetchone()
            conn.execute(
                "INSERT INTO log (seq, time, kind, scope, session, key_id, nonce, ciphertext,"
                " prev_hash, hash) VALUES (?, ?, 'select', 'user', NULL, 'log-0', ?, ?, ?, ?)",
                (head + 1, time.time_ns() // 1000, os.urandom(12), os.urandom(400),
                 bytes(32), bytes(32)),
            )  # fmt: skip
            conn.execute("COMMIT")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def replay_rss(store: str) -> None:
    import internals  # every import of the replay done before the baseline

    before = _rss_mb()
    started = time.perf_counter()
    ops = internals.full_replay(store)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"before_mb": before, "peak_mb": peak, "ops": ops, "s": elapsed}))


def main(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "writer":
        writer(rest[0], int(rest[1]), rest[2:])
    elif kind == "raw-writer":
        raw_writer(rest[0], int(rest[1]))
    elif kind == "replay-rss":
        replay_rss(rest[0])
    else:
        raise SystemExit(f"unknown worker {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
