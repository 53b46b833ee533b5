"""The picker of ``select`` starts on the caller's default, as kubectx's does: on a real
terminal (a pty, through pexpect), Enter at once keeps the default, in our own picker
and in fzf, and one move down goes to the context after it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

AZCTX = str(Path(sys.executable).with_name("azctx"))
DOWN = "\x1b[B"
#: Sorted by name, the default second: neither the first row nor the last.
NAMES = ("dev-eu", "dev-us", "prod")
DEFAULT = "dev-us"


@pytest.fixture
def env(azctx_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A store with the three contexts and 'dev-us' the default; PATH without fzf."""
    empty = tmp_path / "bin"
    empty.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    full = {**base, **azctx_env, "TERM": "xterm", "PATH": str(empty)}
    for name in NAMES:
        subprocess.run(
            [AZCTX, "add", "--account", f"{name}@contoso.org", "--tenant", "t-1",
             "--subscription", f"s-{name}", "--name", name, "--no-select"],
            env=full, check=True, capture_output=True,
        )  # fmt: skip
    subprocess.run([AZCTX, "select", DEFAULT], env=full, check=True, capture_output=True)
    return full


def _with_fzf(env: dict[str, str]) -> dict[str, str]:
    fzf = shutil.which("fzf")
    if fzf is None:
        pytest.skip("fzf is not installed")
    return {**env, "PATH": str(Path(fzf).parent)}


def _spawn(env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(
        AZCTX, ["select"], env=env, encoding="utf-8", timeout=30, dimensions=(24, 100)
    )


def _listed(child: pexpect.spawn) -> None:
    """Wait until the whole list is drawn, answering fzf's question for the cursor's
    place (it asks with --height) whenever it comes."""
    while child.expect(["\x1b\\[6n", "prod@contoso.org"]) == 0:
        child.send("\x1b[1;1R")


def _picked(child: pexpect.spawn) -> str:
    child.expect(r"is now '([^']+)'")
    picked = str(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return picked


def _current(env: dict[str, str]) -> str:
    done = subprocess.run([AZCTX, "current"], env=env, capture_output=True, text=True)
    return done.stdout.strip()


def test_our_picker_starts_on_the_default(env: dict[str, str]) -> None:
    child = _spawn(env)
    child.expect("context> ")
    child.expect("\x1b\\[7m> dev-us")  # the first frame already marks the default
    _listed(child)
    child.send("\r")
    assert _picked(child) == DEFAULT
    assert _current(env) == DEFAULT


def test_our_picker_moves_on_from_the_default(env: dict[str, str]) -> None:
    child = _spawn(env)
    _listed(child)
    child.send(DOWN)
    child.send("\r")
    assert _picked(child) == "prod"


@pytest.mark.parametrize("keys", ["\r", DOWN + "\r"], ids=["enter", "down-enter"])
def test_fzf_starts_on_the_default(env: dict[str, str], keys: str) -> None:
    with_fzf = _with_fzf(env)
    for _ in range(3):  # the move on fzf's load event must never lose to a quick Enter
        subprocess.run([AZCTX, "select", DEFAULT], env=env, check=True, capture_output=True)
        child = _spawn(with_fzf)
        _listed(child)
        child.send(keys)
        assert _picked(child) == (DEFAULT if keys == "\r" else "prod")


def test_the_picker_starts_where_it_is_told_else_on_the_first() -> None:
    from azctx.cli.picker import _Picker

    assert _Picker("NAME", ["a", "b", "c"], 1).cursor == 1
    assert _Picker("NAME", ["a", "b", "c"]).cursor == 0
    assert _Picker("NAME", [], 1).cursor == 0


@pytest.mark.parametrize("fzf", [False, True], ids=["ours", "fzf"])
def test_typing_goes_to_the_first_match_not_to_the_default(env: dict[str, str], fzf: bool) -> None:
    """'dev' matches dev-eu and dev-us: the new query starts on its first match."""
    child = _spawn(_with_fzf(env) if fzf else env)
    _listed(child)
    child.send("dev")
    child.expect("dev-eu")
    if fzf:
        child.expect("2/3")  # fzf's count of matches: the query is applied
    child.send("\r")
    assert _picked(child) == "dev-eu"
