"""azctx benchmarks, each figure a ratio against a baseline measured in the same run.

    python bench/run.py [--quick] [--rounds N] [--only FIGURE,...] [--no-az] [--keep]
                        [--postgres URL]

Everything happens in a temp folder (the AZCTX_* variables point there); the Azure CLI
is taken from PATH or installed once into ~/.cache/azctx-bench/az-venv. Contenders run
interleaved (the order alternating every round) and each figure is a median of at
least 10 rounds. The output is one markdown table whose columns never change:
figure, measured, baseline, ratio, target, result.

Figures (``--only``): latency, startup, everyday, run, session, postgres (azctx commands,
in figures_cli.py and figures_postgres.py), shell (what ``azctx init`` costs a prompt and
a shell start, in figures_shell.py), replay, append, concurrency, growth, memory
(the store, in figures_store.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import figures_cli as cli
import figures_postgres as pg
import figures_shell as sh
import figures_store as st
from azcli import AzCli
from report import Row, print_table
from stores import QUICK, BenchStore, Sizes, new_store

FIGURES = (
    "latency",
    "startup",
    "everyday",
    "run",
    "session",
    "shell",
    "postgres",
    "replay",
    "append",
    "concurrency",
    "growth",
    "memory",
)
#: The figures with a row measured against ``az``.
AZ_FIGURES = {"latency", "everyday", "run", "postgres"}


def describe_machine(az: AzCli | None, quick: bool, rounds: int) -> None:
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}),"
        f" {platform.system()} {platform.release()}, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}"
    )
    print(f"az: {az.executable if az else 'not available (its figures are skipped)'}")
    mode = (
        "quick (smaller logs: replay/growth 20k, memory 200k; the command figures as in full)"
        if quick
        else "full"
    )
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
    parser.add_argument(
        "--postgres", default=pg.default_url(), help="server of the PostgreSQL figures"
    )
    args = parser.parse_args(argv)
    if args.rounds < 10:
        parser.error("--rounds must be at least 10 (medians of at least 10)")
    unknown = set(args.only.split(",")) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(sorted(unknown))}")
    return args


def figures(root: Path, args: argparse.Namespace, sizes: Sizes, az: AzCli | None) -> list[Row]:
    only = set(args.only.split(","))
    rounds = args.rounds
    rows: list[Row] = []
    if "latency" in only:
        rows += cli.latency(root, sizes, rounds, az)
    if "startup" in only:
        rows += cli.startup(root, rounds)
    if "everyday" in only:
        rows += cli.everyday(root, rounds, az)
    if "run" in only:
        rows += cli.run_figures(root, rounds, az)
    if "session" in only:
        rows.append(cli.session_figure(root, rounds))
    if "shell" in only:
        rows += sh.shell_figures(root, rounds)
    if "postgres" in only:
        rows += pg.postgres_figures(root, rounds, az, args.postgres)
    big: BenchStore | None = None
    if only & {"replay", "growth", "memory"}:
        from internals import grow

        big = new_store(root / "big")
        grow(big, sizes.replay)
    if "replay" in only and big is not None:
        rows.append(st.replay_figure(big, sizes.replay, rounds))
    if "append" in only:
        rows.append(st.append_figure(root, sizes, rounds))
    if "concurrency" in only:
        rows += st.concurrency_figure(root, sizes, rounds)
    if "growth" in only and big is not None:
        rows.append(st.growth_figure(root, big, sizes, rounds))
    if "memory" in only and big is not None:
        rows.append(st.memory_figure(big, sizes.memory))
    return rows


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    only = set(args.only.split(","))
    root = Path(tempfile.mkdtemp(prefix="azctx-bench-"))
    from azcli import prepare

    wants_az = not args.no_az and bool(only & AZ_FIGURES)
    az = prepare(root / "az", not args.no_install) if wants_az else None
    describe_machine(az, args.quick, args.rounds)
    try:
        rows = figures(root, args, sizes, az)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print_table(rows)
    return 0 if all(r.passed is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
