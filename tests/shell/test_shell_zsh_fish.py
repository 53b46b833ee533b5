"""zsh and fish as sessions, in real interactive shells in tmux with the real Azure CLI
(offline): the one line of each shell's startup file, the prompt segment (zsh with
``prompt_subst``, fish's ``azctx_prompt``), switches that stay in their shell, a nested
shell that starts from its parent, and the session that ends with its shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from azcli_world import CERT_SP, CERT_SUB, SP_SUB, AzWorld, add_sp, make_world
from shell_world import Shells, need, session_folders, shells, wait_for

SHOW = "az account show --query id -o tsv"


@pytest.fixture
def world(tmp_path: Path, az: str) -> AzWorld:
    world = make_world(tmp_path, az)
    add_sp(world, "prod")
    add_sp(world, "dev", account=CERT_SP, sub=CERT_SUB)
    return world


@pytest.fixture
def term(world: AzWorld) -> Iterator[Shells]:
    yield from shells(world)


@pytest.mark.parametrize(("shell", "mark"), [("zsh", "%"), ("fish", ">")])
def test_a_shell_switches_alone_shows_its_prompt_and_ends_its_session(
    world: AzWorld, term: Shells, shell: str, mark: str
) -> None:
    need(shell)
    term.open("one", shell)
    term.open("two", shell)
    assert term.prompt("one") == f"[dev] {mark}"
    session = term.ok("one", "echo $AZCTX_SESSION").strip()
    assert session.startswith("s-")
    assert term.ok("one", "azctx select prod").startswith("this shell's default context is now")
    assert term.ok("one", SHOW).strip() == SP_SUB
    assert term.ok("two", SHOW).strip() == CERT_SUB
    assert term.prompt("one") == f"[prod] {mark}"
    assert term.prompt("two") == f"[dev] {mark}"
    assert f"{shell}" in term.ok("two", "azctx session list")

    term.send("one", shell)  # nested: starts on the parent's default, then its own way
    nested = term.ok("one", "echo $AZCTX_SESSION").strip()
    assert nested != session
    assert term.ok("one", "azctx current") == "prod\n"
    term.ok("one", "azctx select dev")
    term.send("one", "exit")
    wait_for(lambda: f"session-{nested}" not in session_folders(world))
    assert term.ok("one", "azctx current") == "prod\n"

    term.ok("one", "source ~/.zshrc" if shell == "zsh" else "azctx init fish | source")
    assert term.ok("one", "echo $AZCTX_SESSION").strip() == session  # idempotent
    term.send("one", "exit")
    wait_for(lambda: f"session-{session}" not in session_folders(world))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_closing_the_terminal_ends_the_session(world: AzWorld, term: Shells, shell: str) -> None:
    need(shell)
    term.open("one", shell)
    term.open("two", shell)  # keeps the tmux server up
    session = term.ok("one", "echo $AZCTX_SESSION").strip()
    term.ok("one", "azctx select prod")
    term._tmux("kill-window", "-t", "w:one")  # the terminal goes: SIGHUP
    wait_for(lambda: f"session-{session}" not in session_folders(world))
    ended = json.loads(world.ok("history", "--json", "--limit", "2"))
    assert any(row["operation"] == "session-end" and row["session"] == session for row in ended)
