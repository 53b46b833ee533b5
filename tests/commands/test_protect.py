"""``azctx protect`` / ``unprotect`` and what a protected context guards: an undoable
operation marked in every output; select and run of a protected context need ``--yes``
without a terminal and ask first on one; the library guards it too.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest
from terminal import AZCTX, _current, _ended, _spawn

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ------------------------------------------------------- through the CLI (in-process)


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


# ------------------------------------------------------- on a real terminal (pexpect)


TRUE = shutil.which("true") or "/bin/true"


@pytest.mark.parametrize("args", [["select", "prod"], ["run", "--context", "prod", "--", TRUE]])
def test_a_protected_context_asks_first_on_a_terminal(
    terminal_env: dict[str, str], args: list[str]
) -> None:
    import subprocess

    subprocess.run([AZCTX, "protect", "prod"], env=terminal_env, check=True, capture_output=True)
    child = _spawn(terminal_env, *args)
    child.expect(r"'prod' is protected: .* anyway\? \[y/N\]: ")
    child.sendline("n")
    child.expect("error: cancelled; nothing was changed")
    assert _ended(child) == 1
    assert _current(terminal_env) == "dev-us"
    child = _spawn(terminal_env, *args)
    child.expect(r"\[y/N\]: ")
    child.sendline("y")
    assert _ended(child) == 0
    if args[0] == "select":
        assert _current(terminal_env) == "prod"
