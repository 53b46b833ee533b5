"""A real ``azctx run -- env`` for each kind of account and cloud: CMD sees the
context's ``AZURE_*`` and ``ARM_*`` variables, and none of the caller's stale identity
variables; azure-identity's EnvironmentCredential inside ``run`` acts as the context."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azctx.projections.handoff.azcli_folder import QUIET_VARIABLES
from azctx.projections.handoff.variables import FOREIGN_IDENTITY_VARIABLES, RUN_VARIABLES
from azctx.store.context_store import ContextStore

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "a1b2c3d4-0000-4000-8000-000000000001"
SP_ID = "0c0ffee0-1111-4222-8333-444455556666"
LAB_SP_ID = "0c0ffee0-2222-4222-8333-444455556666"
MI_ID = "0f3b1c2d-1111-2222-3333-444455556666"
SECRET = "gov-s3cr3t-\u00e9 value"
LAB_SECRET = "lab-s3cr3t"

#: Every identity variable a caller might have set for another identity, with values
#: that must not reach CMD; and two that are not identity settings and must.
STALE = {name: f"stale-{name.lower()}" for name in (*RUN_VARIABLES, *FOREIGN_IDENTITY_VARIABLES)}
KEPT = {"ARM_SKIP_PROVIDER_REGISTRATION": "true", "UNRELATED_VARIABLE": "kept"}

LAB_PROFILE = {
    "DefaultContextKey": "lab",
    "EnvironmentTable": {
        "Lab": {
            "Name": "Lab",
            "Type": "User-defined",
            "ActiveDirectoryAuthority": "https://login.lab.example/",
        }
    },
    "Contexts": {
        "lab": {
            "Account": {
                "Id": LAB_SP_ID,
                "Type": "ServicePrincipal",
                "ExtendedProperties": {"ServicePrincipalSecret": LAB_SECRET},
            },
            "Tenant": {"Id": TENANT},
            "Subscription": {"Id": SUBSCRIPTION, "Name": "Lab"},
            "Environment": {
                "Name": "Lab",
                "ActiveDirectoryAuthority": "https://login.lab.example/",
            },
        }
    },
    "ExtendedProperties": {},
}


@dataclass(frozen=True)
class Store:
    root: Path

    def caller_env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AZURE_", "AZCTX_", "ARM_", "IDENTITY_", "MSI_", "IMDS_"))
        }
        env.update(
            AZCTX_STORE=str(self.root / "store.db"),
            AZCTX_KEY_FILE=str(self.root / "key"),
            AZCTX_DATA_DIR=str(self.root / "data"),
            AZCTX_CONFIG_DIR=str(self.root / "config"),
        )
        return {**env, **STALE, **KEPT}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("run-env")
    (root / "lab.json").write_text(json.dumps(LAB_PROFILE), encoding="utf-8")
    with ContextStore(root / "store.db", environ={"AZCTX_KEY_FILE": str(root / "key")}) as lib:
        lib.import_file(str(root / "lab.json"))
        common = {"tenant": TENANT, "subscription": SUBSCRIPTION}
        lib.add(account="me@contoso.cn", environment="AzureChinaCloud", name="me", **common)
        lib.add(account="MSI@50342", account_type="managed-identity", name="mi-system", **common)
        lib.add(account=MI_ID, account_type="managed-identity", name="mi-user", **common)
        lib.add(
            account=SP_ID,
            account_type="service-principal",
            environment="AzureUSGovernment",
            name="gov",
            secret=SECRET,
            **common,
        )
    yield Store(root)


def run_env(store: Store, context: str) -> dict[str, str]:
    """CMD's environment as ``env`` printed it inside ``azctx run --context CONTEXT``."""
    result = subprocess.run(
        [sys.executable, "-m", "azctx.cli", "run", "--context", context, "--", "env"],
        env=store.caller_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert SECRET not in result.stderr and LAB_SECRET not in result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def identity_variables(env: dict[str, str]) -> dict[str, str]:
    """The ARM_* and AZURE_* variables of CMD's environment (without AZURE_CONFIG_DIR and
    AZURE_EXTENSION_DIR, which describe the Azure CLI's directory, not the identity, and
    the variables that keep the CLI's telemetry and log file out of it)."""
    ignored = ("AZURE_CONFIG_DIR", "AZURE_EXTENSION_DIR", *QUIET_VARIABLES)
    return {
        k: v
        for k, v in env.items()
        if k.startswith(("ARM_", "AZURE_")) and k not in ignored and k not in KEPT
    }


def test_service_principal_in_the_us_government_cloud(store: Store) -> None:
    env = run_env(store, "gov")
    assert identity_variables(env) == {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "AZURE_CLIENT_ID": SP_ID,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us",
        "ARM_TENANT_ID": TENANT,
        "ARM_SUBSCRIPTION_ID": SUBSCRIPTION,
        "ARM_ENVIRONMENT": "usgovernment",
        "ARM_CLIENT_ID": SP_ID,
        "ARM_CLIENT_SECRET": SECRET,
    }
    assert env["AZCTX_CONTEXT"] == "gov"
    assert {k: env[k] for k in KEPT} == KEPT


def test_service_principal_in_a_custom_cloud(store: Store) -> None:
    env = run_env(store, "lab")
    assert identity_variables(env) == {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "AZURE_CLIENT_ID": LAB_SP_ID,
        "AZURE_CLIENT_SECRET": LAB_SECRET,
        "AZURE_AUTHORITY_HOST": "https://login.lab.example",
        "ARM_TENANT_ID": TENANT,
        "ARM_SUBSCRIPTION_ID": SUBSCRIPTION,
        "ARM_CLIENT_ID": LAB_SP_ID,
        "ARM_CLIENT_SECRET": LAB_SECRET,
    }


def test_user_in_the_china_cloud(store: Store) -> None:
    assert identity_variables(run_env(store, "me")) == {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "AZURE_AUTHORITY_HOST": "https://login.chinacloudapi.cn",
        "ARM_TENANT_ID": TENANT,
        "ARM_SUBSCRIPTION_ID": SUBSCRIPTION,
        "ARM_ENVIRONMENT": "china",
    }


@pytest.mark.parametrize(("context", "client_id"), [("mi-system", None), ("mi-user", MI_ID)])
def test_managed_identities(store: Store, context: str, client_id: str | None) -> None:
    expected = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
        "ARM_TENANT_ID": TENANT,
        "ARM_SUBSCRIPTION_ID": SUBSCRIPTION,
        "ARM_ENVIRONMENT": "public",
        "ARM_USE_MSI": "true",
    }
    if client_id is not None:
        expected.update(AZURE_CLIENT_ID=client_id, ARM_CLIENT_ID=client_id)
    assert identity_variables(run_env(store, context)) == expected


# Prints what EnvironmentCredential built from the environment (a hash, never a secret).
PROBE = r"""
import hashlib, json
from azure.identity import EnvironmentCredential

inner = EnvironmentCredential()._credential
print(json.dumps({
    "kind": type(inner).__name__,
    "client_id": inner._client_id,
    "tenant": inner._tenant_id,
    "authority": inner._authority,
    "secret": hashlib.sha256(inner._client_credential.encode()).hexdigest(),
}))
"""


def test_environment_credential_acts_as_the_context(store: Store) -> None:
    pytest.importorskip("azure.identity")
    command = [sys.executable, "-m", "azctx.cli", "run", "--context", "gov"]
    result = subprocess.run(
        [*command, "--", sys.executable, "-c", PROBE],
        env=store.caller_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr

    assert json.loads(result.stdout) == {
        "kind": "ClientSecretCredential",
        "client_id": SP_ID,
        "tenant": TENANT,
        "authority": "https://login.microsoftonline.us",
        "secret": hashlib.sha256(SECRET.encode()).hexdigest(),
    }
