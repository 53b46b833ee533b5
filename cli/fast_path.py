"""The commands a shell runs at every prompt, and in front of every tool, without
typer: ``azctx`` alone (a list), ``azctx current``, ``azctx list [--json] [--names]
[--wide]``, ``azctx select NAME``, ``azctx run [--context NAME] -- CMD [ARG...]`` and
``azctx init SHELL`` (at every shell start), with nothing else on the command line.

Importing typer and building its command tree costs more than these commands do, so
their few exact spellings are recognised here, and they call the same
``ContextStore`` methods and the same ``render`` and ``child`` functions as the typer
app (``cli/app.py``), which handles every other spelling (another option, ``--store``,
``select -``, ``--help``, shell completion).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from azctx.cli import render
from azctx.cli.shell import SHELLS
from azctx.events import AzctxError

if TYPE_CHECKING:
    from azctx.store.context_store import ContextStore

Command = Callable[[Mapping[str, str]], int]

_LIST_FLAGS = frozenset({"--json", "--names", "--wide"})


def _echo(text: str, /, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _warn(message: str) -> None:
    _echo(f"warning: {message}", err=True)


def _store(environ: Mapping[str, str]) -> ContextStore:
    from azctx.store.context_store import ContextStore

    return ContextStore(environ.get("AZCTX_STORE"), environ=environ, on_warning=_warn)


def _current(environ: Mapping[str, str]) -> int:
    with _store(environ) as store:
        return render.show_current(store.current(), echo=_echo)


def _list(flags: Sequence[str]) -> Command:
    json_, names, wide = ("--json" in flags), ("--names" in flags), ("--wide" in flags)

    def run(environ: Mapping[str, str]) -> int:
        with _store(environ) as store:
            view = store.view()
            new = render.is_new(store, view)
            render.show_list(view, json_=json_, names=names, wide=wide, echo=_echo, new=new)
        return 0

    return run


def _select(name: str) -> Command:
    def run(environ: Mapping[str, str]) -> int:
        from azctx.cli.asking import confirmed  # a protected context asks first

        with _store(environ) as store:
            result = confirmed(lambda yes: store.select(name, yes=yes), False, "--yes")
            render.show_result(result, echo=_echo)
        return 0

    return run


def _run(context: str | None, command: Sequence[str]) -> Command:
    def run(environ: Mapping[str, str]) -> int:
        from azctx.cli.fan_out import run_command  # a pattern runs once per match

        with _store(environ) as store:
            return run_command(store, context, command, _echo_err)

    return run


def _echo_err(text: str) -> None:
    _echo(text, err=True)


def _init(shell: str) -> Command:
    def run(environ: Mapping[str, str]) -> int:
        from azctx.cli.shell.starting import azctx_exe, init_script

        with _store(environ) as store:
            sys.stdout.write(init_script(shell, azctx_exe(), environ, store, _echo_err))
        return 0

    return run


def plan(argv: Sequence[str], environ: Mapping[str, str]) -> Command | None:
    """The command for ``argv`` when it is one of the spellings above, else None."""
    if "_AZCTX_COMPLETE" in environ:
        return None  # shell completion is typer's
    store = environ.get("AZCTX_STORE")
    if store is not None and not store.strip():
        return None  # the typer app reports this one
    match list(argv):
        case []:
            return _list(())  # kubectx: the name alone lists
        case ["current"]:
            return _current
        case ["list", *flags] if set(flags) <= _LIST_FLAGS and len(set(flags)) == len(flags):
            return _list(flags)
        case ["select", name] if not name.startswith("-"):
            return _select(name)
        case ["init", shell] if shell in SHELLS:
            return _init(shell)
        case ["run", "--", *command] if command:
            return _run(None, command)
        case ["run", "--context", name, "--", *command] if command and not name.startswith("-"):
            return _run(name, command)
    return None


def run(command: Command, environ: Mapping[str, str]) -> int:
    """Run ``command`` on the store; failures end the process as the typer app's do."""
    from azctx.cli.exits import EXIT_INTERRUPTED, fail, internal_error, reader_gone

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
    """Run ``argv`` here and exit; False when it is not a prompt command."""
    command = plan(argv, os.environ)
    if command is None:
        return False
    sys.exit(run(command, os.environ))
