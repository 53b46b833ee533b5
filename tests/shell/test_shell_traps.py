"""``azctx init`` keeps the user's own exit traps, in real interactive shells in tmux:
bash's ``EXIT`` trap set in ``~/.bashrc`` before the azctx line still runs (once, with
the shell's exit status, also after the file is sourced twice) and the session still
ends; a trap set after the line that calls ``__azctx_exit`` (what these docs once told)
runs once too; zsh's ``TRAPHUP`` of the user's still runs when the terminal closes, and
the session ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azcli_world import AzWorld, make_world
from shell_world import RC, Shells, need, session_folders, shells, wait_for

USER_ARGS = ("--account", "me@contoso.example", "--tenant", "t-1")


@pytest.fixture
def world(tmp_path: Path, az: str) -> AzWorld:
    world = make_world(tmp_path, az)
    world.ok("add", *USER_ARGS, "--subscription", "s-dev", "--name", "dev")
    return world


@pytest.fixture
def term(world: AzWorld) -> Iterator[Shells]:
    yield from shells(world)


def _rc(world: AzWorld, name: str, text: str) -> Path:
    """Replace the startup file ``name`` of the world's home; the file the traps write."""
    home = world.root / "home"
    (home / name).write_text(text)
    return home / "trapped"


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _ends(world: AzWorld, term: Shells, name: str, keys: str) -> None:
    """Type ``keys`` (an exit) into the window and wait until its session is gone."""
    session = term.ok(name, "echo $AZCTX_SESSION").strip()
    assert f"session-{session}" in session_folders(world)
    if keys:
        term.send(name, keys)
    else:
        term._tmux("kill-window", "-t", f"w:{name}")  # the terminal goes: SIGHUP
    wait_for(lambda: f"session-{session}" not in session_folders(world), timeout=60)


@pytest.mark.parametrize("sourced", [1, 3], ids=["once", "sourced-three-times"])
def test_a_bash_exit_trap_set_before_the_azctx_line_still_runs(
    world: AzWorld, term: Shells, sourced: int
) -> None:
    need("bash")
    trapped = _rc(world, ".bashrc", "trap 'echo \"user $?\" >> ~/trapped' EXIT\n" + RC["bash"])
    term.open("keep", "bash")  # keeps the tmux server up once the other window is gone
    term.open("one", "bash")
    for _ in range(sourced - 1):
        term.ok("one", "source ~/.bashrc")
    assert term.ok("one", "trap -p EXIT").count("trapped") == 1  # no growing chain
    _ends(world, term, "one", "exit 3")
    wait_for(lambda: _lines(trapped))
    assert _lines(trapped) == ["user 3"]  # once, and it saw the shell's exit status


def test_a_bash_exit_trap_set_after_the_line_that_calls_azctx_exit_runs_once(
    world: AzWorld, term: Shells
) -> None:
    need("bash")
    late = "trap 'echo late >> ~/trapped; __azctx_exit' EXIT\n"
    trapped = _rc(world, ".bashrc", RC["bash"] + late)
    term.open("keep", "bash")
    term.open("one", "bash")
    term.ok("one", "source ~/.bashrc")  # now the azctx line finds that trap, and chains it
    term.ok("one", "source ~/.bashrc")
    _ends(world, term, "one", "exit")
    wait_for(lambda: _lines(trapped))
    assert _lines(trapped) == ["late"]
    assert term.ok("keep", "azctx session list").count("bash") == 1  # only "keep" is left


@pytest.mark.parametrize("sourced", [1, 2], ids=["once", "sourced-twice"])
def test_a_zsh_traphup_of_the_users_still_runs_when_the_terminal_closes(
    world: AzWorld, term: Shells, sourced: int
) -> None:
    need("zsh")
    trapped = _rc(world, ".zshrc", "TRAPHUP() { print hup >> ~/trapped }\n" + RC["zsh"])
    term.open("keep", "zsh")
    term.open("one", "zsh")
    for _ in range(sourced - 1):
        term.ok("one", "source ~/.zshrc")
    _ends(world, term, "one", "")
    wait_for(lambda: _lines(trapped))
    assert _lines(trapped) == ["hup"]


def test_zsh_exit_still_ends_the_session_with_a_users_traphup(world: AzWorld, term: Shells) -> None:
    need("zsh")
    trapped = _rc(world, ".zshrc", "TRAPHUP() { print hup >> ~/trapped }\n" + RC["zsh"])
    term.open("keep", "zsh")
    term.open("one", "zsh")
    _ends(world, term, "one", "exit")
    assert _lines(trapped) == []  # no hang-up, no call
