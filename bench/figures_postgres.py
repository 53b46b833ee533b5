"""The everyday commands on a PostgreSQL store against their nearest ``az`` command.

The store lives in a fresh schema of the server at ``--postgres URL`` (a SQLAlchemy URL;
default ``$AZCTX_BENCH_POSTGRES_URL``, then ``$AZCTX_TEST_POSTGRES_URL``, then the local
server), dropped afterwards. Without a server that answers, the rows say so."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from azcli import AzCli
from figures_cli import Pair, Runner, add_args, alternating, az_list, az_set, cycling, measure
from report import Row, skipped
from stores import context_names, new_store, populate
from timing import run_once

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIMIT = 1.0
FIGURES = [
    "PostgreSQL: `azctx list` / `az account list`",
    "PostgreSQL: `azctx select NAME` / `az account set`",
    "PostgreSQL: `azctx add` / `az account set`",
]


def default_url() -> str:
    return (
        os.environ.get("AZCTX_BENCH_POSTGRES_URL")
        or os.environ.get("AZCTX_TEST_POSTGRES_URL")
        or DEFAULT_URL
    )


@contextmanager
def fresh_schema(base: str) -> Iterator[tuple[str | None, str]]:
    """A URL whose search_path is a new, empty schema (dropped afterwards), or None and
    why not: no driver, or no server answering at ``base``."""
    where = base.split("@")[-1].split("?")[0]
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError

        admin = create_engine(
            base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
    except ImportError as exc:
        yield None, f"no PostgreSQL driver: {exc.name} (pip install 'azctx[postgres]')"
        return
    schema = f"azctx_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError:
        admin.dispose()
        yield None, f"no PostgreSQL server answers at {where}"
        return
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}", ""
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_figures(root: Path, rounds: int, az: AzCli | None, base: str) -> Iterator[Row]:
    with fresh_schema(base) as (url, why):
        if url is None:
            for figure in FIGURES:
                yield skipped(figure, f"≤ {LIMIT}", why)
            return
        if az is None:
            for figure in FIGURES:
                yield skipped(figure, f"≤ {LIMIT}", "no az")
            return
        store = new_store(root / "postgres", store=url)
        populate(store, selects=80)  # 100 operations
        run = Runner(store.env, az)
        names = context_names()[:2]
        contenders = [
            (lambda: run_once(run.azctx("list")), az_list(run)),
            (alternating(lambda name: run.azctx("select", name), names), az_set(run)),
            (cycling(lambda n: run.azctx("add", *add_args(f"added-{n}"))), az_set(run)),
        ]
        for figure, (mine, baseline) in zip(FIGURES, contenders, strict=True):
            yield measure(Pair(figure, mine, baseline, LIMIT), rounds)
