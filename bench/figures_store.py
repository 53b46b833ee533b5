"""The figures of the store itself: replay, append, concurrent writers, growth, memory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import internals
from figures_cli import azctx_argv
from report import Row, at_least, at_most, fmt, ratio_row
from stores import BenchStore, Sizes, context_names, new_store
from timing import Command, interleave, median, run_once

HERE = Path(__file__).resolve().parent


def _rate(work: Callable[[], int]) -> Callable[[], float]:
    def once() -> float:
        started = time.perf_counter()
        count = work()
        return count / (time.perf_counter() - started)

    return once


# -- replay ------------------------------------------------------------------------------


def replay_figure(store: BenchStore, size: int, rounds: int) -> Row:
    key = internals.log_data_key(store)
    samples = interleave(
        {
            "replay": _rate(lambda: internals.full_replay(store.path, store.env)),
            "floor": _rate(lambda: internals.floor_loop(store, key)),
        },
        rounds,
    )
    return ratio_row(
        f"replay from op 0 / floor loop ({size:,} ops)",
        median(samples["replay"]),
        median(samples["floor"]),
        "ops/s",
        "≥ 0.5",
        at_least(0.5),
    )


# -- append ------------------------------------------------------------------------------


_RAW_SCHEMA = """CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL, scope TEXT,
    session TEXT, key_id TEXT NOT NULL, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL,
    prev_hash BLOB NOT NULL, hash BLOB NOT NULL)"""


def _raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(_RAW_SCHEMA)
    return conn


def _raw_inserts(conn: sqlite3.Connection, count: int, row_bytes: int) -> int:
    """``count`` single-row transactions, each a row about the size azctx writes."""
    for _ in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO log (time, kind, scope, session, key_id, nonce, ciphertext,"
            " prev_hash, hash) VALUES (?, 'select', 'user', NULL, 'log-0', ?, ?, ?, ?)",
            (time.time_ns() // 1000, os.urandom(12), os.urandom(row_bytes), bytes(32), bytes(32)),
        )
        conn.execute("COMMIT")
    return count


def append_figure(root: Path, sizes: Sizes, rounds: int) -> Row:
    from azctx.store.context_store import ContextStore

    store = new_store(root / "append")
    internals.grow(store, 100)
    row_bytes = internals.average_row_bytes(store)
    names = context_names()
    raw = _raw_connection(root / "append" / "raw.db")
    block = sizes.append_block
    with ContextStore(store.path, environ=store.env) as contexts:
        turn = iter(range(10**9))

        def ours() -> int:
            for _ in range(block):
                contexts.select(names[next(turn) % len(names)])
            return block

        samples = interleave(
            {"azctx": _rate(ours), "raw": _rate(lambda: _raw_inserts(raw, block, row_bytes))},
            rounds,
        )
    raw.close()
    return ratio_row(
        "append: `ContextStore` op / raw sqlite3 INSERT",
        median(samples["azctx"]),
        median(samples["raw"]),
        "ops/s",
        "≥ 0.5",
        at_least(0.5),
    )


# -- concurrency -------------------------------------------------------------------------


class Writers:
    """``processes`` workers ``argv`` that serve every round of a figure: each prints
    ``ready`` once, then for every ``go`` makes its operations and prints when it
    started and ended them. A round lasts from the first start to the last end (the
    time a sleeping process takes to wake up to ``go`` is not a write's)."""

    def __init__(self, argv: list[str], env: dict[str, str], processes: int, ops: int) -> None:
        self.ops = ops
        self.children = [
            subprocess.Popen(
                argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in range(processes)
        ]
        for child in self.children:
            if self._line(child) != "ready":
                raise RuntimeError("a writer did not start")

    @staticmethod
    def _line(child: subprocess.Popen[str]) -> str:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"a writer ended early (exit code {child.wait()})")
        return line.strip()

    def round(self) -> float:
        """Total throughput of one round, from the first writer's start to the last
        writer's end."""
        for child in self.children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        spans = [json.loads(self._line(child)) for child in self.children]
        started = min(float(span["start"]) for span in spans)
        ended = max(float(span["end"]) for span in spans)
        return len(self.children) * self.ops / (ended - started)

    def close(self) -> None:
        for child in self.children:
            assert child.stdin is not None
            child.stdin.close()
        for child in self.children:
            if child.wait() != 0:
                raise RuntimeError(f"a writer failed with exit code {child.returncode}")


def concurrency_figure(root: Path, sizes: Sizes, rounds: int) -> Iterator[Row]:
    """azctx's 4-writer / 1-writer throughput over raw SQLite's on the same queue: the
    four contenders interleaved in the same rounds."""
    store = new_store(root / "concurrency")
    internals.grow(store, 100)
    ops = sizes.writer_ops
    worker = [sys.executable, str(HERE / "workers.py")]
    ours = [*worker, "writer", str(store.path), str(ops), *context_names()]
    raw_db = root / "concurrency" / "raw.db"
    _raw_connection(raw_db).close()
    theirs = [*worker, "raw-writer", str(raw_db), str(ops)]
    pools = {
        "ours 4": Writers(ours, store.env, 4, ops),
        "ours 1": Writers(ours, store.env, 1, ops),
        "raw 4": Writers(theirs, store.env, 4, ops),
        "raw 1": Writers(theirs, store.env, 1, ops),
    }
    try:
        samples = interleave({name: pool.round for name, pool in pools.items()}, rounds)
    finally:
        for pool in pools.values():
            pool.close()
    ours4, ours1 = median(samples["ours 4"]), median(samples["ours 1"])
    raw4, raw1 = median(samples["raw 4"]), median(samples["raw 1"])
    ratio = (ours4 / ours1) / (raw4 / raw1)
    yield Row(
        f"4 writers / 1 writer ({ops} selects each), over raw sqlite3's 4 / 1",
        f"{ours4 / ours1:.2f} ({fmt(ours4, 'ops/s')} / {fmt(ours1, 'ops/s')})",
        f"{raw4 / raw1:.2f}",
        ratio,
        "≥ 0.9",
        ratio >= 0.9,
    )
    yield Row(
        f"reference: 4 / 1 raw sqlite3 writers, same queue ({ops} INSERTs each)",
        fmt(raw4, "ops/s"),
        fmt(raw1, "ops/s"),
        raw4 / raw1,
        "-",
        None,
        reference=True,
    )


# -- growth ------------------------------------------------------------------------------


def growth_figure(root: Path, big: BenchStore, sizes: Sizes, rounds: int) -> Row:
    small = new_store(root / "growth-small")
    internals.grow(small, sizes.growth_small)
    azctx = azctx_argv()
    samples = interleave(
        {
            "big": lambda: run_once(Command([*azctx, "list"], big.env)),
            "small": lambda: run_once(Command([*azctx, "list"], small.env)),
        },
        rounds,
    )
    return ratio_row(
        f"`azctx list` at {sizes.growth_big:,} ops / at {sizes.growth_small} ops",
        median(samples["big"]),
        median(samples["small"]),
        "s",
        "≤ 1.2",
        at_most(1.2),
    )


# -- memory ------------------------------------------------------------------------------


def memory_figure(store: BenchStore, size: int) -> Row:
    internals.grow(store, size, snapshots=False)
    done = subprocess.run(
        [sys.executable, str(HERE / "workers.py"), "replay-rss", str(store.path)],
        env=store.env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    if found["ops"] != size:
        raise RuntimeError(f"replayed {found['ops']} operations, expected {size}")
    peak, before = float(found["peak_mb"]), float(found["before_mb"])
    return Row(
        f"peak RSS, full replay of {size:,} ops (baseline: RSS before it)",
        f"{peak:.0f} MB",
        f"{before:.0f} MB",
        peak / before,
        "≤ 150 MB",
        peak <= 150,
    )
