"""The shell integration: the scripts ``azctx init SHELL`` prints (``scripts``), the
session a shell starts with them (``starting``), and the lines ``eval`` runs in each
shell to set or unset a variable (``exports``)."""

from __future__ import annotations

#: The shells ``azctx init`` writes for (here, so the prompt path need not load the scripts).
SHELLS = ("bash", "zsh", "fish", "pwsh")
