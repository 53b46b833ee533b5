"""``azctx select`` (and ``current``, which prints what select chose): the decision
(``select -`` like ``cd -``, unknown names, the bounded default history, a user default
shadowed by the session's), the command in-process (by name, subscription id or name),
and the picker on a real terminal (built in and fzf).

Where a select goes in a live shell's session is in tests/shell/test_shell_session.py;
the protection question before a select is in test_protect.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from azctx.events import Refused
from azctx.projections import decisions as d
from cli_runner import AzctxCli
from command_support import SUB_PROD, add, fails, start_session
from decision_support import Log
from terminal import AZCTX, _current, _ended, _spawn, pexpect

# ---------------------------------------------------------------- the decision (pure)


def test_decision_user_select_shadowed_by_the_session_default_says_so() -> None:
    log = Log()
    sid = log.start()
    log.add("one")
    log.add("two", select=False)
    log.do(d.decide_select(log.state, log.caller(sid), "one", "process"))
    decision = d.decide_select(log.state, log.caller(sid), "two", "user")
    assert decision.event.scope == "user"
    assert len(decision.notes) == 1 and decision.notes[0].startswith("hint: ")
    assert d.decide_select(log.state, log.caller(), "two").notes == ()
    # No hint once the session's own default is gone from its view.
    log.do(d.decide_remove(log.state, log.caller(), "one", force=True))
    assert d.decide_select(log.state, log.caller(sid), "two", "user").notes == ()


def test_select_previous_toggles_like_cd_dash_and_skips_removed_names() -> None:
    log = Log()
    log.add("a")
    log.add("b")
    log.add("c")
    for expected in ("b", "c", "b"):
        log.do(d.decide_select_previous(log.state, log.caller()))
        assert log.view().default == expected
    log.do(d.decide_remove(log.state, log.caller(), "c"))
    log.do(d.decide_select_previous(log.state, log.caller()))
    assert log.view().default == "a"


def test_select_previous_with_no_earlier_default_is_refused() -> None:
    log = Log()
    with pytest.raises(Refused):
        d.decide_select_previous(log.state, log.caller())
    log.add("only")
    with pytest.raises(Refused):
        d.decide_select_previous(log.state, log.caller())


def test_select_unknown_name_is_refused_and_keeps_the_given_case() -> None:
    log = Log()
    log.add("Prod", select=False)
    with pytest.raises(Refused, match="no context named 'dev'"):
        d.decide_select(log.state, log.caller(), "dev")
    log.do(d.decide_select(log.state, log.caller(), "PROD"))
    assert log.state.user.default == "Prod"


def test_default_history_stays_bounded() -> None:
    log = Log()
    log.add("a")
    log.add("b", select=False)
    for _ in range(50):
        log.do(d.decide_select(log.state, log.caller(), "a"))
        log.do(d.decide_select(log.state, log.caller(), "b"))
    assert log.state.user.default_history == ("a", "b")


# ------------------------------------------------------- through the CLI (in-process)


def test_select_and_select_dash_toggle(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    assert (
        azctx_cli("select", "-").stdout
        == "the saved default context (user scope) is now 'a' (operation 3)\n"
    )
    assert (
        azctx_cli("select", "-").stdout
        == "the saved default context (user scope) is now 'b' (operation 4)\n"
    )
    assert azctx_cli("current").stdout == "b\n"
    assert (
        azctx_cli("select", "A").stdout
        == "the saved default context (user scope) is now 'a' (operation 5)\n"
    )
    assert azctx_cli("current").stdout == "a\n"


def test_user_select_shadowed_by_the_session_default_says_so(azctx_cli: AzctxCli) -> None:
    add(azctx_cli, "a")
    add(azctx_cli, "b")
    mine: dict[str, str | None] = {"AZCTX_SESSION": start_session(azctx_cli)}
    azctx_cli("select", "b", env=mine)  # in a live session: the session's own default
    shadowed = azctx_cli("select", "a", "--scope", "user", env=mine)
    assert shadowed.stdout.startswith("the saved default context (user scope) is now 'a'")
    assert shadowed.stderr.startswith("hint: ") and "'b'" in shadowed.stderr
    assert len(shadowed.stderr.splitlines()) == 1
    assert azctx_cli("current", env=mine).stdout == "b\n"
    assert azctx_cli("current").stdout == "a\n"
    plain = azctx_cli("select", "b")  # no session: nothing shadows it
    assert plain.stderr == ""


# ------------------------------------------------------- through the CLI (in-process)


def test_select_by_subscription_id_names_the_context(two: AzctxCli) -> None:
    done = two("select", SUB_PROD)
    assert "the saved default context (user scope) is now 'prod'" in done.stdout
    assert two("current").stdout == "prod\n"


def test_select_by_subscription_name_any_case(two: AzctxCli) -> None:
    done = two("select", "contoso dev")
    assert "the saved default context (user scope) is now 'dev'" in done.stdout


# --------------------------------------------------------------- bad input and errors


def test_select_dash_with_no_earlier_default_is_refused(existing: AzctxCli) -> None:
    assert "earlier default" in fails(existing, 1, "select", "-")


# ------------------------------------------------------- on a real terminal (pexpect)


DOWN = "\x1b[B"
UP = "\x1b[A"


def test_builtin_picker_filters_moves_and_selects(terminal_env: dict[str, str]) -> None:
    child = _spawn(terminal_env, "select")
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
    assert _current(terminal_env) == "dev-us"


def test_builtin_picker_filter_by_subscription_name_words(terminal_env: dict[str, str]) -> None:
    child = _spawn(terminal_env, "select")
    child.expect("context> ")
    child.send("contoso prod")
    child.send("\r")
    child.expect("context \\(user scope\\) is now 'prod'")
    assert _ended(child) == 0


@pytest.mark.parametrize("key", ["\x1b", "\x03"], ids=["esc", "ctrl-c"])
def test_builtin_picker_esc_or_ctrl_c_changes_nothing(
    terminal_env: dict[str, str], key: str
) -> None:
    child = _spawn(terminal_env, "select")
    child.expect("context> ")
    child.send("prod")
    child.send(key)
    child.expect("error: nothing selected; the default is unchanged")
    assert _ended(child) == 1
    assert _current(terminal_env) == "dev-us"


def _fzf(terminal_env: dict[str, str]) -> pexpect.spawn:
    """``azctx select`` with fzf, answering where the cursor is whenever fzf asks
    (it does with --height), until its list shows."""
    child = _spawn(terminal_env, "select")
    while child.expect(["\x1b\\[6n", "prod@contoso.org"]) == 0:
        child.send("\x1b[1;1R")
    return child


@pytest.mark.skipif(shutil.which("fzf") is None, reason="fzf is not installed")
def test_fzf_picker_when_fzf_is_on_path(terminal_env: dict[str, str]) -> None:
    fzf_dir = str(Path(str(shutil.which("fzf"))).parent)
    with_fzf = {**terminal_env, "PATH": fzf_dir}
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
    assert _current(terminal_env) == "dev-eu"


def test_select_without_name_and_without_terminal_is_usage(terminal_env: dict[str, str]) -> None:

    done = subprocess.run(
        [AZCTX, "select"],
        env=terminal_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: select needs a NAME when there is no terminal to pick on\n"
        "hint: azctx select NAME (see 'azctx list')\n"
    )


# -------------------------------------------- the picker starts on the caller's default

DOWN = "\x1b[B"
#: terminal_env's default: sorted by name it is second, neither the first row nor the last.
DEFAULT = "dev-us"


def _with_fzf(terminal_env: dict[str, str]) -> dict[str, str]:
    fzf = shutil.which("fzf")
    if fzf is None:
        pytest.skip("fzf is not installed")
    return {**terminal_env, "PATH": str(Path(fzf).parent)}


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


def test_our_picker_starts_on_the_default(terminal_env: dict[str, str]) -> None:
    child = _spawn(terminal_env, "select")
    child.expect("context> ")
    child.expect("\x1b\\[7m> dev-us")  # the first frame already marks the default
    _listed(child)
    child.send("\r")
    assert _picked(child) == DEFAULT
    assert _current(terminal_env) == DEFAULT


def test_our_picker_moves_on_from_the_default(terminal_env: dict[str, str]) -> None:
    child = _spawn(terminal_env, "select")
    _listed(child)
    child.send(DOWN)
    child.send("\r")
    assert _picked(child) == "prod"


@pytest.mark.parametrize("keys", ["\r", DOWN + "\r"], ids=["enter", "down-enter"])
def test_fzf_starts_on_the_default(terminal_env: dict[str, str], keys: str) -> None:
    with_fzf = _with_fzf(terminal_env)
    for _ in range(3):  # the move on fzf's load event must never lose to a quick Enter
        subprocess.run(
            [AZCTX, "select", DEFAULT], env=terminal_env, check=True, capture_output=True
        )
        child = _spawn(with_fzf, "select")
        _listed(child)
        child.send(keys)
        assert _picked(child) == (DEFAULT if keys == "\r" else "prod")


def test_the_picker_starts_where_it_is_told_else_on_the_first() -> None:
    from azctx.cli.picker import _Picker

    assert _Picker("NAME", ["a", "b", "c"], 1).cursor == 1
    assert _Picker("NAME", ["a", "b", "c"]).cursor == 0
    assert _Picker("NAME", [], 1).cursor == 0


@pytest.mark.parametrize("fzf", [False, True], ids=["ours", "fzf"])
def test_typing_goes_to_the_first_match_not_to_the_default(
    terminal_env: dict[str, str], fzf: bool
) -> None:
    """'dev' matches dev-eu and dev-us: the new query starts on its first match."""
    child = _spawn(_with_fzf(terminal_env) if fzf else terminal_env, "select")
    _listed(child)
    child.send("dev")
    child.expect("dev-eu")
    if fzf:
        child.expect("2/3")  # fzf's count of matches: the query is applied
    child.send("\r")
    assert _picked(child) == "dev-eu"


def test_keys_that_arrive_together_are_each_applied() -> None:
    """Three quick Backspaces (or a pasted word) come in one read; an arrow stays whole."""
    from azctx.cli.picker import keys

    assert keys(b"\x7f\x7f\x7f") == [b"\x7f"] * 3
    assert keys(b"\x1b[A\x1b[Bab\r") == [b"\x1b[A", b"\x1b[B", b"a", b"b", b"\r"]
    assert keys(b"\x1b") == [b"\x1b"]
    assert keys("é".encode() + b"x") == ["é".encode(), b"x"]
