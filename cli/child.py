"""Running a child command for ``azctx run``: environment, signals, exit code."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from types import FrameType

from azctx.events import BadInput
from azctx.projections.interop import RUN_VARIABLES

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def child_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without stale AZURE_* values, plus the context's."""
    env = {k: v for k, v in os.environ.items() if k not in RUN_VARIABLES}
    env.update(variables)
    return env


def run_child(command: Sequence[str], variables: Mapping[str, str]) -> int:
    """Run ``command``; forward signals to it; return its exit code as a shell would."""
    if not command:
        raise BadInput("run needs a command", hint="azctx run -- CMD [ARG...]")
    try:
        child = subprocess.Popen(list(command), env=child_environment(variables))
    except FileNotFoundError:
        _complain(f"{command[0]}: command not found")
        return EXIT_NOT_FOUND
    except PermissionError:
        _complain(f"{command[0]}: permission denied")
        return EXIT_NOT_EXECUTABLE
    except OSError as exc:
        _complain(f"{command[0]}: {exc.strerror or exc}")
        return EXIT_NOT_EXECUTABLE

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def _complain(message: str) -> None:
    # The child's own failure to start: reported like a shell does, not as azctx's error.
    os.write(2, f"azctx: {message}\n".encode())
