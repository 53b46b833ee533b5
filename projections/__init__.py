"""azctx.projections."""
