"""azctx.cli: the command line, typer only, over ``azctx.store.ContextStore``.

``app`` (with ``common`` and ``contexts``) declares every command: each parses, calls one
``ContextStore`` method and renders (``render``). ``prompt`` runs the commands a shell
runs at every prompt and ``run -- CMD`` without importing typer; ``errors`` and
``failure`` turn every failure into one ``error:`` line and an exit code; ``child`` is
``azctx run`` (the context's variables, the child, its exit code).
"""
