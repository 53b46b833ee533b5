"""The benchmark script runs and keeps its output format: the machine lines, then one
markdown table with the same six columns. (What it measures is never asserted here.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"
HEADER = "| figure | measured | baseline | ratio | target | result |"


def test_the_bench_prints_its_table(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env["TMPDIR"] = str(tmp_path)  # its stores live in a temp folder of this test's own
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--only", "append", "--no-az"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: a figure missed its target
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["date", "machine", "az", "mode"]
    table = [line for line in lines if line.startswith("|")]
    assert " ".join(table[0].split()) == HEADER
    assert table[2].startswith("| append: `ContextStore` op / raw sqlite3 INSERT")
    cells = [c.strip() for c in table[2].strip("|").split("|")]
    assert len(cells) == 6 and float(cells[3]) > 0 and cells[5] in ("pass", "FAIL")
    assert list(tmp_path.iterdir()) == []  # and it cleaned up after itself
