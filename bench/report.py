"""The rows of the benchmark's one table and how they are printed: six columns that
never change (figure, measured, baseline, ratio, target, result)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

HEADERS = ["figure", "measured", "baseline", "ratio", "target", "result"]


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


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    if unit == "ops/s":
        return f"{value:,.0f} ops/s"
    return f"{value:.1f} {unit}"


def ratio_row(
    figure: str,
    measured: float,
    baseline: float,
    unit: str,
    target: str,
    check: Callable[[float], bool],
) -> Row:
    ratio = measured / baseline
    return Row(figure, fmt(measured, unit), fmt(baseline, unit), ratio, target, check(ratio))


def skipped(figure: str, target: str, why: str) -> Row:
    return Row(figure, "-", "-", None, target, None, why)


def failed(figure: str, target: str, why: str) -> Row:
    """A figure whose commands failed: no time to show, and a FAIL that says why."""
    return Row(figure, "-", "-", None, target, False, why)


def print_table(rows: list[Row]) -> None:
    body = [HEADERS, *[r.cells() for r in rows]]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADERS))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(HEADERS))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row.cells()), flush=True)
