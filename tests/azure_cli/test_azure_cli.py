"""The Azure CLI follows the context, checked with the real ``az`` offline:
``az account show`` reads only its config folder, and ``az account get-access-token``
with an unreachable proxy shows which credential ``az`` found before it needs the
network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azcli_world import (
    CALLER_SUBSCRIPTION,
    CERT_SP,
    CERT_SUB,
    SP,
    SP_SECRET,
    SP_SUB,
    TENANT,
    AzWorld,
    add_sp,
    holding,
    make_world,
    snapshot,
    went_for_token,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

CERT_PASSWORD = "pfx-password-\u2603"
USER = "me@contoso.example"
USER_SUB = "00000000-0000-4000-8000-0000000000d3"
#: ``az`` meets this proxy only once it has found a credential and needs a token.
UNREACHABLE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


@pytest.fixture
def world(tmp_path: Path, az: str) -> AzWorld:
    return make_world(tmp_path, az)


def add_user(world: AzWorld, name: str = "mine") -> None:
    world.ok(
        "add", "--account", USER, "--tenant", TENANT, "--subscription", USER_SUB, "--name", name
    )


def make_pfx(path: Path) -> bytes:
    """A PKCS#12 file under CERT_PASSWORD; returns the body of its unencrypted key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azctx-az-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    encryption = serialization.BestAvailableEncryption(CERT_PASSWORD.encode())
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"t", key, cert, None, encryption))
    plain = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return plain.splitlines()[1]


def token_error(world: AzWorld, *run_args: str) -> str:
    """What ``az account get-access-token`` says inside ``run`` with no network."""
    result = world.azctx(
        "run", *run_args, "--", world.az, "account", "get-access-token",
        env=world.env(**UNREACHABLE),
    )  # fmt: skip
    assert result.returncode != 0
    return result.stdout + result.stderr


def run_folders(world: AzWorld) -> list[Path]:
    root = world.runtime / "azctx"
    return sorted(root.iterdir()) if root.exists() else []


# ---------------------------------------------------------------- per command: run


def test_run_as_service_principal_with_secret(world: AzWorld) -> None:
    add_sp(world)
    before = snapshot(world.caller_dir)
    shown = world.account("--context", "prod")
    assert (shown["id"], shown["name"], shown["tenantId"]) == (SP_SUB, "prod-sub", TENANT)
    assert shown["user"] == {"name": SP, "type": "servicePrincipal"}
    # the CLI found the secret and went for a token (not "run az login")
    said = token_error(world, "--context", "prod")
    assert "Could not retrieve credential" not in said
    assert went_for_token(said)
    assert SP_SECRET not in said
    assert snapshot(world.caller_dir) == before
    assert run_folders(world) == []
    assert holding(world.root, SP_SECRET.encode()) == []


def test_private_folder_modes_and_contents(world: AzWorld) -> None:
    add_sp(world)
    entries = "json.load(open('service_principal_entries.json'))[0]['client_id']"
    script = (
        'cd "$AZURE_CONFIG_DIR"; stat -c "%a %n" . *; '
        f'python3 -c "import json; print({entries})"; '
        'echo "ext=$AZURE_EXTENSION_DIR"; pwd'
    )
    lines = world.ok("run", "--", "bash", "-c", script).splitlines()
    assert lines[0] == "700 ."
    assert {line.split()[0] for line in lines[1:4]} == {"600"}
    assert {line.split()[1] for line in lines[1:4]} == {
        "azureProfile.json",
        "config",
        "service_principal_entries.json",
    }
    assert lines[4] == SP
    assert lines[5] == f"ext={world.caller_dir / 'cliextensions'}"
    assert lines[6].startswith(str(world.runtime / "azctx" / "run-"))  # RAM-backed in real use


def test_run_as_certificate_principal(world: AzWorld) -> None:
    pfx = world.root / "sp.pfx"
    key_body = make_pfx(pfx)
    world.ok(
        "add", "--account", CERT_SP, "--account-type", "service-principal", "--tenant",
        TENANT, "--subscription", CERT_SUB, "--name", "cert", "--certificate", str(pfx),
        "--secret-stdin", stdin=CERT_PASSWORD + "\n",
    )  # fmt: skip
    shown = world.account("--context", "cert")
    assert shown["id"] == CERT_SUB
    assert shown["user"] == {"name": CERT_SP, "type": "servicePrincipal"}
    said = token_error(world, "--context", "cert")
    assert "Invalid certificate" not in said and "Could not retrieve" not in said
    assert went_for_token(said)
    entries = world.ok("run", "--", "bash", "-c", 'cat "$AZURE_CONFIG_DIR"/service_*')
    (entry,) = json.loads(entries)
    assert entry["certificate"].endswith("azctx-certificate.pem")  # the decrypted copy
    assert run_folders(world) == []
    assert holding(world.root, key_body, CERT_PASSWORD.encode()) == []


def test_run_as_plain_pem_certificate_names_the_stored_file(world: AzWorld) -> None:
    pfx = world.root / "sp.pfx"
    make_pfx(pfx)
    key, cert, _ = pkcs12.load_key_and_certificates(pfx.read_bytes(), CERT_PASSWORD.encode())
    assert key is not None and cert is not None
    pem = world.root / "sp.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    world.ok(
        "add", "--account", CERT_SP, "--account-type", "service-principal", "--tenant",
        TENANT, "--subscription", CERT_SUB, "--name", "pem", "--certificate", str(pem),
    )  # fmt: skip
    (entry,) = json.loads(world.ok("run", "--", "bash", "-c", 'cat "$AZURE_CONFIG_DIR"/service_*'))
    assert entry == {"client_id": CERT_SP, "tenant": TENANT, "certificate": str(pem)}
    assert went_for_token(token_error(world, "--context", "pem"))


def write_token_cache(folder: Path) -> None:
    """An MSAL cache as ``az login`` leaves it for USER (a refresh token)."""
    home = f"uid.{TENANT}"
    host = "login.microsoftonline.com"
    cache = {
        "Account": {
            f"{home}-{host}-{TENANT}": {
                "home_account_id": home, "environment": host, "realm": TENANT,
                "local_account_id": "uid", "username": USER, "authority_type": "MSSTS",
            }
        },
        "RefreshToken": {
            f"{home}-{host}-refreshtoken-04b07795-8ddb-461a-bbee-02f9e1bf7b46--": {
                "credential_type": "RefreshToken", "secret": "refresh-token-of-the-caller",
                "home_account_id": home, "environment": host,
                "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "family_id": "1",
            }
        },
        "AccessToken": {}, "IdToken": {}, "AppMetadata": {},
    }  # fmt: skip
    (folder / "msal_token_cache.json").write_text(json.dumps(cache))


def test_run_as_user_shares_the_callers_token_cache(world: AzWorld) -> None:
    add_user(world)
    write_token_cache(world.caller_dir)
    before = snapshot(world.caller_dir)
    shown = world.account("--context", "mine")
    assert (shown["id"], shown["user"]) == (USER_SUB, {"name": USER, "type": "user"})
    link = world.ok("run", "--", "bash", "-c", 'readlink "$AZURE_CONFIG_DIR"/msal_token_cache.json')
    assert link.strip() == str(world.caller_dir / "msal_token_cache.json")
    assert snapshot(world.caller_dir) == before


def test_run_with_the_default_context(world: AzWorld) -> None:
    add_sp(world, "prod")
    add_sp(world, "dev", account=CERT_SP, sub=CERT_SUB)  # selected: the default
    assert world.account()["id"] == CERT_SUB
    world.ok("select", "prod")
    assert world.account()["id"] == SP_SUB
    # and az itself, outside run, still acts as the caller's own login
    plain = subprocess.run(
        [world.az, "account", "show", "--query", "id", "-o", "tsv"],
        env=world.env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert plain.stdout.strip() == CALLER_SUBSCRIPTION


def test_az_account_set_and_config_set_inside_run_stay_inside(world: AzWorld) -> None:
    add_sp(world)
    before = snapshot(world.caller_dir)
    script = (
        'az account set --subscription "$AZURE_SUBSCRIPTION_ID"; '
        "az config set core.output=table defaults.group=inside-run; "
        "az config get defaults.group --query value -o tsv"
    )
    out = world.ok("run", "--", "bash", "-c", script)
    assert out.strip().endswith("inside-run")
    assert snapshot(world.caller_dir) == before
    assert run_folders(world) == []


def test_custom_and_sovereign_clouds_set_the_active_cloud(world: AzWorld) -> None:
    world.ok(
        "add", "--account", SP, "--account-type", "service-principal", "--tenant", TENANT,
        "--subscription", SP_SUB, "--environment", "AzureChinaCloud", "--name", "china",
        "--secret-stdin", stdin=SP_SECRET,
    )  # fmt: skip
    shown = world.account()
    assert (shown["id"], shown["environmentName"]) == (SP_SUB, "AzureChinaCloud")
    cloud = world.ok("run", "--", world.az, "cloud", "show", "--query", "name", "-o", "tsv")
    assert cloud.strip() == "AzureChinaCloud"


# ---------------------------------------------------------------- cleanup, however run ends


@pytest.fixture
def sleeper(world: AzWorld) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``azctx run`` of a child that says where its folder is, then sleeps."""
    add_sp(world)
    ready = world.root / "ready"
    child = f'echo "$AZURE_CONFIG_DIR" > {ready}.tmp; mv {ready}.tmp {ready}; exec sleep 300'
    process = subprocess.Popen(
        [sys.executable, "-m", "azctx.cli", "run", "--", "bash", "-c", child],
        env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield process, ready
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)


def wait_for(path: Path) -> Path:
    deadline = datetime.now(UTC) + timedelta(seconds=120)
    while not path.exists():
        assert datetime.now(UTC) < deadline, f"{path} never appeared"
        subprocess.run(["sleep", "0.05"], check=True)
    return Path(path.read_text().strip())


def child_of(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1
    return int(children[0])


@pytest.mark.parametrize("how", ["child-killed", "sigterm-to-azctx", "sigint-to-azctx"])
def test_folder_goes_however_the_command_ends(
    world: AzWorld, sleeper: tuple[subprocess.Popen[str], Path], how: str
) -> None:
    process, ready = sleeper
    folder = wait_for(ready)
    assert (folder / "service_principal_entries.json").exists()
    if how == "child-killed":
        os.kill(child_of(process.pid), signal.SIGKILL)
        expected = 128 + signal.SIGKILL
    else:
        signum = signal.SIGTERM if how == "sigterm-to-azctx" else signal.SIGINT
        os.kill(process.pid, signum)  # forwarded: sleep dies of it, then azctx exits
        expected = 128 + signum
    assert process.wait(timeout=120) == expected
    assert not folder.exists()
    assert holding(world.root, SP_SECRET.encode()) == []


def test_a_folder_left_by_a_killed_azctx_goes_with_the_next_run(
    world: AzWorld, sleeper: tuple[subprocess.Popen[str], Path]
) -> None:
    process, ready = sleeper
    folder = wait_for(ready)
    os.killpg(process.pid, signal.SIGKILL)  # azctx cannot clean up after SIGKILL
    process.wait(timeout=60)
    assert folder.exists()
    world.ok("run", "--", "true")
    assert not folder.exists()
    assert holding(world.root, SP_SECRET.encode()) == []


def test_managed_identities_are_written_as_the_cli_writes_them(world: AzWorld) -> None:
    client = "55555555-aaaa-4bbb-8ccc-000000000005"
    world.ok("add", "--account", client, "--account-type", "managed-identity", "--tenant",
             TENANT, "--subscription", SP_SUB, "--name", "uami")  # fmt: skip
    world.ok("add", "--account", "MSI@50342", "--account-type", "managed-identity", "--tenant",
             TENANT, "--subscription", CERT_SUB, "--name", "system")  # fmt: skip
    user = {"name": "userAssignedIdentity", "type": "servicePrincipal"}
    assigned = world.account("--context", "uami")["user"]
    assert assigned == {**user, "assignedIdentityInfo": f"MSIClient-{client}"}
    system = world.account("--context", "system")
    assert system["id"] == CERT_SUB
    assert system["user"] == {
        "name": "systemAssignedIdentity",
        "type": "servicePrincipal",
        "assignedIdentityInfo": "MSI",
    }
    listing = world.ok("run", "--context", "system", "--", "bash", "-c", 'ls "$AZURE_CONFIG_DIR"')
    assert "service_principal_entries.json" not in listing.split()


def test_a_custom_cloud_comes_with_its_endpoints(world: AzWorld) -> None:
    cloud = {
        "Name": "MyStack", "Type": "User-defined", "OnPremise": True,
        "ResourceManagerUrl": "https://management.mystack.example/",
        "ActiveDirectoryAuthority": "https://login.mystack.example/",
        "ActiveDirectoryServiceEndpointResourceId": "https://management.mystack.example/app",
        "GraphUrl": "https://graph.mystack.example/",
        "AzureKeyVaultDnsSuffix": "vault.mystack.example",
        "StorageEndpointSuffix": "mystack.example",
    }  # fmt: skip
    context = {
        "Account": {"Id": SP, "Type": "ServicePrincipal",
                    "ExtendedProperties": {"ServicePrincipalSecret": SP_SECRET}},
        "Tenant": {"Id": TENANT}, "Subscription": {"Id": SP_SUB, "Name": "On stack"},
        "Environment": cloud,
    }  # fmt: skip
    profile = {"DefaultContextKey": "stack", "EnvironmentTable": {"MyStack": cloud},
               "Contexts": {"stack": context}, "ExtendedProperties": {}}  # fmt: skip
    (world.root / "ctx.json").write_text(json.dumps(profile))
    world.ok("import", str(world.root / "ctx.json"))
    shown = world.account()
    assert (shown["id"], shown["environmentName"]) == (SP_SUB, "MyStack")
    query = "[name, endpoints.resourceManager, endpoints.activeDirectory, suffixes.keyvaultDns]"
    show = world.ok("run", "--", world.az, "cloud", "show", "--query", query, "-o", "json")
    assert json.loads(show) == [
        "MyStack",
        "https://management.mystack.example/",
        "https://login.mystack.example",
        ".vault.mystack.example",
    ]
    assert holding(world.root, SP_SECRET.encode()) == []
