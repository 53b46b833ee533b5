"""What ``azctx run`` hands to CMD: the ``AZURE_*`` variables azure-identity reads, the
``ARM_*`` ones of the azurerm/azapi providers (Terraform, Pulumi), and the variables it
drops from the caller's environment. Pure functions here; tests/commands/test_run.py runs the
real ``azctx run``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from azctx.cli.child import STALE_IDENTITY_VARIABLES, child_environment
from azctx.events import Context, Environment
from azctx.projections.handoff.variables import (
    ARM_ENVIRONMENTS,
    FOREIGN_IDENTITY_VARIABLES,
    HOST_IDENTITY_VARIABLES,
    RUN_VARIABLES,
    authority_host,
    authority_url,
    environment_variables,
)

GUID = "0f3b1c2d-1111-2222-3333-444455556666"
NO_CREDENTIAL: dict[str, Any] = {
    "secret": None,
    "credential_kind": None,
    "certificate_path": None,
    "environment": None,
}


def _context(account_type: str, account: str, **extra: str) -> Context:
    fields: dict[str, Any] = {"name": "c", "tenant": "t", "subscription": "s", **extra}
    return Context(account=account, account_type=account_type, **fields)


def test_service_principal_with_a_secret() -> None:
    context = Context(
        name="ci", account="app-id", account_type="service-principal", tenant="t", subscription="s"
    )
    variables = environment_variables(
        context,
        secret="pw",
        credential_kind="client-secret",
        certificate_path=None,
        environment=None,
    )
    assert variables == {
        "AZCTX_CONTEXT": "ci",
        "AZURE_TENANT_ID": "t",
        "AZURE_SUBSCRIPTION_ID": "s",
        "AZURE_CLIENT_ID": "app-id",
        "AZURE_CLIENT_SECRET": "pw",
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
        "ARM_TENANT_ID": "t",
        "ARM_SUBSCRIPTION_ID": "s",
        "ARM_ENVIRONMENT": "public",
        "ARM_CLIENT_ID": "app-id",
        "ARM_CLIENT_SECRET": "pw",
    }


def test_service_principal_with_a_certificate() -> None:
    context = Context(name="c", account="app", account_type="service-principal", tenant="t")
    variables = environment_variables(
        context,
        secret="pfx-pass",
        credential_kind="certificate",
        certificate_path="/keys/sp.pem",
        environment=None,
    )
    assert variables == {
        "AZCTX_CONTEXT": "c",
        "AZURE_TENANT_ID": "t",
        "AZURE_CLIENT_ID": "app",
        "AZURE_CLIENT_CERTIFICATE_PATH": "/keys/sp.pem",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pfx-pass",
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
        "ARM_TENANT_ID": "t",
        "ARM_ENVIRONMENT": "public",
        "ARM_CLIENT_ID": "app",
        "ARM_CLIENT_CERTIFICATE_PATH": "/keys/sp.pem",
        "ARM_CLIENT_CERTIFICATE_PASSWORD": "pfx-pass",
    }


def test_certificate_without_a_password_and_principal_without_a_credential() -> None:
    context = _context("service-principal", "app")
    unlocked = environment_variables(
        context, **{**NO_CREDENTIAL, "credential_kind": "certificate", "certificate_path": "/c.pem"}
    )
    assert unlocked["ARM_CLIENT_CERTIFICATE_PATH"] == "/c.pem"
    assert "ARM_CLIENT_CERTIFICATE_PASSWORD" not in unlocked
    assert "AZURE_CLIENT_CERTIFICATE_PASSWORD" not in unlocked
    bare = environment_variables(context, **NO_CREDENTIAL)
    assert {k for k in bare if k.startswith("ARM_")} == {
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_ENVIRONMENT",
        "ARM_CLIENT_ID",
    }


def test_user_account_in_the_china_cloud() -> None:
    context = _context("user", "me@contoso.cn", environment="AzureChinaCloud")
    assert environment_variables(context, **NO_CREDENTIAL) == {
        "AZCTX_CONTEXT": "c",
        "AZURE_TENANT_ID": "t",
        "AZURE_SUBSCRIPTION_ID": "s",
        "AZURE_AUTHORITY_HOST": "https://login.chinacloudapi.cn",
        "ARM_TENANT_ID": "t",
        "ARM_SUBSCRIPTION_ID": "s",
        "ARM_ENVIRONMENT": "china",
    }


def test_a_secret_is_never_handed_on_for_a_user_or_a_managed_identity() -> None:
    for account_type, account in (("user", "me@contoso.com"), ("managed-identity", GUID)):
        variables = environment_variables(
            _context(account_type, account),
            secret="pw",
            credential_kind="client-secret",
            certificate_path=None,
            environment=None,
        )
        assert "pw" not in variables.values()


@pytest.mark.parametrize("account", ["MSI@50342", "systemAssignedIdentity", "msi@50342"])
def test_system_assigned_managed_identity(account: str) -> None:
    variables = environment_variables(_context("managed-identity", account), **NO_CREDENTIAL)
    assert variables["ARM_USE_MSI"] == "true"
    assert "ARM_CLIENT_ID" not in variables and "AZURE_CLIENT_ID" not in variables
    assert {k for k in variables if k.startswith("ARM_")} == {
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_ENVIRONMENT",
        "ARM_USE_MSI",
    }


@pytest.mark.parametrize("account", [GUID, GUID.upper()])
def test_user_assigned_managed_identity_is_recognised_by_its_client_id(account: str) -> None:
    variables = environment_variables(_context("managed-identity", account), **NO_CREDENTIAL)
    assert variables["ARM_USE_MSI"] == "true"
    assert variables["ARM_CLIENT_ID"] == variables["AZURE_CLIENT_ID"] == account
    assert "ARM_CLIENT_SECRET" not in variables


@pytest.mark.parametrize(
    ("cloud", "arm", "authority"),
    [
        ("AzureCloud", "public", "https://login.microsoftonline.com"),
        ("azurecloud", "public", "https://login.microsoftonline.com"),
        ("AzureUSGovernment", "usgovernment", "https://login.microsoftonline.us"),
        ("AzureChinaCloud", "china", "https://login.chinacloudapi.cn"),
    ],
)
def test_built_in_clouds(cloud: str, arm: str, authority: str) -> None:
    variables = environment_variables(
        _context("service-principal", "app", environment=cloud), **NO_CREDENTIAL
    )
    assert variables["ARM_ENVIRONMENT"] == arm
    assert variables["AZURE_AUTHORITY_HOST"] == authority


def test_a_custom_cloud_has_no_arm_environment() -> None:
    lab = Environment(name="Lab", authority="https://login.lab.example:8443/adfs/")
    context = _context("service-principal", "app", environment="lab")
    variables = environment_variables(context, **{**NO_CREDENTIAL, "environment": lab})
    assert "ARM_ENVIRONMENT" not in variables
    assert variables["AZURE_AUTHORITY_HOST"] == "https://login.lab.example:8443"
    assert variables["ARM_TENANT_ID"] == "t"
    unknown = environment_variables(context, **NO_CREDENTIAL)  # its definition is not known
    assert "AZURE_AUTHORITY_HOST" not in unknown and "ARM_ENVIRONMENT" not in unknown


def test_every_variable_set_is_one_run_drops_first() -> None:
    lab = Environment(name="Lab", authority="login.lab.example")
    cases = [
        (_context("service-principal", "a", environment="lab"), "client-secret", lab),
        (_context("service-principal", "a"), "certificate", None),
        (_context("managed-identity", GUID), None, None),
        (_context("user", "u@x", environment="AzureUSGovernment"), None, None),
    ]
    for context, kind, environment in cases:
        variables = environment_variables(
            context,
            secret="x",
            credential_kind=kind,
            certificate_path="/p",
            environment=environment,
        )
        assert set(variables) <= set(RUN_VARIABLES)


def test_authority_host_and_url() -> None:
    environments = {
        "k": Environment(name="testCloud", authority="http://contoso.com"),
        "n": Environment(name="bare", authority="login.bare.example/"),
    }
    assert authority_host("azureusgovernment", {}) == "login.microsoftonline.us"
    assert authority_host("TESTCLOUD", environments) == "contoso.com"
    assert authority_url("AzureCloud", {}) == "https://login.microsoftonline.com"
    assert authority_url("TESTCLOUD", environments) == "https://contoso.com"
    assert authority_url("bare", environments) == "https://login.bare.example"
    assert authority_url("unknown", environments) is None
    assert set(ARM_ENVIRONMENTS.values()) == {"public", "usgovernment", "china"}


@pytest.mark.parametrize("cloud", ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"])
def test_the_authority_is_a_uri_and_azure_identity_keeps_it(cloud: str) -> None:
    """.NET's Azure.Identity parses AZURE_AUTHORITY_HOST as an absolute URI; Python's
    azure-identity normalises it with ``normalize_authority`` and keeps an https URL."""
    identity = pytest.importorskip("azure.identity")
    utils = pytest.importorskip("azure.identity._internal.utils")
    context = _context("service-principal", "app", environment=cloud)
    variables = environment_variables(
        context,
        secret="pw",
        credential_kind="client-secret",
        certificate_path=None,
        environment=None,
    )
    authority = variables["AZURE_AUTHORITY_HOST"]
    parts = urlsplit(authority)
    assert (parts.scheme, parts.path, parts.query) == ("https", "", "")
    assert utils.normalize_authority(authority) == authority
    credential = identity.ClientSecretCredential("t", "app", "pw", authority=authority)
    assert credential._authority == authority


# ---------------------------------------------------------------- what run drops


def _azure_identity_variables() -> set[str]:
    constants = pytest.importorskip("azure.identity._constants")
    found = vars(constants.EnvironmentVariables)
    return {value for key, value in found.items() if key.isupper() and isinstance(value, str)}


def test_every_azure_identity_variable_is_set_dropped_or_kept_on_purpose() -> None:
    """A variable that a newer azure-identity reads fails this test until it is put in
    one of the lists of projections/interop.py."""
    read = _azure_identity_variables()
    assert "AZURE_TOKEN_CREDENTIALS" in read  # the class is the one this test expects
    placed = set(RUN_VARIABLES) | set(FOREIGN_IDENTITY_VARIABLES) | set(HOST_IDENTITY_VARIABLES)
    assert read - placed == set()
    dropped = {name for name in FOREIGN_IDENTITY_VARIABLES if not name.startswith("ARM_")}
    assert dropped <= read  # no name in the list that azure-identity does not read
    assert set(HOST_IDENTITY_VARIABLES) <= read


def test_the_lists_do_not_overlap_and_child_drops_them() -> None:
    lists = (RUN_VARIABLES, FOREIGN_IDENTITY_VARIABLES, HOST_IDENTITY_VARIABLES)
    assert sum(len(names) for names in lists) == len(set().union(*lists))
    assert set(STALE_IDENTITY_VARIABLES) == set(FOREIGN_IDENTITY_VARIABLES)


def test_child_environment_drops_stale_values_and_keeps_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (*RUN_VARIABLES, *FOREIGN_IDENTITY_VARIABLES, *HOST_IDENTITY_VARIABLES):
        monkeypatch.setenv(name, f"stale-{name}")
    monkeypatch.setenv("ARM_SKIP_PROVIDER_REGISTRATION", "true")  # not identity: kept
    context = _context("managed-identity", "MSI@50342")
    env = child_environment(environment_variables(context, **NO_CREDENTIAL))
    stale = {k for k, v in env.items() if v.startswith("stale-")}
    assert stale == set(HOST_IDENTITY_VARIABLES)
    assert env["ARM_USE_MSI"] == "true" and env["ARM_TENANT_ID"] == "t"
    assert env["ARM_SKIP_PROVIDER_REGISTRATION"] == "true"
    assert "ARM_CLIENT_ID" not in env and "AZURE_CLIENT_ID" not in env
