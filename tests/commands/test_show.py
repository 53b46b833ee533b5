"""``azctx show``: one context with its credential, found by name or subscription.

Its JSON fields are checked with list's in test_list.py.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from command_support import SUB_DEV, SUB_PROD, add

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ------------------------------------------------------- through the CLI (in-process)


def test_show_prints_one_context_with_the_credential_as_stored_or_none(
    azctx_cli: AzctxCli,
) -> None:
    add(azctx_cli, "dev")
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "sp", *sp, account="app-1", input="pw\n")
    shown = azctx_cli("show").stdout.splitlines()
    fields = dict(line.split(":", 1) for line in shown)
    assert {k: v.strip() for k, v in fields.items()} == {
        "Name": "sp",
        "Default": "yes",
        "Account": "app-1",
        "Account type": "service-principal",
        "Tenant": "tenant-1",
        "Subscription": "sub-sp",
        "Subscription name": "",
        "Environment": "AzureCloud",
        "Scope": "user",
        "Credential": "stored",
        "Protected": "no",
    }
    assert all(line == line.rstrip() for line in shown)
    # Names match in any case; the credential belongs to the account, not the context.
    assert "Credential:        none" in azctx_cli("show", "DEV").stdout


# ------------------------------------------------------- through the CLI (in-process)


def test_show_and_remove_by_subscription_id(two: AzctxCli) -> None:
    assert two.json("show", SUB_DEV)["name"] == "dev"
    done = two("remove", SUB_PROD)
    assert "removed context 'prod'" in done.stdout
    assert two("list", "--names").stdout == "dev\n"


def test_a_secret_whose_key_was_deleted_shows_as_none_with_a_warning(
    azctx_cli: AzctxCli,
) -> None:
    sp = ("--account-type", "service-principal", "--secret-stdin")
    add(azctx_cli, "sp", *sp, account="app-1", input="pw\n")
    con = sqlite3.connect(azctx_cli.env["AZCTX_STORE"])
    with con:  # behind azctx's back
        con.execute("DELETE FROM data_keys WHERE kind = 'account'")
    con.close()
    shown = azctx_cli("show", "sp")
    fields = dict(line.split(":", 1) for line in shown.stdout.splitlines())
    assert fields["Credential"].strip() == "none"
    assert shown.stderr == (
        "warning: the key of the credential of 'sp' is gone from the store: its secret"
        " cannot be read; add the credential again\n"
    )
