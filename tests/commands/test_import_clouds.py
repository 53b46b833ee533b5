"""``azctx import --from-az-cli`` reads the custom clouds of the Azure CLI's
``clouds.config`` beside ``azureProfile.json``: their endpoints come into the store,
``export`` writes them into AzureRmContext.json and ``run`` back into its
``clouds.config``; a file that is not INI or holds a bad value is refused whole."""

from __future__ import annotations

import configparser
import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
from azctx.events import BadInput, Environment
from azctx.projections.formats.azcli_clouds import custom_cloud, read_clouds
from azctx.projections.handoff.azcli_folder import CLOUD_OPTIONS, cloud_options
from azctx.store.context_store import ContextStore
from command_support import _runner

SUB = "11111111-2222-4333-8444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ACCOUNT = "me@contoso.example"
NAME = f"[{ACCOUNT}; {SUB}]"

#: A cloud as ``az cloud register`` writes it, beside a built-in cloud's section.
MY_CLOUD = {
    "endpoint_active_directory": "https://login.mycloud.example",
    "endpoint_resource_manager": "https://management.mycloud.example/",
    "endpoint_active_directory_resource_id": "https://management.core.mycloud.example/",
    "endpoint_active_directory_graph_resource_id": "https://graph.mycloud.example/",
    "endpoint_management": "https://management.core.mycloud.example/",
    "endpoint_gallery": "https://gallery.mycloud.example/",
    "endpoint_microsoft_graph_resource_id": "https://msgraph.mycloud.example/",
    "suffix_storage_endpoint": "core.mycloud.example",
    "suffix_keyvault_dns": ".vault.mycloud.example",
    "suffix_sql_server_hostname": ".database.mycloud.example",
}
CLOUDS = "\n".join(
    [
        "[AzureCloud]",
        "subscription = 00000000-0000-0000-0000-000000000000",
        "",
        "[MyCloud]",
        *(f"{option} = {value}" for option, value in MY_CLOUD.items()),
        "endpoint_vm_image_alias_doc = not a URL, and not read",
        "suffix_acr_login_server_endpoint = .azurecr.mycloud.example",
        "profile = latest",
        "",
    ]
)


def profile(environment: str | None = "MyCloud") -> str:
    entry: dict[str, Any] = {
        "id": SUB,
        "name": "On my cloud",
        "state": "Enabled",
        "user": {"name": ACCOUNT, "type": "user"},
        "isDefault": True,
        "tenantId": TENANT,
    }
    if environment is not None:
        entry["environmentName"] = environment
    return json.dumps({"installationId": "i-1", "subscriptions": [entry]})


def cli_folder(root: Path, clouds: str | None, environment: str | None = "MyCloud") -> Path:
    """An Azure CLI folder: azureProfile.json, and clouds.config when ``clouds``."""
    folder = root / "azure"
    folder.mkdir()
    (folder / "azureProfile.json").write_text(profile(environment), encoding="utf-8")
    if clouds is not None:
        (folder / "clouds.config").write_text(clouds, encoding="utf-8")
    return folder / "azureProfile.json"


class Azctx:
    """The installed ``azctx`` in real processes, against this test's own store, home
    and (empty) Azure CLI folder of the caller."""

    def __init__(self, root: Path, azctx_env: dict[str, str]) -> None:
        caller = root / "caller-azure"
        caller.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
        self.env.update(azctx_env)
        self.env.update(
            {
                "HOME": str(root / "home"),
                "XDG_CONFIG_HOME": str(root / "xdg-config"),
                "AZURE_CONFIG_DIR": str(caller),
            }
        )
        self._run = _runner(self.env)

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        return self._run(*args, code=code)

    def seen(self) -> tuple[str, str]:
        """What a refused import must leave as it was: the history and the list."""
        return self("history").stdout, self("list").stdout

    def environments(self) -> dict[str, Environment]:
        with ContextStore(self.env["AZCTX_STORE"], environ=self.env) as store:
            return dict(store.state().user.environments)


@pytest.fixture
def azctx(tmp_path: Path, azctx_env: dict[str, str]) -> Azctx:
    return Azctx(tmp_path, azctx_env)


@pytest.fixture
def refusing(azctx: Azctx) -> Azctx:
    """A store that already holds a context, so that "unchanged" means something."""
    azctx("add", "--account", "old@contoso.example", "--tenant", TENANT, "--subscription", "s-old")
    return azctx


def test_a_custom_cloud_comes_in_with_its_endpoints(azctx: Azctx, tmp_path: Path) -> None:
    done = azctx("import", "--from-az-cli", str(cli_folder(tmp_path, CLOUDS)))
    assert done.stdout == "imported 1 context(s) from azureProfile.json (operation 1)\n"
    assert "environment 'MyCloud' is not built in; its endpoints come from clouds.config" in (
        done.stderr
    )
    assert "by name only" not in done.stderr
    (cloud,) = azctx.environments().values()
    assert (cloud.name, cloud.authority, cloud.resource_manager) == (
        "MyCloud",
        "https://login.mycloud.example/",
        "https://management.mycloud.example/",
    )
    raw = json.loads(cloud.raw or "")
    assert raw["AzureKeyVaultDnsSuffix"] == "vault.mycloud.example"  # Az's spelling
    assert raw["SqlDatabaseDnsSuffix"] == ".database.mycloud.example"
    assert raw["ExtendedProperties"] == {"MicrosoftGraphUrl": "https://msgraph.mycloud.example/"}
    shown = json.loads(azctx("show", NAME, "--json").stdout)
    assert shown["environment"] == "MyCloud"


def test_export_writes_the_cloud_into_azure_rm_context(azctx: Azctx, tmp_path: Path) -> None:
    azctx("import", "--from-az-cli", str(cli_folder(tmp_path, CLOUDS)))
    out = tmp_path / "AzureRmContext.json"
    azctx("export", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    table = document["EnvironmentTable"]["MyCloud"]
    assert document["Contexts"][NAME]["Environment"] == table
    assert (table["Name"], table["Type"]) == ("MyCloud", "User-defined")
    assert table["ActiveDirectoryAuthority"] == "https://login.mycloud.example/"
    assert table["ResourceManagerUrl"] == "https://management.mycloud.example/"
    assert table["StorageEndpointSuffix"] == "core.mycloud.example"
    assert table["GalleryUrl"] == "https://gallery.mycloud.example/"
    # ... and Az PowerShell's file comes back in as the same cloud
    again = tmp_path / "again"
    again.mkdir()
    azctx2 = Azctx(again, {**_store_of(again)})
    azctx2("import", str(out))
    assert azctx2.environments() == azctx.environments()


def _store_of(root: Path) -> dict[str, str]:
    return {
        "AZCTX_STORE": str(root / "store" / "store.db"),
        "AZCTX_KEY_FILE": str(root / "keys" / "master.key"),
        "AZCTX_DATA_DIR": str(root / "azctx-data"),
        "AZCTX_CONFIG_DIR": str(root / "azctx-config"),
    }


def test_run_gives_the_cli_the_same_cloud_back(azctx: Azctx, tmp_path: Path) -> None:
    azctx("import", "--from-az-cli", str(cli_folder(tmp_path, CLOUDS)))
    done = azctx("run", "--", "sh", "-c", 'cat "$AZURE_CONFIG_DIR/clouds.config"')
    written = configparser.ConfigParser(interpolation=None)
    written.read_string(done.stdout)
    assert written.sections() == ["MyCloud"]
    assert dict(written["MyCloud"]) == {**MY_CLOUD, "profile": "latest"}
    config = azctx("run", "--", "sh", "-c", 'cat "$AZURE_CONFIG_DIR/config"').stdout
    assert "name = MyCloud" in config


def test_without_clouds_config_a_custom_cloud_comes_in_by_name(
    azctx: Azctx, tmp_path: Path
) -> None:
    done = azctx("import", "--from-az-cli", str(cli_folder(tmp_path, None)))
    assert done.stderr == (
        "environment 'MyCloud' is not built in and azureProfile.json has no endpoints "
        "for it; it is imported by name only\n"
    )
    assert azctx.environments() == {"mycloud": Environment(name="MyCloud")}


def test_a_cloud_clouds_config_does_not_define_comes_in_by_name(
    azctx: Azctx, tmp_path: Path
) -> None:
    clouds = "[OtherCloud]\nendpoint_resource_manager = http://not-checked.example/\n"
    done = azctx("import", "--from-az-cli", str(cli_folder(tmp_path, clouds)))
    assert (
        "environment 'MyCloud' is not built in and neither clouds.config nor "
        "azureProfile.json has endpoints for it; it is imported by name only"
    ) in done.stderr
    assert azctx.environments() == {"mycloud": Environment(name="MyCloud")}


def test_a_built_in_cloud_ignores_its_section(azctx: Azctx, tmp_path: Path) -> None:
    clouds = "[AzureCloud]\nendpoint_resource_manager = https://elsewhere.example/\n"
    done = azctx("import", "--from-az-cli", str(cli_folder(tmp_path, clouds, None)))
    assert "environment" not in done.stderr
    assert azctx.environments() == {}


def _with(option: str, value: str | None) -> str:
    """CLOUDS with one option of [MyCloud] changed (None: removed)."""
    lines = []
    for line in CLOUDS.splitlines():
        if line.startswith(f"{option} ="):
            if value is None:
                continue
            line = f"{option} = {value}"
        lines.append(line)
    return "\n".join(lines) + "\n"


MARKER = f"marker{secrets.token_hex(4)}"


@pytest.mark.parametrize(
    ("clouds", "expected"),
    [
        (
            "[MyCloud]\nendpoint_resource_manager\n",
            "error: clouds.config is not an INI file: line 2 is neither a [section] nor an option",
        ),
        (
            f"endpoint_resource_manager = https://{MARKER}.example/\n[MyCloud]\n",
            "error: clouds.config is not an INI file: line 1 comes before any [section]",
        ),
        (
            f'{{"clouds": "{MARKER}"}}\n',
            "error: clouds.config is not an INI file: line 1 comes before any [section]",
        ),
        (
            _with("endpoint_resource_manager", f"http://{MARKER}.example/"),
            "error: clouds.config: [MyCloud] endpoint_resource_manager: must be an https:// URL",
        ),
        (
            _with("endpoint_active_directory", f"https://user:{MARKER}@login.example"),
            "error: clouds.config: [MyCloud] endpoint_active_directory: "
            "cannot carry a user name or password",
        ),
        (
            _with("endpoint_gallery", f"https://{MARKER} .example/"),
            "error: clouds.config: [MyCloud] endpoint_gallery: "
            "cannot contain white space or control characters",
        ),
        (
            _with("suffix_storage_endpoint", f"https://{MARKER}.example"),
            "error: clouds.config: [MyCloud] suffix_storage_endpoint: must be a host suffix "
            "such as core.windows.net (no scheme, path, port or spaces)",
        ),
        (
            _with("endpoint_resource_manager", None),
            "error: clouds.config: [MyCloud] endpoint_resource_manager: field required",
        ),
        (
            _with("endpoint_active_directory", ""),
            "error: clouds.config: [MyCloud] endpoint_active_directory: field required",
        ),
        (
            CLOUDS + f"suffix_keyvault_dns = .{MARKER}.example\n",
            "error: clouds.config: [MyCloud] suffix_keyvault_dns: given twice (line 18)",
        ),
        (
            CLOUDS + "[MyCloud]\n",
            "error: clouds.config: [MyCloud] appears twice (line 18)",
        ),
    ],
    ids=[
        "option-without-value",
        "no-section-header",
        "json",
        "http-url",
        "password-in-url",
        "space-in-url",
        "url-as-suffix",
        "missing-resource-manager",
        "empty-authority",
        "repeated-option",
        "repeated-section",
    ],
)
def test_a_bad_clouds_config_is_refused_whole(
    refusing: Azctx, tmp_path: Path, clouds: str, expected: str
) -> None:
    before = refusing.seen()
    done = refusing("import", "--from-az-cli", str(cli_folder(tmp_path, clouds)), code=2)
    assert (done.stdout, done.stderr) == ("", expected + "\n")
    assert MARKER not in done.stderr
    assert refusing.seen() == before


def test_a_clouds_config_that_is_not_a_file_is_refused(refusing: Azctx, tmp_path: Path) -> None:
    path = cli_folder(tmp_path, None)
    (path.parent / "clouds.config").mkdir()
    before = refusing.seen()
    done = refusing("import", "--from-az-cli", str(path), code=2)
    expected = f"error: cannot import {path.parent / 'clouds.config'}: it is a directory\n"
    assert (done.stdout, done.stderr) == ("", expected)
    assert refusing.seen() == before


def test_every_mapped_option_goes_to_az_and_back_unchanged() -> None:
    """The options ``CLOUD_OPTIONS`` maps survive clouds.config -> Az's environment ->
    clouds.config, each spelled as each tool spells it."""
    assert set(MY_CLOUD) == {option for _, option, _ in CLOUD_OPTIONS}
    cloud = custom_cloud(read_clouds(CLOUDS), "mycloud")  # any case finds the section
    assert cloud is not None
    assert cloud_options(cloud) == {**MY_CLOUD, "profile": "latest"}


def test_a_section_name_is_quoted_when_it_holds_odd_characters() -> None:
    text = "[My\u202eCloud]\nendpoint_resource_manager = ftp://x\n"
    with pytest.raises(BadInput) as caught:
        custom_cloud(read_clouds(text), "My\u202eCloud")
    assert caught.value.message.startswith("clouds.config: ['My\\u202eCloud'] ")
