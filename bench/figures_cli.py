"""The figures that time azctx commands as a user runs them (its console script, one
process per command) against the nearest ``az`` command or another floor."""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from azcli import ACCOUNT, TENANT, AzCli, subscriptions
from internals import grow
from report import Row, at_most, failed, ratio_row, skipped
from stores import Sizes, context_names, new_store, populate
from timing import BenchError, Command, interleave, median, run_once

Contender = Callable[[], float]


def azctx_argv() -> list[str]:
    """The console script next to this interpreter (what a user runs), not a shim."""
    script = Path(sys.executable).with_name("azctx")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "azctx.cli"]


def azctx_python() -> str:
    """The interpreter azctx's console script runs on (its shebang), else this one."""
    script = Path(sys.executable).with_name("azctx")
    if script.exists():
        first = script.read_text(errors="replace").splitlines()[0]
        if first.startswith("#!") and Path(first[2:].strip()).exists():
            return first[2:].strip()
    return sys.executable


def cycling(make: Callable[[int], Command]) -> Contender:
    """A contender whose n-th run is ``make(n)`` (a new name, the next of a cycle)."""
    turn = iter(range(10**9))
    return lambda: run_once(make(next(turn)))


def alternating(make: Callable[[str], Command], values: list[str]) -> Contender:
    """A contender that cycles through ``values`` (a select that changes something)."""
    return cycling(lambda n: make(values[n % len(values)]))


@dataclass(frozen=True)
class Pair:
    """One figure: azctx's contender against its baseline, with an upper bound."""

    figure: str
    mine: Contender
    baseline: Contender
    limit: float


def measure(pair: Pair, rounds: int) -> Row:
    """The pair timed interleaved; a command that fails makes a FAIL row, not a crash."""
    target = f"≤ {pair.limit}"
    try:
        samples = interleave({"mine": pair.mine, "baseline": pair.baseline}, rounds)
    except BenchError as exc:
        print(f"error: {pair.figure}: {exc}", file=sys.stderr, flush=True)
        return failed(pair.figure, target, "a command failed, see stderr")
    mine, baseline = median(samples["mine"]), median(samples["baseline"])
    return ratio_row(pair.figure, mine, baseline, "s", target, at_most(pair.limit))


@dataclass(frozen=True)
class Runner:
    """Commands in one environment: ``azctx ARGS`` and ``az account ARGS``."""

    env: dict[str, str]
    az: AzCli | None = None

    def azctx(self, *args: str) -> Command:
        return Command([*azctx_argv(), *args], self.env)

    def az_account(self, *args: str) -> Command:
        assert self.az is not None
        return Command([self.az.executable, "account", *args], self.az.env)


def az_set(runner: Runner) -> Contender:
    """``az account set`` alternating between two subscriptions (each run has work)."""
    ids = [sub.id for sub in subscriptions()[:2]]
    return alternating(lambda sub: runner.az_account("set", "--subscription", sub), ids)


def az_list(runner: Runner) -> Contender:
    return lambda: run_once(runner.az_account("list"))


# -- CLI latency against az (log sizes of 100 and 10,000 operations) ------------------------

LATENCY = {"list": 0.25, "select": 0.25, "current": 0.25}


def latency(root: Path, sizes: Sizes, rounds: int, az: AzCli | None) -> Iterator[Row]:
    if az is None:
        for size in sizes.latency:
            for cmd, limit in LATENCY.items():
                yield skipped(f"`azctx {cmd}` / az ({size:,} ops)", f"≤ {limit}", "no az")
        return
    for size in sizes.latency:
        store = new_store(root / f"latency-{size}")
        grow(store, size)
        yield from _latency_rows(Runner(store.env, az), size, rounds)


def _latency_rows(run: Runner, size: int, rounds: int) -> Iterator[Row]:
    names = context_names()[:2]
    pairs = [
        ("list", lambda: run_once(run.azctx("list")), az_list(run), "az account list"),
        (
            "select",
            alternating(lambda name: run.azctx("select", name), names),
            az_set(run),
            "az account set",
        ),
        (
            "current",
            lambda: run_once(run.azctx("current")),
            lambda: run_once(run.az_account("show")),
            "az account show",
        ),
    ]
    for cmd, mine, baseline, label in pairs:
        figure = f"`azctx {cmd}` / `{label}` ({size:,} ops)"
        yield measure(Pair(figure, mine, baseline, LATENCY[cmd]), rounds)


# -- startup: `azctx current` against the bare interpreter ----------------------------------


#: What any command that reads an encrypted SQLite store must import, at the least.
FLOOR_IMPORTS = (
    "import sqlite3, json, hashlib, base64, struct;"
    " from cryptography.hazmat.primitives.ciphers.aead import AESGCM"
)


def startup(root: Path, rounds: int) -> Iterator[Row]:
    store = new_store(root / "startup")
    populate(store)
    run = Runner(store.env)
    python = azctx_python()
    pair = Pair(
        "`azctx current` / `python -c pass` (azctx's interpreter)",
        lambda: run_once(run.azctx("current")),
        lambda: run_once(Command([python, "-c", "pass"], store.env)),
        2.5,
    )
    yield measure(pair, rounds)
    floor = Pair(
        "reference: importing sqlite3, json, hashlib and AES-GCM / `python -c pass`",
        lambda: run_once(Command([python, "-c", FLOOR_IMPORTS], store.env)),
        lambda: run_once(Command([python, "-c", "pass"], store.env)),
        2.5,
    )
    yield dataclasses.replace(measure(floor, rounds), reference=True, target="-")
    yield default_locations(root / "default-locations", run, rounds)


def default_locations(home: Path, configured: Runner, rounds: int) -> Row:
    """What the figures above leave out: with no ``AZCTX_*`` variable, azctx finds its
    store and key file through platformdirs (which imports pathlib and tempfile) and
    reads the key from a file. A user's default set-up, in a HOME of its own."""
    env = {k: v for k, v in configured.env.items() if not k.startswith(("AZCTX_", "XDG_"))}
    env["HOME"] = str(home)
    plain = Runner(env)
    for name in context_names()[:2]:
        run_once(plain.azctx("add", *add_args(name)))
    pair = Pair(
        "reference: `azctx current` at the default locations / with `AZCTX_*` set",
        lambda: run_once(plain.azctx("current")),
        lambda: run_once(configured.azctx("current")),
        2.5,
    )
    return dataclasses.replace(measure(pair, rounds), reference=True, target="-")


# -- the other everyday commands against their nearest az command --------------------------

EVERYDAY = 0.6


def everyday(root: Path, rounds: int, az: AzCli | None) -> Iterator[Row]:
    figures = [
        "`azctx show NAME` / `az account show --subscription S`",
        "`azctx history --limit 20` / `az account list`",
        "`azctx rename A B` / `az account set`",
        "`azctx export FILE` / `az account list`",
        "`azctx add` / `az account set`",
    ]
    if az is None:
        for figure in figures:
            yield skipped(figure, f"≤ {EVERYDAY}", "no az")
        return
    store = new_store(root / "everyday")
    populate(store, selects=80)  # 100 operations
    run = Runner(store.env, az)
    subs = subscriptions()
    exports = root / "everyday" / "exports"
    exports.mkdir()
    run_once(run.azctx("add", *add_args("rename-a"), "--no-select"))
    renames = [("rename-a", "rename-b"), ("rename-b", "rename-a")]  # each run has work
    contenders = [
        (
            lambda: run_once(run.azctx("show", subs[2].name)),
            lambda: run_once(run.az_account("show", "--subscription", subs[2].id)),
        ),
        (lambda: run_once(run.azctx("history", "--limit", "20")), az_list(run)),
        (cycling(lambda n: run.azctx("rename", *renames[n % 2])), az_set(run)),
        (cycling(lambda n: run.azctx("export", str(exports / f"{n}.json"))), az_list(run)),
        (cycling(lambda n: run.azctx("add", *add_args(f"added-{n}"))), az_set(run)),
    ]
    for figure, (mine, baseline) in zip(figures, contenders, strict=True):
        yield measure(Pair(figure, mine, baseline, EVERYDAY), rounds)


def add_args(name: str) -> list[str]:
    """The arguments of ``azctx add`` for a new context ``name``."""
    sub = subscriptions()[3]
    return ["--account", ACCOUNT, "--tenant", TENANT, "--subscription", sub.id, "--name", name]


# -- run: a command in a context's environment -------------------------------------------


def run_figures(root: Path, rounds: int, az: AzCli | None) -> Iterator[Row]:
    store = new_store(root / "run")
    populate(store, service_principal=True)  # the default: a service principal
    first = "`azctx run -- az account show` / `az account show` (service principal)"
    if az is None:
        yield skipped(first, "≤ 1.1", "no az")
    else:
        # azctx's variables and the offline az's; whatever `run` changes, it changes here.
        env = {**az.env, **{k: v for k, v in store.env.items() if k.startswith("AZCTX_")}}
        run = Runner(env, AzCli(az.executable, env))
        pair = Pair(
            first,
            lambda: run_once(run.azctx("run", "--", az.executable, "account", "show")),
            lambda: run_once(run.az_account("show")),
            1.1,
        )
        yield measure(pair, rounds)
    run = Runner(store.env)
    true = shutil.which("true") or "true"
    pair = Pair(
        "`azctx run -- true` / `azctx current`",
        lambda: run_once(run.azctx("run", "--", true)),
        lambda: run_once(run.azctx("current")),
        2.0,
    )
    yield measure(pair, rounds)


# -- a write with a live session ---------------------------------------------------------


def session_figure(root: Path, rounds: int) -> Row:
    """A user-scope ``select`` (``--scope user``) with ``AZCTX_SESSION`` (and
    whatever else ``session start`` exports) set, against the same select without."""
    store = new_store(root / "session")
    populate(store)
    run = Runner(store.env)
    live = Runner({**store.env, **session_exports(store.env)})
    # Names of their own, so that every select of either changes the user default.
    names = context_names()
    figure = "`azctx select NAME` with a live session / without"
    pair = Pair(
        figure,
        # --scope user: in a live session a plain select changes the session's own.
        alternating(lambda name: live.azctx("select", name, "--scope", "user"), names[0:2]),
        alternating(lambda name: run.azctx("select", name, "--scope", "user"), names[2:4]),
        1.1,
    )
    row = measure(pair, rounds)
    if row.passed is not False and last_scopes(live, 4) != {"user"}:
        return failed(figure, "≤ 1.1", "the selects were not all user-scope ones")
    return row


def session_exports(env: dict[str, str]) -> dict[str, str]:
    """The variables ``eval "$(azctx session start)"`` would set."""
    done = subprocess.run(
        [*azctx_argv(), "session", "start"], env=env, capture_output=True, text=True, check=True
    )
    exported: dict[str, str] = {}
    for line in done.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            exported[name] = value
    if "AZCTX_SESSION" not in exported:
        raise BenchError(f"`azctx session start` exported no AZCTX_SESSION: {done.stdout!r}")
    return exported


def last_scopes(run: Runner, count: int) -> set[str]:
    """The scopes of the last ``count`` operations, as ``history --json`` says."""
    done = subprocess.run(
        list(run.azctx("history", "--json", "--limit", str(count)).argv),
        env=run.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {str(entry["scope"]) for entry in json.loads(done.stdout)}
