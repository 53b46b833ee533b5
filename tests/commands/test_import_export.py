"""``azctx import`` / ``azctx export`` end to end, through the CLI and the store: the
import decision, the real Az PowerShell and Azure CLI samples, round trips, refused
files, undo, secrets.

The file formats alone (parsing and writing, pure) are in test_import_export_formats.py;
how the files are opened and written (links, FIFOs, atomic writes) in
tests/store/test_files.py and tests/adversarial/test_adversarial_files.py.
"""

from __future__ import annotations

import json
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from azctx.cli.commands import app
from azctx.events import (
    Added,
    BadInput,
    Context,
    Credential,
    Environment,
)
from azctx.projections import decisions as d
from azctx.projections.formats.azps_import import parse_az_powershell
from azctx.projections.formats.plans import MAX_IMPORT_BYTES
from azctx.store.context_store import ContextStore
from command_support import INTEROP, SUB_DEV, az_context
from decision_support import Log, names
from typer.testing import CliRunner, Result

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ---------------------------------------------------------------- the decision (pure)


def ctx(name: str, account: str = "sp@x") -> Context:
    return Context(name=name, account=account, account_type="service-principal", tenant="t")


def test_import_replaces_same_names_keeps_others_and_sets_the_default() -> None:
    log = Log()
    log.add("keep")
    log.add("dup", "old@x")
    cred = Credential(key_id="k-sp", kind="client-secret", sealed="eA==")
    env = Environment(name="MyCloud", authority="https://login.example/")
    decision = d.decide_import(
        log.state,
        log.caller(),
        contexts=[ctx("DUP"), ctx("new")],
        credentials={"SP@x": cred},
        environments=[env],
        default="new",
        source="az-powershell",
        file="/tmp/AzureRmContext.json",
    )
    log.do(decision)
    shown = log.view()
    assert names(shown) == ["DUP", "keep", "new"]
    assert shown.default == "new"
    assert [i.credential for i in shown.contexts] == ["stored", "none", "stored"]
    assert log.state.user.environments["mycloud"] == env
    request = d.AddRequest(account="a", tenant="t", name="m", environment="mycloud")
    added = d.decide_add(log.state, log.caller(), request).event
    assert isinstance(added.op, Added) and added.op.context.environment == "MyCloud"


def test_import_refuses_duplicate_names_and_a_default_not_in_the_file() -> None:
    log = Log()
    with pytest.raises(BadInput):
        d.decide_import(log.state, log.caller(), contexts=[ctx("a"), ctx("A")])
    with pytest.raises(BadInput):
        d.decide_import(log.state, log.caller(), contexts=[ctx("a")], default="b")
    with pytest.raises(BadInput):
        d.decide_import(log.state, log.caller(), contexts=[ctx("bad\x01")])


# ------------------------------------------------------ through the CLI and the store


# (file under interop/, imported with --from-az-cli)
SAMPLES = [
    ("azure-powershell/az-user-context-discovered-env.json", False),
    ("azure-powershell/empty-profile.json", False),
    ("azure-powershell/import-context-no-default-key.json", False),
    ("azure-powershell/saving-profile-works.json", False),
    ("azure-cli/azure-cli-test-service-principal.json", True),
    ("azure-cli/starship-user-three-subscriptions.json", True),
]


def sample_path(relative: str) -> Path:
    return INTEROP / relative


@dataclass
class Azctx:
    """One store in tmp_path, driven through the CLI (CliRunner) or the library."""

    root: Path

    @property
    def store_path(self) -> Path:
        return self.root / "store.db"

    @property
    def environ(self) -> dict[str, str]:
        return {"AZCTX_KEY_FILE": str(self.root / "key")}

    def __call__(self, *args: str, input: str | None = None) -> Result:
        env: dict[str, str | None] = {
            "AZCTX_STORE": str(self.store_path),
            "AZCTX_SESSION": None,
            "AZCTX_AUTOSAVE": None,
            "AZCTX_KEY": None,
            **self.environ,
        }
        return CliRunner().invoke(app, list(args), env=env, input=input)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def library(self) -> ContextStore:
        return ContextStore(self.store_path, environ=self.environ)

    def contexts(self) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = json.loads(self.ok("list", "--json").stdout)
        return listed

    def default(self) -> str | None:
        with self.library() as store:
            return store.current()

    def environments(self) -> dict[str, tuple[str | None, str | None, Any]]:
        """Custom environments by name: authority, Resource Manager, original object."""
        with self.library() as store:
            found = store.state().user.environments.values()
        return {
            env.name: (env.authority, env.resource_manager, env.raw and json.loads(env.raw))
            for env in found
        }

    def head(self) -> tuple[int, bytes]:
        with self.library() as store:
            report = store.verify(chain_only=True)
        return report.head_seq, report.head_hash

    def operations(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.ok("history", "--json").stdout)
        return rows


@pytest.fixture
def azctx(tmp_path: Path) -> Azctx:
    return Azctx(tmp_path / "a")


@pytest.fixture
def fresh(tmp_path: Path) -> Azctx:
    return Azctx(tmp_path / "b")


def one_error(result: Result) -> str:
    """The error line of a refused command: exactly one ``error:`` line, then at most a
    ``hint:`` line, nothing on stdout."""
    lines = result.stderr.splitlines()
    assert result.stdout == ""
    assert 1 <= len(lines) <= 2, lines
    assert lines[0].startswith("error: ")
    assert all(line.startswith("hint: ") for line in lines[1:]), lines
    return lines[0]


def az_file(contexts: dict[str, dict[str, Any]], default: str | None = None, **top: Any) -> str:
    document = {
        "DefaultContextKey": default,
        "EnvironmentTable": {},
        "Contexts": contexts,
        "ExtendedProperties": {},
        **top,
    }
    return json.dumps(document, indent=2)


def _named_subscription(name: str) -> dict[str, Any]:
    context = az_context("a")
    context["Subscription"]["Name"] = name
    return context


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def import_args(relative: str, from_az_cli: bool) -> list[str]:
    flag = ["--from-az-cli"] if from_az_cli else []
    return ["import", *flag, str(sample_path(relative))]


@pytest.mark.parametrize(("relative", "from_az_cli"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_each_sample_survives_import_export_import(
    relative: str, from_az_cli: bool, azctx: Azctx, fresh: Azctx, tmp_path: Path
) -> None:
    azctx.ok(*import_args(relative, from_az_cli))
    exported = tmp_path / "AzureRmContext.json"
    azctx.ok("export", str(exported))
    fresh.ok("import", str(exported))

    assert fresh.contexts() == azctx.contexts()
    assert fresh.default() == azctx.default()
    assert fresh.environments() == azctx.environments()
    # The fresh store writes the same file again: nothing was lost on the way.
    again = tmp_path / "again.json"
    fresh.ok("export", str(again))
    assert again.read_text() == exported.read_text()


def test_all_samples_in_one_store_round_trip(azctx: Azctx, fresh: Azctx, tmp_path: Path) -> None:
    for relative, from_az_cli in SAMPLES:
        azctx.ok(*import_args(relative, from_az_cli))
    contexts = azctx.contexts()
    # 1 + 0 + 1 ("Default", then replaced by the next file's "Default") + 1 + 3
    assert len(contexts) == 6
    exported = tmp_path / "all.json"
    azctx.ok("export", str(exported))
    fresh.ok("import", str(exported))
    assert fresh.contexts() == contexts
    assert (
        fresh.default()
        == azctx.default()
        == "[user@domain.com; f3935dc9-92b5-9a93-da7b-42c325d86939]"
    )
    assert fresh.environments() == azctx.environments()


def test_custom_environment_is_kept_and_exported_again(
    azctx: Azctx, fresh: Azctx, tmp_path: Path
) -> None:
    source = sample_path("azure-powershell/saving-profile-works.json")
    original = json.loads(source.read_text(encoding="utf-8-sig"))["EnvironmentTable"]["testCloud"]
    azctx.ok("import", str(source))
    shown = json.loads(azctx.ok("show", "Default", "--json").stdout)
    assert shown["environment"] == "testCloud"
    assert shown["account"] == "me@contoso.com"
    assert azctx.default() == "Default"

    exported = tmp_path / "out.json"
    azctx.ok("export", str(exported))
    document = json.loads(exported.read_text())
    assert document["EnvironmentTable"] == {"testCloud": original}
    assert document["Contexts"]["Default"]["Environment"]["Name"] == "testCloud"

    fresh.ok("import", str(exported))
    authority, _, raw = fresh.environments()["testCloud"]
    assert authority == "http://contoso.com"
    assert raw == original
    # run hands the custom cloud's authority host to azure-identity
    with fresh.library() as store:
        variables = store.environment_for("Default").variables
    assert variables["AZURE_AUTHORITY_HOST"] == "https://contoso.com"
    assert "ARM_ENVIRONMENT" not in variables  # a custom cloud has no azurerm name


def test_az_cli_profile_maps_default_and_account_types(azctx: Azctx) -> None:
    azctx.ok(
        "import",
        "--from-az-cli",
        str(sample_path("azure-cli/starship-user-three-subscriptions.json")),
    )
    azctx.ok(
        "import",
        "--from-az-cli",
        str(sample_path("azure-cli/azure-cli-test-service-principal.json")),
    )
    by_name = {c["name"]: c for c in azctx.contexts()}
    assert by_name["[my app; 1]"]["account_type"] == "service-principal"
    assert by_name["[my app; 1]"]["tenant"] == "microsoft.com"
    assert by_name["[my app; 1]"]["credential"] == "none"  # the CLI file holds no secret
    users = [c for c in by_name.values() if c["account"] == "user@domain.com"]
    assert {c["account_type"] for c in users} == {"user"}
    assert len(users) == 3
    # the last import's isDefault entry is the default
    assert azctx.default() == "[my app; 1]"


INVALID_NAME = "bad\u0007name"


def _utf16(path: Path, text: str) -> str:
    path.write_bytes(text.encode("utf-16"))
    return str(path)


def _bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    """label -> import arguments for each kind of file import must refuse."""
    directory = tmp_path / "a-directory"
    directory.mkdir()
    huge = tmp_path / "huge.json"
    with huge.open("wb") as out:  # sparse: the size is what counts, not the content
        out.truncate(MAX_IMPORT_BYTES + 1)
    return {
        "malformed": ["import", write(tmp_path / "m.json", '{"Contexts": {"x": ')],
        "malformed-cli": ["import", "--from-az-cli", write(tmp_path / "mc.json", "{[}")],
        "not-an-object": ["import", write(tmp_path / "list.json", "[1, 2]")],
        "contexts-not-object": ["import", write(tmp_path / "c.json", '{"Contexts": []}')],
        "account-type-unknown": [
            "import",
            write(tmp_path / "t.json", az_file({"x": az_context("a", account_type="Robot")})),
        ],
        "tenant-missing": [
            "import",
            write(
                tmp_path / "tm.json",
                az_file({"x": {**az_context("a"), "Tenant": {"Directory": None}}}),
            ),
        ],
        "cli-subscriptions-not-list": [
            "import",
            "--from-az-cli",
            write(tmp_path / "cs.json", '{"subscriptions": {"id": "1"}}'),
        ],
        "not-utf8": ["import", _utf16(tmp_path / "u16.json", az_file({"x": az_context("a")}))],
        "missing": ["import", str(tmp_path / "no-such-file.json")],
        "directory": ["import", str(directory)],
        "too-large": ["import", str(huge)],
        "invalid-name": [
            "import",
            write(
                tmp_path / "n.json",
                az_file({"ok": az_context("a"), INVALID_NAME: az_context("b")}, default="ok"),
            ),
        ],
        "empty-name": ["import", write(tmp_path / "e.json", az_file({"": az_context("c")}))],
        # Every value obeys the input rules, whichever door it comes in by.
        "account-control-character": [
            "import",
            write(tmp_path / "cc.json", az_file({"x": az_context("a\x1b[31m")})),
        ],
        "subscription-name-control-character": [
            "import",
            write(tmp_path / "sn.json", az_file({"x": _named_subscription("evil\rname")})),
        ],
        "nul-in-id": [
            "import",
            write(tmp_path / "nul.json", az_file({"x": az_context("a", tenant="t\x00")})),
        ],
        "invisible-name": [
            "import",
            write(tmp_path / "bidi.json", az_file({"pay\u202eroll": az_context("a")})),
        ],
    }


BAD_LABELS = [
    "malformed",
    "malformed-cli",
    "not-an-object",
    "contexts-not-object",
    "account-type-unknown",
    "tenant-missing",
    "cli-subscriptions-not-list",
    "not-utf8",
    "missing",
    "directory",
    "too-large",
    "invalid-name",
    "empty-name",
    "account-control-character",
    "subscription-name-control-character",
    "nul-in-id",
    "invisible-name",
]


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return _bad_inputs(tmp_path_factory.mktemp("bad-inputs"))


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Azctx:
    """One store for all the refused imports: each must leave it exactly as it was,
    which every case checks, so sharing it cannot hide a change."""
    az = Azctx(tmp_path_factory.mktemp("refusing"))
    az.ok("add", "--account", "u@x", "--tenant", "t", "--subscription", "s", "--name", "ok")
    return az


@pytest.mark.parametrize("label", BAD_LABELS)
def test_bad_import_file_is_refused_and_changes_nothing(
    label: str, refusing: Azctx, bad_inputs: dict[str, list[str]]
) -> None:
    before = (refusing.head(), refusing.contexts())
    assert before[0][0] == 1

    result = refusing(*bad_inputs[label])

    assert result.exit_code == 2, (result.stdout, result.stderr)
    line = one_error(result)
    assert "Traceback" not in result.stderr
    if label == "invalid-name":
        assert "not a valid name" in line
    if label == "too-large":
        assert f"{MAX_IMPORT_BYTES // (1024 * 1024)} MiB" in line
    assert (refusing.head(), refusing.contexts()) == before


def test_every_bad_input_kind_is_tested(tmp_path: Path) -> None:
    assert sorted(_bad_inputs(tmp_path)) == sorted(BAD_LABELS)


def test_invalid_name_is_imported_with_rename_invalid(azctx: Azctx, tmp_path: Path) -> None:
    path = write(tmp_path / "n.json", az_file({INVALID_NAME: az_context("b@x", subscription="s9")}))
    result = azctx.ok("import", "--rename-invalid", path)
    assert "[b@x; s9]" in result.stderr
    assert [c["name"] for c in azctx.contexts()] == ["[b@x; s9]"]


def _view(az: Azctx) -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
    return az.contexts(), az.default(), az.environments()


def test_import_is_one_operation_and_undo_restores_replaced_contexts(azctx: Azctx) -> None:
    azctx.ok(
        "add", "--account", "old@x", "--tenant", "t0", "--subscription", "s0", "--name", "default"
    )
    azctx.ok(
        "add", "--account", "keep@x", "--tenant", "t1", "--subscription", "s1", "--name", "keep"
    )
    before = _view(azctx)
    assert before[1] == "keep"
    seq_before = azctx.head()[0]

    # "Default" (any case) is replaced, "keep" stays, the file's default is selected
    result = azctx.ok("import", str(sample_path("azure-powershell/saving-profile-works.json")))
    assert "tokens are not imported" in result.stderr
    after = _view(azctx)
    names = {c["name"]: c for c in after[0]}
    assert set(names) == {"Default", "keep"}
    assert names["Default"]["account"] == "me@contoso.com"
    assert after[1] == "Default"
    assert "testCloud" in after[2]

    rows = azctx.operations()
    assert azctx.head()[0] == seq_before + 1
    assert rows[0]["operation"] == "import"
    import_seq = rows[0]["seq"]

    azctx.ok("undo")
    assert _view(azctx) == before
    undo_seq = azctx.head()[0]
    assert azctx.operations()[1]["undone_by"] == undo_seq

    azctx.ok("undo", str(undo_seq))  # undoing the undo redoes the import
    assert _view(azctx) == after
    assert next(r for r in azctx.operations() if r["seq"] == import_seq)["undone_by"] is None


def test_import_into_process_scope_needs_a_session(azctx: Azctx, tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", az_file({"proc": az_context("p@x")}, default="proc"))
    refused = azctx("import", "--scope", "process", path)
    assert refused.exit_code == 1
    one_error(refused)

    started = azctx.ok("session", "start").stdout
    session = started.splitlines()[0].split("=", 1)[1]
    in_session = Azctx(azctx.root)
    env = {**in_session.environ, "AZCTX_SESSION": session}
    result = CliRunner().invoke(
        app,
        ["import", "--scope", "process", path],
        env={"AZCTX_STORE": str(azctx.store_path), "AZCTX_KEY": None, **env},
    )
    assert result.exit_code == 0, result.stderr
    with ContextStore(azctx.store_path, environ=env) as store:
        shown = store.show("proc")
    assert shown.scope == "process"
    assert azctx.contexts() == []  # outside the session, nothing was added


def _sp_file(tmp_path: Path, secret: str, certificate: str | None = None) -> str:
    properties = {"ServicePrincipalSecret": secret}
    if certificate is not None:
        properties = {"CertificatePath": certificate, "CertificatePassword": secret}
    contexts = {
        "sp-ctx": az_context(
            "11111111-2222-3333-4444-555555555555",
            "ServicePrincipal",
            "t-sp",
            "s-sp",
            account_properties=properties,
        ),
        "token-ctx": az_context(
            "tok@x", "AccessToken", account_properties={"AccessToken": "eyJ0b2tlbg"}
        ),
    }
    return write(tmp_path / "sp.json", az_file(contexts, default="sp-ctx"))


def test_imported_secret_is_stored_never_printed_and_handed_to_run(
    azctx: Azctx, tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(24)
    imported = azctx.ok("import", _sp_file(tmp_path, secret))
    assert imported.stdout.strip().startswith("imported 2 context(s)")
    assert "tokens are not imported" in imported.stderr  # the AccessToken context's note
    assert "tokens are not imported" not in imported.stdout

    outputs = [imported]
    for args in (
        ("show", "sp-ctx"),
        ("show", "sp-ctx", "--json"),
        ("list", "--json"),
        ("list",),
        ("history", "--json"),
        ("history",),
    ):
        outputs.append(azctx.ok(*args))
    assert json.loads(outputs[2].stdout)["credential"] == "stored"
    assert "stored" in outputs[1].stdout
    token = json.loads(azctx.ok("show", "token-ctx", "--json").stdout)
    assert (token["account_type"], token["credential"]) == ("user", "none")
    for result in outputs:
        assert secret not in result.stdout + result.stderr

    with azctx.library() as store:
        variables = store.environment_for().variables
    assert variables["AZURE_CLIENT_SECRET"] == secret
    assert variables["AZURE_CLIENT_ID"] == "11111111-2222-3333-4444-555555555555"
    assert variables["AZURE_TENANT_ID"] == "t-sp"
    assert variables["AZCTX_CONTEXT"] == "sp-ctx"

    on_disk = b"".join(p.read_bytes() for p in azctx.root.glob("store.db*"))
    assert secret.encode() not in on_disk


def test_imported_certificate_credential(azctx: Azctx, tmp_path: Path) -> None:
    password = secrets.token_urlsafe(16)
    certificate = str(tmp_path / "sp.pem")
    azctx.ok("import", _sp_file(tmp_path, password, certificate=certificate))
    with azctx.library() as store:
        variables = store.environment_for("sp-ctx").variables
    assert variables["AZURE_CLIENT_CERTIFICATE_PATH"] == certificate
    assert variables["AZURE_CLIENT_CERTIFICATE_PASSWORD"] == password
    assert "AZURE_CLIENT_SECRET" not in variables

    exported = tmp_path / "with-certificate.json"
    azctx.ok("export", "--include-secrets", "--context", "sp-ctx", str(exported))
    [credential] = parse_az_powershell(exported.read_text()).secrets
    assert (credential.kind, credential.certificate_path) == ("certificate", certificate)
    assert credential.secret == password


@pytest.fixture
def with_secret(azctx: Azctx) -> Iterator[str]:
    secret = secrets.token_urlsafe(24)
    azctx.ok(
        "add",
        "--account", "app-id-1",
        "--tenant", "t1",
        "--subscription", "s1",
        "--account-type", "service-principal",
        "--secret-stdin",
        "--name", "sp",
        input=secret + "\n",
    )  # fmt: skip
    azctx.ok("add", "--account", "u@x", "--tenant", "t2", "--subscription", "s2", "--name", "user")
    yield secret


def test_export_never_overwrites_without_force(
    azctx: Azctx, with_secret: str, tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    target.write_text("precious")
    refused = azctx("export", str(target))
    assert refused.exit_code == 1
    assert "--force" in one_error(refused) + refused.stderr
    assert target.read_text() == "precious"

    azctx.ok("export", "--force", str(target))
    assert json.loads(target.read_text())["DefaultContextKey"] == "user"


def test_export_without_secrets_has_none(azctx: Azctx, with_secret: str, tmp_path: Path) -> None:
    target = tmp_path / "plain.json"
    result = azctx.ok("export", str(target))
    assert "without secrets" in result.stdout
    text = target.read_text()
    assert with_secret not in text
    assert "ServicePrincipalSecret" not in text
    plan = parse_az_powershell(text)
    assert plan.secrets == ()
    assert sorted(c.name for c in plan.contexts) == ["sp", "user"]
    assert plan.default == "user"


def test_export_with_secrets_is_private_and_reads_back(
    azctx: Azctx, fresh: Azctx, with_secret: str, tmp_path: Path
) -> None:
    target = tmp_path / "secret.json"
    result = azctx.ok("export", "--include-secrets", str(target))
    assert with_secret not in result.stdout + result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    plan = parse_az_powershell(target.read_text())
    [sp_secret] = plan.secrets
    assert (sp_secret.account, sp_secret.kind, sp_secret.secret) == (
        "app-id-1",
        "client-secret",
        with_secret,
    )

    fresh.ok("import", str(target))
    assert fresh.contexts() == azctx.contexts()
    with fresh.library() as store:
        assert store.environment_for("sp").variables["AZURE_CLIENT_SECRET"] == with_secret


def test_export_with_secrets_over_a_public_file_makes_it_private(
    azctx: Azctx, with_secret: str, tmp_path: Path
) -> None:
    target = tmp_path / "was-public.json"
    target.write_text("{}")
    target.chmod(0o644)
    azctx.ok("export", "--include-secrets", "--force", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert with_secret in target.read_text()


def test_export_one_context(azctx: Azctx, with_secret: str, tmp_path: Path) -> None:
    target = tmp_path / "one.json"
    azctx.ok("export", "--context", "SP", str(target))  # names compare case-insensitively
    document = json.loads(target.read_text())
    assert list(document["Contexts"]) == ["sp"]
    assert document["DefaultContextKey"] is None  # the default "user" is not in the file
    account = document["Contexts"]["sp"]["Account"]
    assert (account["Id"], account["Type"]) == ("app-id-1", "ServicePrincipal")

    unknown = azctx("export", "--context", "nope", str(tmp_path / "none.json"))
    assert unknown.exit_code == 1
    one_error(unknown)
    assert not (tmp_path / "none.json").exists()


def _with_secret_object(marker: str) -> str:
    context = az_context("app", account_type="ServicePrincipal")
    context["Account"]["ExtendedProperties"]["ServicePrincipalSecret"] = {"value": marker}
    return az_file({"ci": context})


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            lambda marker: az_file({"prod": {**az_context("a"), "Account": {"Type": "User"}}}),
            "error: Contexts.prod.Account.Id: field required",
        ),
        (
            lambda marker: az_file({"My Ctx": {**az_context("a"), "Tenant": {"Id": 7}}}),
            "error: Contexts.'My Ctx'.Tenant.Id: must be a string",
        ),
        (
            _with_secret_object,
            "error: Contexts.ci.Account.ExtendedProperties.ServicePrincipalSecret:"
            " must be a string",
        ),
    ],
)
def test_a_bad_field_is_named_by_its_path_and_its_value_never_shown(
    refusing: Azctx, tmp_path: Path, document: Any, expected: str
) -> None:
    marker = f"MARKER-{secrets.token_hex(6)}"
    before = (refusing.head(), refusing.contexts())
    result = refusing("import", write(tmp_path / "bad.json", document(marker)))
    assert (result.exit_code, one_error(result)) == (2, expected)
    assert marker not in result.stderr + result.stdout
    assert (refusing.head(), refusing.contexts()) == before


def test_a_bad_service_principal_entry_is_named_by_its_index(
    refusing: Azctx, tmp_path: Path
) -> None:
    marker = f"MARKER-{secrets.token_hex(6)}"
    folder = tmp_path / "azure"
    folder.mkdir()
    profile = {
        "subscriptions": [
            {
                "id": "s-1",
                "tenantId": "t-1",
                "name": "one",
                "isDefault": True,
                "user": {"name": "app-1", "type": "servicePrincipal"},
            }
        ]
    }
    entries = [{"client_id": "app-1", "tenant": "t-1", "client_secret": [marker]}]
    (folder / "service_principal_entries.json").write_text(json.dumps(entries))
    before = (refusing.head(), refusing.contexts())
    path = write(folder / "azureProfile.json", json.dumps(profile))
    result = refusing("import", "--from-az-cli", path)
    expected = "error: service_principal_entries.json[0].client_secret: must be a string"
    assert (result.exit_code, one_error(result)) == (2, expected)
    assert marker not in result.stderr + result.stdout
    assert (refusing.head(), refusing.contexts()) == before


# ------------------------------------------------------- through the CLI (in-process)


def test_run_and_export_context_take_a_subscription_id(two: AzctxCli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ctx.json"
    done = two("export", str(out), "--context", SUB_DEV)
    assert "exported 1 context(s)" in done.stdout
    assert '"dev"' in out.read_text()
