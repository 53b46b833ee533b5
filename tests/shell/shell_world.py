"""Real interactive shells (bash, zsh, fish) in a private tmux server, for the
``test_shell_*`` tests: each shell starts from its own startup file with the one line
``azctx init`` asks for, in a world under the test's tmp_path (home, runtime folder,
store, key, the caller's Azure CLI folder).

A command is typed into a shell with its output sent to a file and its exit status to
another, so a test reads both exactly; the screen (``screen``) is what the prompt drew.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from azcli_world import AzWorld

RC = {
    "bash": "eval \"$(azctx init bash)\"\nPS1='[$AZCTX_PROMPT] $ '\n",
    "zsh": "setopt prompt_subst\neval \"$(azctx init zsh)\"\nPROMPT='[${AZCTX_PROMPT}] %% '\n",
    "fish": (
        "azctx init fish | source\n"
        'function fish_prompt; echo -n "["(azctx_prompt)"] > "; end\n'
        "function fish_greeting; end\n"
    ),
}
STATUS = {"bash": "$?", "zsh": "$?", "fish": "$status"}


class Done(NamedTuple):
    code: int
    out: str


def need(*programs: str) -> None:
    for program in programs:
        if shutil.which(program) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{program} is not installed, and the shell tests must run on CI")
            pytest.skip(f"{program} is not installed")


class Shells:
    """A tmux server whose windows are interactive shells of one world."""

    def __init__(self, world: AzWorld) -> None:
        self.world = world
        self.socket = f"azctx-{os.getpid()}-{id(self)}"
        self.out = world.root / "shell-out"
        self.out.mkdir(exist_ok=True)
        self.count = 0
        self.kinds: dict[str, str] = {}
        home = world.root / "home"
        (home / ".bashrc").write_text(RC["bash"])
        (home / ".zshrc").write_text(RC["zsh"])
        (home / ".config" / "fish").mkdir(parents=True, exist_ok=True)
        (home / ".config" / "fish" / "config.fish").write_text(RC["fish"])

    def env(self) -> dict[str, str]:
        env = self.world.env(TERM="xterm", SHELL="/bin/bash", ZDOTDIR=str(self.world.root / "home"))
        env["XDG_CONFIG_HOME"] = str(self.world.root / "home" / ".config")
        env.pop("TMUX", None)
        env.pop("PROMPT_COMMAND", None)
        return env

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def open(self, name: str, shell: str, command: str | None = None) -> None:
        """A new window ``name`` running ``shell`` (or ``command``), ready for input."""
        pairs = " ".join(shlex.quote(f"{k}={v}") for k, v in self.env().items())
        program = command or (f"{shell} -i" if shell != "fish" else "fish")
        line = f"cd {shlex.quote(str(self.world.root))} && exec env -i {pairs} {program}"
        if not self.kinds:
            self._tmux("new-session", "-d", "-s", "w", "-n", name, "-x", "160", "-y", "50", line)
        else:
            self._tmux("new-window", "-d", "-t", "w", "-n", name, line)
        self.kinds[name] = shell
        assert self.run(name, "true").code == 0

    def send(self, name: str, keys: str) -> None:
        self._tmux("send-keys", "-t", f"w:{name}", "-l", keys)
        self._tmux("send-keys", "-t", f"w:{name}", "Enter")

    def run(self, name: str, command: str, timeout: float = 60, shell: str | None = None) -> Done:
        """Type ``command`` into the window; its exit status and output (both streams)."""
        self.count += 1
        out, rc = self.out / f"{self.count}.out", self.out / f"{self.count}.rc"
        kind = shell or self.kinds[name]
        self.send(name, f"{command} > {out} 2>&1; echo {STATUS[kind]} > {rc}.tmp; mv {rc}.tmp {rc}")
        deadline = time.monotonic() + timeout
        while not rc.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"{command!r} did not finish:\n{self.screen(name)}")
            time.sleep(0.05)
        return Done(int(rc.read_text().strip()), out.read_text())

    def ok(self, name: str, command: str, shell: str | None = None) -> str:
        done = self.run(name, command, shell=shell)
        assert done.code == 0, done.out
        return done.out

    def screen(self, name: str) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", f"w:{name}")

    def shows(self, name: str, text: str) -> bool:
        """Whether ``text`` appears on the screen within a few seconds (what a hook
        prints comes after the command's status is written)."""
        deadline = time.monotonic() + 10
        while text not in self.screen(name):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def prompt(self, name: str) -> str:
        """The last prompt drawn (the last line on the screen that is not empty)."""
        deadline = time.monotonic() + 10
        while True:
            lines = [line for line in self.screen(name).splitlines() if line.strip()]
            last = lines[-1].rstrip() if lines else ""
            if last.endswith(("$", "%", ">")) or time.monotonic() > deadline:
                return last
            time.sleep(0.05)

    def pid(self, name: str) -> int:
        return int(self._tmux("display-message", "-p", "-t", f"w:{name}", "#{pane_pid}"))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


def shells(world: AzWorld) -> Iterator[Shells]:
    need("tmux")
    server = Shells(world)
    try:
        yield server
    finally:
        server.close()


def session_folders(world: AzWorld) -> list[str]:
    root = world.runtime / "azctx"
    return sorted(p.name for p in root.glob("session-*")) if root.is_dir() else []


def wait_for(check: object, timeout: float = 15) -> None:
    """Poll ``check`` (a callable returning a truthy value) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
