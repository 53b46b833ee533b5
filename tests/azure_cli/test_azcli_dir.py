"""The pure part of the Azure CLI folders (projections/azcli_dir.py, azcli_entries.py):
what each file says for each kind of context, without running ``az``."""

from __future__ import annotations

import json

import pytest
from azctx.events import BadInput, Context, Credential, Environment
from azctx.projections.formats.azcli_entries import with_sp_entries
from azctx.projections.formats.azcli_profile import parse_az_cli
from azctx.projections.handoff import azcli_folder as plan

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SP = "11111111-aaaa-4bbb-8ccc-000000000001"


def context(account_type: str = "service-principal", **kw: str | None) -> Context:
    fields: dict[str, str | None] = {
        "name": "c",
        "account": SP,
        "account_type": account_type,
        "tenant": TENANT,
        "subscription": "sub-1",
        "environment": "azurechinacloud",
    }
    fields.update(kw)
    return Context(**fields)  # type: ignore[arg-type]


def test_a_tenant_level_context_is_the_clis_tenant_level_account() -> None:
    target = plan.az_target(context("user", subscription=None, account="me@x"), None, None, None)
    (entry,) = json.loads(plan.profile_text(target, "i"))["subscriptions"]
    assert (entry["id"], entry["name"], entry["isDefault"]) == (
        TENANT,
        "N/A(tenant level account)",
        True,
    )
    assert entry["environmentName"] == "AzureChinaCloud"  # the CLI's spelling
    assert entry["user"] == {"name": "me@x", "type": "user"}


def test_no_default_means_no_subscriptions() -> None:
    assert json.loads(plan.profile_text(None, "i")) == {"installationId": "i", "subscriptions": []}
    assert plan.sp_entries_text(None, None) is None


def test_secrets_only_for_a_service_principal_and_never_in_repr() -> None:
    cred = Credential(key_id="k", kind="client-secret", sealed="x")
    sp = plan.az_target(context(), cred, "s3cret", None)
    assert json.loads(plan.sp_entries_text(sp, None) or "") == [
        {"client_id": SP, "tenant": TENANT, "client_secret": "s3cret"}
    ]
    assert "s3cret" not in repr(sp)
    user = plan.az_target(context("user"), cred, "s3cret", None)
    assert user.secret is None and plan.sp_entries_text(user, None) is None
    bare = plan.az_target(context(), None, None, None)
    assert plan.sp_entries_text(bare, None) is None  # no credential: az says az login


def test_config_keeps_the_callers_settings_and_sets_the_cloud() -> None:
    target = plan.az_target(context(), None, None, None)
    text = plan.config_text(target, "[core]\noutput = table\n[cloud]\nname = AzureCloud\n")
    assert "output = table" in text and "name = AzureChinaCloud" in text
    assert "name = AzureChinaCloud" in plan.config_text(target, "not an ini file [")


def test_a_custom_cloud_keeps_the_callers_other_clouds() -> None:
    raw = {
        "Name": "Stack",
        "ResourceManagerUrl": "https://arm.stack/",
        "ActiveDirectoryAuthority": "https://login.stack/",
        "ExtendedProperties": {"MicrosoftGraphUrl": "https://graph.stack"},
    }
    cloud = Environment(name="Stack", raw=json.dumps(raw))
    target = plan.az_target(context(environment="Stack"), None, None, cloud)
    text = plan.clouds_text(target, "[Other]\nendpoint_resource_manager = https://o/\n") or ""
    assert "[Other]" in text and "[Stack]" in text
    assert "endpoint_active_directory = https://login.stack\n" in text
    assert "endpoint_microsoft_graph_resource_id = https://graph.stack" in text
    bare = Environment(name="Bare")  # imported by name only: the caller's definition
    assert (
        plan.clouds_text(plan.az_target(context(environment="Bare"), None, None, bare), None)
        is None
    )


PROFILE = {
    "subscriptions": [
        {
            "id": "sub-1",
            "name": "one",
            "user": {"name": SP, "type": "servicePrincipal"},
            "isDefault": True,
            "tenantId": TENANT,
        },
        {"id": "sub-2", "user": {"name": "me@x", "type": "user"}, "tenantId": TENANT},
    ]
}


def test_entries_give_service_principals_their_credential_only() -> None:
    entries = [
        {"client_id": "other", "tenant": TENANT, "client_secret": "elsewhere"},
        {"client_id": SP.upper(), "tenant": "another", "client_secret": "wrong-tenant"},
        {"client_id": SP, "tenant": TENANT, "certificate": "/certs/sp.pem"},
        {"client_id": "me@x", "tenant": TENANT, "client_secret": "a user has none"},
    ]
    merged = with_sp_entries(parse_az_cli(json.dumps(PROFILE)), json.dumps(entries))
    (secret,) = merged.secrets
    assert (secret.account, secret.kind, secret.certificate_path) == (
        SP,
        "certificate",
        "/certs/sp.pem",
    )
    assert merged.notes[-1] == "1 service principal credential(s) imported from " + (
        "service_principal_entries.json"
    )
    assert not any("elsewhere" in n or "wrong-tenant" in n for n in merged.notes)


@pytest.mark.parametrize(
    "text",
    ["{", '{"client_id": 1}', "[1]", '[{"client_id": "' + SP + '"}]', '[{"tenant": "t"}]'],
)
def test_a_malformed_entries_file_is_bad_input(text: str) -> None:
    with pytest.raises(BadInput):
        with_sp_entries(parse_az_cli(json.dumps(PROFILE)), text)
