"""The one place where failures become ``error: ...`` lines and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from azctx.events import AzctxError
from typer.core import TyperGroup

from .render import printable

EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_INTERRUPTED = 130
MAX_LINE = 500


def fail(message: str, hint: str | None, code: int) -> None:
    """Print one ``error:`` line (and a ``hint:`` line) on stderr and exit."""
    first = _shortened(printable(" ".join(message.split()))) or "failed"
    sys.stderr.write(f"error: {first}\n")
    if hint:
        sys.stderr.write(f"hint: {printable(' '.join(hint.split()))}\n")
    sys.stderr.flush()
    sys.exit(code)


def _shortened(line: str) -> str:
    """One readable line: a value pasted by mistake (10,000 characters) is cut short."""
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."


def _usage_message(exc: typer.TyperException) -> str:
    fmt = getattr(exc, "format_message", None)
    return str(fmt() if callable(fmt) else exc)


class AzctxGroup(TyperGroup):
    """A command group that never lets a traceback or a foreign exit code out."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args, prog_name or "azctx", complete_var, standalone_mode=False, **extra
            )
        except AzctxError as exc:
            fail(exc.message, exc.hint, exc.exit_code)
        except typer.Abort:
            fail("aborted", None, EXIT_INTERRUPTED)
        except KeyboardInterrupt:
            fail("interrupted", None, EXIT_INTERRUPTED)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.TyperException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.stdout.write(_usage_message(exc) + "\n")
                sys.exit(0)
            code = getattr(exc, "exit_code", EXIT_USAGE)
            fail(_usage_message(exc), "see 'azctx --help'", code if code in (1, 2) else 2)
        except BrokenPipeError:
            # The reader went away (e.g. `azctx list | head -1`): not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:
            fail(
                f"internal error ({type(exc).__name__}); nothing was changed",
                "please report this with the command you ran",
                EXIT_STORE,
            )
        if isinstance(result, int) and not isinstance(result, bool):
            sys.exit(result)
        if standalone_mode:
            sys.exit(0)
        return result
