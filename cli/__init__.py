"""azctx.cli."""
