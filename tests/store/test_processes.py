"""Process marks: a pid together with its start time, boot and pid namespace."""

from __future__ import annotations

import subprocess
import sys

from azctx.store import processes


def test_the_current_process_is_alive_and_its_mark_round_trips() -> None:
    mark = processes.current()
    assert processes.alive(mark)
    assert processes.parse(mark.text()) == mark


def test_an_ended_process_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    mark = processes.mark_of(child.pid)
    child.wait()
    assert mark is not None
    assert not processes.alive(mark)
    assert processes.mark_of(child.pid) is None


def test_a_reused_pid_is_not_the_marked_process() -> None:
    """The same pid with another start time is another process."""
    mark = processes.current()
    other = mark._replace(start=str(int(mark.start or "0") + 1))
    assert not processes.alive(other)


def test_a_mark_of_another_boot_is_dead() -> None:
    mark = processes.current()
    assert not processes.alive(mark._replace(boot="0" * 32))


def test_a_mark_of_another_pid_namespace_is_never_taken_for_dead() -> None:
    mark = processes.current()
    assert processes.alive(mark._replace(pid=999_999_999 % 4_194_304 + 1, namespace="1"))


def test_anything_but_a_mark_is_refused() -> None:
    for text in ("", "12", "12.x.y.z", "../../etc.1.2.3", "1.2.3.4.5"):
        assert processes.parse(text) is None
