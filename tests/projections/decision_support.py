"""The in-memory log the decision tests run the projections on (tests/projections/ and the
decision tests of tests/commands/); no tests here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from azctx.events import (
    Actor,
    Credential,
    Event,
)
from azctx.projections import decisions as d
from azctx.projections.decisions import undo as u
from azctx.projections.state import State, evolve
from azctx.projections.view import Caller, View, view

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
