"""The ``azctx`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    # The prompt commands (``current``, ``list``) skip typer: see cli/fast.py.
    from .fast import main as fast_main

    if fast_main(sys.argv[1:]):
        return
    from .app import app

    app(prog_name="azctx")


if __name__ == "__main__":
    main()
