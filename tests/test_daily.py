"""Daily use: names that resolve (a context name, a subscription id or name), a list
that fits the terminal, and the messages that say what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import AzctxCli

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
    assert "default context is now 'prod'" in done.stdout
    assert two("current").stdout == "prod\n"


def test_select_by_subscription_name_any_case(two: AzctxCli) -> None:
    done = two("select", "contoso dev")
    assert "default context is now 'dev'" in done.stdout


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
