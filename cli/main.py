"""The ``azctx`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    from azctx.store.processes import forbid_core_dumps

    # Before any key or secret is read: a crash leaves no copy of them in a core file.
    forbid_core_dumps()
    # The prompt commands (``current``, ``list``, ``select NAME``) and ``run -- CMD``
    # skip typer: see cli/fast_path.py.
    from azctx.cli.fast_path import main as prompt_main

    if prompt_main(sys.argv[1:]):
        return
    from azctx.cli.commands import app_for

    app_for(sys.argv[1:])(prog_name="azctx")


if __name__ == "__main__":
    main()
