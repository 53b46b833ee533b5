"""Names read from the store that become paths: a session id is a folder name
(``session-<id>`` in the runtime folder), so a holder of the team's key who appends a
``session-start`` whose id climbs out of that folder must not get a victim's folder
removed by the victim's next write. Every id read from the log is held to the rule that
made it, in the codec: a row that breaks it is tampering (exit 3), never a path; and a
path built from an id is checked to stay inside its base folder."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from adversarial_support import assert_error, fingerprint, home, run, store_path
from azctx.events import Actor, Event, SessionStarted, StoreError, codec, is_session_id
from azctx.events.codec import EventDecodeError
from azctx.store import open_log, writing
from azctx.store.azcli import sessions
from azctx.store.azcli.runtime import inside
from azctx.store.context_store import ContextStore
from azctx.store.errors import TamperedError

pytestmark = pytest.mark.adversarial


def _append_raw(env: dict[str, str], event: Event) -> None:
    """What a key holder can do: append any event, bypassing azctx's decisions."""
    with open_log(store_path(env), environ=env) as log, log.write():
        writing.append_event(log, event)


def _evil_session_start(victim_session: str, target: Path) -> Event:
    climb = "/".join([".."] * 12)
    evil = f"{victim_session}/{climb}{target}"
    now = datetime.now(UTC)
    op = SessionStarted(evil, now + timedelta(seconds=1))
    return Event(now, Actor("mallory", "h", 1), "process", evil, op)


def test_a_session_id_that_climbs_out_of_the_runtime_folder_is_tampering(
    tmp_path: Path,
) -> None:
    env = home(tmp_path)
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "xdg")
    (tmp_path / "xdg").mkdir(mode=0o700)
    projects = tmp_path / "victim" / "projects"
    projects.mkdir(parents=True)
    (projects / "work.txt").write_text("precious")
    with ContextStore(store_path(env), environ=env) as store:
        store.add(account="a@x", tenant="t", subscription="s", name="dev")
        victim = store.start_session("1h").session_id
    _append_raw(env, _evil_session_start(victim, projects))
    before = fingerprint(store_path(env))

    # The victim's next ordinary write, once the 1 s session is past its ttl (the moment
    # the old code removed "its" folder, ~/projects), and verify.
    time.sleep(1.5)
    for args in (["select", "dev"], ["verify"], ["list"]):
        outcome = run(args, {**env, "AZCTX_SESSION": victim})
        assert_error(outcome, 3)
    assert (projects / "work.txt").read_text() == "precious"
    assert fingerprint(store_path(env)) == before


@pytest.mark.parametrize(
    "session",
    ["s-1", "s-0123456789abcdeg", "s-0123456789ABCDEF", "s-0123456789abcdef/..", "../x", ""],
)
def test_the_codec_reads_only_session_ids_azctx_makes(session: str) -> None:
    now = datetime.now(UTC)
    event = Event(now, Actor("u", "h", 1), "process", None, SessionStarted(session, now))
    with pytest.raises(EventDecodeError):
        codec.decode(codec.encode(event))
    wrapped = Event(now, Actor("u", "h", 1), "user", session, SessionStarted("s-" + "0" * 16, now))
    with pytest.raises(EventDecodeError):
        codec.decode(codec.encode(wrapped))


def test_a_change_in_a_scope_that_is_no_session_id_is_refused() -> None:
    from azctx.events import Selected, default_change

    now = datetime.now(UTC)
    event = Event(
        now, Actor("u", "h", 1), "user", None, Selected("x"), (default_change("../x", None, "x"),)
    )
    with pytest.raises(EventDecodeError):
        codec.decode(codec.encode(event))


def test_the_ids_azctx_makes_pass_its_own_rule(tmp_path: Path) -> None:
    env = home(tmp_path)
    with ContextStore(store_path(env), environ=env) as store:
        ids = {store.start_session("1h").session_id for _ in range(5)}
    assert len(ids) == 5 and all(is_session_id(i) for i in ids)


def test_a_path_built_from_a_name_stays_inside_its_folder(tmp_path: Path) -> None:
    assert inside(tmp_path, "session-s-0123456789abcdef") == tmp_path / "session-s-0123456789abcdef"
    for name in ("..", ".", "", "a/../../b", "/etc", "a/b"):
        with pytest.raises(StoreError):  # exit 3
            inside(tmp_path, name)
    with pytest.raises(TamperedError):
        sessions.session_dir("s-0123456789abcdef/../../x", {"XDG_RUNTIME_DIR": str(tmp_path)})


@pytest.mark.parametrize("value", ["s-1", "s-0123456789abcdef/../../home", "junk"])
def test_a_malformed_azctx_session_is_bad_input_and_changes_nothing(
    tmp_path: Path, value: str
) -> None:
    env = home(tmp_path)
    with ContextStore(store_path(env), environ=env) as store:
        store.add(account="a@x", tenant="t", subscription="s", name="dev")
    before = fingerprint(store_path(env))
    for args in (["select", "dev"], ["current"], ["session", "end"]):
        assert_error(run(args, {**env, "AZCTX_SESSION": value}), 2, "AZCTX_SESSION")
    assert fingerprint(store_path(env)) == before


def test_a_snapshot_with_a_bad_session_key_is_not_read() -> None:
    from azctx.projections import snapshot
    from azctx.projections.state import SessionInfo, State

    now = datetime.now(UTC)
    good = "s-" + "1" * 16
    info = SessionInfo(good, now, now, False, Actor("u", "h", 1))
    state = State.empty()._replace(sessions={good: info})
    assert snapshot.state_from_snapshot(snapshot.snapshot_bytes(state)) == state
    bad = state._replace(sessions={"s-1/../..": info._replace(id="s-1/../..")})
    assert snapshot.state_from_snapshot(snapshot.snapshot_bytes(bad)) is None
