"""Running a child command for ``azctx run``: environment, signals, exit code."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from azctx.events import BadInput
from azctx.projections.handoff.variables import (
    FOREIGN_IDENTITY_VARIABLES,
    RUN_VARIABLES,
    withheld_variables,
)

if TYPE_CHECKING:
    from azctx.store.context_store import ContextStore

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126
#: Catchable signals whose default action ends a process: azctx passes them on to CMD
#: and keeps waiting for it, so it never exits before CMD (SIGKILL aside) and never
#: leaves the private Azure CLI folder behind. The fault signals are among them: sent by
#: kill(2) they are signals like any other (a real fault of azctx's own while they are
#: held still ends it, with no core dump: ``forbid_core_dumps``).
FORWARDED = tuple(
    getattr(signal, name)
    for name in (
        "SIGINT",
        "SIGTERM",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGILL",
        "SIGTRAP",
        "SIGSYS",
        "SIGSEGV",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGVTALRM",
        "SIGPROF",
        "SIGIO",
        "SIGPWR",
        "SIGXCPU",
        "SIGSTKFLT",
    )
    if hasattr(signal, name)
) + tuple(range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
#: Signals Python ignores for itself; CMD gets their default back (as subprocess does).
RESTORED = (signal.SIGPIPE, signal.SIGXFSZ)
#: ``si_code`` of a signal the kernel sent: a terminal's Ctrl-C, Ctrl-\ or hangup,
#: which reached the whole foreground process group, CMD included.
SI_KERNEL = 0x80
#: How long one wait for a signal lasts before the child is polled anyway.
POLL_SECONDS = 1.0

#: Variables that name or prove an identity (or pick a cloud or a way to sign in) but
#: that no context sets: the list, and where it comes from, is in projections/interop.py.
#: A caller's stale values would pair with this context's tenant and client id (with
#: AZURE_USERNAME + AZURE_PASSWORD, EnvironmentCredential signs in with someone's
#: password as this context's client; a federated token file is another identity's).
STALE_IDENTITY_VARIABLES = FOREIGN_IDENTITY_VARIABLES


def child_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without stale AZURE_* values and without the store's
    keys (``withheld_variables``), plus the context's."""
    dropped = (*RUN_VARIABLES, *STALE_IDENTITY_VARIABLES)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    for name, value in withheld_variables(env).items():
        if value is None:
            del env[name]
        else:
            env[name] = value
    env.update(variables)
    return env


Prepare = Callable[[], AbstractContextManager[Mapping[str, str]]]


def run_as(
    store: ContextStore,
    context: str | None,
    command: Sequence[str],
    note: Callable[[str], None],
) -> int:
    """``azctx run``: CMD as ``context`` (default: the default context), its exit code.

    The store is closed before CMD starts: a child that runs for hours holds no
    connection, and may itself run azctx."""
    from functools import partial

    from azctx.store.azcli.folders import private_config_dir

    prepared = store.environment_for(context)
    for line in prepared.notes:
        note(line)
    store.close()
    target = prepared.azcli
    prepare = None if target is None else partial(private_config_dir, target, os.environ)
    return run_child(command, prepared.variables, prepare)


def run_child(
    command: Sequence[str], variables: Mapping[str, str], prepare: Prepare | None = None
) -> int:
    """Run ``command``; pass signals on to it; return its exit code as a shell would.

    ``prepare`` makes what the child needs around its run (the private Azure CLI
    folder) and yields more variables for it; it is undone when the child has ended,
    however it ended. Signals are held from before ``prepare`` until after the undoing,
    so none of them can end azctx in between and leave the folder behind.
    """
    if not command:
        raise BadInput("run needs a command", hint="azctx run -- CMD [ARG...]")
    waited = _waited()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    try:
        with prepare() if prepare is not None else nullcontext({}) as extra:
            env = child_environment(variables)
            env.update(extra)
            return _supervise(_start(command, env, previous), waited)
    except _CannotStart as exc:
        return exc.code
    finally:
        while signal.sigtimedwait(waited, 0) is not None:
            pass  # arrived after the child ended: it is gone, they are spent
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _waited() -> set[int]:
    # A signal ignored when azctx started (nohup) stays ignored, by azctx and by CMD.
    kept = {s for s in FORWARDED if signal.getsignal(s) != signal.SIG_IGN}
    return {*kept, signal.SIGCHLD}


def _supervise(pid: int, waited: set[int]) -> int:
    """Wait for the child, passing on every held signal but one the terminal already
    sent to the child's process group."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return 128 - code if code < 0 else code
        info = signal.sigtimedwait(waited, POLL_SECONDS)
        if info is not None and info.si_signo != signal.SIGCHLD and _forward(info, pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, info.si_signo)


def _forward(info: signal.struct_siginfo, pid: int) -> bool:
    if info.si_code != SI_KERNEL:
        return True  # kill(2) to azctx: only azctx got it
    try:
        return os.getpgid(pid) != os.getpgrp()  # a child in its own group missed it
    except ProcessLookupError:
        return False


class _CannotStart(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _start(command: Sequence[str], env: Mapping[str, str], mask: Iterable[int]) -> int:
    try:
        return os.posix_spawnp(command[0], list(command), env, setsigmask=mask, setsigdef=RESTORED)
    except FileNotFoundError:
        _complain(f"{command[0]}: command not found")
        raise _CannotStart(EXIT_NOT_FOUND) from None
    except PermissionError:
        _complain(f"{command[0]}: permission denied")
        raise _CannotStart(EXIT_NOT_EXECUTABLE) from None
    except OSError as exc:
        _complain(f"{command[0]}: {exc.strerror or exc}")
        raise _CannotStart(EXIT_NOT_EXECUTABLE) from None


def _complain(message: str) -> None:
    # The child's own failure to start: reported like a shell does, not as azctx's error.
    os.write(2, f"azctx: {message}\n".encode())
