"""The ``azctx`` console script."""

from __future__ import annotations

from .app import app


def main() -> None:
    app(prog_name="azctx")


if __name__ == "__main__":
    main()
