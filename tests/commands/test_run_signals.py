"""``azctx run`` behaves like the program it starts (issue 13, item 11): a signal sent to
azctx alone is passed on, once; a terminal's Ctrl-C, which reaches the whole foreground
process group, reaches the child once; and no catchable signal ends azctx before its
child. Real processes, a real pseudo-terminal, no timing: every wait polls a file with
a generous bound."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import termios
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azctx.store.context_store import ContextStore

# Records every signal it gets, one name a line, taking each from the kernel's queue
# itself (sigwaitinfo): a second SIGINT that arrives after the first was taken is seen.
# SIGTERM ends it with code 3.
CHILD = r"""
import os, pathlib, signal, sys

log = pathlib.Path(sys.argv[1])
names = ("SIGINT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGHUP", "SIGTERM", "SIGQUIT")
waited = {getattr(signal, name) for name in names}
signal.pthread_sigmask(signal.SIG_BLOCK, waited)
pathlib.Path(sys.argv[2]).write_text(str(os.getpid()))
while True:
    info = signal.sigwaitinfo(waited)
    with log.open("a") as out:
        out.write(signal.Signals(info.si_signo).name + "\n")
    if info.si_signo == signal.SIGTERM:
        sys.exit(3)
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {"AZCTX_KEY_FILE": str(tmp_path / "key")}
    with ContextStore(tmp_path / "store.db", environ=environ) as store:
        store.add(account="me@contoso.com", tenant="t", subscription="s", name="me")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZCTX_"))}
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    return {
        **clean,
        **environ,
        "AZCTX_STORE": str(tmp_path / "store.db"),
        "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(tmp_path / "home"),
    }


def command(tmp_path: Path) -> list[str]:
    child = [sys.executable, "-c", CHILD, str(tmp_path / "log"), str(tmp_path / "ready")]
    return [sys.executable, "-m", "azctx.cli", "run", "--", *child]


def until(predicate: object, what: str) -> None:
    assert callable(predicate)
    deadline = datetime.now(UTC) + timedelta(seconds=120)
    while not predicate():
        assert datetime.now(UTC) < deadline, f"never happened: {what}"
        subprocess.run(["sleep", "0.02"], check=True)


def received(tmp_path: Path) -> list[str]:
    log = tmp_path / "log"
    return log.read_text().splitlines() if log.exists() else []


#: The signals these tests send. azctx keeps a signal ignored that was ignored when it
#: started (as under nohup, or in a shell's background job), so each is set back to its
#: default for azctx, whatever the test run itself was started with.
SENT = ("SIGINT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGHUP", "SIGTERM", "SIGQUIT")


def _default_dispositions() -> None:  # runs in the child between fork and exec
    for name in SENT:
        signal.signal(getattr(signal, name), signal.SIG_DFL)


@pytest.fixture
def started(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command(tmp_path), env=env, start_new_session=True, stderr=subprocess.DEVNULL,
        preexec_fn=_default_dispositions,
    )  # fmt: skip
    try:
        until(lambda: (tmp_path / "ready").exists(), "the child started")
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


@pytest.mark.parametrize(
    "signum",
    [signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGHUP],
)
def test_a_signal_to_azctx_alone_reaches_the_child_once_and_azctx_waits(
    tmp_path: Path, started: subprocess.Popen[bytes], signum: signal.Signals
) -> None:
    os.kill(started.pid, signum)
    until(lambda: received(tmp_path) == [signum.name], f"the child got {signum.name}")
    assert started.poll() is None  # azctx did not die of it: it is still waiting
    os.kill(started.pid, signal.SIGTERM)
    assert started.wait(timeout=120) == 3  # the child's own exit code
    assert received(tmp_path) == [signum.name, "SIGTERM"]


def test_many_signals_in_a_row_each_reach_the_child(
    tmp_path: Path, started: subprocess.Popen[bytes]
) -> None:
    names = ["SIGUSR1", "SIGALRM", "SIGUSR2", "SIGINT", "SIGQUIT"]
    for count, name in enumerate(names, start=1):
        os.kill(started.pid, getattr(signal, name))
        until(lambda n=count: len(received(tmp_path)) == n, name)  # type: ignore[misc]
    os.kill(started.pid, signal.SIGTERM)
    assert started.wait(timeout=120) == 3
    assert received(tmp_path) == [*names, "SIGTERM"]


def _controlling_terminal() -> None:  # runs in the child between fork and exec
    _default_dispositions()
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_ctrl_c_from_the_terminal_reaches_the_child_once(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """The terminal signals its whole foreground process group, azctx and the child;
    azctx must not send the child a second SIGINT (terraform would abort hard)."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        command(tmp_path), env=env, stdin=slave, stdout=slave, stderr=slave,
        preexec_fn=_controlling_terminal,
    )  # fmt: skip
    os.close(slave)
    try:
        until(lambda: (tmp_path / "ready").exists(), "the child started")
        # Two SIGINTs pending at once would be one: azctx is held still until the
        # child has taken the terminal's from its queue, so that a copy azctx sent on
        # would be seen as a second one.
        os.kill(process.pid, signal.SIGSTOP)
        os.write(master, b"\x03")  # Ctrl-C, as typed
        until(lambda: received(tmp_path) == ["SIGINT"], "the child got the Ctrl-C")
        os.kill(process.pid, signal.SIGCONT)
        # A copy azctx passed on would reach the child before this one (azctx takes
        # pending signals lowest number first, and sends them in that order).
        os.kill(process.pid, signal.SIGUSR1)
        until(lambda: len(received(tmp_path)) >= 2, "the child got SIGUSR1")
        assert received(tmp_path) == ["SIGINT", "SIGUSR1"]
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=120) == 3
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
        os.close(master)
