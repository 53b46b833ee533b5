"""azctx.cli: the command line over ``azctx.store.ContextStore``.

``app`` defines the typer app, the options every command shares and the store of the
invocation; ``commands/`` holds one module per group of commands (each parses, calls one
``ContextStore`` method and renders through ``render``). ``fast_path`` runs what a shell
runs at every prompt and in front of every tool (``azctx`` alone, ``current``, ``list``,
``select NAME``, ``run -- CMD``, ``init``) without importing typer; ``main`` chooses
between the two. ``exits`` and ``usage`` turn every failure into one ``error:`` line and
an exit code; ``asking`` holds the questions before a guarded change; ``child`` runs
``azctx run``'s command and ``fan_out`` runs it across several contexts; ``picker`` is
``select`` without a name; ``shell/`` is what ``azctx init`` gives each shell;
``json_output`` models the ``--json`` documents (pydantic, for the published schema)."""
