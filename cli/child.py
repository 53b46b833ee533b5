"""Running a child command for ``azctx run``: environment, signals, exit code."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from types import FrameType

from azctx.events import BadInput
from azctx.projections.interop import FOREIGN_IDENTITY_VARIABLES, RUN_VARIABLES

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

#: Variables that name or prove an identity (or pick a cloud or a way to sign in) but
#: that no context sets: the list, and where it comes from, is in projections/interop.py.
#: A caller's stale values would pair with this context's tenant and client id (with
#: AZURE_USERNAME + AZURE_PASSWORD, EnvironmentCredential signs in with someone's
#: password as this context's client; a federated token file is another identity's).
STALE_IDENTITY_VARIABLES = FOREIGN_IDENTITY_VARIABLES


def child_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without stale AZURE_* values, plus the context's."""
    dropped = (*RUN_VARIABLES, *STALE_IDENTITY_VARIABLES)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(variables)
    return env


def run_child(command: Sequence[str], variables: Mapping[str, str]) -> int:
    """Run ``command``; forward signals to it; return its exit code as a shell would."""
    if not command:
        raise BadInput("run needs a command", hint="azctx run -- CMD [ARG...]")
    started: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        # A signal that arrives while the child is being started is delivered right
        # after, instead of killing azctx and leaving the child behind.
        if started:
            started[0].send_signal(signum)
        else:
            pending.append(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        started.append(_start(command, variables))
        for signum in pending:
            started[0].send_signal(signum)
        code = started[0].wait()
    except _CannotStart as exc:
        return exc.code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


class _CannotStart(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _start(command: Sequence[str], variables: Mapping[str, str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(list(command), env=child_environment(variables))
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
