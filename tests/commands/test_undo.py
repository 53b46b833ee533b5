"""``azctx undo``: every undoable operation reverts exactly and its undo redoes it,
conflicts and the not-undoable kinds are refused, plain undo picks the latest, and the
undo ledger follows chains of undos (the decisions, then the command).

The undo of each operation through the CLI is also checked in that operation's file
(test_clear.py, test_disconnect.py, test_protect.py, test_import_export.py); the model
test of every operation, undo included, is tests/projections/test_model.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azctx.events import Actor, Context, Credential, Event, Refused
from azctx.projections import decisions as d
from azctx.projections.decisions import undo as u
from azctx.projections.state import State, evolve, undone_by
from azctx.projections.view import Caller, View, view
from cli_runner import AzctxCli
from command_support import fails

# ---------------------------------------------------------------- the decision (pure)


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SID = "s-000000000000000a"
OTHER = "s-000000000000000b"


class Log:
    def __init__(self) -> None:
        self.state = State.empty()
        self.entries: list[tuple[int, Event]] = []

    def caller(self, session: str | None = None) -> Caller:
        return Caller(
            actor=Actor(user="ann", host="box", pid=1),
            time=T0 + timedelta(minutes=len(self.entries)),
            session=session,
        )

    def do(self, decision: d.Decision) -> int:
        seq = len(self.entries) + 1
        self.state = evolve(self.state, seq, decision.event)
        self.entries.append((seq, decision.event))
        return seq

    def undo(self, seq: int, session: str | None = None) -> int:
        event = self.entries[seq - 1][1]
        later = self.entries[seq:]
        return self.do(u.decide_undo(self.state, self.caller(session), seq, event, later))

    def views(self) -> tuple[View, ...]:
        """What every kind of caller sees: no session, this session, another one."""
        return tuple(view(self.state, self.caller(s)) for s in (None, SID, OTHER))


def cred(key: str) -> Credential:
    return Credential(key_id=key, kind="client-secret", sealed="eA==")


def add(
    log: Log,
    name: str,
    account: str = "ann@x",
    *,
    key: str | None = None,
    session: str | None = None,
    scope: str | None = None,
    select: bool = True,
) -> int:
    kind = "user" if key is None else "service-principal"  # only it has a credential
    request = d.AddRequest(
        account=account, tenant="t", name=name, scope=scope, select=select, account_type=kind
    )
    credential = None if key is None else cred(key)
    return log.do(d.decide_add(log.state, log.caller(session), request, credential=credential))


def setup() -> Log:
    """Two sessions, saved contexts with credentials, one process context."""
    log = Log()
    for sid in (SID, OTHER):
        c = log.caller()
        log.do(d.decide_session_start(log.state, c, session_id=sid, expires=T0 + timedelta(days=1)))
    add(log, "a", "ann@x", key="k-ann")
    add(log, "b", "bob@x", key="k-bob")
    add(log, "c", "ann@x")
    add(log, "p", "pat@x", session=SID, scope="process", key="k-pat")
    log.do(d.decide_select(log.state, log.caller(), "b"))
    return log


def ctx(name: str) -> Context:
    return Context(name=name, account="imp@x", account_type="service-principal", tenant="t")


# Every undoable operation, as (label, operation, session of the caller).
Operation = Callable[[Log], d.Decision]


OPERATIONS: list[tuple[str, Operation, str | None]] = [
    (
        "add",
        lambda g: d.decide_add(
            g.state,
            g.caller(),
            d.AddRequest(account="new@x", tenant="t", name="n", account_type="service-principal"),
            credential=cred("k-n"),
        ),
        None,
    ),
    (
        "add --force",
        lambda g: d.decide_add(
            g.state, g.caller(), d.AddRequest(account="z@x", tenant="t", name="A", force=True)
        ),
        None,
    ),
    (
        "add process",
        lambda g: d.decide_add(
            g.state,
            g.caller(SID),
            d.AddRequest(account="q@x", tenant="t", name="q", scope="process"),
        ),
        SID,
    ),
    ("select", lambda g: d.decide_select(g.state, g.caller(), "a"), None),
    ("select -", lambda g: d.decide_select_previous(g.state, g.caller()), None),
    ("select process", lambda g: d.decide_select(g.state, g.caller(SID), "a", "process"), SID),
    ("rename", lambda g: d.decide_rename(g.state, g.caller(), "b", "B2"), None),
    ("rename --force", lambda g: d.decide_rename(g.state, g.caller(), "b", "a", force=True), None),
    ("rename case", lambda g: d.decide_rename(g.state, g.caller(), "b", "B"), None),
    ("remove", lambda g: d.decide_remove(g.state, g.caller(), "c"), None),
    ("remove default", lambda g: d.decide_remove(g.state, g.caller(), "b", force=True), None),
    ("remove hides", lambda g: d.decide_remove(g.state, g.caller(SID), "a", scope="process"), SID),
    ("disconnect", lambda g: d.decide_disconnect(g.state, g.caller(), "ann@x"), None),
    ("disconnect default", lambda g: d.decide_disconnect(g.state, g.caller()), None),
    ("disconnect process", lambda g: d.decide_disconnect(g.state, g.caller(SID), "pat@x"), SID),
    ("clear", lambda g: d.decide_clear(g.state, g.caller()), None),
    ("clear process", lambda g: d.decide_clear(g.state, g.caller(SID), "process"), SID),
    ("autosave", lambda g: d.decide_autosave(g.state, g.caller(), False), None),
    (
        "autosave process",
        lambda g: d.decide_autosave(g.state, g.caller(SID), False, "process"),
        SID,
    ),
    (
        "import",
        lambda g: d.decide_import(
            g.state,
            g.caller(),
            contexts=[ctx("A"), ctx("imported")],
            credentials={"imp@x": cred("k-imp")},
            default="imported",
        ),
        None,
    ),
]


@pytest.mark.parametrize(
    ("label", "operation", "session"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_undo_restores_the_view_and_undo_of_undo_redoes(
    label: str, operation: Operation, session: str | None
) -> None:
    log = setup()
    before = log.views()
    seq = log.do(operation(log))
    after = log.views()
    assert after != before, f"{label} should change some view"
    undo = log.undo(seq, session)
    restored = log.views()
    if label.startswith(("disconnect", "clear")):
        # The secrets were destroyed: the contexts come back with credential none.
        assert _without_credentials(restored) == _without_credentials(before)
    else:
        assert restored == before
    redo = log.undo(undo, session)
    assert log.views() == after or label.startswith(("disconnect", "clear"))
    assert _without_credentials(log.views()) == _without_credentials(after)
    ledger = undone_by(log.entries)
    assert ledger[seq] is None and ledger[undo] == redo and ledger[redo] is None
    assert log.state.undone_by == {undo: redo}
    # And once more: undoing the redo undoes the original again.
    log.undo(redo, session)
    assert _without_credentials(log.views()) == _without_credentials(before)
    assert undone_by(log.entries)[seq] == undo


def _without_credentials(views: tuple[View, ...]) -> list[list[tuple[str, str, bool]]]:
    return [[(i.context.name, i.scope, i.default) for i in v.contexts] for v in views]


def test_undo_of_disconnect_brings_contexts_back_with_credential_none() -> None:
    log = setup()
    seq = log.do(d.decide_disconnect(log.state, log.caller(), "ann@x"))
    assert "k-ann" in log.state.shredded
    log.undo(seq)
    shown = view(log.state, log.caller())
    for name in ("a", "c"):
        item = shown.get(name)
        assert item is not None and item.credential == "none"
    assert "ann@x" not in log.state.user.credentials
    bob = shown.get("b")
    assert bob is not None and bob.credential == "stored"


def test_undo_of_add_keeps_the_secret_so_a_redo_brings_it_back() -> None:
    log = setup()
    seq = add(log, "n", "new@x", key="k-n")
    undo = log.undo(seq)
    assert view(log.state, log.caller()).get("n") is None
    log.undo(undo)
    item = view(log.state, log.caller()).get("n")
    assert item is not None and item.credential == "stored"


def test_undo_is_refused_when_a_removed_name_was_reused() -> None:
    log = setup()
    seq = log.do(d.decide_remove(log.state, log.caller(), "c"))
    add(log, "C", "someone@x", select=False)
    with pytest.raises(Refused) as err:
        log.undo(seq)
    assert "context 'c'" in err.value.message and "changed since" in err.value.message
    assert err.value.hint is not None


def test_undo_is_refused_when_the_default_changed_since() -> None:
    log = setup()
    seq = log.do(d.decide_select(log.state, log.caller(), "a"))
    log.do(d.decide_select(log.state, log.caller(), "c"))
    with pytest.raises(Refused, match="the default context"):
        log.undo(seq)


def _fresh(*names: str) -> Log:
    log = Log()
    for name in names:
        add(log, name, f"{name}@x")
    return log


def test_a_cell_that_changed_and_came_back_has_changed_since() -> None:
    # add a; add b; select a; undo 1: the default went a -> b -> a after operation 1.
    log = _fresh("a", "b")
    log.do(d.decide_select(log.state, log.caller(), "a"))
    with pytest.raises(Refused, match=r"the default context .* has changed since"):
        log.undo(1)
    # add a; add b; add c; select a; select b; undo 3: refused the same way.
    log = _fresh("a", "b", "c")
    log.do(d.decide_select(log.state, log.caller(), "a"))
    log.do(d.decide_select(log.state, log.caller(), "b"))
    with pytest.raises(Refused, match="has changed since"):
        log.undo(3)


def test_undo_steps_back_one_operation_after_another() -> None:
    # A later operation that was undone changed nothing: undo, undo walks back.
    log = _fresh("a", "b", "c")
    for seq in (3, 2, 1):
        log.undo(seq)
    assert [names(v) for v in log.views()] == [[], [], []]
    assert log.state.user.default is None


def test_undo_never_leaves_contexts_without_the_default_fallback() -> None:
    # add a; add b (not selected); undo 1: a goes, and its default with it; b is no
    # earlier default, so none.
    log = Log()
    add(log, "a", "a@x")
    add(log, "b", "b@x", select=False)
    log.undo(1)
    assert log.state.user.default is None
    # add c; add a; add b; remove a; undo 3: the default goes back to a, which is gone:
    # it falls back to c, the most recent earlier default that still exists.
    log = _fresh("c", "a", "b")
    log.do(d.decide_remove(log.state, log.caller(), "a"))
    log.undo(3)
    assert log.state.user.default == "c"
    assert names(log.views()[0]) == ["c"]
    redo = log.undo(len(log.entries))  # undo of the undo: b and its default are back
    assert log.state.user.default == "b" and redo == 6


def test_a_rename_onto_an_identical_context_moves_it_in_the_default_history() -> None:
    # b2 and B are alike but for their names: the rename is still a move (the default
    # history keeps B's place under its new name), its undo moves it back, a redo forth.
    log = Log()
    add(log, "c", "c@x")
    add(log, "b2", "same@x", select=False)
    add(log, "B", "same@x")  # the default; c is the earlier one
    seq = log.do(d.decide_rename(log.state, log.caller(), "B", "b2", force=True))
    assert log.state.user.default_history == ("c", "b2")
    undo = log.undo(seq)
    assert log.state.user.default_history == ("c", "b")
    assert sorted(log.state.user.contexts) == ["b", "b2", "c"]
    log.undo(undo)
    assert log.state.user.default_history == ("c", "b2")


def test_undoing_an_import_that_replaced_alike_contexts_moves_nothing() -> None:
    # The undo of an import puts back contexts alike but for their names: no context
    # moved, so the default history stays as the import left it.
    def imported(*pairs: tuple[str, str], default: str | None = None) -> d.Decision:
        contexts = [ctx(name)._replace(account=account) for name, account in pairs]
        return d.decide_import(log.state, log.caller(), contexts=contexts, default=default)

    log = Log()
    log.do(imported(("A", "alice@x"), ("B", "alice@x"), default="A"))
    log.do(d.decide_select(log.state, log.caller(), "B"))
    before = log.state.user.default_history
    seq = log.do(imported(("a", "alice@x"), ("B", "ALICE@x")))
    log.undo(seq)
    assert log.state.user.default_history == before == ("a", "b")


def names(shown: View) -> list[str]:
    return [i.context.name for i in shown.contexts]


@pytest.mark.parametrize("kind", ["session-start", "session-end", "key-rotate"])
def test_not_undoable_kinds_are_refused(kind: str) -> None:
    log = setup()
    log.do(d.decide_key_rotate(log.state, log.caller(), master_key_id="m2"))
    log.do(d.decide_session_end(log.state, log.caller(OTHER), session_id=OTHER))
    seq = next(s for s, e in log.entries if e.type == kind)
    with pytest.raises(Refused, match="cannot be undone"):
        log.undo(seq)


def test_an_undone_operation_cannot_be_undone_again() -> None:
    log = setup()
    seq = log.do(d.decide_select(log.state, log.caller(), "a"))
    undo = log.undo(seq)
    with pytest.raises(Refused) as err:
        log.undo(seq)
    assert f"already undone by operation {undo}" in err.value.message
    assert err.value.hint == f"'azctx undo {undo}' redoes it"


def test_only_the_session_itself_undoes_its_process_scope_operations() -> None:
    log = setup()
    seq = log.do(d.decide_select(log.state, log.caller(SID), "a", "process"))
    for session in (None, OTHER):
        with pytest.raises(Refused, match="only that session"):
            log.undo(seq, session)
    log.do(d.decide_session_end(log.state, log.caller(SID), session_id=SID))
    with pytest.raises(Refused):
        log.undo(seq, SID)


def newest_first(log: Log) -> Iterator[tuple[int, Event]]:
    return reversed(log.entries)


def test_plain_undo_picks_the_latest_undoable_in_force_non_undo_operation() -> None:
    log = setup()
    mine = log.do(d.decide_select(log.state, log.caller(SID), "p", "process"))
    assert u.find_undo_target(newest_first(log), log.caller(SID)) == mine
    # Another session's process-scope operation is not the caller's to undo ...
    assert u.find_undo_target(newest_first(log), log.caller(OTHER)) == mine - 1
    assert u.find_undo_target(newest_first(log), log.caller()) == mine - 1
    # ... an undo is skipped, and so is what it undid ...
    undo = log.undo(mine - 1)
    assert u.find_undo_target(newest_first(log), log.caller()) == mine - 3  # the add of c
    # ... and a redo puts the original back in force.
    log.undo(undo)
    assert u.find_undo_target(newest_first(log), log.caller()) == mine - 1
    log.do(d.decide_key_rotate(log.state, log.caller(), master_key_id="m2"))
    assert u.find_undo_target(newest_first(log), log.caller()) == mine - 1


def test_plain_undo_skips_the_operations_of_an_ended_session() -> None:
    log = setup()
    log.do(d.decide_session_end(log.state, log.caller(SID), session_id=SID))
    assert u.find_undo_target(newest_first(log), log.caller(SID)) == 7  # the select of b


def test_plain_undo_stops_early_near_the_head() -> None:
    log = setup()

    def entries() -> Iterator[tuple[int, Event]]:
        yield from reversed(log.entries[-2:])
        raise AssertionError("read past the answer")

    assert u.find_undo_target(entries(), log.caller()) == len(log.entries)


def test_plain_undo_with_nothing_to_undo() -> None:
    log = Log()
    assert u.find_undo_target(newest_first(log), log.caller()) is None
    log.do(d.decide_key_rotate(log.state, log.caller(), master_key_id="m2"))
    assert u.find_undo_target(newest_first(log), log.caller()) is None


def test_undone_by_follows_chains_of_undo_of_undo() -> None:
    log = setup()
    n = log.do(d.decide_select(log.state, log.caller(), "a"))
    u1 = log.undo(n)
    u2 = log.undo(u1)  # redo n
    u3 = log.undo(u2)  # undo the redo: n is undone again, by u1
    ledger = undone_by(log.entries)
    assert (ledger[n], ledger[u1], ledger[u2], ledger[u3]) == (u1, None, u3, None)
    assert view(log.state, log.caller()).default == "b"
    u4 = log.undo(u3)  # and redo again
    ledger = undone_by(log.entries)
    assert (ledger[n], ledger[u1], ledger[u2], ledger[u3], ledger[u4]) == (None, u2, None, u4, None)
    assert view(log.state, log.caller()).default == "a"
    assert log.state.undone_by == {k: v for k, v in ledger.items() if v is not None}


def test_undo_of_a_select_is_remembered_by_select_previous() -> None:
    log = setup()
    seq = log.do(d.decide_select(log.state, log.caller(), "a"))
    log.undo(seq)
    assert view(log.state, log.caller()).default == "b"
    log.do(d.decide_select_previous(log.state, log.caller()))
    assert view(log.state, log.caller()).default == "a"


def test_undo_of_rename_renames_back_in_the_default_history() -> None:
    log = setup()
    log.do(d.decide_select(log.state, log.caller(), "a"))
    seq = log.do(d.decide_rename(log.state, log.caller(), "b", "bee"))
    log.undo(seq)
    assert "b" in log.state.user.default_history and "bee" not in log.state.user.default_history
    log.do(d.decide_select_previous(log.state, log.caller()))
    assert view(log.state, log.caller()).default == "b"


# --------------------------------------------------------------- bad input and errors


def test_undo_of_a_session_start_is_refused(seeded: AzctxCli) -> None:
    start = next(r["seq"] for r in seeded.json("history") if r["operation"] == "session-start")
    assert "undo" in fails(seeded, 1, "undo", str(start))


def test_undo_says_where_the_default_went(azctx_cli: AzctxCli) -> None:
    for name in ("one", "two"):
        azctx_cli("add", "--account", "u@contoso.org", "--tenant", "t", "--subscription", name,
                  "--name", name)  # fmt: skip
    azctx_cli("select", "one")
    undone = azctx_cli("undo")
    assert (
        undone.stdout
        == "undid operation 3 (select 'one'); the default is now 'two' (operation 4)\n"
    )
    assert undone.stderr == ""
    assert azctx_cli("current").stdout == "two\n"
    gone = azctx_cli("undo").stdout  # the add of 'two', the default
    assert (
        gone
        == "undid operation 2 (add 'two'): 'two' is gone; the default is now 'one' (operation 5)\n"
    )
    assert azctx_cli("undo").stdout.endswith(
        "'one' is gone; the default is none now (operation 6)\n"
    )
