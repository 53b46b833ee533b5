"""The fast path for the commands a shell prompt runs: ``azctx current`` and
``azctx list [--json] [--names]``, with nothing else on the command line.

Importing typer and building its command tree costs more than these commands do, so
they run here without it: parse, read the view, render, exactly as ``cli/app.py`` does,
with the same output bytes and exit codes (the tests run both paths on the same
stores, errors included). The view comes from ``store/quick.py``, which reads what
``ContextStore.view()`` reads without loading the pydantic models. Anything else
(another command, another option, ``--store``, shell completion, an empty
``AZCTX_STORE``) goes to the typer app.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from azctx.events import AzctxError

if TYPE_CHECKING:
    from azctx.projections.plain import PlainView

Command = Callable[["PlainView"], int]

_LIST_FLAGS = frozenset({"--json", "--names"})
# click.echo's pattern: it strips these when the stream is not a terminal.
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def echo(text: str, stream: TextIO) -> None:
    """``typer.echo`` for a str, without typer: one line, ANSI codes stripped when the
    stream is not a terminal, flushed."""
    if not stream.isatty():
        text = _ANSI.sub("", text)
    stream.write(text + "\n")
    stream.flush()


def _current(shown: PlainView) -> int:
    name = shown.default
    if name is None:
        return 1
    echo(name, sys.stdout)
    return 0


def _list(json_: bool, names: bool) -> Command:
    def run(view: PlainView) -> int:
        from . import render

        if json_:
            render.emit_json([render.context_json(i) for i in view.contexts])
        elif names:
            for item in view.contexts:
                echo(item.context.name, sys.stdout)
        elif view.contexts:
            echo(render.context_rows(view.contexts), sys.stdout)
        return 0

    return run


def plan(argv: Sequence[str], environ: Mapping[str, str]) -> Command | None:
    """The command for ``argv`` when the fast path can run it exactly as the typer app
    would, else None."""
    if "_AZCTX_COMPLETE" in environ:
        return None  # shell completion is typer's
    store = environ.get("AZCTX_STORE")
    if store is not None and not store.strip():
        return None  # the typer app reports this one
    match list(argv):
        case ["current"]:
            return _current
        case ["list", *flags] if set(flags) <= _LIST_FLAGS and len(set(flags)) == len(flags):
            return _list("--json" in flags, "--names" in flags)
    return None


def _warn(message: str) -> None:
    echo(f"warning: {message}", sys.stderr)


def run(command: Command, environ: Mapping[str, str]) -> int:
    """Run ``command`` on the store; failures end the process as the typer app's do."""
    from .failure import EXIT_INTERRUPTED, fail, internal_error, reader_gone

    try:
        from azctx.store.quick import quick_view

        return command(quick_view(environ.get("AZCTX_STORE"), environ, _warn))
    except AzctxError as exc:
        fail(exc.message, exc.hint, exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", None, EXIT_INTERRUPTED)
    except BrokenPipeError:
        reader_gone()
    except Exception as exc:
        internal_error(exc)


def main(argv: Sequence[str]) -> bool:
    """Run ``argv`` on the fast path and exit; False when the fast path does not apply."""
    command = plan(argv, os.environ)
    if command is None:
        return False
    sys.exit(run(command, os.environ))
