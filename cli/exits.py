"""How a failure ends the process: one ``error:`` line (and a ``hint:`` line) on
stderr and an exit code. Kept free of typer so the typer-free commands (``fast_path``)
and the typer app (``usage``) end failures the same way."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from azctx.cli.render import printable
from azctx.events.urls import masked_text

EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_INTERRUPTED = 130
MAX_LINE = 500


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """Print one ``error:`` line (and a ``hint:`` line) on stderr and exit."""
    # A store URL's password never reaches the terminal, whichever layer wrote the line.
    first = _shortened(printable(masked_text(" ".join(message.split())))) or "failed"
    sys.stderr.write(f"error: {first}\n")
    if hint:
        sys.stderr.write(f"hint: {printable(masked_text(' '.join(hint.split())))}\n")
    sys.stderr.flush()
    sys.exit(code)


def _shortened(line: str) -> str:
    """One readable line: a value pasted by mistake (10,000 characters) is cut short."""
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."


def internal_error(exc: Exception) -> NoReturn:
    """A bug of ours: no traceback (it could show a secret), exit 3."""
    fail(
        f"internal error ({type(exc).__name__}); nothing was changed",
        "please report this with the command you ran",
        EXIT_STORE,
    )


def reader_gone() -> NoReturn:
    """The reader went away (e.g. `azctx list | head -1`): not an error of ours."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)
