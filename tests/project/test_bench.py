"""The benchmark script runs and keeps its output format: the machine lines, then one
markdown table with the same six columns. (What it measures is never asserted here.)

Like CI, the tests run without the Azure CLI (``--no-az``): the figures measured against
``az`` must then show as skipped rows that say why, the others are measured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"
HEADER = "| figure | measured | baseline | ratio | target | result |"
#: A server nobody answers at: the PostgreSQL rows must say so, not vanish.
NO_SERVER = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def run_bench(tmp_path: Path, *args: str) -> list[list[str]]:
    """The table's rows (header and rule left out), each as its six cells."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env["TMPDIR"] = str(tmp_path)  # its stores live in a temp folder of this test's own
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--no-az", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: a figure missed its target
    assert "error:" not in done.stderr, done.stderr  # no benchmarked command failed
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["date", "machine", "az", "mode"]
    table = [line for line in lines if line.startswith("|")]
    assert " ".join(table[0].split()) == HEADER
    assert list(tmp_path.iterdir()) == []  # and it cleaned up after itself
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table[2:]]
    assert all(len(cells) == 6 for cells in rows)
    return rows


def assert_measured(cells: list[str]) -> None:
    assert float(cells[3]) > 0 and cells[5] in ("pass", "FAIL"), cells


def test_the_bench_prints_its_table(tmp_path: Path) -> None:
    rows = run_bench(tmp_path, "--only", "append")
    assert len(rows) == 1
    assert rows[0][0] == "append: `ContextStore` op / raw sqlite3 INSERT"
    assert_measured(rows[0])


def test_the_new_figures_run_or_say_why_not(tmp_path: Path) -> None:
    only = "startup,everyday,run,session,postgres,concurrency"
    rows = run_bench(tmp_path, "--only", only, "--postgres", NO_SERVER)
    by_figure = {cells[0]: cells for cells in rows}
    assert [cells[0] for cells in rows] == list(by_figure)  # one row per figure
    measured = [
        "`azctx current` / `python -c pass` (azctx's interpreter)",
        "`azctx run -- true` / `azctx current`",
        "`azctx select NAME` with a live session / without",
        "4 writers / 1 writer (15 selects each), over raw sqlite3's 4 / 1",
    ]
    for figure in measured:
        assert_measured(by_figure[figure])
    assert (
        by_figure["4 writers / 1 writer (15 selects each), over raw sqlite3's 4 / 1"][4] == "≥ 0.9"
    )
    references = [
        "reference: importing sqlite3, json, hashlib and AES-GCM / `python -c pass`",
        "reference: 4 / 1 raw sqlite3 writers, same queue (15 INSERTs each)",
        "reference: `azctx current` at the default locations / with `AZCTX_*` set",
    ]
    for figure in references:
        assert by_figure[figure][5] == "reference"
        assert float(by_figure[figure][3]) > 0
    without_az = [
        "`azctx show NAME` / `az account show --subscription S`",
        "`azctx history --limit 20` / `az account list`",
        "`azctx rename A B` / `az account set`",
        "`azctx export FILE` / `az account list`",
        "`azctx add` / `az account set`",
        "`azctx run -- az account show` / `az account show` (service principal)",
    ]
    for figure in without_az:
        assert by_figure[figure][5] == "skipped (no az)"
    postgres = [cells for cells in rows if cells[0].startswith("PostgreSQL: ")]
    assert [cells[0] for cells in postgres] == [
        "PostgreSQL: `azctx list` / `az account list`",
        "PostgreSQL: `azctx select NAME` / `az account set`",
        "PostgreSQL: `azctx add` / `az account set`",
    ]
    for cells in postgres:
        assert cells[4] == "≤ 1.0"
        assert cells[5] == "skipped (no PostgreSQL server answers at 127.0.0.1:1/test)"
    assert len(rows) == len(measured) + len(references) + len(without_az) + len(postgres)
