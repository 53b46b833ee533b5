"""Daily use on a real terminal (a pty, through pexpect): the picker of ``select``
with fzf and without it, and the question a protected context asks first."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

AZCTX = str(Path(sys.executable).with_name("azctx"))
DOWN = "\x1b[B"
UP = "\x1b[A"


@pytest.fixture
def env(azctx_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A store with 'dev-eu', 'dev-us' (the default) and 'prod'; PATH without fzf."""
    import subprocess

    empty = tmp_path / "bin"
    empty.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    base.pop("NO_COLOR", None)
    full = {**base, **azctx_env, "TERM": "xterm", "PATH": str(empty)}
    for name, sub in (
        ("prod", "Contoso Prod"),
        ("dev-eu", "Contoso Dev EU"),
        ("dev-us", "Contoso Dev US"),
    ):
        subprocess.run(
            [AZCTX, "add", "--account", f"{name}@contoso.org", "--tenant", "t-1",
             "--subscription", f"s-{name}", "--subscription-name", sub, "--name", name],
            env=full, check=True, capture_output=True,
        )  # fmt: skip
    return full


def _spawn(env: dict[str, str], *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        AZCTX, list(args), env=env, encoding="utf-8", timeout=20, dimensions=(24, 100)
    )


def _current(env: dict[str, str]) -> str:
    import subprocess

    done = subprocess.run([AZCTX, "current"], env=env, capture_output=True, text=True)
    return done.stdout.strip()


def _ended(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.signalstatus
    return int(child.exitstatus)


def test_builtin_picker_filters_moves_and_selects(env: dict[str, str]) -> None:
    child = _spawn(env, "select")
    child.expect("context> ")
    child.expect("prod")  # every context is listed at first
    child.send("dev")
    child.send(DOWN)
    child.send(DOWN)  # past the last match: stays on it
    child.send(UP)
    child.send(DOWN)
    child.send("\r")
    child.expect("context \\(user scope\\) is now 'dev-us'")
    assert _ended(child) == 0
    assert _current(env) == "dev-us"


def test_builtin_picker_filter_by_subscription_name_words(env: dict[str, str]) -> None:
    child = _spawn(env, "select")
    child.expect("context> ")
    child.send("contoso prod")
    child.send("\r")
    child.expect("context \\(user scope\\) is now 'prod'")
    assert _ended(child) == 0


@pytest.mark.parametrize("key", ["\x1b", "\x03"], ids=["esc", "ctrl-c"])
def test_builtin_picker_esc_or_ctrl_c_changes_nothing(env: dict[str, str], key: str) -> None:
    child = _spawn(env, "select")
    child.expect("context> ")
    child.send("prod")
    child.send(key)
    child.expect("error: nothing selected; the default is unchanged")
    assert _ended(child) == 1
    assert _current(env) == "dev-us"


def _fzf(env: dict[str, str]) -> pexpect.spawn:
    """``azctx select`` with fzf, answering where the cursor is whenever fzf asks
    (it does with --height), until its list shows."""
    child = _spawn(env, "select")
    while child.expect(["\x1b\\[6n", "prod@contoso.org"]) == 0:
        child.send("\x1b[1;1R")
    return child


@pytest.mark.skipif(shutil.which("fzf") is None, reason="fzf is not installed")
def test_fzf_picker_when_fzf_is_on_path(env: dict[str, str]) -> None:
    fzf_dir = str(Path(str(shutil.which("fzf"))).parent)
    with_fzf = {**env, "PATH": fzf_dir}
    child = _fzf(with_fzf)
    child.send("eu")
    child.expect("dev-eu")
    child.send("\r")
    child.expect("context \\(user scope\\) is now 'dev-eu'")
    assert _ended(child) == 0
    child = _fzf(with_fzf)
    child.send("\x1b")
    child.expect("error: nothing selected")
    assert _ended(child) == 1
    assert _current(env) == "dev-eu"


def test_select_without_name_and_without_terminal_is_usage(env: dict[str, str]) -> None:
    import subprocess

    done = subprocess.run(
        [AZCTX, "select"], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: select needs a NAME when there is no terminal to pick on\n"
        "hint: azctx select NAME (see 'azctx list')\n"
    )


TRUE = shutil.which("true") or "/bin/true"


@pytest.mark.parametrize("args", [["select", "prod"], ["run", "--context", "prod", "--", TRUE]])
def test_a_protected_context_asks_first_on_a_terminal(env: dict[str, str], args: list[str]) -> None:
    import subprocess

    subprocess.run([AZCTX, "protect", "prod"], env=env, check=True, capture_output=True)
    child = _spawn(env, *args)
    child.expect(r"'prod' is protected: .* anyway\? \[y/N\]: ")
    child.sendline("n")
    child.expect("error: cancelled; nothing was changed")
    assert _ended(child) == 1
    assert _current(env) == "dev-us"
    child = _spawn(env, *args)
    child.expect(r"\[y/N\]: ")
    child.sendline("y")
    assert _ended(child) == 0
    if args[0] == "select":
        assert _current(env) == "prod"


@pytest.mark.parametrize(
    ("extra", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, False), ({"TERM": "dumb"}, False)],
    ids=["terminal", "no-color", "no-color-empty", "term-dumb"],
)
def test_list_is_coloured_only_on_a_terminal_without_no_color(
    env: dict[str, str], extra: dict[str, str], coloured: bool
) -> None:
    child = _spawn({**env, **extra}, "list")
    child.expect(pexpect.EOF)
    text = str(child.before)
    assert ("\x1b[1;32m" in text) is coloured  # the default's row, bold green
    assert "dev-us" in text


def test_keys_that_arrive_together_are_each_applied() -> None:
    """Three quick Backspaces (or a pasted word) come in one read; an arrow stays whole."""
    from azctx.cli.picker import keys

    assert keys(b"\x7f\x7f\x7f") == [b"\x7f"] * 3
    assert keys(b"\x1b[A\x1b[Bab\r") == [b"\x1b[A", b"\x1b[B", b"a", b"b", b"\r"]
    assert keys(b"\x1b") == [b"\x1b"]
    assert keys("é".encode() + b"x") == ["é".encode(), b"x"]
