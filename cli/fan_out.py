"""``azctx run --context PATTERN`` / ``run --all``: one command run once per matching
context, in name order, ``--parallel N`` at a time.

Each run is what ``azctx run`` gives one child (``child.run_as``): the context's own
variables from ``ContextStore.environment_for`` and its own private Azure CLI folder,
made just before the child starts and removed as soon as it ends. Several runs never
share a folder or a secret. Each line a child writes is prefixed with ``[name] ``, on
the stream it was written to. Signals are held and passed on as ``run_child`` does,
to every child still running; after a signal that ends processes no further run
starts. A summary on stderr gives each context's exit code; the exit code is 0 when
every run exited 0, else 1 (the child's own code when only one started).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, BinaryIO

from azctx.cli.asking import confirmed
from azctx.cli.child import CannotStart, child_environment, forwarded, start, waited_signals
from azctx.events import BadInput, Refused
from azctx.events.records import Record

if TYPE_CHECKING:
    from azctx.projections.view import View
    from azctx.store.context_store import ContextStore
    from azctx.store.results import RunEnvironment

GLOB_CHARACTERS = frozenset("*?[")
#: Signals after which no further run is started (the user wants it over).
STOPPING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT})
#: How long one turn of the loop waits for output before it looks at signals.
TURN_SECONDS = 0.05


def is_pattern(name: str | None) -> bool:
    return name is not None and not GLOB_CHARACTERS.isdisjoint(name)


def run_command(
    store: ContextStore,
    context: str | None,
    command: Sequence[str],
    note: Callable[[str], None],
    *,
    every: bool = False,
    parallel: int = 1,
    yes: bool = False,
) -> int:
    """``azctx run``, however spelled: as one context (``run_as``: the named one or
    the default) or, with a pattern that matches several or ``--all``, as each."""
    from azctx.cli.child import run_as

    if every or is_pattern(context):
        names = targets(store.view(), context, every)
        if len(names) > 1:
            return run_many(store, names, command, note, parallel, yes)
        context = names[0]
    return run_as(store, context, command, note, yes)


def targets(view: View, pattern: str | None, every: bool) -> tuple[str, ...]:
    """The names to run as: every context, or those ``pattern`` matches (a context
    whose name is exactly the pattern, brackets and all, is that one context)."""
    if every:
        if pattern is not None:
            raise BadInput("--all and --context cannot be used together")
        found = tuple(i.context.name for i in view.contexts)
    elif pattern is not None and view.get(pattern) is not None:
        found = (pattern,)
    else:
        assert pattern is not None
        found = tuple(i.context.name for i in view.matching(pattern))
    if not found:
        what = "there are no contexts" if every else f"no context matches '{pattern}'"
        raise Refused(what, hint="see 'azctx list'")
    return found


class _Run(Record):
    name: str
    prepared: RunEnvironment


class _Child:
    """A started run: its pid, its folder (closed when it ends) and its pipes."""

    def __init__(self, run: _Run, pid: int, folder: ExitStack) -> None:
        self.run, self.pid, self.folder = run, pid, folder
        self.pending: dict[int, bytes] = {}


def run_many(
    store: ContextStore,
    names: Sequence[str],
    command: Sequence[str],
    note: Callable[[str], None],
    parallel: int = 1,
    yes: bool = False,
) -> int:
    """Run ``command`` as each of ``names``; the exit code and a summary (see above)."""
    if parallel < 1:
        raise BadInput("--parallel must be 1 or more")
    if not command:
        raise BadInput("run needs a command", hint="azctx run -- CMD [ARG...]")

    def prepare(confirmed_: bool) -> list[_Run]:
        return [_Run(n, store.environment_for(n, yes=confirmed_)) for n in names]

    runs = confirmed(prepare, yes, "--yes")
    for run in runs:
        for line in run.prepared.notes:
            note(f"[{run.name}] {line}")
    store.close()  # as run_as: no connection is held while children run
    codes = _Fleet(runs, command, parallel).run()
    for run in runs:
        code = codes.get(run.name)
        note(f"azctx: [{run.name}] " + ("not run" if code is None else f"exit {code}"))
    if len(codes) == 1:
        return next(iter(codes.values()))  # the others never started
    return 0 if len(codes) == len(runs) and not any(codes.values()) else 1


class _Fleet:
    """The children of one ``run_many``, supervised from one thread."""

    def __init__(self, runs: Sequence[_Run], command: Sequence[str], parallel: int) -> None:
        self.queue = list(runs)
        self.command = command
        self.parallel = parallel
        self.running: dict[int, _Child] = {}
        self.codes: dict[str, int] = {}
        self.selector = selectors.DefaultSelector()
        self.stopping = False

    def run(self) -> dict[str, int]:
        waited = waited_signals()
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
        try:
            with self.selector:
                self._loop(waited, previous)
        finally:
            for child in list(self.running.values()):
                child.folder.close()
            while signal.sigtimedwait(waited, 0) is not None:
                pass  # arrived after the children ended: they are spent
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return self.codes

    def _loop(self, waited: set[int], mask: set[int]) -> None:
        while self.running or (self.queue and not self.stopping):
            while self.queue and not self.stopping and len(self.running) < self.parallel:
                self._start(self.queue.pop(0), mask)
            self._pump(TURN_SECONDS)
            info = signal.sigtimedwait(waited, 0)
            if info is not None and info.si_signo != signal.SIGCHLD:
                self._pass_on(info)
            self._reap()
        self._pump(0)  # what the last children wrote before they ended

    def _start(self, run: _Run, mask: set[int]) -> None:
        from azctx.store.azcli.folders import private_config_dir

        folder = ExitStack()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            target = run.prepared.azcli
            extra = (
                {}
                if target is None
                else folder.enter_context(private_config_dir(target, os.environ))
            )
            env = child_environment(run.prepared.variables)
            env.update(extra)
            actions = [
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
                *((os.POSIX_SPAWN_CLOSE, fd) for fd in (out_r, err_r, out_w, err_w)),
            ]
            pid = start(self.command, env, mask, actions)
        except BaseException as exc:
            folder.close()
            for fd in (out_r, err_r):
                os.close(fd)
            if not isinstance(exc, CannotStart):
                raise
            self.codes[run.name] = exc.code
            return
        finally:
            os.close(out_w)
            os.close(err_w)
        child = _Child(run, pid, folder)
        self.running[pid] = child
        self.selector.register(out_r, selectors.EVENT_READ, (child, sys.stdout.buffer))
        self.selector.register(err_r, selectors.EVENT_READ, (child, sys.stderr.buffer))

    def _pump(self, timeout: float) -> None:
        """Copy what the children wrote, a whole line at a time, each one prefixed."""
        if not self.selector.get_map():
            return
        for key, _ in self.selector.select(timeout):
            child, stream = key.data
            fd = int(key.fd)
            data = os.read(fd, 65536)
            if not data:
                self.selector.unregister(fd)
                os.close(fd)
                _write(stream, child, child.pending.pop(fd, b""), end=True)
                continue
            rest = _write(stream, child, child.pending.get(fd, b"") + data)
            child.pending[fd] = rest

    def _pass_on(self, info: signal.struct_siginfo) -> None:
        if info.si_signo in STOPPING:
            self.stopping = True
        for pid in list(self.running):
            if forwarded(info, pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, info.si_signo)

    def _reap(self) -> None:
        for pid, child in list(self.running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                self.codes[child.run.name] = 128 - code if code < 0 else code
                child.folder.close()  # its folder goes as soon as it has ended
                del self.running[pid]


def _write(stream: BinaryIO, child: _Child, data: bytes, end: bool = False) -> bytes:
    """Write the complete lines of ``data`` prefixed by the context's name; the
    unfinished rest is returned (written too at ``end``)."""
    *lines, rest = data.split(b"\n")
    if end and rest:
        lines, rest = [*lines, rest], b""
    if lines:
        prefix = f"[{child.run.name}] ".encode()
        stream.write(b"".join(prefix + line + b"\n" for line in lines))
        stream.flush()
    return rest
