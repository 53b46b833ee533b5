"""The projections one rule at a time: the view, where changes go, each
decision, evolve/replay/snapshots and history rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azctx.events import (
    Actor,
    Added,
    BadInput,
    ConfirmationNeeded,
    Context,
    Credential,
    Disconnected,
    Environment,
    Event,
    Refused,
)
from azctx.projections import decisions as d
from azctx.projections.decisions import undo as u
from azctx.projections.history import history_rows
from azctx.projections.snapshot import snapshot_bytes, state_from_snapshot
from azctx.projections.state import State, evolve, replay, undone_by
from azctx.projections.view import Caller, View, autosave, session_status, view

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor(user="ann", host="box", pid=7)


class Log:
    """A log in memory: decisions appended and folded, as the store does."""

    def __init__(self) -> None:
        self.state = State.empty()
        self.entries: list[tuple[int, Event]] = []

    def caller(self, session: str | None = None, env: bool | None = None) -> Caller:
        return Caller(
            actor=ACTOR,
            time=T0 + timedelta(minutes=len(self.entries)),
            session=session,
            autosave_env=env,
        )

    def do(self, decision: d.Decision) -> int:
        seq = len(self.entries) + 1
        self.state = evolve(self.state, seq, decision.event)
        self.entries.append((seq, decision.event))
        return seq

    def start(self, sid: str = "s-0000000000000001", hours: int = 24) -> str:
        c = self.caller()
        self.do(
            d.decide_session_start(
                self.state, c, session_id=sid, expires=c.time + timedelta(hours=hours)
            )
        )
        return sid

    def add(
        self,
        name: str | None,
        account: str = "ann@contoso.org",
        *,
        session: str | None = None,
        env: bool | None = None,
        scope: str | None = None,
        key: str | None = None,
        select: bool = True,
        force: bool = False,
        subscription: str = "sub-1",
    ) -> d.Decision:
        request = d.AddRequest(
            account=account,
            tenant="tenant-1",
            subscription=subscription,
            name=name,
            scope=scope,
            select=select,
            force=force,
            # Only a service principal has a credential.
            account_type="user" if key is None else "service-principal",
        )
        cred = None if key is None else Credential(key_id=key, kind="client-secret", sealed="eA==")
        decision = d.decide_add(self.state, self.caller(session, env), request, credential=cred)
        self.do(decision)
        return decision

    def view(self, session: str | None = None, env: bool | None = None) -> View:
        return view(self.state, self.caller(session, env))


def names(shown: View) -> list[str]:
    return [i.context.name for i in shown.contexts]


# --- the view -------------------------------------------------------------------------


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


def test_autosave_comes_from_env_then_own_session_then_user_then_default() -> None:
    log = Log()
    sid = log.start()
    assert autosave(log.state, log.caller()) == (True, "default")
    log.do(d.decide_autosave(log.state, log.caller(), False))
    assert autosave(log.state, log.caller(sid)) == (False, "user")
    log.do(d.decide_autosave(log.state, log.caller(sid), True, "process"))
    assert autosave(log.state, log.caller(sid)) == (True, "process")
    assert autosave(log.state, log.caller()) == (False, "user")
    assert autosave(log.state, log.caller(sid, env=False)) == (False, "env")


def test_session_status_none_live_ended_unknown_expired() -> None:
    log = Log()
    sid = log.start("s-000000000000000c", hours=1)
    other = log.start("s-000000000000000d")
    assert session_status(log.state, log.caller()) == "none"
    assert session_status(log.state, log.caller(sid)) == "live"
    assert session_status(log.state, log.caller("s-zzz")) == "unknown"
    later = Caller(actor=ACTOR, time=T0 + timedelta(hours=2), session=sid)
    assert session_status(log.state, later) == "expired"
    log.do(d.decide_session_end(log.state, log.caller(other), session_id=other))
    assert session_status(log.state, log.caller(other)) == "ended"


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


# --- where a change goes --------------------------------------------------------------


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


def test_autosave_enable_disable_defaults_to_the_user_scope() -> None:
    log = Log()
    sid = log.start()
    decision = d.decide_autosave(log.state, log.caller(sid, env=False), False)
    assert decision.event.scope == "user"
    assert d.decide_autosave(log.state, log.caller(sid), False, "process").event.session == sid
    with pytest.raises(Refused):
        d.decide_autosave(log.state, log.caller(), False, "process")
    with pytest.raises(BadInput):
        d.decide_autosave(log.state, log.caller(), False, "global")


def test_user_select_shadowed_by_the_session_default_says_so() -> None:
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


# --- add ------------------------------------------------------------------------------


def test_add_default_name_taken_name_force_and_credential() -> None:
    log = Log()
    first = log.add(None, subscription="123456-7890")
    assert first.event.subject == "[ann@contoso.org; 123456-7890]"
    with pytest.raises(Refused) as err:
        log.add("[ANN@contoso.org; 123456-7890]")
    assert "already exists" in err.value.message and err.value.hint is not None
    replaced = log.add("[ANN@contoso.org; 123456-7890]", "bot@x", force=True, key="k1")
    assert isinstance(replaced.event.op, Added) and replaced.event.op.replaced
    item = log.view().get("[ann@contoso.org; 123456-7890]")
    assert item is not None and item.context.account == "bot@x" and item.credential == "stored"
    assert item.context.name == "[ANN@contoso.org; 123456-7890]"  # case as given


@pytest.mark.parametrize("bad", ["", "x" * 257, "tab\there", "nul\x00"])
def test_add_refuses_invalid_names_with_exit_2(bad: str) -> None:
    log = Log()
    with pytest.raises(BadInput):
        log.add(bad)
    assert log.entries == []


def test_add_normalizes_builtin_clouds_and_refuses_unknown_ones() -> None:
    log = Log()
    request = d.AddRequest(account="a", tenant="t", name="cn", environment="azurechinacloud")
    decision = d.decide_add(log.state, log.caller(), request)
    assert isinstance(decision.event.op, Added)
    assert decision.event.op.context.environment == "AzureChinaCloud"
    with pytest.raises(BadInput):
        d.decide_add(
            log.state, log.caller(), d.AddRequest(account="a", tenant="t", environment="Mars")
        )
    with pytest.raises(BadInput):
        d.decide_add(
            log.state, log.caller(), d.AddRequest(account="a", tenant="t", account_type="robot")
        )


def test_add_without_select_keeps_the_default() -> None:
    log = Log()
    log.add("one")
    log.add("two", select=False)
    assert log.view().default == "one"


# --- select and select - --------------------------------------------------------------


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


# --- rename ---------------------------------------------------------------------------


def test_rename_the_default_follows_and_history_follows_too() -> None:
    log = Log()
    log.add("old")
    log.add("other")
    log.do(d.decide_select(log.state, log.caller(), "old"))
    log.do(d.decide_rename(log.state, log.caller(), "OLD", "new"))
    assert names(log.view()) == ["new", "other"]
    assert log.view().default == "new"
    log.do(d.decide_select(log.state, log.caller(), "other"))
    log.do(d.decide_select_previous(log.state, log.caller()))
    assert log.view().default == "new"


def test_rename_onto_an_existing_name_needs_force_and_replaces_it() -> None:
    log = Log()
    log.add("a", "acct-a")
    log.add("b", "acct-b")
    with pytest.raises(ConfirmationNeeded) as err:
        d.decide_rename(log.state, log.caller(), "a", "B")
    assert err.value.hint == "--force replaces it"
    log.do(d.decide_rename(log.state, log.caller(), "a", "B", force=True))
    shown = log.view()
    assert names(shown) == ["B"]
    item = shown.get("b")
    assert item is not None and item.context.account == "acct-a" and shown.default == "B"


def test_rename_only_the_case_and_unknown_or_invalid_names() -> None:
    log = Log()
    log.add("prod")
    log.do(d.decide_rename(log.state, log.caller(), "prod", "Prod"))
    assert names(log.view()) == ["Prod"] and log.view().default == "Prod"
    with pytest.raises(Refused):
        d.decide_rename(log.state, log.caller(), "nope", "x")
    with pytest.raises(BadInput):
        d.decide_rename(log.state, log.caller(), "Prod", "")


def test_a_session_cannot_rename_a_user_context_in_its_process_scope() -> None:
    log = Log()
    sid = log.start()
    log.add("saved")
    with pytest.raises(Refused) as err:
        d.decide_rename(log.state, log.caller(sid), "saved", "x", scope="process")
    assert err.value.hint is not None and "--scope user" in err.value.hint


# --- remove ---------------------------------------------------------------------------


def test_removing_the_default_needs_force_then_falls_back_to_an_earlier_default() -> None:
    log = Log()
    log.add("a")
    log.add("b")
    log.add("c")
    log.do(d.decide_remove(log.state, log.caller(), "b"))
    with pytest.raises(ConfirmationNeeded) as err:
        d.decide_remove(log.state, log.caller(), "c")
    assert err.value.hint is not None and "--force" in err.value.hint
    log.do(d.decide_remove(log.state, log.caller(), "C", force=True))
    assert log.view().default == "a"  # b was removed, a is the latest earlier that exists
    log.do(d.decide_remove(log.state, log.caller(), "a", force=True))
    assert log.view().default is None


def test_remove_unknown_is_refused() -> None:
    log = Log()
    with pytest.raises(Refused, match="no context named"):
        d.decide_remove(log.state, log.caller(), "ghost")


# --- disconnect and clear -------------------------------------------------------------


def test_disconnect_removes_every_context_of_the_account_and_shreds_its_key() -> None:
    log = Log()
    log.add("a1", "ann@x", key="k-ann")
    log.add("a2", "ANN@x", subscription="sub-2")
    log.add("b", "bob@x", key="k-bob")
    decision = d.decide_disconnect(log.state, log.caller(), "ann@x")
    assert decision.event.shredded == ("k-ann",)
    log.do(decision)
    assert names(log.view()) == ["b"]
    assert "k-ann" in log.state.shredded and "ann@x" not in log.state.user.credentials
    with pytest.raises(Refused):
        d.decide_disconnect(log.state, log.caller(), "ann@x")


def test_disconnect_without_account_takes_the_default_contexts_account() -> None:
    log = Log()
    log.add("a", "ann@x")
    log.add("b", "bob@x", key="k-bob")
    decision = d.decide_disconnect(log.state, log.caller())
    assert isinstance(decision.event.op, Disconnected) and decision.event.op.account == "bob@x"
    log.do(decision)
    assert log.view().default == "a"  # the default went back to the earlier one
    log.do(d.decide_remove(log.state, log.caller(), "a", force=True))
    with pytest.raises(Refused, match="no default"):
        d.decide_disconnect(log.state, log.caller())


def test_disconnect_in_a_session_hides_the_accounts_user_contexts_there() -> None:
    log = Log()
    sid = log.start()
    log.add("saved", "ann@x", key="k-user")
    log.add("mine", "ann@x", session=sid, scope="process", key="k-sess")
    log.do(d.decide_disconnect(log.state, log.caller(sid), "ann@x", scope="process"))
    assert names(log.view(sid)) == []
    assert names(log.view()) == ["saved"]
    assert log.state.shredded == {"k-sess"}


def test_clear_user_scope_and_process_scope() -> None:
    log = Log()
    sid = log.start()
    other = log.start("s-000000000000000b")
    log.add("a", "ann@x", key="k1")
    log.add("b", "bob@x", key="k2")
    log.add("p", session=sid, scope="process")
    log.do(d.decide_clear(log.state, log.caller(sid), "process"))
    assert names(log.view(sid)) == [] and log.view(sid).default is None
    assert names(log.view(other)) == ["a", "b"]
    log.do(d.decide_clear(log.state, log.caller()))
    assert names(log.view()) == [] and log.view().default is None
    assert log.state.shredded == {"k1", "k2"}


# --- import ---------------------------------------------------------------------------


def ctx(name: str, account: str = "sp@x") -> Context:
    return Context(name=name, account=account, account_type="service-principal", tenant="t")


def test_import_replaces_same_names_keeps_others_and_sets_the_default() -> None:
    log = Log()
    log.add("keep")
    log.add("dup", "old@x")
    cred = Credential(key_id="k-sp", kind="client-secret", sealed="eA==")
    env = Environment(name="MyCloud", authority="https://login.example/")
    decision = d.decide_import(
        log.state,
        log.caller(),
        contexts=[ctx("DUP"), ctx("new")],
        credentials={"SP@x": cred},
        environments=[env],
        default="new",
        source="az-powershell",
        file="/tmp/AzureRmContext.json",
    )
    log.do(decision)
    shown = log.view()
    assert names(shown) == ["DUP", "keep", "new"]
    assert shown.default == "new"
    assert [i.credential for i in shown.contexts] == ["stored", "none", "stored"]
    assert log.state.user.environments["mycloud"] == env
    request = d.AddRequest(account="a", tenant="t", name="m", environment="mycloud")
    added = d.decide_add(log.state, log.caller(), request).event
    assert isinstance(added.op, Added) and added.op.context.environment == "MyCloud"


def test_import_refuses_duplicate_names_and_a_default_not_in_the_file() -> None:
    log = Log()
    with pytest.raises(BadInput):
        d.decide_import(log.state, log.caller(), contexts=[ctx("a"), ctx("A")])
    with pytest.raises(BadInput):
        d.decide_import(log.state, log.caller(), contexts=[ctx("a")], default="b")
    with pytest.raises(BadInput):
        d.decide_import(log.state, log.caller(), contexts=[ctx("bad\x01")])


# --- sessions and keys ----------------------------------------------------------------


def test_session_start_and_end_decisions() -> None:
    log = Log()
    with pytest.raises(BadInput):
        d.decide_session_start(
            log.state, log.caller(), session_id="bad", expires=T0 + timedelta(hours=1)
        )
    sid = log.start("s-000000000000000e")
    with pytest.raises(Refused):
        d.decide_session_start(
            log.state, log.caller(), session_id=sid, expires=T0 + timedelta(hours=1)
        )
    assert log.state.sessions[sid].actor == ACTOR and not log.state.sessions[sid].ended
    log.do(d.decide_session_end(log.state, log.caller(sid), session_id=sid, reason="ended"))
    assert log.state.sessions[sid].ended
    with pytest.raises(Refused):
        d.decide_session_end(log.state, log.caller(sid), session_id=sid)
    with pytest.raises(Refused):
        d.decide_session_end(log.state, log.caller(), session_id="s-nope")


def test_key_rotate_is_an_event_that_changes_nothing_in_the_view() -> None:
    log = Log()
    log.add("a")
    before = log.view()
    log.do(d.decide_key_rotate(log.state, log.caller(), master_key_id="m-2"))
    assert log.view() == before


def test_account_key_id_finds_a_live_credentials_key() -> None:
    log = Log()
    log.add("a", "Ann@x", key="k1")
    assert d.account_key_id(log.state, "user", "ann@X") == "k1"
    log.do(d.decide_disconnect(log.state, log.caller(), "ann@x"))
    assert d.account_key_id(log.state, "user", "ann@x") is None


# --- evolve, replay, snapshots --------------------------------------------------------


def busy_log() -> Log:
    log = Log()
    sid = log.start()
    log.add("a", "ann@x", key="k1")
    log.add("b", "bob@x")
    log.add("p", session=sid, scope="process", key="k2")
    log.do(d.decide_rename(log.state, log.caller(), "a", "A2"))
    log.do(d.decide_remove(log.state, log.caller(sid), "b", scope="process"))
    log.do(d.decide_disconnect(log.state, log.caller(), "ann@x"))
    log.do(u.decide_undo(log.state, log.caller(), 7, log.entries[6][1], log.entries[7:]))
    log.do(d.decide_autosave(log.state, log.caller(sid), False, "process"))
    log.do(d.decide_session_end(log.state, log.caller(sid), session_id=sid, key_ids=("k2",)))
    return log


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


# --- history --------------------------------------------------------------------------


def test_history_rows_newest_first_with_filters_and_undone_by() -> None:
    log = busy_log()
    rows = history_rows(log.entries, undone_by(log.entries))
    assert [r.seq for r in rows] == list(range(len(log.entries), 0, -1))
    by_seq = {r.seq: r for r in rows}
    assert by_seq[7].operation == "disconnect" and by_seq[7].undone_by == 8
    assert by_seq[8].operation == "undo" and by_seq[8].undone_by is None
    assert by_seq[2].context == "a" and by_seq[2].user == "ann" and by_seq[2].host == "box"
    assert by_seq[1].operation == "session-start" and by_seq[1].context is None
    assert by_seq[5].scope == "user" and by_seq[4].scope == "process"
    assert by_seq[4].session is not None and by_seq[5].session is None

    assert [r.seq for r in history_rows(log.entries, {}, limit=2)] == [10, 9]
    assert [r.seq for r in history_rows(log.entries, {}, context="A")] == [5, 2]
    assert [r.seq for r in history_rows(log.entries, {}, context="a2")] == [8, 7, 5]
    since = log.entries[4][1].time
    assert [r.seq for r in history_rows(log.entries, {}, since=since)] == [10, 9, 8, 7, 6, 5]
    assert [r.seq for r in history_rows(log.entries, {}, after=8)] == [10, 9]


def test_apply_hands_on_exactly_the_undo_and_session_events() -> None:
    # _apply looks up the operation's record in this set before its isinstance checks:
    # a record renamed or added there must be in it, or its effect is skipped.
    from azctx.events import SessionEnded, SessionStarted, Undone
    from azctx.projections.state import _LEDGER_AND_SESSION_OPS

    assert {Undone, SessionStarted, SessionEnded} == _LEDGER_AND_SESSION_OPS
