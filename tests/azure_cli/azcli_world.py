"""Set-up shared by the tests that run the real Azure CLI: ``az`` itself (from PATH, or
installed once from PyPI into the cache venv that ``bench/azcli.py`` manages: one copy
of that logic), and a private world per test: store, key, ``HOME``, the caller's own
Azure CLI folder, ``XDG_RUNTIME_DIR`` and ``TMPDIR``, all under the test's tmp_path so a
scan of it finds any secret left behind."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

BENCH_AZCLI = Path(__file__).resolve().parents[2] / "bench" / "azcli.py"
CALLER_SUBSCRIPTION = "99999999-0000-4000-8000-00000000ca11"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OFFLINE = {
    "AZURE_CORE_COLLECT_TELEMETRY": "false",
    "AZURE_CORE_NO_COLOR": "true",
    "AZURE_CORE_SURVEY_MESSAGE": "false",
    "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
}


def bench_azcli() -> ModuleType:
    """``bench/azcli.py``, loaded by path (bench is not a package)."""
    spec = importlib.util.spec_from_file_location("azctx_bench_azcli", BENCH_AZCLI)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def find_or_install_az() -> str:
    """``az``; installed once when missing. Skipped only off CI: on CI it must run."""
    found: str | None = bench_azcli().find_az(install=True)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("azure-cli could not be installed, and the az tests must run on CI")
        pytest.skip("azure-cli is not installed and could not be installed (offline?)")
    return found


def caller_profile() -> dict[str, object]:
    """The caller's own ``az login`` state: one subscription of a user account."""
    entry = {
        "id": CALLER_SUBSCRIPTION,
        "name": "Caller's own",
        "state": "Enabled",
        "user": {"name": "caller@contoso.example", "type": "user"},
        "isDefault": True,
        "tenantId": TENANT,
        "environmentName": "AzureCloud",
        "homeTenantId": TENANT,
        "managedByTenants": [],
    }
    return {"installationId": "00000000-0000-4000-8000-0000000000aa", "subscriptions": [entry]}


@dataclass(frozen=True)
class AzWorld:
    root: Path
    az: str

    @property
    def caller_dir(self) -> Path:
        return self.root / "caller-azure"

    @property
    def runtime(self) -> Path:
        return self.root / "xdg"

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: this world's store, folders and ``az`` first on PATH."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZCTX_", "ARM_"))
        }
        path = os.pathsep.join(
            [str(Path(sys.executable).parent), str(Path(self.az).parent), env.get("PATH", "")]
        )
        env.update(
            OFFLINE,
            PATH=path,
            HOME=str(self.root / "home"),
            XDG_RUNTIME_DIR=str(self.runtime),
            TMPDIR=str(self.root / "tmp"),
            AZCTX_STORE=str(self.root / "store.db"),
            AZCTX_KEY_FILE=str(self.root / "master.key"),
            AZURE_CONFIG_DIR=str(self.caller_dir),
        )
        env.update(extra)
        return env

    def azctx(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "azctx.cli", *args],
            env=dict(env or self.env()),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def ok(self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> str:
        result = self.azctx(*args, env=env, stdin=stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def account(self, *run_args: str, env: Mapping[str, str] | None = None) -> dict[str, object]:
        """``az account show`` run through ``azctx run``."""
        shown: dict[str, object] = json.loads(
            self.ok("run", *run_args, "--", self.az, "account", "show", "-o", "json", env=env)
        )
        return shown

    def bash(self, script: str, env: Mapping[str, str] | None = None) -> list[str]:
        """The stdout lines of a bash script (failing on the first failing command)."""
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=dict(env or self.env()),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.splitlines()


def make_world(root: Path, az: str) -> AzWorld:
    world = AzWorld(root, az)
    for folder in ("home", "tmp", "xdg"):
        (root / folder).mkdir(mode=0o700)
    world.caller_dir.mkdir()
    (world.caller_dir / "azureProfile.json").write_text(json.dumps(caller_profile()))
    (world.caller_dir / "config").write_text("[core]\noutput = json\n")
    return world


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash and mode."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = f"{digest} {path.stat().st_mode:o}"
    return found


def holding(root: Path, *needles: bytes) -> list[str]:
    """Files under ``root`` (symlinks not followed) holding any of ``needles``."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(str(path))
    return found


# The service principals the tests of the Azure CLI and of the shells add.
SP = "11111111-aaaa-4bbb-8ccc-000000000001"
SP_SUB = "00000000-0000-4000-8000-0000000000a1"
SP_SECRET = "sp-secret-\u00e9-Zq8~never-shown"
CERT_SP = "22222222-aaaa-4bbb-8ccc-000000000002"
CERT_SUB = "00000000-0000-4000-8000-0000000000c2"


def add_sp(world: AzWorld, name: str = "prod", account: str = SP, sub: str = SP_SUB) -> None:
    world.ok(
        "add", "--account", account, "--account-type", "service-principal",
        "--tenant", TENANT, "--subscription", sub, "--subscription-name", f"{name}-sub",
        "--name", name, "--secret-stdin", stdin=SP_SECRET + "\n",
    )  # fmt: skip


def went_for_token(said: str) -> bool:
    """Whether ``az`` asked the tenant's authority for a token (through the proxy)."""
    return "host='login.microsoftonline.com'" in said and f"url: /{TENANT}/" in said
