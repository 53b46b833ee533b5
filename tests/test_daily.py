"""Daily use: names that resolve (a context name, a subscription id or name), a list
that fits the terminal, and the messages that say what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cli_runner import AzctxCli

SUB_PROD = "11111111-1111-1111-1111-111111111111"
SUB_DEV = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def two(azctx_cli: AzctxCli) -> AzctxCli:
    """'prod' (subscription 'Contoso Prod') and 'dev' (subscription 'Contoso Dev')."""
    for name, sub, label in (("prod", SUB_PROD, "Contoso Prod"), ("dev", SUB_DEV, "Contoso Dev")):
        azctx_cli(
            "add", "--account", "ann@contoso.org", "--tenant", "t-1", "--subscription", sub,
            "--subscription-name", label, "--name", name,
        )  # fmt: skip
    return azctx_cli


def test_select_by_subscription_id_names_the_context(two: AzctxCli) -> None:
    done = two("select", SUB_PROD)
    assert "the saved default context (user scope) is now 'prod'" in done.stdout
    assert two("current").stdout == "prod\n"


def test_select_by_subscription_name_any_case(two: AzctxCli) -> None:
    done = two("select", "contoso dev")
    assert "the saved default context (user scope) is now 'dev'" in done.stdout


def test_show_and_remove_by_subscription_id(two: AzctxCli) -> None:
    assert two.json("show", SUB_DEV)["name"] == "dev"
    done = two("remove", SUB_PROD)
    assert "removed context 'prod'" in done.stdout
    assert two("list", "--names").stdout == "dev\n"


def test_rename_by_subscription_name(two: AzctxCli) -> None:
    done = two("rename", "Contoso Prod", "production")
    assert "renamed 'prod' to 'production'" in done.stdout


def test_misspelled_name_suggests_the_closest(two: AzctxCli) -> None:
    before = two.head()
    done = two("select", "prd", code=1)
    assert done.stdout == ""
    assert done.stderr == "error: no context named 'prd'\nhint: did you mean 'prod'?\n"
    assert two.head() == before
    shown = two("show", "dve", code=1)
    assert "did you mean 'dev'?" in shown.stderr


def test_unknown_name_far_from_any_points_at_list(two: AzctxCli) -> None:
    done = two("select", "zzzzzz", code=1)
    assert done.stderr == "error: no context named 'zzzzzz'\nhint: see 'azctx list'\n"


def test_ambiguous_subscription_lists_the_candidates(two: AzctxCli) -> None:
    two(
        "add", "--account", "bob@contoso.org", "--tenant", "t-1", "--subscription", SUB_PROD,
        "--subscription-name", "Contoso Prod", "--name", "prod-bob",
    )  # fmt: skip
    before = two.head()
    done = two("select", SUB_PROD, code=1)
    assert done.stderr.splitlines() == [
        f"error: '{SUB_PROD}' is the subscription of 2 contexts: 'prod', 'prod-bob'",
        "hint: name one of them",
    ]
    assert two.head() == before
    assert "2 contexts: 'prod', 'prod-bob'" in two("remove", "contoso prod", code=1).stderr


def test_a_context_name_wins_over_a_subscription_name(two: AzctxCli) -> None:
    two(
        "add", "--account", "ann@contoso.org", "--tenant", "t-1", "--subscription", "s-3",
        "--subscription-name", "dev", "--name", "other",
    )  # fmt: skip
    assert "'dev'" in two("select", "dev").stdout


def test_run_and_export_context_take_a_subscription_id(two: AzctxCli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ctx.json"
    done = two("export", str(out), "--context", SUB_DEV)
    assert "exported 1 context(s)" in done.stdout
    assert '"dev"' in out.read_text()


# ---------------------------------------------------------------------------- list

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


# ---------------------------------------------------------------------------- protect


def test_protect_is_an_operation_marked_everywhere_and_undoable(two: AzctxCli) -> None:
    done = two("protect", "contoso prod")  # looked up like any name
    assert done.stdout == (
        "'prod' is protected: selecting it or running as it asks first (operation 3)\n"
    )
    assert two.json("show", "prod")["protected"] is True
    assert "Protected:         yes" in two("show", "prod").stdout
    rows = two.json("history")
    assert (rows[0]["operation"], rows[0]["context"]) == ("protect", "prod")
    again = two("protect", "prod", code=1)
    assert again.stderr == "error: 'prod' is already protected; nothing was changed\n"
    renamed = two("rename", "prod", "production")
    assert "renamed 'prod' to 'production'" in renamed.stdout
    assert two.json("show", "production")["protected"] is True  # the flag follows
    assert "is 'prod' again" in two("undo").stdout
    undone = two("undo", "3")
    assert (
        undone.stdout
        == "undid operation 3 (protect 'prod'): 'prod' is no longer protected (operation 6)\n"
    )
    assert two.json("show", "prod")["protected"] is False
    two("protect", "prod")
    assert two("unprotect", "prod").stdout.startswith("'prod' is no longer protected")
    assert two.json("history")[0]["operation"] == "unprotect"


def test_selecting_a_protected_context_without_a_terminal_needs_yes(two: AzctxCli) -> None:
    two("protect", "prod")
    two("select", "dev")
    before = two.head()
    refused = two("select", "prod", code=1)
    assert refused.stdout == ""
    assert refused.stderr == "error: 'prod' is a protected context\nhint: pass --yes to confirm\n"
    assert two.head() == before
    two("select", "-", code=1)  # going back to it asks too
    assert two("select", "prod", "--yes").stdout.startswith(
        "the saved default context (user scope) is now 'prod'"
    )
    assert two("current").stdout == "prod\n"


def test_running_as_a_protected_context_without_a_terminal_needs_yes(two: AzctxCli) -> None:
    two("protect", "prod")
    refused = two("run", "--context", "prod", "--", "true", code=1)
    assert refused.stderr == "error: 'prod' is a protected context\nhint: pass --yes to confirm\n"
    two("run", "--context", "prod", "--yes", "--", "true")


def test_the_library_guards_protected_contexts_too(two: AzctxCli) -> None:
    from azctx.events import ConfirmationNeeded
    from azctx.store.context_store import ContextStore

    two("protect", "prod")
    environ = {k: v for k, v in two.env.items() if v is not None}
    with ContextStore(environ["AZCTX_STORE"], environ=environ) as store:
        with pytest.raises(ConfirmationNeeded):
            store.select("prod")
        with pytest.raises(ConfirmationNeeded):
            store.environment_for("prod")
        assert store.environment_for("prod", yes=True).context == "prod"
        assert store.select("prod", yes=True).context == "prod"


# ---------------------------------------------------------------------------- messages


def test_removing_the_default_names_the_new_default(two: AzctxCli) -> None:
    two("select", "prod")
    two("select", "dev")
    done = two("remove", "dev", "--force")
    assert done.stdout == "removed context 'dev'; the default is now 'prod' (operation 5)\n"
    last = two("remove", "prod", "--force")
    assert last.stdout == "removed context 'prod'; the default is none now (operation 6)\n"


def test_disconnect_and_clear_name_what_goes(two: AzctxCli) -> None:
    refused = two("disconnect", "ann@contoso.org", code=1)
    assert refused.stderr == (
        "error: disconnecting 'ann@contoso.org' removes 2 context(s) and its credential\n"
        "hint: pass --yes to confirm\n"
    )
    done = two("disconnect", "ann@contoso.org", "--yes")
    assert done.stdout.startswith("disconnected 'ann@contoso.org': 2 context(s) removed")
    assert "the default is none now" in done.stdout
    two("undo")
    cleared = two("clear", code=1)
    assert cleared.stderr.startswith("error: clearing the user scope removes 2 context(s)")
    assert two("clear", "--yes").stdout.startswith(
        "cleared the user scope: 2 context(s) and 0 credential(s) removed"
    )


def test_help_has_no_placeholders_and_every_option_a_line(azctx_cli: AzctxCli) -> None:
    import re

    commands = ["add", "list", "show", "select", "rename", "remove", "disconnect", "clear",
                "protect", "unprotect", "run", "export", "import", "history", "undo"]  # fmt: skip
    for name in commands:
        text = azctx_cli(name, "--help", env={"COLUMNS": "200"}).stdout
        assert not re.search(r"<\w+>|\{\w+", text), (name, text)
        for line in text.splitlines():
            if re.match(r"\s+(-\w, )?--[\w-]+", line):
                assert re.match(r"\s+\S.*\S\s{2,}\S", line), (name, line)  # option, then help
    top = azctx_cli("--help", env={"COLUMNS": "200"}).stdout
    assert "..." not in top.split("Commands:")[1]
    run_help = azctx_cli("run", "--help", env={"COLUMNS": "200"}).stdout
    assert "(when omitted, the default context)" in " ".join(run_help.split())


# ---------------------------------------------------------------------------- completion


def test_bash_completion_escapes_a_bracketed_name(azctx_cli: AzctxCli) -> None:
    """Through typer's bash protocol (COMP_WORDS, COMP_CWORD, _AZCTX_COMPLETE), and
    the words it prints read back by bash itself as one word each."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    azctx_cli("add", "--account", "user1@contoso.org", "--tenant", "t", "--subscription", "s; 1")
    azctx_cli(
        "add",
        "--account",
        "ann@contoso.org",
        "--tenant",
        "t",
        "--subscription",
        "s",
        "--name",
        "dev box",
    )
    exe = str(Path(sys.executable).with_name("azctx"))
    env = {**os.environ, **{k: v for k, v in azctx_cli.env.items() if v is not None}}
    env.update(
        {"_AZCTX_COMPLETE": "complete_bash", "COMP_WORDS": "azctx select [us", "COMP_CWORD": "2"}
    )
    done = subprocess.run([exe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "\\[user1@contoso.org\\;\\ s\\;\\ 1\\]\n"
    env["COMP_WORDS"] = "azctx select "
    words = subprocess.run([exe], env=env, capture_output=True, text=True, check=True).stdout
    read_back = subprocess.run(
        ["bash", "--norc", "-c", 'eval "w=($1)"; printf "%s\\n" "${w[@]}"', "_", words],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert read_back.stdout.splitlines() == ["[user1@contoso.org; s; 1]", "dev box"]
