"""The Azure CLI hand-off on disk: the private config folders ``run`` makes per command
and each session keeps per shell (``folders``, ``sessions``), the certificate copies the
CLI can read (``certificates``), and reading the CLI's own files for
``import --from-az-cli`` (``importing``). What the folders hold is decided by the pure
``azctx.projections.handoff``."""
