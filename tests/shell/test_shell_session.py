"""A shell is a session, below the shells: where a select goes in a session and inside a
``run`` child, a session that knows its shell (and old events that do not), a nested
session's start from its parent's default, the sweep of dead sessions' folders by a read,
and the prompt file.

The scripts ``azctx init`` prints are tested in tests/commands/test_init.py.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azctx.events import decode, encode
from azctx.events.operations import SessionStarted
from azctx.store.azcli.sessions import session_dir
from azctx.store.context_store import ContextStore
from two_contexts import make_two, store_at


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return make_two(tmp_path)


def _shell() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "60"])


def test_select_in_a_live_session_changes_the_session_and_says_so(base: Path) -> None:
    shell = _shell()
    try:
        with store_at(base) as store:
            sid = store.start_session(shell="bash", pid=shell.pid).session_id
        with store_at(base, AZCTX_SESSION=sid) as store:
            result = store.select("prod")
            assert result.summary.startswith("this shell's default context is now 'prod'")
            assert store.current() == "prod"
            assert (session_dir(sid, store._environ) / "prompt").read_text() == "prod\n"
            assert oct((session_dir(sid, store._environ) / "prompt").stat().st_mode)[-3:] == "600"
            user = store.select("dev", scope="user")
            assert user.summary.startswith("the saved default context (user scope) is now 'dev'")
            assert any("has its own default 'prod'" in n for n in user.notes)  # shadowed
            store.select("dev")
            back = store.select_previous().summary
            assert back.startswith("this shell's default context is now 'prod'")
        with store_at(base) as store:
            assert store.current() == "dev"  # only --scope user moved the saved default
            assert store.select("prod").summary.startswith("the saved default context")
    finally:
        shell.kill()
        shell.wait()


@contextlib.contextmanager
def _in_a_shell(base: Path) -> Iterator[ContextStore]:
    """The store as a live shell's session sees it (the shell a stand-in process)."""
    shell = _shell()
    try:
        with store_at(base) as store:
            sid = store.start_session(shell="bash", pid=shell.pid).session_id
        with store_at(base, AZCTX_SESSION=sid) as store:
            yield store
    finally:
        shell.kill()
        shell.wait()


def test_select_back_in_a_new_shell_goes_to_the_saved_default_it_showed(base: Path) -> None:
    """A shell's first switch is remembered against the saved default the shell showed,
    so the quick start's 'select prod; select -' comes back to it, and toggles."""
    with _in_a_shell(base) as store:
        assert store.current() == "dev"  # the saved default
        store.select("prod")
        back = store.select_previous().summary
        assert back.startswith("this shell's default context is now 'dev'")
        forth = store.select_previous().summary
        assert forth.startswith("this shell's default context is now 'prod'")
    with store_at(base) as store:
        assert store.current() == "dev"


def test_removing_the_shells_own_default_says_what_the_shell_shows_now(base: Path) -> None:
    with _in_a_shell(base) as store:
        store.select("prod")
        done = store.remove("prod", force=True).summary
        assert done.startswith("removed context 'prod'; this shell's default is now 'dev'")


def test_the_prompt_file_marks_a_protected_default(base: Path) -> None:
    with _in_a_shell(base) as store:
        prompt = session_dir(str(store._environ["AZCTX_SESSION"]), store._environ) / "prompt"
        store.select("prod")
        store.protect("prod")
        assert prompt.read_text() == "!prod\n"
        store.unprotect("prod")
        assert prompt.read_text() == "prod\n"


def test_a_nested_session_starts_from_its_parents_default_then_goes_its_own_way(
    base: Path,
) -> None:
    outer, inner = _shell(), _shell()
    try:
        with store_at(base) as store:
            parent = store.start_session(shell="bash", pid=outer.pid).session_id
        with store_at(base, AZCTX_SESSION=parent) as store:
            store.select("prod")
            child = store.start_session(shell="bash", pid=inner.pid)
        assert child.parent == parent
        with store_at(base, AZCTX_SESSION=child.session_id) as store:
            assert store.current() == "prod"
            store.select("dev")
        with store_at(base, AZCTX_SESSION=parent) as store:
            assert store.current() == "prod"
            rows = {row.session_id: row for row in store.sessions()}
        assert rows[parent].pid == outer.pid and rows[parent].shell == "bash"
        assert rows[parent].mine and not rows[child.session_id].mine
        assert rows[child.session_id].default == "dev"
    finally:
        for shell in (outer, inner):
            shell.kill()
            shell.wait()


def test_a_second_session_for_the_same_shell_is_refused_unless_new(base: Path) -> None:
    shell = _shell()
    try:
        with store_at(base) as store:
            first = store.start_session(shell="zsh", pid=shell.pid).session_id
        with store_at(base, AZCTX_SESSION=first) as store:
            with pytest.raises(Exception, match="already has session") as refused:
                store.start_session(shell="zsh", pid=shell.pid)
            assert getattr(refused.value, "exit_code", None) == 1
            second = store.start_session(shell="zsh", pid=shell.pid, new=True).session_id
            assert store.state().sessions[first].ended
        assert second != first
    finally:
        shell.kill()
        shell.wait()


def test_a_gone_shell_loses_its_folder_to_a_read_and_its_session_to_the_next_write(
    base: Path,
) -> None:
    shell = _shell()
    with store_at(base) as store:
        sid = store.start_session(shell="bash", pid=shell.pid).session_id
        folder = session_dir(sid, store._environ)
    assert folder.is_dir()
    shell.kill()
    shell.wait()
    with store_at(base) as store:
        before = store.state().seq
        assert store.current() == "dev"  # a read
        assert not folder.exists()
        assert store.state().seq == before  # wrote nothing
        store.select("prod")
        assert store.state().sessions[sid].ended
        ends = [r for r in store.history(limit=3) if r.operation == "session-end"]
        assert ends and ends[0].session == sid


def test_the_sweep_reads_only_the_runtime_folder_markers(base: Path) -> None:
    with store_at(base) as store:
        sid = store.start_session("1s").session_id  # a library session: no shell
        owner = (session_dir(sid, store._environ) / "owner").read_text().split()
    assert owner[0] == "-" and int(owner[1]) <= time.time() + 1
    time.sleep(1.1)
    with store_at(base) as store:
        store.view()
        assert not session_dir(sid, store._environ).exists()


def test_a_session_start_event_of_an_older_program_still_reads() -> None:
    new = decode(
        encode(
            decode(
                json.dumps(
                    {
                        "v": 1,
                        "time": "2026-01-01T00:00:00Z",
                        "actor": {"user": "u", "host": "h", "pid": 1},
                        "scope": "process",
                        "session": "s-0123456789abcdef",
                        "changes": [],
                        "shredded": [],
                        "type": "session-start",
                        "session_id": "s-0123456789abcdef",
                        "expires": "2026-01-02T00:00:00Z",
                    }
                )
            )
        )
    )
    assert isinstance(new.op, SessionStarted)
    assert (new.op.shell, new.op.shell_name, new.op.parent) == (None, None, None)


def test_the_shell_of_a_command_substitution_is_the_shell_not_its_forked_copy() -> None:
    probe = "import os; from azctx.store.processes import shell_of; print(shell_of(os.getppid()))"
    # With a trap set, bash (like zsh) forks a copy of itself for $(...) and runs the
    # command from that copy: the copy is not the shell.
    script = f"trap 'true' EXIT; echo \"$$ $({sys.executable} -c '{probe}'; true)\""
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    shell, found = done.stdout.split()
    assert found == shell


def test_inside_run_the_view_is_the_runs_context_and_select_is_refused(base: Path) -> None:
    with store_at(base, AZCTX_CONTEXT="prod") as store:
        assert store.current() == "prod"
        assert store.show().context.name == "prod"
        with pytest.raises(Exception, match="started by 'azctx run' as 'prod'") as refused:
            store.select("dev")
        assert getattr(refused.value, "hint", "").startswith("leave it")
        assert store.select("dev", scope="user").summary.startswith("the saved default")
