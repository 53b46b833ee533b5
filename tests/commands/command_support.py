"""Helpers shared by the test files of tests/commands/: set-ups of a store through the CLI,
in-process or as a real ``azctx`` process, and the checks of a failed command; no tests here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azctx.store.context_store import ContextStore
from cli_runner import AzctxCli


def add(
    cli: AzctxCli, name: str, *extra: str, account: str = "user1@contoso.org", **kw: Any
) -> Any:
    return cli(
        "add",
        "--account",
        account,
        "--tenant",
        "tenant-1",
        "--subscription",
        f"sub-{name}",
        "--name",
        name,
        *extra,
        **kw,
    )


#: the real sample files of Azure PowerShell and the Azure CLI (data/interop/README.md)
INTEROP = Path(__file__).resolve().parent / "data" / "interop"

SUB_PROD = "11111111-1111-1111-1111-111111111111"
SUB_DEV = "22222222-2222-2222-2222-222222222222"


Run = Callable[..., subprocess.CompletedProcess[str]]


ADD_T1 = ("add", "--tenant", "tenant-1")


def _console_script() -> str:
    """The ``azctx`` installed next to this interpreter (else the one on PATH)."""
    beside = Path(sys.executable).with_name("azctx")
    found = str(beside) if beside.is_file() else shutil.which("azctx")
    assert found is not None, "the azctx console script is not installed (pip install -e .)"
    return found


def _runner(env: dict[str, str]) -> Run:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    base.update(env)
    base.pop("NO_COLOR", None)  # no colour must come from the output not being a TTY
    exe = _console_script()

    def run(
        *args: str, stdin: str = "", code: int = 0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [exe, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            timeout=120,
            check=False,
        )
        shown = f"azctx {args!r} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert done.returncode == code, shown
        assert "\x1b" not in done.stdout + done.stderr, shown
        assert "Traceback" not in done.stderr, shown
        return done

    return run


ADD = ("add", "--account", "u@contoso.org", "--tenant", "t", "--subscription", "s")


def fails(
    cli: AzctxCli, code: int, *args: str, env: dict[str, str | None] | None = None, **kw: Any
) -> str:
    """Run a command that must fail with ``code``; returns its error line."""
    before = cli.head()
    result = cli(*args, env=env, code=code, **kw)
    shown = f"{args!r}: {result.stderr!r}"
    assert result.stdout == "", shown
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2, shown
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: "), shown
    if len(lines) == 2:
        assert lines[1].startswith("hint: "), shown
    assert len(lines[0]) < 600, shown  # a 10,000-character value is not echoed whole
    assert cli.head() == before, shown
    return lines[0]


def secret_of(cli: AzctxCli, name: str) -> str | None:
    environ = {k: v for k, v in cli.env.items() if v is not None}
    with ContextStore(environ["AZCTX_STORE"], environ=environ) as store:
        return store.environment_for(name).variables.get("AZURE_CLIENT_SECRET")


SESSION_LINE = re.compile(r"export AZCTX_SESSION=(\S+)")


def start_session(cli: AzctxCli) -> str:
    result = cli("session", "start")
    match = SESSION_LINE.fullmatch(result.stdout.splitlines()[0])
    assert match is not None, result.stdout
    return match.group(1)


UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def az_context(
    account: str = "me@contoso.com",
    account_type: str = "User",
    tenant: str = "tenant-1",
    subscription: str | None = "sub-1",
    environment: str = "AzureCloud",
    account_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One context of an Az PowerShell AzureRmContext.json, as Save-AzContext writes it."""
    return {
        "Account": {
            "Id": account,
            "Credential": None,
            "Type": account_type,
            "TenantMap": {},
            "ExtendedProperties": {"Tenants": tenant, **(account_properties or {})},
        },
        "Tenant": {"Id": tenant, "Directory": None, "ExtendedProperties": {}},
        "Subscription": None
        if subscription is None
        else {"Id": subscription, "Name": "Sub", "State": "Enabled", "ExtendedProperties": {}},
        "Environment": {"Name": environment, "OnPremise": False},
        "VersionProfile": None,
        "TokenCache": {"CacheData": None},
        "ExtendedProperties": {},
    }
