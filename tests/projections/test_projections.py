"""The projections one rule at a time, for every operation alike: the view, where
changes go (user and process scope, sessions, autosave), credentials, evolve/replay/snapshots
and what apply hands on.

The decision of each command is in that command's file under tests/commands/; the
model-based test of all operations together is test_model.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from azctx.events import Refused
from azctx.projections import decisions as d
from azctx.projections.snapshot import snapshot_bytes, state_from_snapshot
from azctx.projections.state import State, replay
from azctx.projections.view import Caller, view
from decision_support import ACTOR, T0, Log, busy_log, names


def test_view_lists_user_contexts_sorted_case_insensitively_and_marks_the_default() -> None:
    log = Log()
    log.add("beta")
    log.add("Alpha")
    log.add("gamma", select=False)
    shown = log.view()
    assert names(shown) == ["Alpha", "beta", "gamma"]
    assert shown.default == "Alpha"
    assert [i.default for i in shown.contexts] == [True, False, False]
    assert shown.get("ALPHA") is not None and shown.get("alpha") == shown.contexts[0]
    assert shown.get("nope") is None


def test_process_context_shadows_user_one_of_the_same_name() -> None:
    log = Log()
    sid = log.start()
    log.add("prod", "ann@contoso.org")
    log.add("PROD", "bot@contoso.org", session=sid, scope="process", force=True)
    mine = log.view(sid).get("prod")
    assert (
        mine is not None and mine.scope == "process" and mine.context.account == "bot@contoso.org"
    )
    theirs = log.view().get("prod")
    assert theirs is not None and theirs.scope == "user"


def test_process_removal_hides_a_user_context_in_that_session_only() -> None:
    log = Log()
    sid = log.start("s-000000000000000c")
    other = log.start("s-000000000000000d")
    log.add("dev", select=False)
    log.do(d.decide_remove(log.state, log.caller(sid), "dev", scope="process"))
    assert names(log.view(sid)) == []
    assert names(log.view(other)) == ["dev"]
    assert names(log.view()) == ["dev"]
    assert "dev" in log.state.user.contexts  # hidden, not deleted


def test_session_default_wins_while_visible_else_the_user_default() -> None:
    log = Log()
    sid = log.start()
    log.add("one")
    log.add("two", select=False)
    log.do(d.decide_select(log.state, log.caller(sid), "two", "process"))
    assert log.view(sid).default == "two"
    assert log.view().default == "one"
    log.do(d.decide_remove(log.state, log.caller(), "two"))
    assert log.view(sid).default == "one"


def test_autosave_off_hides_saved_contexts_and_without_session_the_view_is_empty() -> None:
    log = Log()
    log.add("saved")
    assert names(log.view(env=False)) == []
    assert log.view(env=False).default is None
    with pytest.raises(Refused) as err:
        log.add("new", env=False)
    assert "no live session" in err.value.message
    assert err.value.hint == 'eval "$(azctx session start)"'
    # --scope user still works while autosave is off.
    log.add("kept", env=False, scope="user")
    assert names(log.view()) == ["kept", "saved"]


def test_ended_or_unknown_session_reads_without_it_and_refuses_process_changes() -> None:
    log = Log()
    sid = log.start()
    log.add("user-ctx")
    log.add("mine", session=sid, scope="process")
    log.do(d.decide_session_end(log.state, log.caller(sid), session_id=sid, key_ids=("k-s",)))
    assert names(log.view(sid)) == ["user-ctx"]
    assert "k-s" in log.state.shredded
    assert sid not in log.state.process
    for session in (sid, "s-unknown"):
        with pytest.raises(Refused) as err:
            log.add("x", session=session, scope="process")
        assert err.value.hint is not None and "session start" in err.value.hint
    log.add("still-fine", session=sid)  # a user-scope change is not affected
    expired = Caller(
        actor=ACTOR, time=T0 + timedelta(days=2), session=log.start("s-0000000000000002", hours=1)
    )
    with pytest.raises(Refused, match="expired"):
        d.decide_autosave(log.state, expired, False, "process")


def test_credential_is_the_sessions_else_the_users_and_shredded_counts_as_none() -> None:
    log = Log()
    sid = log.start()
    log.add("a", key="k-user")
    item = log.view().get("a")
    assert item is not None and item.credential == "stored" and item.credential_obj is not None
    log.add("b", session=sid, scope="process", key="k-sess")
    in_session = log.view(sid).get("a")
    assert in_session is not None and in_session.credential_obj is not None
    assert in_session.credential_obj.key_id == "k-sess"
    assert [i.credential for i in log.view(env=False, session=sid).contexts] == ["stored"]
    log.do(d.decide_session_end(log.state, log.caller(sid), session_id=sid, key_ids=("k-sess",)))
    gone = log.state._replace(shredded=frozenset({"k-user"}))
    after = view(gone, log.caller()).get("a")
    assert after is not None and after.credential == "none" and after.credential_obj is None


def test_an_operation_on_a_context_seen_in_the_process_scope_acts_there() -> None:
    log = Log()
    sid = log.start()
    log.add("mine", session=sid, scope="process")
    log.add("saved", select=False)
    decision = d.decide_select(log.state, log.caller(sid), "MINE")
    assert decision.event.scope == "process"
    # A select in a live session is the session's own, a user context included.
    assert d.decide_select(log.state, log.caller(sid), "saved").event.scope == "process"
    assert d.decide_select(log.state, log.caller(), "saved").event.scope == "user"
    assert d.decide_remove(log.state, log.caller(sid), "mine", force=True).event.scope == "process"


def test_account_key_id_finds_a_live_credentials_key() -> None:
    log = Log()
    log.add("a", "Ann@x", key="k1")
    assert d.account_key_id(log.state, "user", "ann@X") == "k1"
    log.do(d.decide_disconnect(log.state, log.caller(), "ann@x"))
    assert d.account_key_id(log.state, "user", "ann@x") is None


def test_replay_from_zero_equals_the_state_built_step_by_step() -> None:
    log = busy_log()
    assert replay(State.empty(), log.entries) == log.state


def test_replay_of_a_prefix_then_the_rest_equals_replay_of_all() -> None:
    log = busy_log()
    for cut in range(len(log.entries) + 1):
        head = replay(State.empty(), log.entries[:cut])
        assert replay(head, log.entries[cut:]) == log.state


def test_state_survives_a_json_snapshot_and_other_versions_are_ignored() -> None:
    log = busy_log()
    text = snapshot_bytes(log.state)
    assert state_from_snapshot(text) == log.state
    assert state_from_snapshot(text.replace(b'"version":3', b'"version":999')) is None
    assert state_from_snapshot(text.replace(b'"seq":', b'"seq":"x","s":')) is None
    assert state_from_snapshot("not json") is None


def test_evolve_leaves_the_old_state_alone() -> None:
    log = busy_log()
    before = log.state
    frozen = snapshot_bytes(before)
    log.add("later", key="k9")
    log.do(d.decide_clear(log.state, log.caller()))
    assert snapshot_bytes(before) == frozen


def test_replay_of_many_events_ends_where_the_last_one_left() -> None:
    """A long fold keeps seq and default right (speed is measured in bench/, not here)."""
    log = Log()
    log.add("a", "ann@x", key="k1")
    log.add("b", "bob@x")
    c = log.caller()
    events = [
        d.decide_select(log.state, c, "a").event,
        d.decide_select(log.state, c, "b").event,
    ]
    entries = [(i + 3, events[i % 2]) for i in range(20_000)]
    final = replay(log.state, entries)
    assert final.seq == 20_002 and final.user.default == "a"
    assert final.user.default_history[-2:] == ("b", "a")


def test_apply_hands_on_exactly_the_undo_and_session_events() -> None:
    # _apply looks up the operation's record in this set before its isinstance checks:
    # a record renamed or added there must be in it, or its effect is skipped.
    from azctx.events import SessionEnded, SessionStarted, Undone
    from azctx.projections.state import _LEDGER_AND_SESSION_OPS

    assert {Undone, SessionStarted, SessionEnded} == _LEDGER_AND_SESSION_OPS
