"""Directory pins in real interactive shells: a ``.azctx`` file pins its context as the
shell's own while the shell is inside the folder, only after ``azctx allow``; leaving
brings the previous default back; a changed file or an unknown name is a warning.
``azctx allow`` typed inside the pinned folder applies at the next prompt, as
``direnv allow`` does, and ``azctx disallow`` there drops the pin at the next prompt,
without leaving the folder; the mark that tells the hook is gone afterwards (else every
prompt would start azctx), and an ``allow`` of another folder leaves a shell's own
choice alone."""

from __future__ import annotations

import json
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
    (tmp_path / "repo" / "src" / "deep").mkdir(parents=True)
    (tmp_path / "repo" / ".azctx").write_text("prod\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".azctx").write_text("test\n")
    return world


@pytest.fixture
def term(world: AzWorld) -> Iterator[Shells]:
    yield from shells(world)


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_a_pin_is_honoured_only_once_allowed_and_undone_on_leaving(
    world: AzWorld, term: Shells, shell: str
) -> None:
    need(shell)
    repo = world.root / "repo"
    term.open("one", shell)
    term.ok("one", f"cd {repo}")
    assert term.ok("one", "azctx current") == "dev\n"  # not allowed: no switch
    assert term.shows("one", "is not allowed yet (azctx allow")
    term.ok("one", "cd /")
    assert term.ok("one", f"azctx allow {repo}") == f"allowed {repo}/.azctx (context 'prod')\n"
    allowed = world.root / "home" / ".config" / "azctx" / "allowed-pins.json"
    assert allowed.stat().st_mode & 0o777 == 0o600
    assert list(json.loads(allowed.read_text())) == [f"{repo}/.azctx"]

    term.ok("one", f"cd {repo}/src/deep")  # any folder below the pin
    assert term.prompt("one").startswith("[prod]")  # the very next prompt
    assert term.ok("one", "azctx current") == "prod\n"
    assert world.ok("current") == "dev\n"  # the saved default and other shells stay
    term.ok("one", "cd ..")  # still inside: nothing runs, nothing changes
    assert term.ok("one", "azctx current") == "prod\n"
    term.ok("one", "cd /")
    assert term.ok("one", "azctx current") == "dev\n"

    (repo / ".azctx").write_text("test\n")  # changed: needs allowing again
    term.ok("one", f"cd {repo}")
    assert term.ok("one", "azctx current") == "dev\n"
    assert term.shows("one", "changed since it was allowed")
    term.ok("one", "cd /")
    (repo / ".azctx").write_text("nosuch\n")
    term.ok("one", f"azctx allow {repo}")
    done = term.run("one", f"cd {repo}")
    assert done.code == 0  # an unknown name is a warning, never a shell error
    assert term.shows("one", "names 'nosuch', which is not a context here")
    assert term.ok("one", "azctx current") == "dev\n"
    term.ok("one", "cd /")
    assert term.ok("one", f"azctx disallow {repo}") == f"{repo}/.azctx is no longer honoured\n"


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_pinning_a_protected_context_asks_first(world: AzWorld, term: Shells, shell: str) -> None:
    """The question is answered in the shell's own terminal, also in fish, whose prompt
    hook runs with the terminal in fish's raw mode."""
    need(shell)
    repo = world.root / "repo"
    world.ok("protect", "prod")
    term.open("one", shell)
    term.ok("one", f"azctx allow {repo}")
    term.ok("one", f"cd {repo}")
    assert term.shows("one", "[y/N]")  # asked on the terminal, by the hook
    term.send("one", "n")
    assert term.shows("one", "not pinned")
    assert term.ok("one", "azctx current") == "dev\n"  # a refusal is no error of the shell
    term.ok("one", "cd /")
    term.ok("one", f"cd {repo}")  # crossing in again asks again
    wait_for(lambda: term.screen("one").count("[y/N]") == 2)
    term.send("one", "y")
    wait_for(lambda: term.run("one", "azctx current").out == "prod\n")
    assert term.prompt("one").startswith("[!prod]")  # the prompt marks a protected context


# ----------------------------------------- allow and disallow inside the pinned folder


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
