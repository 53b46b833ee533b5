"""The Azure CLI as the baseline: found on PATH, or installed once into a cached venv,
and pointed at an offline profile of 20 subscriptions in a throwaway config folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

SUBSCRIPTIONS = 20
ACCOUNT = "bench.user@contoso.example"
TENANT = "72f988bf-0000-4000-8000-00000000beef"
CACHE_VENV = Path.home() / ".cache" / "azctx-bench" / "az-venv"


@dataclass(frozen=True)
class Subscription:
    id: str
    name: str


def subscriptions() -> list[Subscription]:
    return [
        Subscription(f"00000000-0000-4000-8000-{i:012d}", f"sub-{i:02d}")
        for i in range(1, SUBSCRIPTIONS + 1)
    ]


@dataclass(frozen=True)
class AzCli:
    """How to run ``az`` and the environment that keeps it offline and quiet."""

    executable: str
    env: dict[str, str]


def _cached_az() -> str | None:
    candidate = CACHE_VENV / "bin" / "az"
    return str(candidate) if candidate.exists() else None


def _install_az() -> str | None:
    """Install ``azure-cli`` from PyPI into the cache venv; None (with a note) on failure."""
    print(f"note: installing azure-cli into {CACHE_VENV} (once; this takes minutes)", flush=True)
    try:
        if not (CACHE_VENV / "bin" / "python").exists():
            venv.create(CACHE_VENV, with_pip=True)
        subprocess.run(
            [str(CACHE_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "azure-cli"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"note: azure-cli could not be installed ({exc})", file=sys.stderr)
        return None
    return _cached_az()


def find_az(install: bool) -> str | None:
    """``az`` from PATH, else the cached venv, else (when ``install``) a fresh install."""
    return shutil.which("az") or _cached_az() or (_install_az() if install else None)


def profile_document() -> dict[str, object]:
    """An ``azureProfile.json`` as ``az login`` leaves it, for 20 subscriptions."""
    subs = [
        {
            "id": sub.id,
            "name": sub.name,
            "state": "Enabled",
            "user": {"name": ACCOUNT, "type": "user"},
            "isDefault": index == 0,
            "tenantId": TENANT,
            "environmentName": "AzureCloud",
            "homeTenantId": TENANT,
            "tenantDefaultDomain": "contoso.example",
            "tenantDisplayName": "Contoso",
            "managedByTenants": [],
        }
        for index, sub in enumerate(subscriptions())
    ]
    return {"installationId": "00000000-0000-4000-8000-0000000000aa", "subscriptions": subs}


_CONFIG = """[core]
collect_telemetry = false
survey_message = false
no_color = true
only_show_errors = true
"""


def offline_env(config_dir: Path) -> dict[str, str]:
    """A config folder with the profile (``az account set`` rewrites it there) and
    settings that keep ``az`` from phoning home; returns the environment to run it in."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "azureProfile.json").write_text(json.dumps(profile_document(), indent=2))
    (config_dir / "config").write_text(_CONFIG)
    env = dict(os.environ)
    env.update(
        {
            "AZURE_CONFIG_DIR": str(config_dir),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
        }
    )
    return env


def prepare(config_dir: Path, install: bool) -> AzCli | None:
    executable = find_az(install)
    if executable is None:
        return None
    return AzCli(executable, offline_env(config_dir))
