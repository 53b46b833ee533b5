"""A shell is a session, in real interactive bash shells in tmux with the real Azure CLI
(offline): ``eval "$(azctx init bash)"`` in ``~/.bashrc`` gives every shell its own
session; a switch stays in its shell; a nested shell starts from its parent's default;
a ``run`` child is the run's context; a killed shell's folder goes with the next command;
the prompt segment starts no process."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azcli_world import CERT_SP, CERT_SUB, SP_SUB, AzWorld, add_sp, holding, make_world
from shell_world import Shells, need, session_folders, shells, wait_for

SHOW = "az account show --query id -o tsv"


@pytest.fixture
def world(tmp_path: Path, az: str) -> AzWorld:
    world = make_world(tmp_path, az)
    add_sp(world, "prod")
    add_sp(world, "dev", account=CERT_SP, sub=CERT_SUB)  # the saved default
    return world


@pytest.fixture
def term(world: AzWorld) -> Iterator[Shells]:
    need("bash")
    yield from shells(world)


def test_two_shells_switch_independently_and_a_nested_shell_starts_from_its_parent(
    world: AzWorld, term: Shells
) -> None:
    term.open("one", "bash")
    term.open("two", "bash")
    assert term.prompt("one") == "[dev] $"
    one = term.ok("one", "echo $AZCTX_SESSION").strip()
    two = term.ok("two", "echo $AZCTX_SESSION").strip()
    assert one.startswith("s-") and two.startswith("s-") and one != two

    assert term.ok("one", "azctx select prod").startswith(
        "this shell's default context is now 'prod'"
    )
    assert term.ok("one", SHOW).strip() == SP_SUB
    assert term.ok("two", SHOW).strip() == CERT_SUB  # the other shell did not move
    assert term.prompt("one") == "[prod] $"
    assert term.prompt("two") == "[dev] $"
    assert term.ok("one", "printenv AZCTX_PROMPT") == "prod\n"  # what starship reads
    assert world.ok("current") == "dev\n"  # the saved default did not move either

    # A nested bash: its own session, starting on the parent's default.
    term.send("one", "bash")
    nested = term.ok("one", "echo $AZCTX_SESSION").strip()
    assert nested not in (one, two)
    assert term.ok("one", "azctx current") == "prod\n"
    assert term.ok("one", SHOW).strip() == SP_SUB
    term.ok("one", "azctx select dev")
    assert term.ok("one", SHOW).strip() == CERT_SUB
    listed = term.ok("one", "azctx session list")
    assert f"*  {nested}" in listed and f"   {one}" in listed and "bash" in listed
    term.send("one", "exit")  # the nested shell's session ends with it
    wait_for(lambda: f"session-{nested}" not in session_folders(world))
    assert term.ok("one", "echo $AZCTX_SESSION").strip() == one
    assert term.ok("one", "azctx current") == "prod\n"  # the parent kept its own
    assert term.prompt("one") == "[prod] $"


def test_sourcing_the_startup_file_again_changes_nothing(world: AzWorld, term: Shells) -> None:
    term.open("one", "bash")
    before = term.ok("one", "echo $AZCTX_SESSION $AZURE_CONFIG_DIR")
    count = len(session_folders(world))
    term.ok("one", "source ~/.bashrc")
    term.ok("one", "source ~/.bashrc")
    assert term.ok("one", "echo $AZCTX_SESSION $AZURE_CONFIG_DIR") == before
    assert len(session_folders(world)) == count
    assert term.ok("one", 'echo "$PROMPT_COMMAND"').count("__azctx_hook") == 1
    # and a second session start in the same shell says so and starts nothing
    again = term.run("one", "azctx session start")
    assert again.code == 1
    assert "this shell already has session" in again.out and "--new" in again.out
    renewed = term.ok("one", '{ eval "$(azctx session start --new)"; echo $AZCTX_SESSION; }')
    renewed = renewed.split()
    assert renewed[-1] != before.split()[0]
    assert len(session_folders(world)) == count


def test_a_run_child_is_the_runs_context_and_cannot_be_moved(world: AzWorld, term: Shells) -> None:
    term.open("one", "bash")
    parent = term.ok("one", "echo $AZCTX_SESSION").strip()
    folders = session_folders(world)
    term.send("one", "azctx run --context prod -- bash -i")
    time.sleep(0.3)
    assert term.ok("one", "echo $AZCTX_CONTEXT").strip() == "prod"
    assert term.ok("one", "echo $AZCTX_SESSION").strip() == parent  # init started nothing
    assert session_folders(world) == folders
    assert term.ok("one", "azctx current") == "prod\n"
    assert term.ok("one", "azctx show --json").count('"name": "prod"') == 1
    assert term.prompt("one") == "[prod] $"
    # Terraform's, azure-identity's and az's view are one and the same context.
    env = term.ok("one", '{ echo "$ARM_SUBSCRIPTION_ID $AZURE_SUBSCRIPTION_ID"; ' + SHOW + "; }")
    env = env.split()
    assert env == [SP_SUB, SP_SUB, SP_SUB]
    refused = term.run("one", "azctx select dev")
    assert refused.code == 1
    assert "started by 'azctx run' as 'prod'" in refused.out and "hint: leave it" in refused.out
    term.send("one", "exit")
    assert term.ok("one", "azctx current") == "dev\n"


def test_a_killed_shell_leaves_no_folder_after_the_next_command(
    world: AzWorld, term: Shells
) -> None:
    term.open("one", "bash")
    term.ok("one", "azctx select prod")  # a service principal: a secret in the folder
    session = term.ok("one", "echo $AZCTX_SESSION").strip()
    assert holding(world.runtime, b"Zq8~never-shown")
    pid = term.pid("one")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists())
    assert world.ok("list", "--names") == "dev\nprod\n"  # a read, from another process
    assert f"session-{session}" not in session_folders(world)
    assert holding(world.runtime, b"Zq8~never-shown") == []
    assert len(world.ok("history", "--limit", "1")) > 0
    world.ok("select", "dev")  # the next write records the end
    assert "session-end" in world.ok("history", "--json", "--limit", "3")


def test_an_expired_session_loses_its_folder_to_the_next_command(
    world: AzWorld, term: Shells
) -> None:
    term.open("one", "bash")
    term.ok("one", 'eval "$(azctx session start --new --ttl 2s 2>/dev/null)"')
    session = term.ok("one", "echo $AZCTX_SESSION").strip()
    assert f"session-{session}" in session_folders(world)
    time.sleep(2.2)
    world.ok("list")
    assert f"session-{session}" not in session_folders(world)
    assert holding(world.runtime, b"Zq8~never-shown") == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_drawing_a_hundred_prompts_starts_no_process(world: AzWorld, term: Shells) -> None:
    term.open("one", "bash")
    pid = term.pid("one")
    log = world.root / "strace.log"
    calls = "trace=execve,clone,clone3,fork,vfork"
    tracer = subprocess.Popen(
        ["strace", "-f", "-qq", "-e", calls, "-o", str(log), "-p", str(pid)],
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: log.exists())
        time.sleep(0.5)
        for _ in range(100):
            term._tmux("send-keys", "-t", "w:one", "Enter")
        term.send("one", ": prompts-drawn")  # a builtin: no process either
        wait_for(lambda: term.screen("one").rstrip().endswith(": prompts-drawn\n[dev] $"))
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    calls = [line for line in log.read_text().splitlines() if "(" in line]
    assert calls == []


def test_a_tmux_pane_starts_from_the_pane_it_was_split_from(world: AzWorld, term: Shells) -> None:
    """tmux starts a pane from its server's environment, not from the pane it splits:
    the new pane's session starts from the session of the pane that was active."""
    term.open("one", "bash")
    first = term.ok("one", "echo $AZCTX_SESSION").strip()
    term.ok("one", "azctx select prod")
    pairs = " ".join(shlex.quote(f"{k}={v}") for k, v in term.env().items())
    keep = 'TMUX="$TMUX" TMUX_PANE="$TMUX_PANE"'  # what tmux gives every pane it starts
    line = f"cd {shlex.quote(str(world.root))} && exec env -i {pairs} {keep} bash -i"
    term._tmux("split-window", "-t", "w:one", line)  # the new pane is the active one
    assert term.run("one", "true").code == 0
    pane = term.ok("one", "echo $AZCTX_SESSION").strip()
    assert pane.startswith("s-") and pane != first
    assert term.ok("one", "azctx current") == "prod\n"
    term.ok("one", "azctx select dev")
    term._tmux("select-pane", "-t", "w:one.0")
    assert term.ok("one", "azctx current") == "prod\n"  # the first pane did not move
    term._tmux("new-window", "-t", "w", "-n", "three", line)  # a window: from the last one
    term.kinds["three"] = "bash"
    assert term.run("three", "true").code == 0
    assert term.ok("three", "azctx current") == "prod\n"
