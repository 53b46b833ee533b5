"""Az PowerShell / Azure CLI interop: parsing, exporting and the ``run`` variables."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azctx.events import BadInput, Context, Environment, account_key
from azctx.projections.formats.azcli_profile import parse_az_cli
from azctx.projections.formats.azps_export import export_az_powershell
from azctx.projections.formats.azps_import import parse_az_powershell
from azctx.projections.formats.plans import (
    MAX_IMPORT_BYTES,
    ExportSecret,
    ImportedSecret,
    ImportPlan,
)
from command_support import INTEROP, az_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def sample(relative: str) -> str:
    return (INTEROP / relative).read_text(encoding="utf-8")


def reexport(plan: ImportPlan, secrets: dict[str, ExportSecret | None] | None = None) -> str:
    environments = {env.name: env for env in plan.environments}
    return export_az_powershell(plan.contexts, plan.default, environments, secrets or {})


# ---------------------------------------------------------------- building test files


def az_file(contexts: dict[str, Any], default: str | None = "Default", **extra: Any) -> str:
    document: dict[str, Any] = {"EnvironmentTable": {}, "Contexts": contexts, **extra}
    if default is not None:
        document["DefaultContextKey"] = default
    return json.dumps(document, indent=2)


def cli_entry(
    sub: str = "sub-1",
    name: str = "user@domain.com",
    kind: str = "user",
    default: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    user = {"name": name, "type": kind, **extra.pop("user_extra", {})}
    return {
        "id": sub,
        "name": f"Subscription {sub}",
        "state": "Enabled",
        "user": user,
        "isDefault": default,
        "tenantId": "tenant-1",
        "environmentName": "AzureCloud",
        **extra,
    }


def cli_file(*entries: dict[str, Any]) -> str:
    return "\ufeff" + json.dumps({"installationId": "x", "subscriptions": list(entries)})


# ---------------------------------------------------------------- the shared samples

SAMPLE_CONTEXT = Context(
    name="Default",
    account="me@contoso.com",
    account_type="user",
    tenant="3c0ff8a7-e8bb-40e8-ae66-271343379af6",
    subscription="00000000-0000-0000-0000-000000000000",
    subscription_name="Contoso Test Subscription",
    environment="testCloud",
)
DISCOVERED_NAME = (
    "SubscriptionA (ed85905b-8c3f-4d11-bf32-2fa9c579cba8) - "
    "52b2e9cc-600c-4f1c-86c6-3878df1b6b7d - user@domain.com"
)
EXPECTED_AZ: dict[str, tuple[tuple[Context, ...], str | None, dict[str, str | None]]] = {
    # file -> (contexts, default, {custom environment: authority})
    "saving-profile-works.json": (
        (SAMPLE_CONTEXT,),
        "Default",
        {"testCloud": "http://contoso.com"},
    ),
    "import-context-no-default-key.json": (
        (SAMPLE_CONTEXT,),
        "Default",
        {"testCloud": "http://contoso.com"},
    ),
    "empty-profile.json": ((), None, {}),
    "az-user-context-discovered-env.json": (
        (
            Context(
                name=DISCOVERED_NAME,
                account="user@domain.com",
                account_type="user",
                tenant="52b2e9cc-600c-4f1c-86c6-3878df1b6b7d",
                subscription="ed85905b-8c3f-4d11-bf32-2fa9c579cba8",
                subscription_name="SubscriptionA",
                environment="AzureCloud",
            ),
        ),
        DISCOVERED_NAME,
        {},
    ),
}


def _cli_user(sub: str, name: str, tenant: str) -> Context:
    return Context(
        name=f"[user@domain.com; {sub}]",
        account="user@domain.com",
        account_type="user",
        tenant=tenant,
        subscription=sub,
        subscription_name=name,
        environment="AzureCloud",
    )


EXPECTED_CLI: dict[str, tuple[tuple[Context, ...], str | None]] = {
    "starship-user-three-subscriptions.json": (
        (
            _cli_user(
                "f568c543-d12e-de0b-3d85-69843598b565",
                "Subscription 2",
                "0e8a15ec-b0f5-d355-7062-8ece54c59aee",
            ),
            _cli_user(
                "d4442d26-ea6d-46c4-07cb-4f70b8ae5465",
                "Subscription 3",
                "a4e1bb4b-5330-2d50-339d-b9674d3a87bc",
            ),
            _cli_user(
                "f3935dc9-92b5-9a93-da7b-42c325d86939",
                "Subscription 1",
                "f0273a19-7779-e40a-00a1-53b8331b3bb6",
            ),
        ),
        "[user@domain.com; f3935dc9-92b5-9a93-da7b-42c325d86939]",
    ),
    "azure-cli-test-service-principal.json": (
        (
            Context(
                name="[my app; 1]",
                account="my app",
                account_type="service-principal",
                tenant="microsoft.com",
                subscription="1",
                subscription_name="foo account",
                environment="AzureCloud",
            ),
        ),
        "[my app; 1]",
    ),
}


def test_every_sample_is_known_to_these_tests() -> None:
    found = {path.name for path in INTEROP.rglob("*.json")}
    assert found == set(EXPECTED_AZ) | set(EXPECTED_CLI)


@pytest.mark.parametrize("name", sorted(EXPECTED_AZ))
def test_az_powershell_samples_parse(name: str) -> None:
    contexts, default, environments = EXPECTED_AZ[name]
    plan = parse_az_powershell(sample(f"azure-powershell/{name}"))
    assert plan.source == "az-powershell"
    assert plan.contexts == contexts
    assert plan.default == default
    assert {env.name: env.authority for env in plan.environments} == environments
    assert plan.secrets == ()


def test_custom_environment_keeps_the_az_object() -> None:
    plan = parse_az_powershell(sample("azure-powershell/saving-profile-works.json"))
    (env,) = plan.environments
    assert env.resource_manager is None
    assert env.raw is not None
    raw = json.loads(env.raw)
    assert raw["ExtendedProperties"]["OperationalInsightsEndpoint"] == "http://contoso.io"


def test_token_cache_is_dropped_with_a_note() -> None:
    plan = parse_az_powershell(sample("azure-powershell/saving-profile-works.json"))
    assert any("tokens are not imported" in note and "TokenCache" in note for note in plan.notes)


@pytest.mark.parametrize("name", sorted(EXPECTED_CLI))
def test_az_cli_samples_parse(name: str) -> None:
    contexts, default = EXPECTED_CLI[name]
    plan = parse_az_cli(sample(f"azure-cli/{name}"))
    assert plan.source == "az-cli"
    assert plan.contexts == contexts
    assert plan.default == default
    assert plan.secrets == () and plan.environments == () and plan.notes == ()


@pytest.mark.parametrize("name", sorted(EXPECTED_AZ))
def test_az_powershell_samples_round_trip(name: str) -> None:
    plan = parse_az_powershell(sample(f"azure-powershell/{name}"))
    again = parse_az_powershell(reexport(plan))
    assert again.contexts == plan.contexts
    assert again.default == plan.default
    assert again.environments == plan.environments


@pytest.mark.parametrize("name", sorted(EXPECTED_CLI))
def test_az_cli_samples_export_to_az_powershell(name: str) -> None:
    plan = parse_az_cli(sample(f"azure-cli/{name}"))
    again = parse_az_powershell(reexport(plan))
    assert again.contexts == plan.contexts
    assert again.default == plan.default


# ---------------------------------------------------------------- credentials and tokens


def test_service_principal_secret_is_imported_and_never_shown() -> None:
    text = az_file(
        {
            "Default": az_context(
                account="11111111-2222-3333-4444-555555555555",
                account_type="ServicePrincipal",
                account_properties={"ServicePrincipalSecret": "s3cr3t-value"},
            )
        }
    )
    plan = parse_az_powershell(text)
    assert plan.contexts[0].account_type == "service-principal"
    assert plan.secrets == (
        ImportedSecret(
            account="11111111-2222-3333-4444-555555555555",
            kind="client-secret",
            secret="s3cr3t-value",
        ),
    )
    assert "s3cr3t-value" not in repr(plan)
    assert "s3cr3t-value" not in str(plan.secrets[0])
    assert all("s3cr3t-value" not in note for note in plan.notes)


def test_certificate_account_imports_path_and_password() -> None:
    text = az_file(
        {
            "Default": az_context(
                account="app-id",
                account_type="Certificate",
                account_properties={
                    "CertificatePath": "/home/me/sp.pfx",
                    "CertificatePassword": "pfx-pass",
                    "CertificateThumbprint": "ABCDEF",
                },
            )
        }
    )
    plan = parse_az_powershell(text)
    assert plan.contexts[0].account_type == "service-principal"
    (secret,) = plan.secrets
    assert (secret.kind, secret.secret, secret.certificate_path) == (
        "certificate",
        "pfx-pass",
        "/home/me/sp.pfx",
    )
    assert "pfx-pass" not in repr(plan)


def test_secret_round_trips_through_export_when_passed() -> None:
    contexts = (
        Context(name="sp", account="App-Id", account_type="service-principal", tenant="t"),
        Context(name="cert", account="cert-app", account_type="service-principal", tenant="t"),
    )
    secrets: dict[str, ExportSecret | None] = {
        account_key("App-Id"): ExportSecret(kind="client-secret", secret="pw"),
        "cert-app": ExportSecret(kind="certificate", secret="p2", certificate_path="/c.pfx"),
    }
    text = export_az_powershell(contexts, "sp", {}, secrets)
    document = json.loads(text)
    props = document["Contexts"]["sp"]["Account"]["ExtendedProperties"]
    assert props["ServicePrincipalSecret"] == "pw"
    plan = parse_az_powershell(text)
    assert {(s.account, s.kind, s.secret, s.certificate_path) for s in plan.secrets} == {
        ("App-Id", "client-secret", "pw", None),
        ("cert-app", "certificate", "p2", "/c.pfx"),
    }
    without = export_az_powershell(contexts, "sp", {}, {})
    assert "ServicePrincipalSecret" not in without and "CertificatePassword" not in without
    assert parse_az_powershell(without).secrets == ()


def test_access_token_account_is_a_user_and_gets_a_note() -> None:
    text = az_file(
        {
            "Default": az_context(
                account_type="AccessToken",
                account_properties={"AccessToken": "eyJ0eXAi", "GraphAccessToken": "eyJ1"},
            )
        }
    )
    plan = parse_az_powershell(text)
    assert plan.contexts[0].account_type == "user"
    assert plan.secrets == ()
    (note,) = plan.notes
    assert "tokens are not imported" in note and "AccessToken" in note
    assert "eyJ" not in note


@pytest.mark.parametrize(
    ("az_type", "expected"),
    [
        ("User", "user"),
        ("ServicePrincipal", "service-principal"),
        ("ClientAssertion", "service-principal"),
        ("ManagedService", "managed-identity"),
        ("managedservice", "managed-identity"),
    ],
)
def test_account_types(az_type: str, expected: str) -> None:
    plan = parse_az_powershell(az_file({"Default": az_context(account_type=az_type)}))
    assert plan.contexts[0].account_type == expected


def test_unknown_account_type_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"^Contexts\.Default\.Account\.Type: 'Robot' is not one of"):
        parse_az_powershell(az_file({"Default": az_context(account_type="Robot")}))


def test_a_user_accounts_secret_is_not_imported() -> None:
    props = {"ServicePrincipalSecret": "x"}
    plan = parse_az_powershell(az_file({"Default": az_context(account_properties=props)}))
    assert plan.secrets == ()
    assert any("not imported" in note for note in plan.notes)


def test_one_credential_per_account() -> None:
    sp = {"account": "app", "account_type": "ServicePrincipal"}
    text = az_file(
        {
            "a": az_context(**sp, account_properties={"ServicePrincipalSecret": "one"}),
            "b": az_context(**sp, account_properties={"ServicePrincipalSecret": "two"}),
        }
    )
    plan = parse_az_powershell(text)
    assert [s.secret for s in plan.secrets] == ["one"]
    assert any("different credentials" in note for note in plan.notes)


# ---------------------------------------------------------------- forgiving reading


def test_bom_and_text_before_the_object_are_skipped() -> None:
    text = "\ufeffWARNING: some preamble\r\n" + az_file({"Default": az_context()}) + "\n\n"
    plan = parse_az_powershell(text)
    assert [c.name for c in plan.contexts] == ["Default"]


def test_text_after_the_object_is_refused() -> None:
    with pytest.raises(BadInput, match="text after"):
        parse_az_powershell(az_file({}) + " trailing")


def test_keys_and_property_names_are_case_insensitive() -> None:
    def lower(value: Any) -> Any:
        if isinstance(value, dict):
            return {k if k == "Default" else k.lower(): lower(v) for k, v in value.items()}
        return value

    document = lower(json.loads(az_file({"Default": az_context(environment="azurechinacloud")})))
    document["defaultcontextkey"] = "DEFAULT"
    plan = parse_az_powershell(json.dumps(document))
    (context,) = plan.contexts
    assert (context.account, context.tenant, context.subscription) == (
        "me@contoso.com",
        "tenant-1",
        "sub-1",
    )
    assert context.environment == "AzureChinaCloud"
    assert plan.default == "Default"
    assert plan.environments == ()


def test_custom_environment_from_table_wins_over_embedded_copy() -> None:
    table = {"mycloud": {"Name": "MyCloud", "ActiveDirectoryAuthority": "https://login.my/"}}
    context = az_context(environment="MYCLOUD")
    context["Environment"]["ActiveDirectoryAuthority"] = "https://other/"
    plan = parse_az_powershell(az_file({"Default": context}, EnvironmentTable=table))
    assert plan.contexts[0].environment == "MyCloud"
    assert [(e.name, e.authority) for e in plan.environments] == [("MyCloud", "https://login.my/")]
    assert any("more than once" in note for note in plan.notes)


@pytest.mark.parametrize(
    "embedded",
    [
        {},  # the context names the cloud only
        {"ActiveDirectoryAuthority": "https://LOGIN.my"},  # another spelling of the same
        {"ActiveDirectoryAuthority": "https://login.my/", "ResourceManagerUrl": None},
    ],
)
def test_a_cloud_defined_once_and_named_again_is_not_defined_twice(
    embedded: dict[str, Any],
) -> None:
    table = {"mycloud": {"Name": "MyCloud", "ActiveDirectoryAuthority": "https://login.my/"}}
    context = az_context(environment="MyCloud")
    context["Environment"] = {"Name": "MyCloud", **embedded}
    plan = parse_az_powershell(az_file({"Default": context}, EnvironmentTable=table))
    assert [(e.name, e.authority) for e in plan.environments] == [("MyCloud", "https://login.my/")]
    assert plan.notes == ()


def test_null_subscription_is_a_tenant_level_context() -> None:
    plan = parse_az_powershell(az_file({"Default": az_context(subscription=None)}))
    assert plan.contexts[0].subscription is None
    assert plan.contexts[0].subscription_name is None


def test_default_key_naming_no_context_gives_no_default() -> None:
    plan = parse_az_powershell(az_file({"a": az_context()}, default="missing"))
    assert plan.default is None
    assert any("names no context" in note for note in plan.notes)


def test_missing_default_key_with_several_contexts_and_none_named_default() -> None:
    plan = parse_az_powershell(az_file({"a": az_context(), "b": az_context()}, default=None))
    assert plan.default is None


def test_missing_default_key_with_one_context_selects_it() -> None:
    plan = parse_az_powershell(az_file({"only": az_context()}, default=None))
    assert plan.default == "only"


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("key", ["", "bad\nname", "tab\there", "x" * 257])
def test_invalid_context_key_is_refused(key: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_az_powershell(az_file({key: az_context()}))
    assert caught.value.exit_code == 2
    assert "not a valid name" in caught.value.message
    assert "\n" not in caught.value.message


def test_invalid_context_key_is_renamed_on_request() -> None:
    text = az_file({"bad\nname": az_context()}, default="bad\nname")
    plan = parse_az_powershell(text, rename_invalid=True)
    assert [c.name for c in plan.contexts] == ["[me@contoso.com; sub-1]"]
    assert plan.default == "[me@contoso.com; sub-1]"
    assert any("imported as" in note for note in plan.notes)


def test_names_equal_ignoring_case_are_refused() -> None:
    raw = '{"Contexts": {"Work": %s, "WORK": %s}}' % (  # noqa: UP031 - two raw JSON values
        json.dumps(az_context()),
        json.dumps(az_context()),
    )
    with pytest.raises(BadInput, match="same name"):
        parse_az_powershell(raw)


def test_rename_colliding_with_an_existing_name_is_refused() -> None:
    contexts = {"[me@contoso.com; sub-1]": az_context(), "bad\x00": az_context()}
    with pytest.raises(BadInput, match="same name"):
        parse_az_powershell(az_file(contexts), rename_invalid=True)


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json at all",
        "[1, 2, 3]",
        "{",
        '{"Contexts": }',
        '{"Contexts": {"a": NaN}}',
        '{"Contexts": [1]}',
        '{"Contexts": {"a": 1}}',
        '{"Contexts": {"a": null}}',
        '{"Contexts": {"a": {"Account": "me"}}}',
        '{"Contexts": {"a": {"Account": {"Id": 5, "Type": "User"}}}}',
        '{"EnvironmentTable": []}',
        '{"DefaultContextKey": 3}',
        '{"Contexts": {"\\ud800": {}}}',
        '{"n": ' + "1" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        "{" + '"a": [' * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_malformed_files_are_bad_input(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_az_powershell(text)
    message = caught.value.message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"subscriptions": {}}',
        '{"subscriptions": [1]}',
        '{"subscriptions": [{"id": "s", "tenantId": "t"}]}',
        '{"subscriptions": [{"id": "s", "tenantId": "t", "user": {"name": "u"}}]}',
        '{"subscriptions": [{"id": 1, "tenantId": "t", "user": {"name": "u", "type": "user"}}]}',
        '{"subscriptions": [{"id": "s", "user": {"name": "u", "type": "user"}}]}',
        '{"subscriptions": [{"id": "s", "tenantId": "t", "isDefault": "yes",'
        ' "user": {"name": "u", "type": "user"}}]}',
        '{"subscriptions": [{"id": "s", "tenantId": "t",'
        ' "user": {"name": "u\u0000", "type": "user"}}]}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_malformed_cli_files_are_bad_input(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_az_cli(text)
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"Tenant": {"Id": "t"}, "Environment": {"Name": "AzureCloud"}}, "Account.Id"),
        (
            {"Account": {"Id": "a"}, "Tenant": {"Id": "t"}, "Environment": {"Name": "AzureCloud"}},
            "Account.Type",
        ),
        (
            {"Account": {"Id": "a", "Type": "User"}, "Environment": {"Name": "AzureCloud"}},
            "Tenant.Id",
        ),
        ({"Account": {"Id": "a", "Type": "User"}, "Tenant": {"Id": "t"}}, "Environment.Name"),
    ],
)
def test_missing_required_field_names_the_context(context: dict[str, Any], field: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_az_powershell(json.dumps({"Contexts": {"My Ctx": context}}))
    assert caught.value.message == f"Contexts.'My Ctx'.{field}: field required"


def test_too_large_text_is_refused() -> None:
    with pytest.raises(BadInput, match="larger than"):
        parse_az_powershell("{}" + " " * MAX_IMPORT_BYTES)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["User", "AzureCloud", "Default", "ServicePrincipal", "user"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Contexts",
                    "Account",
                    "Id",
                    "Type",
                    "Tenant",
                    "Environment",
                    "Name",
                    "Subscription",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _only_bad_input(text: str) -> None:
    for parse in (parse_az_powershell, parse_az_cli):
        try:
            result = parse(text)
        except BadInput as exc:
            assert "\n" not in exc.message
        else:
            assert isinstance(result, ImportPlan)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_document_gives_a_plan_or_bad_input(value: Any) -> None:
    _only_bad_input(json.dumps(value))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from(["Account", "Tenant", "Subscription", "Environment"]))
def test_any_json_in_a_context_field_gives_a_plan_or_bad_input(value: Any, field: str) -> None:
    context = az_context()
    context[field] = value
    _only_bad_input(json.dumps({"Contexts": {"c": context}, "subscriptions": [value]}))


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_any_text_gives_a_plan_or_bad_input(text: str) -> None:
    _only_bad_input(text)


# ---------------------------------------------------------------- Azure CLI specifics


def test_cli_managed_identities() -> None:
    text = cli_file(
        cli_entry(
            "s1", "systemAssignedIdentity", "servicePrincipal", True, assignedIdentityInfo="MSI"
        ),
        cli_entry(
            "s2",
            "userAssignedIdentity",
            "servicePrincipal",
            user_extra={"assignedIdentityInfo": "MSIClient-abc-123"},
        ),
        cli_entry(
            "s3",
            "userAssignedIdentity",
            "servicePrincipal",
            user_extra={"clientId": "def-456", "assignedIdentityInfo": "MSIObject-zzz"},
        ),
        cli_entry("s4", "app-id", "servicePrincipal"),
    )
    plan = parse_az_cli(text)
    got = [(c.account, c.account_type, c.name) for c in plan.contexts]
    assert got == [
        ("systemAssignedIdentity", "managed-identity", "[systemAssignedIdentity; s1]"),
        ("abc-123", "managed-identity", "[abc-123; s2]"),
        ("def-456", "managed-identity", "[def-456; s3]"),
        ("app-id", "service-principal", "[app-id; s4]"),
    ]
    assert plan.default == "[systemAssignedIdentity; s1]"


def test_cli_duplicate_names_keep_the_first() -> None:
    first = cli_entry("s1")
    second = {**cli_entry("S1", "USER@domain.com", default=True), "tenantId": "other"}
    plan = parse_az_cli(cli_file(first, second))
    assert [c.tenant for c in plan.contexts] == ["tenant-1"]
    assert plan.default == "[user@domain.com; s1]"
    assert any("repeats the name" in note for note in plan.notes)


def test_cli_environments() -> None:
    china = {**cli_entry("s1"), "environmentName": "azurechinacloud"}
    custom = {**cli_entry("s2"), "environmentName": "AzureStack"}
    missing = cli_entry("s3")
    del missing["environmentName"]
    plan = parse_az_cli(cli_file(china, custom, missing))
    assert [c.environment for c in plan.contexts] == ["AzureChinaCloud", "AzureStack", "AzureCloud"]
    assert plan.environments == (Environment(name="AzureStack"),)
    assert any("AzureStack" in note for note in plan.notes)


def test_cli_bad_user_type() -> None:
    with pytest.raises(BadInput, match=r"user\.type"):
        parse_az_cli(cli_file(cli_entry(kind="robot")))


def test_cli_empty_and_missing_subscriptions() -> None:
    assert parse_az_cli("\ufeff{}").contexts == ()
    assert parse_az_cli('{"subscriptions": []}').default is None


# ---------------------------------------------------------------- export


def test_export_shape() -> None:
    contexts = (
        Context(name="a", account="me", account_type="user", tenant="t1", subscription="s1"),
        Context(name="b", account="ME", account_type="user", tenant="t2", environment="Edge"),
        Context(name="mi", account="MSI@50342", account_type="managed-identity", tenant="t1"),
        Context(
            name="gov",
            account="app",
            account_type="service-principal",
            tenant="t3",
            environment="AzureUSGovernment",
        ),
    )
    edge = Environment(name="edge", authority="https://login.edge/", resource_manager="https://rm/")
    text = export_az_powershell(contexts, "A", {"whatever": edge}, {})
    assert text.startswith('{\n  "DefaultContextKey": "a",')
    document = json.loads(text)
    assert document["ExtendedProperties"] == {}
    assert list(document["EnvironmentTable"]) == ["Edge"]
    table_env = document["EnvironmentTable"]["Edge"]
    assert table_env["ActiveDirectoryAuthority"] == "https://login.edge/"
    assert table_env["ResourceManagerUrl"] == "https://rm/"
    assert table_env["GraphUrl"] is None
    a = document["Contexts"]["a"]
    assert a["Account"] == {
        "Id": "me",
        "Credential": None,
        "Type": "User",
        "TenantMap": {},
        "ExtendedProperties": {"Tenants": "t1,t2", "Subscriptions": "s1"},
    }
    assert a["Tenant"] == {"Id": "t1", "Directory": None, "IsHome": True, "ExtendedProperties": {}}
    assert a["Subscription"]["ExtendedProperties"] == {
        "Account": "me",
        "Tenants": "t1",
        "Environment": "AzureCloud",
        "HomeTenant": "t1",
    }
    assert a["Environment"]["Type"] == "Built-in"
    assert a["Environment"]["ResourceManagerUrl"] == "https://management.azure.com/"
    assert a["Environment"]["StorageEndpointSuffix"] == "core.windows.net"
    assert a["TokenCache"] == {"CacheData": None} and a["VersionProfile"] is None
    assert document["Contexts"]["b"]["Subscription"] is None
    assert document["Contexts"]["mi"]["Account"]["Type"] == "ManagedService"
    gov = document["Contexts"]["gov"]
    assert gov["Account"]["Type"] == "ServicePrincipal"
    assert gov["Environment"]["ActiveDirectoryAuthority"] == "https://login.microsoftonline.us/"
    assert gov["Environment"]["AzureKeyVaultDnsSuffix"] == "vault.usgovcloudapi.net"
    again = parse_az_powershell(text)
    assert again.contexts == tuple(
        c._replace(environment="edge") if c.name == "b" else c for c in contexts
    )
    assert [(e.name, e.authority, e.resource_manager) for e in again.environments] == [
        ("edge", "https://login.edge/", "https://rm/")
    ]


def test_export_without_default_or_unknown_custom_environment() -> None:
    context = Context(name="x", account="me", account_type="user", tenant="t", environment="Lab")
    document = json.loads(export_az_powershell([context], None, {}, {}))
    assert document["DefaultContextKey"] is None
    assert document["EnvironmentTable"]["Lab"]["Name"] == "Lab"
    assert document["EnvironmentTable"]["Lab"]["ActiveDirectoryAuthority"] is None


names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda n: n != "-")
ids = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20)


@st.composite
def context_sets(draw: st.DrawFn) -> list[Context]:
    chosen = draw(st.lists(names, max_size=5, unique_by=str.casefold))
    return [
        Context(
            name=name,
            account=draw(ids),
            account_type=draw(st.sampled_from(["user", "service-principal", "managed-identity"])),
            tenant=draw(ids),
            subscription=draw(st.none() | ids),
            subscription_name=draw(st.none() | ids),
            environment=draw(st.sampled_from(["AzureCloud", "AzureChinaCloud", "Custom"])),
        )
        for name in chosen
    ]


@settings(max_examples=150)
@given(context_sets(), st.data())
def test_any_contexts_round_trip(contexts: list[Context], data: st.DataObject) -> None:
    contexts = [c if c.subscription else c._replace(subscription_name=None) for c in contexts]
    default = data.draw(st.sampled_from([None, *[c.name for c in contexts]]))
    custom = Environment(name="Custom", authority="https://login.custom/")
    text = export_az_powershell(contexts, default, {"Custom": custom}, {})
    plan = parse_az_powershell(text)
    assert plan.contexts == tuple(contexts)
    assert plan.default == _default_after_reimport(contexts, default)


def _default_after_reimport(contexts: list[Context], default: str | None) -> str | None:
    # No default is written as null, which Az (and azctx) read as "Default", and a lone
    # context then becomes the default.
    if default is not None:
        return default
    named = [c.name for c in contexts if c.name.casefold() == "default"]
    if named:
        return named[0]
    return contexts[0].name if len(contexts) == 1 else None
