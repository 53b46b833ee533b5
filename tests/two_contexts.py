"""A store of two contexts, 'dev' (the default) and 'prod', of one user account, opened
through ``ContextStore`` in a test's folder: for the tests of sessions and of init."""

from __future__ import annotations

import os
from pathlib import Path

from azctx.store.context_store import ContextStore

USER = ("user1@contoso.org", "t-1")


def store_at(path: Path, **env: str) -> ContextStore:
    """The store in ``path`` (key file beside it), with the process environment but
    azctx's variables, plus ``env``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    environ.update(AZCTX_KEY_FILE=str(path / "key"), **env)
    return ContextStore(str(path / "store.db"), environ=environ)


def make_two(path: Path) -> Path:
    """'dev' and 'prod' in the store at ``path``, 'dev' selected; returns ``path``."""
    with store_at(path) as store:
        for name in ("dev", "prod"):
            store.add(account=USER[0], tenant=USER[1], subscription=f"s-{name}", name=name)
        store.select("dev")
    return path
