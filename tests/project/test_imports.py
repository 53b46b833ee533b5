"""Structure of the hot path, checked in real processes: which modules a command
imports. (No wall-clock assertion: timing is the benchmark's job, bench/run.py.)

``azctx current`` and ``azctx list`` on a current SQLite store run at every prompt,
``azctx select NAME`` at every switch, ``azctx run -- CMD`` in front of every tool:
they must not import SQLAlchemy or Alembic (database URLs and migrations only), rich,
typer (cli/fast_path.py recognises them and calls ``ContextStore`` without it) or
pydantic (the core is plain records). Every other command goes through typer, and
loads neither pydantic nor SQLAlchemy either, except ``import``: pydantic reads the
import files, at the edge, and only there (``export`` writes from plain records)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from azctx.store.context_store import ContextStore

HEAVY = ("sqlalchemy", "alembic", "rich")

# Runs the console script's entry point and records, at exit, every module loaded.
_PROBE = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "azctx"
from azctx.cli.main import main
main()
"""


@pytest.fixture(scope="module")
def store_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("imports")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env.update(
        {
            "AZCTX_STORE": str(root / "store.db"),
            "AZCTX_KEY_FILE": str(root / "keys" / "master.key"),
            "AZCTX_DATA_DIR": str(root / "data"),
            "AZCTX_CONFIG_DIR": str(root / "config"),
        }
    )
    with ContextStore(env["AZCTX_STORE"], environ=env) as store:
        store.add(account="user1@contoso.org", tenant="t-1", subscription="s-1", name="dev")
        store.add(account="user1@contoso.org", tenant="t-1", subscription="s-2", name="prod")
    return env


def imported(env: dict[str, str], tmp_path: Path, *args: str) -> set[str]:
    """The top-level names of every module ``azctx ARGS`` loaded; the command must
    succeed, so a failing run cannot pass for a lean one."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {name.split(".")[0] for name in json.loads(out.read_text())}


@pytest.mark.parametrize(
    "args",
    [
        ("current",),
        ("list",),
        ("list", "--json"),
        ("select", "dev"),
        ("select", "PROD"),
        ("run", "--", "true"),
        ("run", "--context", "prod", "--", "true"),
    ],
)
def test_prompt_commands_stay_lean(
    store_env: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    loaded = imported(store_env, tmp_path, *args)
    assert "azctx" in loaded and "cryptography" in loaded  # the probe saw a real run
    # dataclasses (with the inspect it loads) cost a prompt command about a fifth of its time
    unwanted = sorted(
        loaded & {*HEAVY, "typer", "click", "pydantic", "pydantic_core", "dataclasses", "inspect"}
    )
    assert unwanted == [], f"azctx {' '.join(args)} imported {unwanted}"


def test_a_session_read_stays_off_pydantic(store_env: dict[str, str], tmp_path: Path) -> None:
    # An unknown session: the read warns, and still folds without the models.
    env = {**store_env, "AZCTX_SESSION": "s-0123456789abcdef", "AZCTX_AUTOSAVE": "true"}
    loaded = imported(env, tmp_path, "list", "--names")
    assert "azctx" in loaded
    assert "pydantic" not in loaded


_LEAN = """
import sys
import azctx.events, azctx.store.context_store, azctx.cli.fast_path, azctx.cli.render
import azctx.cli.exits, azctx.projections.decisions.contexts, azctx.projections.decisions.undo
import azctx.projections.history, azctx.projections.snapshot, azctx.store.loader
print(sorted({"pydantic", "dataclasses", "typer", "sqlalchemy"} & set(sys.modules)))
"""


def test_the_core_loads_without_pydantic_typer_or_dataclasses() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LEAN], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_every_name_of_the_vocabulary_still_imports() -> None:
    import azctx.events as events

    for name in events.__all__:
        assert getattr(events, name) is not None, name
    assert set(events.__all__) <= set(dir(events))
    with pytest.raises(AttributeError):
        events.NoSuchName  # noqa: B018


@pytest.mark.parametrize(
    "args",
    [
        ("select", "prod", "--scope", "user"),
        ("show", "dev"),
        ("history", "--limit", "20"),
        ("history", "--json"),
        ("session", "status", "--json"),
        ("key", "status", "--json"),
        ("autosave", "status", "--json"),
        ("add", "--account", "x@y", "--tenant", "t", "--subscription", "s", "--name", "new"),
    ],
)
def test_everyday_commands_through_typer_stay_off_pydantic_and_sqlalchemy(
    store_env: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    loaded = imported(store_env, tmp_path, *args)
    assert "typer" in loaded  # not a prompt command line
    assert sorted(loaded & {*HEAVY, "pydantic", "pydantic_core"}) == []


def test_pydantic_is_loaded_by_import_and_by_no_other_file_command(
    store_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "AzureRmContext.json"
    context = {
        "Account": {"Id": "user1@contoso.org", "Type": "User"},
        "Tenant": {"Id": "t-1"},
        "Subscription": {"Id": "s-9"},
        "Environment": {"Name": "AzureCloud"},
    }
    source.write_text(json.dumps({"Contexts": {"imported": context}}))
    assert "pydantic" in imported(store_env, tmp_path, "import", str(source))
    exported = imported(store_env, tmp_path, "export", str(tmp_path / "out.json"))
    assert sorted(exported & {*HEAVY, "pydantic", "pydantic_core"}) == []
