"""The one place where failures become ``error: ...`` lines and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from azctx.cli.exits import EXIT_INTERRUPTED, EXIT_USAGE, fail, internal_error, reader_gone
from azctx.events import AzctxError
from typer.core import TyperGroup


def _usage_message(exc: typer.TyperException) -> str:
    fmt = getattr(exc, "format_message", None)
    return str(fmt() if callable(fmt) else exc)


class AzctxGroup(TyperGroup):
    """A command group that never lets a traceback or a foreign exit code out."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # ``azctx`` alone lists the contexts (kubectx); a command group called with
        # nothing after it prints its help and succeeds (as ``no_args_is_help`` would,
        # but without an exception to tell apart).
        if not args and ctx.parent is None:
            args = ["list"]
        elif not args and not ctx.resilient_parsing:
            sys.stdout.write(ctx.get_help() + "\n")
            raise typer.Exit(0)
        result: list[str] = super().parse_args(ctx, args)
        return result

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
