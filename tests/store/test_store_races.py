"""Two processes racing conflicting operations on one store: each operation is decided
against the latest state under the write lock, so exactly one wins, the other gets the
domain error, and the log verifies."""

from __future__ import annotations

import base64
import multiprocessing
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from azctx.events import Refused
from azctx.store.context_store import ContextStore

ROUNDS = 5
TIMEOUT = 60.0


def _run(store: ContextStore, operation: str, arg: str) -> None:
    if operation == "add":
        store.add(account="u@contoso.org", tenant="t", subscription=arg, name="same")
    elif operation == "rename":
        store.rename("A", "B")
    elif operation == "remove":
        store.remove("A")
    else:
        raise AssertionError(operation)


def _worker(barrier: Barrier, tasks: Queue[Any], results: Queue[Any]) -> None:
    """Runs one task per round, starting together with the other worker."""
    while True:
        task = tasks.get()
        if task is None:
            return
        path, environ, operation, arg = task
        with ContextStore(path, environ=environ) as store:
            store.view()  # opened and warm, so both reach the lock at about the same time
            barrier.wait(TIMEOUT)
            try:
                _run(store, operation, arg)
            except Refused as exc:
                results.put((arg, "refused", exc.message))
            except Exception as exc:  # reported to the test, which fails on it
                results.put((arg, "error", repr(exc)))
            else:
                results.put((arg, "ok", ""))


@dataclass
class Racers:
    tasks: list[Queue[Any]]
    results: Queue[Any]

    def race(self, path: Path, environ: dict[str, str], ops: list[tuple[str, str]]) -> list[Any]:
        for queue, (operation, arg) in zip(self.tasks, ops, strict=True):
            queue.put((str(path), environ, operation, arg))
        outcomes = [self.results.get(timeout=TIMEOUT) for _ in ops]
        return sorted(outcomes)


@pytest.fixture(scope="module")
def racers() -> Iterator[Racers]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results: Queue[Any] = context.Queue()
    tasks: list[Queue[Any]] = [context.Queue(), context.Queue()]
    workers = [
        context.Process(target=_worker, args=(barrier, queue, results), daemon=True)
        for queue in tasks
    ]
    for worker in workers:
        worker.start()
    try:
        yield Racers(tasks, results)
    finally:
        for queue in tasks:
            queue.put(None)
        for worker in workers:
            worker.join(TIMEOUT)


def _environ(tmp: Path) -> dict[str, str]:
    return {
        "AZCTX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "AZCTX_DATA_DIR": str(tmp / "data"),
        "AZCTX_CONFIG_DIR": str(tmp / "config"),
    }


def _one_winner(outcomes: list[Any]) -> tuple[str, str]:
    assert [o[1] for o in outcomes if o[1] == "error"] == [], outcomes
    won = [o for o in outcomes if o[1] == "ok"]
    lost = [o for o in outcomes if o[1] == "refused"]
    assert (len(won), len(lost)) == (1, 1), outcomes
    return won[0][0], lost[0][2]


def test_two_adds_of_one_name_exactly_one_wins(racers: Racers, tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "store.db"
        environ = _environ(tmp_path / f"round{round_}")
        with ContextStore(path, environ=environ) as store:
            store.add(account="seed", tenant="t", subscription="s", name="seed")
        outcomes = racers.race(path, environ, [("add", "first"), ("add", "second")])
        winner, refusal = _one_winner(outcomes)
        assert "'same' already exists" in refusal
        with ContextStore(path, environ=environ) as store:
            assert store.show("same").context.subscription == winner
            assert [r.operation for r in store.history()] == ["add", "add"]
            assert store.verify().count == 2


def test_rename_against_remove_exactly_one_wins(racers: Racers, tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "store.db"
        environ = _environ(tmp_path / f"round{round_}")
        with ContextStore(path, environ=environ) as store:
            store.add(account="u", tenant="t", subscription="s", name="A", select=False)
            store.add(account="u", tenant="t", subscription="d", name="default")
        outcomes = racers.race(path, environ, [("rename", "rename"), ("remove", "remove")])
        winner, refusal = _one_winner(outcomes)
        assert "no context named 'A'" in refusal
        with ContextStore(path, environ=environ) as store:
            names = [c.context.name for c in store.contexts()]
            assert names == (["B", "default"] if winner == "rename" else ["default"])
            assert store.history()[0].operation == winner
            assert store.verify().count == 3
