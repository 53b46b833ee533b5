"""The typer group azctx's commands live in: it turns a failure inside a command into
``error: ...`` lines and exit codes (through ``exits``), and the help shows every value
as a word (``--at WHEN``, ``NAME``), never as a type placeholder (``<str>``) or a
required argument in braces (``{name}``)."""

from __future__ import annotations

import os
import string
import sys
from collections.abc import Sequence
from typing import Any

import typer
from azctx.cli.exits import EXIT_INTERRUPTED, EXIT_USAGE, fail, internal_error, reader_gone
from azctx.events import AzctxError
from typer.core import TyperArgument, TyperGroup, TyperOption


def _usage_message(exc: typer.TyperException) -> str:
    fmt = getattr(exc, "format_message", None)
    return str(fmt() if callable(fmt) else exc)


Command = Any  # typer's (vendored) click.Command

#: The word an option's value is shown as, when it is not the option's own name.
METAVARS = {
    "--at": "WHEN",
    "--since": "WHEN",
    "--limit": "N",
    "--ttl": "DURATION",
    "--store": "PATH_OR_URL",
    "--certificate": "PATH",
    "--new-key-file": "PATH",
    "--account": "ACCOUNT",
    "--tenant": "TENANT",
    "--subscription": "ID",
    "--subscription-name": "NAME",
    "--name": "NAME",
    "--environment": "CLOUD",
    "--context": "NAME",
}


def _word(param: TyperOption) -> str:
    choices = getattr(param.type, "choices", None)
    if choices:
        return "|".join(str(c) for c in choices)
    first = param.opts[0] if param.opts else str(param.name)
    return METAVARS.get(first, first.lstrip("-").replace("-", "_").upper())


def plain_metavars(command: Command) -> Command:
    """``command`` with every value shown as a word (a metavar set where the option
    is declared wins), and its summary in the list of commands its whole first
    paragraph (click would cut it at 45 characters, mid-sentence)."""
    if command.short_help is None and command.help:
        command.short_help = " ".join(command.help.strip().split("\n\n")[0].split())
    for param in command.params:
        if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
            param.metavar = _word(param)
        elif isinstance(param, TyperArgument):
            shown = param.metavar or str(param.name).upper() + ("..." if param.nargs != 1 else "")
            word = shown if param.required or shown.startswith("[") else f"[{shown}]"
            param.make_metavar = lambda *_a, _w=word, **_k: _w  # type: ignore[method-assign]
    return command


#: What bash leaves as it is in a word; every other character is escaped.
BASH_PLAIN = frozenset(string.ascii_letters + string.digits + "_@%+=:,./-")


def bash_word(value: str) -> str:
    """``value`` as one bash word: bash puts a completion in the line as it is given,
    so ``[user; sub]`` unescaped would end the command at the ``;``. zsh and fish
    quote what they insert themselves."""
    return "".join(ch if ch in BASH_PLAIN else "\\" + ch for ch in value)


def quote_bash_completions() -> None:
    """Make bash completions come out as ``bash_word``s: click's documented way is a
    completion class of our own for the shell, registered over typer's."""
    from typer.completion import shell_completion  # type: ignore[attr-defined]

    base: Any = shell_completion.get_completion_class("bash")
    if base is None or getattr(base, "quotes_words", False):
        return

    class QuotingBash(base):  # type: ignore[misc]
        quotes_words = True

        def format_completion(self, item: Any) -> str:
            return bash_word(str(item.value))

    shell_completion.add_completion_class(QuotingBash, "bash")


class AzctxGroup(TyperGroup):
    """A command group that never lets a traceback or a foreign exit code out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_metavars(self)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Command | None:  # type: ignore[override]
        found = super().get_command(ctx, cmd_name)
        return None if found is None else plain_metavars(found)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # A command group called with nothing after it prints its help and succeeds
        # (as ``no_args_is_help`` would, but without an exception to tell apart).
        if not args and ctx.parent is not None and not ctx.resilient_parsing:
            sys.stdout.write(ctx.get_help() + "\n")
            raise typer.Exit(0)
        result: list[str] = super().parse_args(ctx, args)
        if ctx.parent is None and not ctx._protected_args and not ctx.resilient_parsing:
            # ``azctx`` alone, or with only its own options (``--store X``), lists the
            # contexts, as kubectx does.
            ctx._protected_args = ["list"]
        return result

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if os.environ.get("_AZCTX_COMPLETE", "").endswith("_bash"):
            quote_bash_completions()
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
            code = getattr(exc, "exit_code", EXIT_USAGE)
            fail(_usage_message(exc), "see 'azctx --help'", code if code in (1, 2) else 2)
        except BrokenPipeError:
            reader_gone()
        except Exception as exc:
            internal_error(exc)
        if isinstance(result, int) and not isinstance(result, bool):
            sys.exit(result)
        if standalone_mode:
            sys.exit(0)
        return result
