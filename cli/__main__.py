"""``python -m azctx.cli``."""

from __future__ import annotations

from azctx.cli.main import main

main()
