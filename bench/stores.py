"""Stores for the benchmarks, in a temp folder, never the user's real ones.

Small stores are filled through ``ContextStore``'s public methods; the big synthetic
logs of the replay, growth and memory figures come from ``internals.grow``.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from azcli import ACCOUNT, TENANT, subscriptions

#: The service principal of the ``run`` figures: its application id and (fake) secret.
SP_NAME = "bench-sp"
SP_APP_ID = "11111111-0000-4000-8000-0000000000a1"
SP_SECRET = "bench-secret-not-a-real-one"


@dataclass(frozen=True)
class Sizes:
    """Log sizes and operation counts of the figures (``--quick``: smaller logs)."""

    latency: tuple[int, ...] = (100, 10_000)
    replay: int = 100_000
    growth_small: int = 100
    growth_big: int = 100_000
    memory: int = 1_000_000
    append_block: int = 20
    writer_ops: int = 25


QUICK = Sizes(replay=20_000, growth_big=20_000, memory=200_000, writer_ops=15)


@dataclass(frozen=True)
class BenchStore:
    """A store and the environment that points every azctx variable at it: ``path`` is
    its SQLite file, ``target`` what ``AZCTX_STORE`` names (that file, or a database URL
    whose store has no file)."""

    path: Path
    env: dict[str, str]

    @property
    def environ(self) -> dict[str, str]:
        return self.env

    @property
    def target(self) -> str:
        return self.env["AZCTX_STORE"]


def context_names() -> list[str]:
    return [sub.name for sub in subscriptions()]


def make_env(root: Path, key: str | None = None, store: str | None = None) -> dict[str, str]:
    """A copy of os.environ whose azctx variables all point inside ``root`` (the store
    at ``store`` when given, e.g. a database URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env.update(
        {
            "AZCTX_DATA_DIR": str(root / "data"),
            "AZCTX_CONFIG_DIR": str(root / "config"),
            "AZCTX_STORE": store or str(root / "store.db"),
            "AZCTX_KEY": key or base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    return env


def new_store(root: Path, store: str | None = None) -> BenchStore:
    root.mkdir(parents=True, exist_ok=True)
    env = make_env(root, store=store)
    return BenchStore(root / "store.db", env)


def populate(store: BenchStore, *, selects: int = 0, service_principal: bool = False) -> None:
    """Through ``ContextStore``'s public methods: one context per subscription (the
    first one the default), ``selects`` selects cycling through them, and with
    ``service_principal`` a service principal with a secret, made the default."""
    from azctx.store.context_store import ContextStore

    subs = subscriptions()
    with ContextStore(store.target, environ=store.env) as contexts:
        for sub in subs:
            contexts.add(
                account=ACCOUNT,
                tenant=TENANT,
                subscription=sub.id,
                subscription_name=sub.name,
                name=sub.name,
                select=False,
            )
        for index in range(selects):
            contexts.select(subs[index % len(subs)].name)
        if service_principal:
            contexts.add(
                account=SP_APP_ID,
                tenant=TENANT,
                subscription=subs[0].id,
                subscription_name=subs[0].name,
                name=SP_NAME,
                account_type="service-principal",
                secret=SP_SECRET,
            )
        if contexts.current() is None:
            contexts.select(subs[0].name)
