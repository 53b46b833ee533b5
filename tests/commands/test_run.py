"""``azctx run`` and ``ContextStore.environment_for``: what a child process or a Python
background job gets, checked with azure-identity's own EnvironmentCredential inside a
command launched by a real ``azctx run`` process."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from azctx.cli.commands import app
from azctx.store.context_store import ContextStore
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

SP_ID = "0c0ffee0-1111-4222-8333-444455556666"
SP_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SP_SUBSCRIPTION = "a1b2c3d4-0000-4000-8000-000000000001"
SP_SECRET = "s3cr3t-value-\u00e9-with spaces"
CERT_ID = "c3r7c3r7-1111-4222-8333-444455556666"
CERT_PASSWORD = "pfx-pass-\u2603"
USER_TENANT = "0e8a15ec-b0f5-d355-7062-8ece54c59aee"

# Prints what EnvironmentCredential built from the environment (hashes, never a secret),
# then exits with the code given as its first argument.
PROBE = r"""
import hashlib, json, os, sys
from azure.identity import EnvironmentCredential

inner = EnvironmentCredential()._credential
secret = getattr(inner, "_client_credential", None)
report = {
    "kind": None if inner is None else type(inner).__name__,
    "tenant": getattr(inner, "_tenant_id", None),
    "client_id": getattr(inner, "_client_id", None),
    "authority": getattr(inner, "_authority", None),
    "secret_sha256": hashlib.sha256(secret.encode()).hexdigest()
    if isinstance(secret, str) else None,
    "thumbprint": secret.get("thumbprint") if isinstance(secret, dict) else None,
    "azure": sorted(k for k in os.environ if k.startswith("AZURE_")),
    "values": {
        k: os.environ.get(k)
        for k in ("AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID",
                  "AZURE_AUTHORITY_HOST", "AZURE_CLIENT_CERTIFICATE_PATH",
                  "AZCTX_CONTEXT", "AZCTX_SESSION", "UNRELATED_VARIABLE")
    },
}
print(json.dumps(report))
sys.exit(int(sys.argv[1]))
"""

# Waits for SIGTERM after saying it is ready; records the signal and exits 3.
SLEEPER = r"""
import pathlib, signal, sys, time

def on_term(signum, frame):
    pathlib.Path(sys.argv[2]).write_text(str(signum))
    sys.exit(3)

signal.signal(signal.SIGTERM, on_term)
pathlib.Path(sys.argv[1]).write_text("ready")
time.sleep(120)
sys.exit(99)
"""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_certificate(path: Path, password: str) -> str:
    """A self-signed RSA certificate and its password-protected key in one PEM file;
    returns its SHA-1 thumbprint as azure-identity reports it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azctx-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode()),
    )
    path.write_bytes(encrypted + cert.public_bytes(serialization.Encoding.PEM))
    return cert.fingerprint(hashes.SHA1()).hex()


@dataclass(frozen=True)
class World:
    """A store with a service principal (secret; the default), one with a certificate,
    a user account and a live session."""

    root: Path
    certificate: Path
    thumbprint: str
    session: str

    @property
    def store_path(self) -> Path:
        return self.root / "store.db"

    @property
    def environ(self) -> dict[str, str]:
        return {"AZCTX_KEY_FILE": str(self.root / "key")}

    def library(self, **extra: str) -> ContextStore:
        return ContextStore(self.store_path, environ={**self.environ, **extra})

    def caller_env(self, **extra: str) -> dict[str, str]:
        """A clean copy of this process's environment pointing at the store."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AZURE_", "AZCTX_")) and k not in ("IDENTITY_ENDPOINT",)
        }
        env.update(
            AZCTX_STORE=str(self.store_path),
            AZCTX_DATA_DIR=str(self.root / "data"),
            AZCTX_CONFIG_DIR=str(self.root / "config"),
            **self.environ,
        )
        env.update(extra)
        return env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("run")
    certificate = root / "sp-cert.pem"
    thumbprint = make_certificate(certificate, CERT_PASSWORD)
    with ContextStore(root / "store.db", environ={"AZCTX_KEY_FILE": str(root / "key")}) as store:
        store.add(
            account=CERT_ID,
            account_type="service-principal",
            tenant=SP_TENANT,
            subscription=SP_SUBSCRIPTION,
            name="cert",
            certificate=str(certificate),
            secret=CERT_PASSWORD,
        )
        store.add(account="me@contoso.com", tenant=USER_TENANT, subscription=None, name="me")
        store.add(
            account="0c0ffee0-9999-4222-8333-444455556666",
            account_type="service-principal",
            tenant=SP_TENANT,
            subscription=None,
            environment="AzureChinaCloud",
            name="china-no-secret",
        )
        store.add(
            account=SP_ID,
            account_type="service-principal",
            tenant=SP_TENANT,
            subscription=SP_SUBSCRIPTION,
            name="sp",
            secret=SP_SECRET,
        )
        session = store.start_session("1h").session_id
    yield World(root, certificate, thumbprint, session)


def azctx_run(
    world: World, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "azctx.cli", "run", *args]
    return subprocess.run(
        command,
        env=env or world.caller_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def probe(*exit_code: str) -> list[str]:
    return ["--", sys.executable, "-c", PROBE, *(exit_code or ("0",))]


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(result.stdout)
    return found


STALE = {
    "AZURE_CLIENT_SECRET": "stale-secret-of-someone-else",
    "AZURE_CLIENT_ID": "stale-client",
    "AZURE_TENANT_ID": "stale-tenant",
    "AZURE_SUBSCRIPTION_ID": "stale-subscription",
    "AZURE_CLIENT_CERTIFICATE_PATH": "/stale/cert.pem",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD": "stale-password",
    "AZURE_AUTHORITY_HOST": "login.stale.example",
    "AZURE_USERNAME": "stale@user",
    "AZURE_PASSWORD": "stale-user-password",
    "AZURE_FEDERATED_TOKEN_FILE": "/stale/token",
    "AZURE_TOKEN_CREDENTIALS": "ManagedIdentityCredential",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "true",
    "AZURE_REGIONAL_AUTHORITY_NAME": "tryautodetect",
    "AZCTX_CONTEXT": "stale-context",
}


# ---------------------------------------------------------------- real `azctx run`


def test_service_principal_secret_reaches_environment_credential(world: World) -> None:
    env = world.caller_env(AZCTX_SESSION=world.session, UNRELATED_VARIABLE="kept", **STALE)
    result = azctx_run(world, *probe("7"), env=env)

    assert result.returncode == 7, result.stderr  # CMD's own exit code
    assert result.stderr == ""
    report = report_of(result)
    assert report["kind"] == "ClientSecretCredential"
    assert (report["tenant"], report["client_id"]) == (SP_TENANT, SP_ID)
    assert report["secret_sha256"] == sha256(SP_SECRET)
    assert report["authority"] == "https://login.microsoftonline.com"
    assert report["values"] == {
        "AZURE_TENANT_ID": SP_TENANT,
        "AZURE_SUBSCRIPTION_ID": SP_SUBSCRIPTION,
        "AZURE_CLIENT_ID": SP_ID,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
        "AZURE_CLIENT_CERTIFICATE_PATH": None,
        "AZCTX_CONTEXT": "sp",
        "AZCTX_SESSION": world.session,
        "UNRELATED_VARIABLE": "kept",
    }
    # nothing of the caller's stale identity is left next to this context's values
    assert report["azure"] == [
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CONFIG_DIR",  # the private Azure CLI folder
        "AZURE_CORE_COLLECT_TELEMETRY",  # no telemetry written into it after the run
        "AZURE_EXTENSION_DIR",
        "AZURE_LOGGING_ENABLE_LOG_FILE",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_TENANT_ID",
    ]
    assert SP_SECRET not in result.stdout + result.stderr


def test_certificate_context_chosen_with_context_option(world: World) -> None:
    env = world.caller_env(AZURE_CLIENT_SECRET="stale-secret-of-someone-else")
    result = azctx_run(world, "--context", "CERT", *probe(), env=env)

    assert result.returncode == 0, result.stderr
    report = report_of(result)
    # CertificateCredential opened the encrypted key: the password was handed over too
    assert report["kind"] == "CertificateCredential"
    assert (report["tenant"], report["client_id"]) == (SP_TENANT, CERT_ID)
    assert report["thumbprint"] == world.thumbprint
    assert report["values"]["AZURE_CLIENT_CERTIFICATE_PATH"] == str(world.certificate)
    assert report["values"]["AZCTX_CONTEXT"] == "cert"
    assert report["values"]["AZCTX_SESSION"] is None
    assert "AZURE_CLIENT_SECRET" not in report["azure"]
    assert "AZURE_CLIENT_CERTIFICATE_PASSWORD" in report["azure"]


def test_user_account_says_no_secret_and_still_runs(world: World) -> None:
    env = world.caller_env(**STALE)
    result = azctx_run(world, "--context", "me", *probe(), env=env)

    assert result.returncode == 0, result.stderr
    # azctx's one note; azure-identity may log its own "incomplete configuration" line
    ours = [line for line in result.stderr.splitlines() if line.startswith(("note:", "error:"))]
    assert ours == ["note: 'me' is a user account: there is no secret to hand over"]
    report = report_of(result)
    assert report["kind"] is None  # nothing for EnvironmentCredential to act on
    assert report["azure"] == [
        "AZURE_AUTHORITY_HOST",
        "AZURE_CONFIG_DIR",
        "AZURE_CORE_COLLECT_TELEMETRY",
        "AZURE_EXTENSION_DIR",
        "AZURE_LOGGING_ENABLE_LOG_FILE",
        "AZURE_TENANT_ID",
    ]
    assert report["values"]["AZURE_TENANT_ID"] == USER_TENANT
    assert report["values"]["AZCTX_CONTEXT"] == "me"


def test_exit_codes_of_commands_that_cannot_start(world: World, tmp_path: Path) -> None:
    not_executable = tmp_path / "script.sh"
    not_executable.write_text("#!/bin/sh\necho should not run\n")
    not_executable.chmod(0o644)
    commands = {127: "azctx-test-no-such-command", 126: str(not_executable)}
    running = {  # both at once: each is a whole azctx start-up
        code: subprocess.Popen(
            [sys.executable, "-m", "azctx.cli", "run", "--", command],
            env=world.caller_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code, command in commands.items()
    }
    for code, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == code, err
        assert out == ""
        assert err.splitlines() == [
            f"azctx: {commands[code]}: "
            + ("command not found" if code == 127 else "permission denied")
        ]


def test_unknown_context_is_refused_before_running(world: World, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env: dict[str, str | None] = {"AZCTX_STORE": str(world.store_path), **world.environ}
    result = CliRunner().invoke(
        app,
        ["run", "--context", "nope", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"],
        env=env,
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: no context named 'nope'"
    assert result.stdout == ""
    assert not marker.exists()


def _start_and_wait(world: World, tmp_path: Path, cmd: list[str]) -> subprocess.Popen[str]:
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-m", "azctx.cli", "run", "--", *cmd],
        env=world.caller_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 90
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"CMD never got ready (exit {process.returncode}): {err}")
        time.sleep(0.05)
    return process


def test_sigterm_is_forwarded_and_cmd_exit_code_returned(world: World, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    process = _start_and_wait(
        world, tmp_path, [sys.executable, "-c", SLEEPER, str(tmp_path / "ready"), str(seen)]
    )
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert seen.read_text() == str(int(signal.SIGTERM))
    assert process.returncode == 3, err


def test_cmd_killed_by_forwarded_sigterm_gives_128_plus_15(world: World, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    process = _start_and_wait(world, tmp_path, ["sh", "-c", f"touch '{ready}'; exec sleep 120"])
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert time.monotonic() - started < 60  # the sleep was ended, not waited out


# ---------------------------------------------------------------- the library


def test_environment_for_default_and_named(world: World) -> None:
    with world.library() as store:
        default = store.environment_for()
        named = store.environment_for("cert")
    assert default.context == "sp"
    assert default.variables["AZURE_CLIENT_SECRET"] == SP_SECRET
    assert default.notes == ()
    assert SP_SECRET not in repr(default)
    assert named.variables["AZURE_CLIENT_CERTIFICATE_PASSWORD"] == CERT_PASSWORD
    assert CERT_PASSWORD not in repr(named)
    assert "AZCTX_SESSION" not in default.variables


def test_environment_for_notes_and_clouds(world: World) -> None:
    with world.library(AZCTX_SESSION=world.session) as store:
        user = store.environment_for("me")
        china = store.environment_for("china-no-secret")
    assert user.variables["AZCTX_SESSION"] == world.session
    assert any("no secret" in note for note in user.notes)
    assert "AZURE_CLIENT_ID" not in user.variables
    assert "AZURE_SUBSCRIPTION_ID" not in user.variables  # it has none
    assert china.variables["AZURE_AUTHORITY_HOST"] == "https://login.chinacloudapi.cn"
    assert china.variables["ARM_ENVIRONMENT"] == "china"
    assert china.variables["AZURE_CLIENT_ID"] == "0c0ffee0-9999-4222-8333-444455556666"
    assert "AZURE_CLIENT_SECRET" not in china.variables
    assert any("no stored credential" in note for note in china.notes)


def background_job(store_path: str, key_file: str, context: str | None) -> dict[str, Any]:
    """A worker that gets a context name (or None: the default), as a user's job would."""
    from azure.identity import EnvironmentCredential

    with ContextStore(store_path, environ={"AZCTX_KEY_FILE": key_file}) as store:
        prepared = store.environment_for(context)
    # A pool's worker runs many jobs: the variables must not outlive this one.
    with patch.dict(os.environ, prepared.variables):
        inner = EnvironmentCredential()._credential
    secret = getattr(inner, "_client_credential", None)
    return {
        "context": prepared.context,
        "pid": os.getpid(),
        "kind": type(inner).__name__ if inner is not None else None,
        "tenant": getattr(inner, "_tenant_id", None),
        "client_id": getattr(inner, "_client_id", None),
        "secret_sha256": sha256(secret) if isinstance(secret, str) else None,
    }


def test_environment_for_in_process_pool_jobs(world: World) -> None:
    spawn = multiprocessing.get_context("spawn")
    key_file = world.environ["AZCTX_KEY_FILE"]
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        jobs = [
            pool.submit(background_job, str(world.store_path), key_file, name)
            for name in (None, "sp", "me")
        ]
        default, named, user = (job.result(timeout=120) for job in jobs)
    assert default["pid"] != os.getpid()
    for result in (default, named):
        assert result["context"] == "sp"
        assert result["kind"] == "ClientSecretCredential"
        assert (result["tenant"], result["client_id"]) == (SP_TENANT, SP_ID)
        assert result["secret_sha256"] == sha256(SP_SECRET)
    assert (user["context"], user["kind"]) == ("me", None)


def test_typer_and_typerless_spellings_hand_over_the_same(world: World) -> None:
    # `run --context NAME -- CMD` skips typer (cli/prompt.py); `--context=NAME` is typer's
    # spelling: both must reach the same ContextStore call and child launch.
    env = world.caller_env(AZCTX_SESSION=world.session, **STALE)
    lean = azctx_run(world, "--context", "cert", *probe("4"), env=env)
    typer_spelt = azctx_run(world, "--context=cert", *probe("4"), env=env)

    assert (lean.returncode, typer_spelt.returncode) == (4, 4), lean.stderr + typer_spelt.stderr
    assert lean.stderr == typer_spelt.stderr
    config_dir = "AZURE_CONFIG_DIR"  # a private folder of its own in each run
    first, second = report_of(lean), report_of(typer_spelt)
    assert first["azure"] == second["azure"] and config_dir in first["azure"]
    assert first["values"] == second["values"]
    assert first["kind"] == second["kind"] == "CertificateCredential"


def test_unknown_context_is_refused_by_the_typerless_spelling_too(
    world: World, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w')"
    result = azctx_run(world, "--context", "nope", "--", sys.executable, "-c", code)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: no context named 'nope'",
        "hint: see 'azctx list'",
    ]
    assert result.stdout == ""
    assert not marker.exists()


@pytest.mark.parametrize("spelling", [["--context", "bad\x01name"], ["--context=bad\x01name"]])
def test_an_invalid_context_name_is_bad_input_before_running(
    world: World, tmp_path: Path, spelling: list[str]
) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w')"
    result = azctx_run(world, *spelling, "--", sys.executable, "-c", code)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: invalid context name 'bad\\x01name': a context name cannot contain"
        " control characters"
    ]
    assert result.stdout == ""
    assert not marker.exists()
