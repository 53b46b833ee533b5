"""The questions azctx asks before a destructive or guarded change, without typer (the
prompt commands ask too: ``select NAME`` of a protected context).

A decision that needs a yes raises ``ConfirmationNeeded``; on a terminal the question
is asked and the attempt repeated with the confirmation, without one the refusal says
which flag confirms it."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TextIO, TypeVar

from azctx.events import ConfirmationNeeded, Refused

T = TypeVar("T")


def stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def confirm(question: str, out: TextIO | None = None) -> bool:
    """Ask ``question`` on ``out`` (stdout by default); yes only for an answer of y or yes
    (any case)."""
    out = sys.stdout if out is None else out
    out.write(f"{question} [y/N]: ")
    out.flush()
    with _line_mode():
        answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        out.write("\n")  # end of input: the next line starts where it should
    return answer.strip().casefold() in ("y", "yes")


@contextlib.contextmanager
def _line_mode() -> Iterator[None]:
    """The terminal in its ordinary line mode (echo, line editing, Enter as a newline)
    while an answer is read: a shell's prompt hook (fish's) runs us with the terminal
    still in the shell's own raw mode, where Enter never ends the line."""
    try:
        fd = sys.stdin.fileno()
        real = os.isatty(fd)
    except (OSError, ValueError):  # no file behind stdin (a test's fake terminal)
        real = False
    if not real:
        yield
        return
    import termios

    saved = termios.tcgetattr(fd)
    cooked = list(saved)
    cooked[0] |= termios.ICRNL
    cooked[3] |= termios.ICANON | termios.ECHO | termios.ISIG
    termios.tcsetattr(fd, termios.TCSANOW, cooked)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def confirmed(attempt: Callable[[bool], T], skip: bool, flag: str) -> T:
    """Run ``attempt(skip)``; if it needs confirmation, ask on a TTY, else refuse."""
    try:
        return attempt(skip)
    except ConfirmationNeeded as need:
        if not stdin_is_tty():
            raise Refused(need.message, hint=f"pass {flag} to confirm") from None
        if not confirm(need.question):
            raise Refused("cancelled; nothing was changed") from None
        return attempt(True)
