"""Fixtures shared by the test files of tests/commands/: stores set up through the CLI."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import AzctxCli
from command_support import ADD, SUB_DEV, SUB_PROD, _console_script


@pytest.fixture
def two(azctx_cli: AzctxCli) -> AzctxCli:
    """'prod' (subscription 'Contoso Prod') and 'dev' (subscription 'Contoso Dev')."""
    for name, sub, label in (("prod", SUB_PROD, "Contoso Prod"), ("dev", SUB_DEV, "Contoso Dev")):
        azctx_cli(
            "add", "--account", "ann@contoso.org", "--tenant", "t-1", "--subscription", sub,
            "--subscription-name", label, "--name", name,
        )  # fmt: skip
    return azctx_cli


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzctxCli]:
    """A store with two contexts (one a service principal with a secret) and a live
    session, shared by the read-only cases of this module."""
    root = tmp_path_factory.mktemp("seeded")
    cli = AzctxCli(
        {
            "AZCTX_STORE": str(root / "store.db"),
            "AZCTX_KEY_FILE": str(root / "master.key"),
            "AZCTX_DATA_DIR": str(root / "data"),
            "AZCTX_CONFIG_DIR": str(root / "config"),
        }
    )
    cli(*ADD, "--name", "dev")
    sp = ("--account-type", "service-principal", "--secret-stdin")
    cli("add", "--account", "app-1", "--tenant", "t", "--subscription", "s2", "--name", "prod",
        *sp, input="pw\n")  # fmt: skip
    cli("session", "start")
    yield cli


@pytest.fixture
def existing(azctx_cli: AzctxCli) -> AzctxCli:
    azctx_cli(*ADD, "--name", "dev")
    return azctx_cli


@pytest.fixture
def terminal_env(azctx_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """For the tests on a real terminal: a store with 'dev-eu', 'dev-us' (the default)
    and 'prod', and a PATH without fzf."""
    empty = tmp_path / "bin"
    empty.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    base.pop("NO_COLOR", None)
    full = {**base, **azctx_env, "TERM": "xterm", "PATH": str(empty)}
    for name, sub in (
        ("prod", "Contoso Prod"),
        ("dev-eu", "Contoso Dev EU"),
        ("dev-us", "Contoso Dev US"),
    ):
        subprocess.run(
            [_console_script(), "add", "--account", f"{name}@contoso.org", "--tenant", "t-1",
             "--subscription", f"s-{name}", "--subscription-name", sub, "--name", name],
            env=full, check=True, capture_output=True,
        )  # fmt: skip
    return full
