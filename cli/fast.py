"""The fast path for the commands a shell runs all the time: ``azctx current``,
``azctx list [--json] [--names]`` and ``azctx select NAME``, with nothing else on the
command line.

Importing typer and building its command tree costs more than these commands do, so
they run here without it: parse, call the store, render, exactly as ``cli/app.py``
does, with the same output bytes and exit codes (the tests run both paths on the same
stores, errors included). The store side is ``store/quick.py``, which reads and writes
what ``ContextStore.view()`` and ``ContextStore.select()`` do without loading the
pydantic models. Anything else (another command, another option, ``--store``, ``select
-``, a name the typer app would reject, shell completion, an empty ``AZCTX_STORE``)
goes to the typer app.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from azctx.events import AzctxError
from azctx.events.names import name_problem

if TYPE_CHECKING:
    from azctx.projections.plain import PlainView

View = Callable[["PlainView"], int]
Command = Callable[[Mapping[str, str]], int]

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


def _store(environ: Mapping[str, str]) -> str | None:
    return environ.get("AZCTX_STORE")


def _warn(message: str) -> None:
    echo(f"warning: {message}", sys.stderr)


def _reading(show: View) -> Command:
    def run(environ: Mapping[str, str]) -> int:
        from azctx.store.quick import quick_view

        return show(quick_view(_store(environ), environ, _warn))

    return run


def _current(shown: PlainView) -> int:
    name = shown.default
    if name is None:
        return 1
    echo(name, sys.stdout)
    return 0


def _list(json_: bool, names: bool) -> View:
    def show(view: PlainView) -> int:
        from . import render

        if json_:
            render.emit_json([render.context_json(i) for i in view.contexts])
        elif names:
            for item in view.contexts:
                echo(item.context.name, sys.stdout)
        elif view.contexts:
            echo(render.context_rows(view.contexts), sys.stdout)
        return 0

    return show


def _select(name: str) -> Command:
    def run(environ: Mapping[str, str]) -> int:
        from azctx.store.quick import quick_select

        result = quick_select(_store(environ), environ, name)
        for note in result.notes:
            echo(note, sys.stderr)
        echo(result.summary, sys.stdout)
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
            return _reading(_current)
        case ["list", *flags] if set(flags) <= _LIST_FLAGS and len(set(flags)) == len(flags):
            return _reading(_list("--json" in flags, "--names" in flags))
        case ["select", name] if not name.startswith("-") and name_problem(name) is None:
            return _select(name)
    return None


def run(command: Command, environ: Mapping[str, str]) -> int:
    """Run ``command`` on the store; failures end the process as the typer app's do."""
    from .failure import EXIT_INTERRUPTED, fail, internal_error, reader_gone

    try:
        return command(environ)
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
