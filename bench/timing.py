"""Interleaved wall-clock timing: every round runs each contender once, in an order that
alternates between rounds, so a slow moment of the machine hits all of them alike."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


class BenchError(RuntimeError):
    """A benchmarked command failed: its time would mean nothing."""


@dataclass(frozen=True)
class Command:
    argv: Sequence[str]
    env: Mapping[str, str]
    #: The exit code the command must return for its time to count.
    expect: int = 0


def run_once(command: Command) -> float:
    """Seconds of wall time for one run; raises BenchError on an unexpected exit code."""
    start = time.perf_counter()
    done = subprocess.run(
        list(command.argv),
        env=dict(command.env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != command.expect:
        raise BenchError(
            f"{' '.join(command.argv)} exited {done.returncode} (expected {command.expect}):"
            f" {done.stderr.decode(errors='replace').strip()[:500]}"
        )
    return elapsed


def interleave(
    contenders: Mapping[str, Callable[[], float]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run every contender ``warmup`` times untimed, then ``rounds`` times each,
    alternating the order every round. Each callable returns its own measurement."""
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        order = names if round_no % 2 == 0 else list(reversed(names))
        for name in order:
            samples[name].append(contenders[name]())
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
