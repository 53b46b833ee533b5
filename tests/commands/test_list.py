"""``azctx list``: its JSON fields, ``--at`` (the view after an operation or at a
time, for ``show`` too), a table that fits the terminal, and colour only on a terminal.

The view it prints (scopes, sessions, autosave) is tested rule by rule in
tests/projections/test_projections.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from command_support import SUB_DEV, SUB_PROD, add
from terminal import _spawn, pexpect

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ------------------------------------------------------- through the CLI (in-process)


CONTEXT_FIELDS = {
    "name",
    "account",
    "account_type",
    "tenant",
    "subscription",
    "subscription_name",
    "environment",
    "scope",
    "default",
    "credential",
    "protected",
}


def test_list_and_show_json_have_exactly_the_spec_fields(azctx_cli: AzctxCli) -> None:
    assert azctx_cli.json("list") == []
    add(azctx_cli, "dev", "--subscription-name", "Dev", "--environment", "azurechinacloud")
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "sp", *sp, account="app-1", input="pw\n")
    listed = azctx_cli.json("list")
    assert [set(item) for item in listed] == [CONTEXT_FIELDS, CONTEXT_FIELDS]
    dev, sp = listed
    assert dev == {
        "name": "dev",
        "account": "user1@contoso.org",
        "account_type": "user",
        "tenant": "tenant-1",
        "subscription": "sub-dev",
        "subscription_name": "Dev",
        "environment": "AzureChinaCloud",
        "scope": "user",
        "default": False,
        "credential": "none",
        "protected": False,
    }
    assert (sp["default"], sp["credential"], sp["account_type"]) == (
        True,
        "stored",
        "service-principal",
    )
    assert azctx_cli.json("show") == sp
    assert azctx_cli.json("show", "dev") == dev
    assert azctx_cli.json("show", "dev", "--at", "1") == {**dev, "default": True}


def test_at_shows_the_view_after_an_operation_or_a_time(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    azctx_cli("remove", "a")
    assert azctx_cli("list", "--names").stdout == "b\n"
    assert azctx_cli("list", "--names", "--at", "1").stdout == "a\n"
    assert azctx_cli("list", "--names", "--at", "2").stdout == "a\nb\n"
    first_time = azctx_cli.json("history")[-1]["time"]
    assert azctx_cli("list", "--names", "--at", first_time).stdout == "a\n"
    local = datetime.fromisoformat(first_time).astimezone().replace(tzinfo=None)
    at_local = local.isoformat(timespec="microseconds")
    assert azctx_cli("list", "--names", "--at", at_local).stdout == "a\n"
    assert azctx_cli("show", "a", "--at", "2").stdout.startswith("Name:              a\n")
    assert azctx_cli("show", "--at", "1").stdout.startswith("Name:              a\n")


# ------------------------------------------------------- through the CLI (in-process)


LONG = "production-westeurope-contoso-platform-team-subscription-" + "x" * 40


def test_list_fits_80_columns_with_long_names(azctx_cli: AzctxCli) -> None:
    azctx_cli(
        "add", "--account", "a-very-long-service-principal-name@contoso.onmicrosoft.com",
        "--tenant", "t-1", "--subscription", SUB_PROD,
        "--subscription-name", "Contoso Production Subscription With A Long Display Name",
        "--name", LONG,
    )  # fmt: skip
    azctx_cli("add", "--account", "ann@contoso.org", "--tenant", "t-1", "--subscription", SUB_DEV)
    azctx_cli("protect", LONG)
    lines = azctx_cli("list", env={"COLUMNS": "80"}).stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert lines[0].split() == ["NAME", "SUBSCRIPTION", "ACCOUNT"]
    assert lines[1].startswith("*   [ann@contoso.org; ")  # the default, not protected
    assert lines[2].startswith(" !  production-westeurope")  # protected
    assert "…" in lines[2] and LONG not in lines[2]
    assert "Contoso Production" in lines[2]
    # nothing is cut where there is room, and --wide never cuts
    assert LONG in azctx_cli("list", env={"COLUMNS": "400"}).stdout
    wide = azctx_cli("list", "--wide", env={"COLUMNS": "80"}).stdout.splitlines()
    assert wide[0].split() == [
        "NAME", "ACCOUNT", "TENANT", "SUBSCRIPTION", "SUBSCRIPTION", "NAME",
        "ENVIRONMENT", "SCOPE", "CREDENTIAL",
    ]  # fmt: skip
    assert LONG in wide[2] and SUB_PROD in wide[2] and "…" not in "".join(wide)


def test_list_json_and_names_are_unchanged_by_the_width(azctx_cli: AzctxCli) -> None:
    azctx_cli("add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name", LONG)
    assert azctx_cli("list", "--names", env={"COLUMNS": "20"}).stdout == LONG + "\n"
    assert azctx_cli.json("list", env={"COLUMNS": "20"})[0]["name"] == LONG


# ------------------------------------------------------- on a real terminal (pexpect)


@pytest.mark.parametrize(
    ("extra", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, False), ({"TERM": "dumb"}, False)],
    ids=["terminal", "no-color", "no-color-empty", "term-dumb"],
)
def test_list_is_coloured_only_on_a_terminal_without_no_color(
    terminal_env: dict[str, str], extra: dict[str, str], coloured: bool
) -> None:
    child = _spawn({**terminal_env, **extra}, "list")
    child.expect(pexpect.EOF)
    text = str(child.before)
    assert ("\x1b[1;32m" in text) is coloured  # the default's row, bold green
    assert "dev-us" in text
