"""azctx.store."""
