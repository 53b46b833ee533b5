"""azctx.projections: the functional core, pure and I/O-free.

``state`` folds events into per-scope state (``evolve``, ``replay``); ``view`` is what a
caller sees; ``decide``, ``add`` and ``undo`` turn a request into an event or a
refusal, sharing ``scopes`` (where a change goes, the default's fallback); ``snapshot``
is the state as a cache; ``history`` the rows of ``azctx history``; the ``interop*``
modules read and write the Az PowerShell and Azure CLI file formats.
"""
