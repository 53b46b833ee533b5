"""The write path's steps, for ``ContextStore``: an event as a log row, sessions past
their ttl or whose shell is gone ended by the next write, secrets sealed under their
account's data key, and the data keys a disconnect or clear must destroy besides its
own."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING

from azctx.events import (
    USER,
    Credential,
    CredentialKind,
    Disconnected,
    EndReason,
    Event,
    account_key,
    check_secret,
    decode,
    encode,
)
from azctx.projections.state import SessionInfo, State, evolve
from azctx.projections.view import Caller
from azctx.store.log import Log
from azctx.store.rows import Entry

if TYPE_CHECKING:  # the decisions load only for a write that needs them
    from azctx.projections.decisions.decision import Decision


def append_event(log: Log, event: Event) -> Entry:
    """One event as one log row: its clear metadata and its encoded payload."""
    return log.append(
        kind=event.type,
        scope=event.scope,
        session=event.session,
        time=event.time,
        payload=encode(event),
    )


def record(log: Log, event: Event) -> Entry:
    """Append ``event`` and destroy the data keys it shreds, in the same transaction."""
    entry = append_event(log, event)
    if event.shredded:
        log.destroy_data_keys(event.shredded)
    return entry


def expire_sessions(log: Log, state: State, caller: Caller, keep: str | None = None) -> State:
    """Sessions past their ttl end now (noticed on the next write): their keys go.
    ``keep`` is left to the operation, so that ``session end`` of an expired session
    ends it instead of being refused as already ended."""
    from azctx.projections.decisions.sessions import decide_session_end

    for sid, info in list(state.sessions.items()):
        if info.ended or sid == keep:
            continue
        if info.expires <= caller.time:
            reason: EndReason = "expired"
        elif shell_gone(info, caller.actor.host):
            reason = "shell-gone"
        else:
            continue
        key_ids = tuple(log.session_key_ids(sid))
        decision = decide_session_end(state, caller, session_id=sid, key_ids=key_ids, reason=reason)
        entry = record(log, decision.event)
        state = evolve(state, entry.seq, decision.event)
    return state


def shell_gone(info: SessionInfo, host: str) -> bool:
    """Whether the session's shell, a process of this host, no longer runs (a shell
    on another host is that host's to judge)."""
    from azctx.store import processes

    if info.shell is None or info.actor.host != host:
        return False
    mark = processes.parse(info.shell)
    return mark is not None and not processes.alive(mark)


def sealed(
    log: Log,
    state: State,
    caller: Caller,
    probe: Event,
    wanted: Mapping[str, tuple[str | None, str | None]],
) -> dict[str, Credential]:
    """Each account's (secret, certificate path) in ``wanted`` sealed under the
    account's data key (made if missing) in the scope the ``probe`` decision picked."""
    from azctx.projections.decisions.add import account_key_id

    scope_key = USER if probe.scope == "user" else str(caller.session)
    found: dict[str, Credential] = {}
    for account, (secret, certificate) in wanted.items():
        key_id = account_key_id(state, scope_key, account)
        if key_id is None or not log.key_exists(key_id):
            key_id = log.new_data_key("account", None if scope_key == USER else scope_key)
        blob = None
        if secret is not None:
            check_secret(secret)
            blob = base64.b64encode(log.seal(key_id, secret.encode())).decode()
        kind: CredentialKind = "certificate" if certificate else "client-secret"
        found[account] = Credential(key_id, kind, blob, certificate)
    return found


def shred_undone_keys(log: Log, state: State, decision: Decision) -> Decision:
    """Add to a disconnect (its account) or a clear (every account) the data keys of
    credentials that an undo took out of the scope (an undone add or import): the state
    forgot them, but the log still holds secrets sealed under them. Only undos leave
    such keys behind: every other operation that drops a credential destroys its key,
    and a new secret reuses the account's live key."""
    event = decision.event
    target = USER if event.scope == USER else event.session
    op = event.op
    wanted = account_key(op.account) if isinstance(op, Disconnected) else None
    found: list[str] = []
    for entry in log.entries():
        if entry.kind != "undo":
            continue
        for change in decode(entry.payload).changes:
            mine = change.scope == target and wanted in (None, change.key)
            if change.type == "credential" and mine:
                found += [c.key_id for c in (change.before, change.after) if c]  # type: ignore[union-attr]
    gone = state.shredded | set(event.shredded)
    extra = tuple(k for k in dict.fromkeys(found) if k not in gone and log.key_exists(k))
    if not extra:
        return decision
    return decision._replace(event=event._replace(shredded=(*event.shredded, *extra)))
