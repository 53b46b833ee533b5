"""azctx benchmarks, each figure a ratio against a baseline measured in the same run.

    python bench/run.py [--quick] [--rounds N] [--only FIGURE,...] [--no-az] [--keep]

Everything happens in a temp folder (the AZCTX_* variables point there); the Azure CLI
is taken from PATH or installed once into ~/.cache/azctx-bench/az-venv. Contenders run
interleaved (the order alternating every round) and each figure is a median of at
least 10 rounds. The output is one markdown table whose columns never change:
figure, measured, baseline, ratio, target, result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from azcli import AzCli, subscriptions
from stores import BenchStore, context_names, grow, new_store
from timing import Command, interleave, median, run_once

HERE = Path(__file__).resolve().parent
FIGURES = ("latency", "replay", "append", "concurrency", "growth", "memory")


@dataclass(frozen=True)
class Sizes:
    latency: tuple[int, ...] = (100, 10_000)
    replay: int = 100_000
    growth_small: int = 100
    growth_big: int = 100_000
    memory: int = 1_000_000
    append_block: int = 20
    writer_ops: int = 25


QUICK = Sizes(replay=20_000, growth_big=20_000, memory=200_000, writer_ops=15)


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None
    note: str = ""
    reference: bool = False  # a floor shown beside a figure, with no target of its own

    def cells(self) -> list[str]:
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        result = {True: "pass", False: "FAIL", None: "skipped"}[self.passed]
        if self.reference:
            result = "reference"
        if self.note:
            result = f"{result} ({self.note})"
        return [self.figure, self.measured, self.baseline, ratio, self.target, result]


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def ratio_row(
    figure: str,
    measured: float,
    baseline: float,
    unit: str,
    target: str,
    check: Callable[[float], bool],
) -> Row:
    ratio = measured / baseline
    return Row(figure, _fmt(measured, unit), _fmt(baseline, unit), ratio, target, check(ratio))


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    if unit == "ops/s":
        return f"{value:,.0f} ops/s"
    return f"{value:.1f} {unit}"


def skipped(figure: str, target: str, why: str) -> Row:
    return Row(figure, "-", "-", None, target, None, why)


# -- 1. CLI latency -----------------------------------------------------------------------


def azctx_argv() -> list[str]:
    """The console script next to this interpreter (what a user runs), not a shim."""
    script = Path(sys.executable).with_name("azctx")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "azctx.cli"]


def _alternating(make: Callable[[str], Command], values: list[str]) -> Callable[[], float]:
    """A contender that cycles through ``values`` (a select that changes something)."""
    turn = iter(range(10**9))

    def once() -> float:
        return run_once(make(values[next(turn) % len(values)]))

    return once


def latency(root: Path, sizes: Sizes, rounds: int, az: AzCli | None) -> Iterator[Row]:
    targets = {"list": 0.5, "select": 0.5, "current": 0.3}
    if az is None:
        for size in sizes.latency:
            for cmd, limit in targets.items():
                yield skipped(f"`azctx {cmd}` / az ({size:,} ops)", f"≤ {limit}", "no az")
        return
    for size in sizes.latency:
        store = new_store(root / f"latency-{size}")
        grow(store, size)
        yield from _latency_pairs(store, az, rounds, size, targets)


def _latency_pairs(
    store: BenchStore, az: AzCli, rounds: int, size: int, targets: dict[str, float]
) -> Iterator[Row]:
    azctx = azctx_argv()
    names = context_names()[:2]
    sub_ids = [sub.id for sub in subscriptions()[:2]]

    def ours(*args: str) -> Command:
        return Command([*azctx, *args], store.env)

    def theirs(*args: str) -> Command:
        return Command([az.executable, "account", *args], az.env)

    pairs: dict[str, tuple[Callable[[], float], Callable[[], float], str]] = {
        "list": (
            lambda: run_once(ours("list")),
            lambda: run_once(theirs("list")),
            "az account list",
        ),
        "select": (
            _alternating(lambda name: ours("select", name), names),
            _alternating(lambda sub: theirs("set", "--subscription", sub), sub_ids),
            "az account set",
        ),
        "current": (
            lambda: run_once(ours("current")),
            lambda: run_once(theirs("show")),
            "az account show",
        ),
    }
    for cmd, (mine, baseline, label) in pairs.items():
        samples = interleave({"azctx": mine, "az": baseline}, rounds)
        yield ratio_row(
            f"`azctx {cmd}` / `{label}` ({size:,} ops)",
            median(samples["azctx"]),
            median(samples["az"]),
            "s",
            f"≤ {targets[cmd]}",
            at_most(targets[cmd]),
        )


# -- 2. replay ------------------------------------------------------------------------------


def _log_data_key(store: BenchStore) -> bytes:
    from azctx.store import crypto, keys

    master = keys.load_master_key(store.env)
    assert master is not None
    with sqlite3.connect(store.path) as conn:
        (log_key_id,) = conn.execute("SELECT value FROM meta WHERE name = 'log_key_id'").fetchone()
        key_id = bytes(log_key_id).decode()
        (wrapped,) = conn.execute(
            "SELECT wrapped FROM data_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
    conn.close()
    return crypto.unwrap(master.key, master.key_id, key_id, bytes(wrapped))


def floor_loop(store: BenchStore, key: bytes) -> int:
    """The least any replay must do: fetch every row, decrypt it, parse its JSON."""
    from azctx.store.log import row_metadata
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key)
    count = 0
    conn = sqlite3.connect(store.path)
    try:
        rows = conn.execute(
            "SELECT seq, time, kind, scope, session, key_id, nonce, ciphertext, prev_hash"
            " FROM log ORDER BY seq"
        )
        for seq, time_us, kind, scope, session, key_id, nonce, ciphertext, prev_hash in rows:
            aad = prev_hash + row_metadata(seq, time_us, kind, scope, session, key_id)
            json.loads(aead.decrypt(nonce, ciphertext, aad))
            count += 1
    finally:
        conn.close()
    return count


def full_replay(store: BenchStore) -> int:
    """What azctx does to rebuild the state from operation 0 (every row checked)."""
    from azctx.events import decode
    from azctx.projections.state import State, replay
    from azctx.store import open_log

    with open_log(store.path, environ=store.env) as log:
        state = replay(State.empty(), ((e.seq, decode(e.payload)) for e in log.entries()))
    return state.seq


def _rate(work: Callable[[], int]) -> Callable[[], float]:
    def once() -> float:
        started = time.perf_counter()
        count = work()
        return count / (time.perf_counter() - started)

    return once


def replay_figure(store: BenchStore, size: int, rounds: int) -> Row:
    key = _log_data_key(store)
    samples = interleave(
        {
            "replay": _rate(lambda: full_replay(store)),
            "floor": _rate(lambda: floor_loop(store, key)),
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


# -- 3. append ------------------------------------------------------------------------------


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
    grow(store, 100)
    with sqlite3.connect(store.path) as conn:
        (row_bytes,) = conn.execute("SELECT avg(length(ciphertext)) FROM log").fetchone()
    conn.close()
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
            {
                "azctx": _rate(ours),
                "raw": _rate(lambda: _raw_inserts(raw, block, int(row_bytes))),
            },
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


# -- 4. concurrency ---------------------------------------------------------------------


def _writers(argv: list[str], env: dict[str, str], processes: int, ops: int) -> float:
    """Total throughput of ``processes`` workers ``argv`` started together; each
    prints ``ready``, waits for ``go``, makes its operations and prints its end time."""
    children = [
        subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("a writer did not start")
    started = time.time()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    ends = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a writer failed with exit code {child.returncode}")
        ends.append(json.loads(out)["end"])
    return processes * ops / (max(ends) - started)


def _four_and_one(
    argv: list[str], env: dict[str, str], ops: int, rounds: int
) -> tuple[float, float]:
    """Median total throughput of 4 and of 1 ``argv`` workers, interleaved."""
    samples = interleave(
        {"4": lambda: _writers(argv, env, 4, ops), "1": lambda: _writers(argv, env, 1, ops)},
        rounds,
    )
    return median(samples["4"]), median(samples["1"])


def concurrency_figure(root: Path, sizes: Sizes, rounds: int) -> Iterator[Row]:
    store = new_store(root / "concurrency")
    grow(store, 100)
    ops = sizes.writer_ops
    worker = [sys.executable, str(HERE / "workers.py")]
    ours = [*worker, "writer", str(store.path), str(ops), *context_names()]
    four, one = _four_and_one(ours, store.env, ops, rounds)
    yield ratio_row(
        f"4 writers / 1 writer, total throughput ({ops} selects each)",
        four,
        one,
        "ops/s",
        "≥ 0.9",
        at_least(0.9),
    )
    _raw_connection(root / "concurrency" / "raw.db").close()
    theirs = [*worker, "raw-writer", str(root / "concurrency" / "raw.db"), str(ops)]
    four, one = _four_and_one(theirs, store.env, ops, rounds)
    yield Row(
        f"reference: 4 / 1 raw sqlite3 writers, same queue ({ops} INSERTs each)",
        _fmt(four, "ops/s"),
        _fmt(one, "ops/s"),
        four / one,
        "-",
        None,
        reference=True,
    )


# -- 5. growth --------------------------------------------------------------------------------


def growth_figure(root: Path, big: BenchStore, sizes: Sizes, rounds: int) -> Row:
    small = new_store(root / "growth-small")
    grow(small, sizes.growth_small)
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


# -- 6. memory --------------------------------------------------------------------------------


def memory_figure(store: BenchStore, size: int) -> Row:
    grow(store, size, snapshots=False)
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


# -- the table --------------------------------------------------------------------------------


HEADERS = ["figure", "measured", "baseline", "ratio", "target", "result"]


def print_table(rows: list[Row]) -> None:
    body = [HEADERS, *[r.cells() for r in rows]]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADERS))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(HEADERS))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row.cells()), flush=True)


def describe_machine(az: AzCli | None, quick: bool, rounds: int) -> None:
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}),"
        f" {platform.system()} {platform.release()}, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}"
    )
    print(f"az: {az.executable if az else 'not available (its figures are skipped)'}")
    mode = "quick (smaller logs: replay/growth 20k, memory 200k)" if quick else "full"
    print(f"mode: {mode}; {rounds} interleaved rounds per figure, medians")
    print(flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller logs (says so)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per figure (>= 10)")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated figures")
    parser.add_argument("--no-az", action="store_true", help="skip the Azure CLI figures")
    parser.add_argument("--no-install", action="store_true", help="use az only if present")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    if args.rounds < 10:
        parser.error("--rounds must be at least 10 (medians of at least 10)")
    unknown = set(args.only.split(",")) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    only = set(args.only.split(","))
    root = Path(tempfile.mkdtemp(prefix="azctx-bench-"))
    from azcli import prepare

    az = None if args.no_az or "latency" not in only else prepare(root / "az", not args.no_install)
    describe_machine(az, args.quick, args.rounds)
    rows: list[Row] = []
    try:
        if "latency" in only:
            rows += latency(root, sizes, args.rounds, az)
        big: BenchStore | None = None
        if only & {"replay", "growth", "memory"}:
            big = new_store(root / "big")
            grow(big, sizes.replay)
        if "replay" in only and big is not None:
            rows.append(replay_figure(big, sizes.replay, args.rounds))
        if "append" in only:
            rows.append(append_figure(root, sizes, args.rounds))
        if "concurrency" in only:
            rows += concurrency_figure(root, sizes, args.rounds)
        if "growth" in only and big is not None:
            rows.append(growth_figure(root, big, sizes, args.rounds))
        if "memory" in only and big is not None:
            rows.append(memory_figure(big, sizes.memory))
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print_table(rows)
    return 0 if all(r.passed is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
