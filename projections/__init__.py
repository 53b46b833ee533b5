"""azctx.projections: the functional core, pure and I/O-free.

``state`` folds events into per-scope state (``evolve``, ``replay``); ``view`` is what a
caller sees (the user scope under its session's process scope) and the one lookup of a
context by name; ``decisions/`` turns a request into an event or a refusal, one module
per kind of operation; ``snapshot`` is the state as a cache; ``history`` the rows of
``azctx history``; ``formats/`` reads and writes the Az PowerShell and Azure CLI files;
``handoff/`` is what a child process or a private Azure CLI folder gets to act as a
context."""
