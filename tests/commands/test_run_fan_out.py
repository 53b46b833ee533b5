"""``azctx run --context PATTERN`` / ``--all``: once per matching context, each with
its own folder and variables, lines prefixed, a summary, signals to every child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

AZCTX = str(Path(sys.executable).with_name("azctx"))
SH = "/bin/sh"


@pytest.fixture
def env(azctx_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """'dev-a', 'dev-b', 'dev-c' and 'prod'; run folders under tmp_path/xdg."""
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AZCTX_", "AZURE_"))}
    full = {**base, **azctx_env, "XDG_RUNTIME_DIR": str(runtime)}
    for name in ("prod", "dev-b", "dev-a", "dev-c"):
        _azctx(full, "add", "--account", f"{name}@contoso.org", "--tenant", "t-1",
               "--subscription", f"s-{name}", "--name", name)  # fmt: skip
    return full


def _azctx(
    env: dict[str, str], *args: str, code: int | None = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([AZCTX, *args], env=env, capture_output=True, text=True, timeout=60)
    assert code is None or done.returncode == code, (args, done)
    assert "Traceback" not in done.stderr
    return done


def _folders(env: dict[str, str]) -> list[Path]:
    return [p for p in Path(env["XDG_RUNTIME_DIR"]).rglob("*") if p.is_dir()]


REPORT = 'echo "$AZCTX_CONTEXT $AZURE_SUBSCRIPTION_ID $AZURE_CONFIG_DIR"; echo "to-stderr" >&2'


def test_a_pattern_runs_once_per_match_in_name_order(env: dict[str, str]) -> None:
    done = _azctx(env, "run", "--context", "DEV-*", "--", SH, "-c", REPORT)
    lines = done.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["[dev-a]", "dev-a", "s-dev-a"],
        ["[dev-b]", "dev-b", "s-dev-b"],
        ["[dev-c]", "dev-c", "s-dev-c"],
    ]
    folders = {line.split()[3] for line in lines}
    assert len(folders) == 3  # no two runs share a folder
    assert not any(Path(f).exists() for f in folders)
    err = done.stderr.splitlines()
    assert [e for e in err if e.endswith("to-stderr")] == [
        "[dev-a] to-stderr", "[dev-b] to-stderr", "[dev-c] to-stderr",
    ]  # fmt: skip
    assert err[-3:] == ["azctx: [dev-a] exit 0", "azctx: [dev-b] exit 0", "azctx: [dev-c] exit 0"]


def test_all_with_one_failing_context_exits_1_and_says_which(env: dict[str, str]) -> None:
    fail_b = '[ "$AZCTX_CONTEXT" = dev-b ] && exit 7; echo ok'
    done = _azctx(env, "run", "--all", "--parallel", "3", "--", SH, "-c", fail_b, code=1)
    assert sorted(done.stdout.splitlines()) == ["[dev-a] ok", "[dev-c] ok", "[prod] ok"]
    assert done.stderr.splitlines()[-4:] == [
        "azctx: [dev-a] exit 0",
        "azctx: [dev-b] exit 7",
        "azctx: [dev-c] exit 0",
        "azctx: [prod] exit 0",
    ]
    assert _folders(env) == [] or all(not any(p.iterdir()) for p in _folders(env))


def test_a_pattern_with_one_match_is_a_plain_run(env: dict[str, str]) -> None:
    done = _azctx(
        env, "run", "--context", "pro?", "--", SH, "-c", "echo $AZCTX_CONTEXT; exit 4", code=4
    )
    assert done.stdout == "prod\n"  # no prefix, the child's own exit code


def test_a_pattern_that_matches_nothing_is_refused(env: dict[str, str]) -> None:
    done = _azctx(env, "run", "--context", "qa-*", "--", SH, "-c", "true", code=1)
    assert done.stderr == "error: no context matches 'qa-*'\nhint: see 'azctx list'\n"


def test_a_protected_match_needs_yes_without_a_terminal(env: dict[str, str]) -> None:
    _azctx(env, "protect", "dev-b")
    refused = _azctx(env, "run", "--context", "dev-*", "--", SH, "-c", "echo ran", code=1)
    assert refused.stdout == ""
    assert refused.stderr == "error: 'dev-b' is a protected context\nhint: pass --yes to confirm\n"
    done = _azctx(env, "run", "--context", "dev-*", "--yes", "--", SH, "-c", "echo ran")
    assert len(done.stdout.splitlines()) == 3


def test_ctrl_c_during_a_parallel_run_reaches_every_child_and_leaves_no_folder(
    env: dict[str, str], tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    ready.mkdir()
    script = f'touch "{ready}/$AZCTX_CONTEXT"; exec sleep 60'
    proc = subprocess.Popen(
        [AZCTX, "run", "--all", "--parallel", "2", "--", SH, "-c", script],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group: the "terminal" below
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(list(ready.iterdir())) < 2:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert sorted(p.name for p in ready.iterdir()) == ["dev-a", "dev-b"]  # no new run
    summary = err.splitlines()[-4:]
    assert summary == [
        "azctx: [dev-a] exit 130",
        "azctx: [dev-b] exit 130",
        "azctx: [dev-c] not run",
        "azctx: [prod] not run",
    ], err
    leftovers = [p for p in _folders(env) if p.name.startswith("run-")]
    assert leftovers == []


def test_sigterm_to_azctx_alone_reaches_every_child(env: dict[str, str], tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    ready.mkdir()
    script = (
        f'trap "echo got-term; exit 5" TERM; touch "{ready}/$AZCTX_CONTEXT"; '
        "while :; do sleep 0.1; done"
    )
    proc = subprocess.Popen(
        [AZCTX, "run", "--context", "dev-*", "--parallel", "3", "--", SH, "-c", script],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(list(ready.iterdir())) < 3:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert sorted(out.splitlines()) == ["[dev-a] got-term", "[dev-b] got-term", "[dev-c] got-term"]
    assert err.splitlines()[-3:] == [
        "azctx: [dev-a] exit 5", "azctx: [dev-b] exit 5", "azctx: [dev-c] exit 5",
    ]  # fmt: skip
