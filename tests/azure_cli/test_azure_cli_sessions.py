"""Plain ``az`` follows the shell's session, with the real ``az`` offline, in
bash scripts that ``eval`` what ``session start``/``end`` print; and ``import
--from-az-cli`` reading the CLI's stored service principals."""

from __future__ import annotations

import json
import shutil
import subprocess
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

SHOW = "az account show --query id -o tsv"


@pytest.fixture
def world(tmp_path: Path, az: str) -> AzWorld:
    world = make_world(tmp_path, az)
    add_sp(world, "prod")
    add_sp(world, "dev", account=CERT_SP, sub=CERT_SUB)  # the user default
    return world


def sessions(world: AzWorld) -> list[Path]:
    return sorted((world.runtime / "azctx").glob("session-*"))


def test_plain_az_follows_a_process_scope_select(world: AzWorld) -> None:
    (world.caller_dir / "cliextensions").mkdir()  # the caller's az extensions
    other = world.root / "other-shell-azure"  # another shell's own az, no session
    shutil.copytree(world.caller_dir, other)
    before = snapshot(world.caller_dir)
    script = f"""
        eval "$(azctx session start 2>/dev/null)"
        echo "$AZURE_CONFIG_DIR"
        {SHOW}
        azctx select prod --scope process >/dev/null
        {SHOW}
        ( unset AZCTX_SESSION; export AZURE_CONFIG_DIR={other}; {SHOW} )
        stat -c %a "$AZURE_CONFIG_DIR" "$AZURE_CONFIG_DIR"/service_principal_entries.json
        readlink "$AZURE_CONFIG_DIR"/cliextensions
        eval "$(azctx session end 2>/dev/null)"
        echo "$AZURE_CONFIG_DIR"
    """
    lines = world.bash(script)
    assert lines[0].startswith(str(world.runtime / "azctx" / "session-"))
    assert lines[1:4] == [CERT_SUB, SP_SUB, CALLER_SUBSCRIPTION]
    assert lines[4:6] == ["700", "600"]
    assert lines[6] == str(world.caller_dir / "cliextensions")  # shared, as the cache is
    assert lines[7] == str(world.caller_dir)  # restored
    assert sessions(world) == []
    assert snapshot(world.caller_dir) == before
    assert holding(world.root, SP_SECRET.encode()) == []
    # another shell (no session) still acts as the caller's own login
    assert world.bash(SHOW) == [CALLER_SUBSCRIPTION]


def test_plain_az_follows_another_shells_user_select(world: AzWorld) -> None:
    script = f"""
        eval "$(azctx session start 2>/dev/null)"
        {SHOW}
        env -u AZCTX_SESSION azctx select prod >/dev/null   # another shell, user scope
        {SHOW}
        azctx select dev --scope process >/dev/null
        env -u AZCTX_SESSION azctx select prod >/dev/null   # shadowed by this session's
        {SHOW}
        env -u AZCTX_SESSION azctx remove dev --force >/dev/null  # its default goes
        {SHOW}
    """
    assert world.bash(script) == [CERT_SUB, SP_SUB, CERT_SUB, SP_SUB]


def test_a_session_without_a_default_has_no_subscriptions(world: AzWorld) -> None:
    env = world.env()
    script = """
        eval "$(azctx session start 2>/dev/null)"
        azctx autosave disable --scope process >/dev/null  # the saved contexts are hidden
        python3 -c "import json,os; p=os.environ['AZURE_CONFIG_DIR']+'/azureProfile.json'; \
print(len(json.load(open(p))['subscriptions']))"
    """
    assert world.bash(script, env) == ["0"]


def test_session_end_unsets_a_variable_that_was_not_set(world: AzWorld) -> None:
    env = world.env()
    del env["AZURE_CONFIG_DIR"]
    script = """
        eval "$(azctx session start 2>/dev/null)"
        test -n "$AZURE_CONFIG_DIR"
        eval "$(azctx session end 2>/dev/null)"
        echo "${AZURE_CONFIG_DIR-unset}"
    """
    assert world.bash(script, env) == ["unset"]
    assert sessions(world) == []


@pytest.mark.parametrize(
    ("shell", "start", "end"),
    [
        ("fish", "set -gx AZURE_CONFIG_DIR '{d}'", "set -gx AZURE_CONFIG_DIR '{c}'"),
        ("pwsh", "$env:AZURE_CONFIG_DIR = '{d}'", "$env:AZURE_CONFIG_DIR = '{c}'"),
        ("zsh", "export AZURE_CONFIG_DIR={d}", "export AZURE_CONFIG_DIR={c}"),
        ("sh", "export AZURE_CONFIG_DIR={d}", "export AZURE_CONFIG_DIR={c}"),
    ],
)
def test_every_shell_syntax_sets_and_restores(
    world: AzWorld, shell: str, start: str, end: str
) -> None:
    started = world.ok("session", "start", "--shell", shell).splitlines()
    (folder,) = sessions(world)
    assert started[1] == start.format(d=folder)
    session = folder.name.removeprefix("session-")
    env = world.env(AZCTX_SESSION=session, AZURE_CONFIG_DIR=str(folder))
    ended = world.ok("session", "end", "--shell", shell, env=env).splitlines()
    assert ended[1] == end.format(c=world.caller_dir)
    assert sessions(world) == []


def test_an_expired_sessions_folder_goes_with_the_next_command(world: AzWorld) -> None:
    start = world.ok("session", "start", "--ttl", "1s").splitlines()[0]
    session = start.split("=", 1)[1]
    (folder,) = sessions(world)
    env = world.env(AZCTX_SESSION=session)
    deadline = datetime.now(UTC) + timedelta(seconds=120)
    while world.azctx("session", "status", env=env).returncode == 0:  # still live
        assert datetime.now(UTC) < deadline, "the session never expired"
        subprocess.run(["sleep", "0.2"], check=True)
    assert not folder.exists()  # a read removed it, and wrote nothing
    assert "session-end" not in world.ok("history", "--limit", "1")
    world.ok("select", "prod")  # the next write records the end
    assert "session-end" in world.ok("history", "--limit", "2")
    assert holding(world.root, SP_SECRET.encode()) == []


def test_import_reads_the_clis_service_principal_entries(world: AzWorld) -> None:
    cli = world.root / "cli-import"
    cli.mkdir()
    other = "33333333-aaaa-4bbb-8ccc-000000000003"
    entry = {
        "id": SP_SUB, "name": "Imported", "state": "Enabled",
        "user": {"name": other, "type": "servicePrincipal"}, "isDefault": True,
        "tenantId": TENANT, "environmentName": "AzureCloud",
    }  # fmt: skip
    fed = "44444444-aaaa-4bbb-8ccc-000000000004"
    second = {
        **entry,
        "id": CERT_SUB,
        "isDefault": False,
        "user": {"name": fed, "type": "servicePrincipal"},
    }
    (cli / "azureProfile.json").write_text(json.dumps({"subscriptions": [entry, second]}))
    secret = "imported-secret-\u00e9-do-not-print"
    entries = [
        {"client_id": other, "tenant": TENANT, "client_secret": secret},
        {"client_id": fed, "tenant": TENANT, "client_assertion": "a.federated.token"},
        {"client_id": SP, "tenant": TENANT, "client_secret": "not-in-this-profile"},
    ]
    (cli / "service_principal_entries.json").write_text(json.dumps(entries))
    result = world.azctx("import", "--from-az-cli", str(cli / "azureProfile.json"))
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "1 service principal credential(s) imported" in result.stderr
    assert "1 client_assertion entry" in result.stderr
    assert secret not in said and "a.federated.token" not in said
    name = f"[{other}; {SP_SUB}]"
    shown = json.loads(world.ok("show", name, "--json"))
    assert shown["credential"] == "stored"
    assert json.loads(world.ok("show", f"[{fed}; {CERT_SUB}]", "--json"))["credential"] == "none"
    run = world.azctx(
        "run", "--", world.az, "account", "get-access-token",
        env=world.env(HTTPS_PROXY="http://127.0.0.1:9"),
    )  # fmt: skip
    assert went_for_token(run.stdout + run.stderr)
