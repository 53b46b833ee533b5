"""``azctx allow`` typed inside the pinned folder applies at the next prompt, as
``direnv allow`` does, and ``azctx disallow`` there drops the pin at the next prompt: in
real interactive bash, zsh and fish in tmux, without leaving the folder. The mark that
tells the hook is gone afterwards (else every prompt would start azctx), and an
``allow`` of another folder leaves a shell's own choice alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azcli_world import AzWorld, make_world
from shell_world import Shells, need, shells, wait_for

USER_ARGS = ("--account", "me@contoso.example", "--tenant", "t-1")
MARK = {"bash": "$", "zsh": "%", "fish": ">"}
#: The mark allow and disallow leave in the session's folder for the prompt hook.
CHANGED = "pin-changed"


@pytest.fixture
def world(tmp_path: Path, az: str) -> AzWorld:
    world = make_world(tmp_path, az)
    for name, sub in (("prod", "s-prod"), ("dev", "s-dev"), ("test", "s-test")):
        world.ok("add", *USER_ARGS, "--subscription", sub, "--name", name, "--no-select")
    world.ok("select", "dev")
    (tmp_path / "repo" / "src").mkdir(parents=True)
    (tmp_path / "repo" / ".azctx").write_text("prod\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".azctx").write_text("test\n")
    return world


@pytest.fixture
def term(world: AzWorld) -> Iterator[Shells]:
    yield from shells(world)


def _prompt_is(term: Shells, name: str, text: str) -> None:
    wait_for(lambda: term.prompt(name) == text, timeout=60)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_allow_and_disallow_inside_the_folder_apply_at_the_next_prompt(
    world: AzWorld, term: Shells, shell: str
) -> None:
    need(shell)
    repo, mark = world.root / "repo", MARK[shell]
    term.open("one", shell)
    folder = Path(term.ok("one", "echo $AZCTX_SESSION_DIR").strip())
    term.ok("one", f"cd {repo}/src")
    assert term.shows("one", "is not allowed yet (azctx allow")
    assert term.ok("one", "azctx current") == "dev\n"
    _prompt_is(term, "one", f"[dev] {mark}")

    assert term.ok("one", f"azctx allow {repo}") == f"allowed {repo}/.azctx (context 'prod')\n"
    term.send("one", "")  # Enter: a prompt, still in the folder
    assert term.shows("one", f"azctx: pinned by {repo}/.azctx")
    _prompt_is(term, "one", f"[prod] {mark}")
    assert term.ok("one", "azctx current") == "prod\n"
    assert term.ok("one", "pwd") == f"{repo}/src\n"  # never left
    wait_for(lambda: not (folder / CHANGED).exists())  # pin took the mark away
    assert world.ok("current") == "dev\n"  # the saved default did not move

    term.ok("one", "cd ..")
    assert term.ok("one", "azctx disallow") == f"{repo}/.azctx is no longer honoured\n"
    term.send("one", "")
    assert term.shows("one", f"{repo}/.azctx is no longer honoured: this shell's default")
    _prompt_is(term, "one", f"[dev] {mark}")
    assert term.ok("one", "azctx current") == "dev\n"
    wait_for(lambda: not (folder / CHANGED).exists())

    term.ok("one", "azctx allow")  # and again, with the folder's default argument
    _prompt_is(term, "one", f"[prod] {mark}")
    term.ok("one", "cd /")  # leaving still brings the default from before the pin back
    _prompt_is(term, "one", f"[dev] {mark}")


def test_allowing_another_folder_leaves_the_shells_own_choice_alone(
    world: AzWorld, term: Shells
) -> None:
    need("bash")
    repo, other = world.root / "repo", world.root / "other"
    term.open("one", "bash")
    folder = Path(term.ok("one", "echo $AZCTX_SESSION_DIR").strip())
    term.ok("one", f"azctx allow {repo}")
    term.ok("one", f"cd {repo}")
    _prompt_is(term, "one", "[prod] $")
    term.ok("one", "azctx select dev")  # by hand, inside the pinned folder
    term.ok("one", f"azctx allow {other}")  # not the pin this shell is under: no mark
    assert not (folder / CHANGED).exists()
    term.send("one", "")
    _prompt_is(term, "one", "[dev] $")
    assert term.ok("one", "azctx current") == "dev\n"
    # Another shell's allow of this folder marks that shell's own session only.
    term.open("two", "bash")
    term.ok("two", f"cd {repo}")
    term.ok("two", f"azctx disallow {repo}")
    _prompt_is(term, "two", "[dev] $")
    assert not (folder / CHANGED).exists()
    assert term.ok("one", "azctx current") == "dev\n"
