"""ContextStore: the library API. Every write takes the write lock, loads the state
(snapshot + tail), decides, appends and commits; every read loads and projects."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from azctx.events import (
    USER,
    AccountDisconnected,
    Actor,
    BadInput,
    ConfirmationNeeded,
    Credential,
    CredentialChange,
    Environment,
    Event,
    Refused,
    account_key,
    decode,
    encode,
    name_key,
)
from azctx.projections import decide as d
from azctx.projections.history import HistoryRow, history_rows, undone_by
from azctx.projections.state import PROJECTION_VERSION, State, evolve, replay
from azctx.projections.view import (
    Caller,
    View,
    ViewContext,
    autosave,
    live_process,
    session_status,
    view,
)

from . import schedule
from .errors import TamperedError
from .log import Entry, Log, VerifyReport, open_log
from .quick import plain_actor, selected, session_warning
from .when import When, parse_bool_env, parse_ttl, parse_when


@dataclass(frozen=True)
class OperationResult:
    seq: int
    operation: str
    context: str | None
    summary: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    expires: datetime

    @property
    def expires_local(self) -> str:
        return self.expires.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


@dataclass(frozen=True)
class SessionStatus:
    session_id: str | None
    state: str
    expires: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "session": self.session_id,
            "state": self.state,
            "expires": None if self.expires is None else _utc_z(self.expires),
        }

    def describe(self) -> str:
        if self.session_id is None:
            return 'no session (start one with: eval "$(azctx session start)")'
        tail = ""
        if self.expires is not None and self.state == "live":
            tail = f", expires {self.expires.astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')}"
        return f"session {self.session_id}: {self.state}{tail}"


@dataclass(frozen=True)
class KeyStatus:
    source: str
    path: str | None
    key_id: str
    store: str

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path,
            "key_id": self.key_id,
            "store": self.store,
        }

    def describe(self) -> str:
        where = {"env": "the AZCTX_KEY variable", "env-file": "AZCTX_KEY_FILE", "file": "key file"}
        origin = where.get(self.source, self.source)
        path = f" {self.path}" if self.path else ""
        return f"master key {self.key_id} from {origin}{path}\nstore: {self.store}"


def _utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _actor() -> Actor:
    who = plain_actor()
    return Actor(user=who.user, host=who.host, pid=who.pid)


@dataclass(frozen=True)
class _Loaded:
    """The state this object last loaded or wrote, with the log head it belongs to."""

    head: tuple[int, bytes]
    state: State
    base: int  # the seq of the snapshot it grew from


Decider = Callable[[Log, State, Caller], "d.Decision"]


class ContextStore:
    """The azctx library API over one store (a SQLite path or a SQLAlchemy URL).

    ``environ`` supplies ``AZCTX_SESSION``, ``AZCTX_AUTOSAVE`` and the key variables
    (default: ``os.environ``); ``on_warning`` receives warnings meant for a human.
    """

    def __init__(
        self,
        target: str | Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._target = target
        self._environ = os.environ if environ is None else environ
        self._on_warning = on_warning
        self._log: Log | None = None
        self._loaded: _Loaded | None = None

    # ------------------------------------------------------------------ plumbing
    def __enter__(self) -> ContextStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _open(self) -> Log:
        if self._log is None:
            self._log = open_log(self._target, environ=self._environ)
        return self._log

    def _caller(self) -> Caller:
        raw = self._environ.get("AZCTX_AUTOSAVE")
        env_autosave = None if raw is None else parse_bool_env("AZCTX_AUTOSAVE", raw)
        session = self._environ.get("AZCTX_SESSION") or None
        return Caller(
            actor=_actor(), time=datetime.now(UTC), session=session, autosave_env=env_autosave
        )

    def _warn(self, message: str) -> None:
        if self._on_warning is not None:
            self._on_warning(message)

    @staticmethod
    def _decoded(log: Log, after: int, upto: int | None = None) -> Iterator[tuple[int, Event]]:
        for entry in log.entries(after=after, upto=upto):
            yield entry.seq, decode(entry.payload)

    def _load(self, log: Log, upto: int | None = None) -> tuple[State, int]:
        """The state after ``upto`` (default: the head), and the seq of its snapshot.

        Everything it reads is checked: the snapshot (authenticated and bound to its
        log row, whose own hash is recomputed) and every row after it (hash, link to its
        predecessor, authenticated decryption). The rows before the snapshot are not
        read, so loading costs the same on a long log as on a short one; ``verify``,
        ``history`` and reads of the past check those."""
        head = log.head() if upto is None else None
        cached = self._loaded
        if cached is not None and head is not None:
            if cached.head == head:
                # Nothing was appended since this object last loaded or wrote the head.
                return cached.state, cached.base
            caught_up = self._catch_up(log, cached, head)
            if caught_up is not None:
                return caught_up.state, caught_up.base
        snapshot = log.latest_snapshot(PROJECTION_VERSION, upto)
        state = State.empty() if snapshot is None else State.model_validate_json(snapshot.payload)
        base = state.seq
        state = replay(state, self._decoded(log, state.seq, upto))
        if head is not None and state.seq == head[0]:
            self._loaded = _Loaded(head, state, base)
        return state, base

    def _catch_up(self, log: Log, cached: _Loaded, head: tuple[int, bytes]) -> _Loaded | None:
        """``cached`` brought forward to ``head`` by the rows other writers appended
        since, or None when the log no longer continues what it was (then the caller
        loads from the snapshot, with every check that brings).

        Writers taking turns on one store each find a few new rows per write; folding
        just those keeps the time spent holding the lock as short as for a lone writer."""
        seq, digest = cached.head
        if head[0] <= seq or head[0] - seq >= schedule.SNAPSHOT_EVERY:
            return None
        if log.stored_hash(seq) != digest:
            return None
        state = replay(cached.state, self._decoded(log, seq))
        if state.seq != head[0]:
            return None
        # Whoever crossed a multiple of SNAPSHOT_EVERY saved a snapshot there.
        newest = schedule.crossed(seq, state.seq)
        base = cached.base if newest is None else newest
        self._loaded = _Loaded(head, state, base)
        return self._loaded

    # ------------------------------------------------------------------ writes
    def _write(
        self,
        decider: Decider,
        *,
        ending: str | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> tuple[int, Event, tuple[str, ...]]:
        """``ending``: the session this operation ends, which it expires itself;
        ``after_commit``: see ``Log.write``."""
        log = self._open()
        caller = self._caller()
        with log.write(after_commit):
            state, base = self._load(log)
            before = state.seq
            state = self._expire_sessions(log, state, caller, keep=ending)
            decision = decider(log, state, caller)
            entry = self._record(log, decision.event)
            due = schedule.snapshot_due(before, entry.seq, base)
            if due:
                state = evolve(state, entry.seq, decision.event)
                log.save_snapshot(entry.seq, PROJECTION_VERSION, state.model_dump_json().encode())
                base = entry.seq
        if not due:  # folded after the commit: other writers need not wait for it
            state = evolve(state, entry.seq, decision.event)
        # Only once committed: the next operation of this object starts from here.
        self._loaded = _Loaded((entry.seq, entry.hash), state, base)
        return entry.seq, decision.event, tuple(decision.notes)

    def _record(self, log: Log, event: Event) -> Entry:
        entry = append_event(log, event)
        if event.shredded:
            log.destroy_data_keys(event.shredded)
        return entry

    def _append(self, log: Log, state: State, event: Event) -> tuple[Entry, State]:
        entry = self._record(log, event)
        return entry, evolve(state, entry.seq, event)

    def _expire_sessions(
        self, log: Log, state: State, caller: Caller, keep: str | None = None
    ) -> State:
        """Sessions past their ttl end now (noticed on the next write): their keys go.
        ``keep`` is left to the operation, so that ``session end`` of an expired
        session ends it instead of being refused as already ended."""
        for sid, info in list(state.sessions.items()):
            if info.ended or info.expires > caller.time or sid == keep:
                continue
            decision = d.decide_session_end(
                state,
                caller,
                session_id=sid,
                key_ids=tuple(log.session_key_ids(sid)),
                reason="expired",
            )
            _, state = self._append(log, state, decision.event)
        return state

    def _result(self, outcome: tuple[int, Event, tuple[str, ...]], summary: str) -> OperationResult:
        seq, event, notes = outcome
        return OperationResult(
            seq, event.type, event.subject, f"{summary} (operation {seq})", notes
        )

    def _credential(
        self,
        log: Log,
        state: State,
        scope_key: str,
        account: str,
        *,
        secret: str | None,
        certificate: str | None,
    ) -> Credential:
        """Seal a secret under the account's data key in that scope (made if missing)."""
        key_id = d.account_key_id(state, scope_key, account)
        if key_id is None or not log.key_exists(key_id):
            session = None if scope_key == USER else scope_key
            key_id = log.new_data_key("account", session)
        sealed = None
        if secret is not None:
            sealed = base64.b64encode(log.seal(key_id, secret.encode())).decode()
        kind = "certificate" if certificate else "client-secret"
        return Credential(key_id=key_id, kind=kind, sealed=sealed, certificate_path=certificate)

    def add(
        self,
        *,
        account: str,
        tenant: str,
        subscription: str | None,
        subscription_name: str | None = None,
        environment: str | None = None,
        name: str | None = None,
        account_type: str = "user",
        secret: str | None = None,
        certificate: str | None = None,
        scope: str | None = None,
        select: bool = True,
        force: bool = False,
    ) -> OperationResult:
        """Add a context (and the account's credential when given) and select it."""
        for label, value in (("--account", account), ("--tenant", tenant)):
            _require_text(label, value)
        for label, optional in (
            ("--subscription", subscription),
            ("--subscription-name", subscription_name),
        ):
            if optional is not None:
                _require_text(label, optional)
        if certificate is not None:
            certificate = str(Path(certificate).expanduser().absolute())

        def decider(log: Log, state: State, caller: Caller) -> d.Decision:
            request = d.AddRequest(
                account=account,
                account_type=account_type,
                tenant=tenant,
                subscription=subscription,
                subscription_name=subscription_name,
                environment=environment,
                name=name,
                scope=scope,
                select=select,
                force=force,
            )
            probe = d.decide_add(state, caller, request, credential=None)
            if secret is None and certificate is None:
                return probe
            scope_key = USER if probe.event.scope == "user" else str(caller.session)
            credential = self._credential(
                log, state, scope_key, account, secret=secret, certificate=certificate
            )
            return d.decide_add(state, caller, request, credential=credential)

        outcome = self._write(decider)
        added = outcome[1]
        return self._result(outcome, f"added context '{added.subject}'")

    def select(self, name: str, scope: str | None = None) -> OperationResult:
        outcome = self._write(lambda _l, s, c: d.decide_select(s, c, name, scope))
        return self._result(outcome, selected(outcome[1].subject or name))

    def select_previous(self, scope: str | None = None) -> OperationResult:
        outcome = self._write(lambda _l, s, c: d.decide_select_previous(s, c, scope))
        return self._result(outcome, selected(outcome[1].subject or "-"))

    def rename(
        self, old: str, new: str, *, force: bool = False, scope: str | None = None
    ) -> OperationResult:
        def decider(_log: Log, state: State, caller: Caller) -> d.Decision:
            if not force:
                current = view(state, caller).get(new)
                if current is not None and name_key(new) != name_key(old):
                    raise ConfirmationNeeded(
                        f"a context named '{current.context.name}' exists",
                        f"Replace the existing context '{current.context.name}'?",
                    )
            return d.decide_rename(state, caller, old, new, force, scope)

        outcome = self._write(decider)
        return self._result(outcome, f"renamed '{old}' to '{new}'")

    def remove(
        self, name: str, *, force: bool = False, scope: str | None = None
    ) -> OperationResult:
        def decider(_log: Log, state: State, caller: Caller) -> d.Decision:
            shown = view(state, caller)
            if (
                not force
                and shown.default is not None
                and name_key(shown.default) == name_key(name)
            ):
                raise ConfirmationNeeded(
                    f"'{shown.default}' is the default context",
                    f"Remove the default context '{shown.default}'?",
                )
            return d.decide_remove(state, caller, name, force, scope)

        outcome = self._write(decider)
        return self._result(outcome, f"removed context '{name}'")

    def disconnect(
        self, account: str | None = None, *, scope: str | None = None
    ) -> OperationResult:
        def decider(log: Log, state: State, caller: Caller) -> d.Decision:
            decision = d.decide_disconnect(state, caller, account, scope)
            return self._shred_undone_keys(log, state, decision)

        outcome = self._write(decider)
        event = outcome[1]
        removed = len([ch for ch in event.changes if ch.type == "context" and ch.after is None])
        who = getattr(event, "account", account)
        return self._result(
            outcome, f"disconnected '{who}': {removed} context(s) removed, credential destroyed"
        )

    def clear(self, *, scope: str | None = None) -> OperationResult:
        outcome = self._write(
            lambda log, s, c: self._shred_undone_keys(log, s, d.decide_clear(s, c, scope))
        )
        return self._result(outcome, f"cleared the {outcome[1].scope} scope")

    @staticmethod
    def _shred_undone_keys(log: Log, state: State, decision: d.Decision) -> d.Decision:
        """Add to a disconnect (its account) or a clear (every account) the data keys of
        credentials that an undo took out of the scope (an undone add or import): the
        state forgot them, but the log still holds secrets sealed under them. Only undos
        leave such keys behind: every other operation that drops a credential destroys
        its key, and a new secret reuses the account's live key."""
        event = decision.event
        target = USER if event.scope == USER else event.session
        wanted = account_key(event.account) if isinstance(event, AccountDisconnected) else None
        found: list[str] = []
        for entry in log.entries():
            if entry.kind != "undo":
                continue
            for change in decode(entry.payload).changes:
                if (
                    isinstance(change, CredentialChange)
                    and change.scope == target
                    and (wanted is None or change.key == wanted)
                ):
                    found += [c.key_id for c in (change.before, change.after) if c]
        gone = state.shredded | set(event.shredded)
        extra = tuple(k for k in dict.fromkeys(found) if k not in gone and log.key_exists(k))
        if not extra:
            return decision
        shredded = (*event.shredded, *extra)
        return d.Decision(event.model_copy(update={"shredded": shredded}), decision.notes)

    def set_autosave(self, enabled: bool, *, scope: str | None = None) -> OperationResult:
        outcome = self._write(lambda _l, s, c: d.decide_autosave(s, c, enabled, scope))
        word = "enabled" if enabled else "disabled"
        return self._result(outcome, f"autosave {word} in the {outcome[1].scope} scope")

    def undo(self, seq: int | None = None) -> OperationResult:
        def decider(log: Log, state: State, caller: Caller) -> d.Decision:
            target = seq
            if target is None:
                newest_first = ((e.seq, decode(e.payload)) for e in log.entries_reverse())
                target = d.find_undo_target(newest_first, caller)
                if target is None:
                    raise Refused("nothing to undo")
            if target < 1 or target > state.seq:
                raise Refused(f"there is no operation {target}", hint="see 'azctx history'")
            undone = undone_by(self._decoded(log, target - 1))
            event = decode(log.entry(target).payload)
            return d.decide_undo(state, caller, target, event, undone.get(target))

        outcome = self._write(decider)
        event = outcome[1]
        target = getattr(event, "target", "?")
        return self._result(outcome, f"undid operation {target}")

    def start_session(self, ttl: str = "24h") -> SessionInfo:
        lifetime = parse_ttl(ttl)
        session_id = f"s-{secrets.token_hex(8)}"

        def decider(_log: Log, state: State, caller: Caller) -> d.Decision:
            expires = caller.time + lifetime
            return d.decide_session_start(state, caller, session_id=session_id, expires=expires)

        _, event, _ = self._write(decider)
        return SessionInfo(session_id, getattr(event, "expires", datetime.now(UTC) + lifetime))

    def end_session(self) -> OperationResult:
        def decider(log: Log, state: State, caller: Caller) -> d.Decision:
            sid = caller.session
            if sid is None:
                raise Refused("no session to end: AZCTX_SESSION is not set")
            return d.decide_session_end(
                state,
                caller,
                session_id=sid,
                key_ids=tuple(log.session_key_ids(sid)),
                reason="ended",
            )

        outcome = self._write(decider, ending=self._environ.get("AZCTX_SESSION") or None)
        return self._result(
            outcome, f"session {outcome[1].session} ended; its secrets are destroyed"
        )

    def import_file(
        self,
        path: str,
        *,
        from_az_cli: bool = False,
        scope: str | None = None,
        rename_invalid: bool = False,
    ) -> OperationResult:
        """Import an AzureRmContext.json (or the Azure CLI's azureProfile.json) as one
        operation: same names replaced, all others kept, the file's default selected."""
        from azctx.projections import interop  # only these commands need it

        text = read_import_file(path)
        if from_az_cli:
            plan = interop.parse_az_cli(text)
        else:
            plan = interop.parse_az_powershell(text, rename_invalid=rename_invalid)

        def decider(log: Log, state: State, caller: Caller) -> d.Decision:
            def decide(credentials: dict[str, Credential]) -> d.Decision:
                return d.decide_import(
                    state,
                    caller,
                    contexts=plan.contexts,
                    credentials=credentials,
                    environments=plan.environments,
                    default=plan.default,
                    scope=scope,
                    source=plan.source,
                    file=str(Path(path).name),
                )

            probe = decide({})
            if not plan.secrets:
                return probe
            scope_key = USER if probe.event.scope == "user" else str(caller.session)
            sealed = {
                account_key(s.account): self._credential(
                    log,
                    state,
                    scope_key,
                    s.account,
                    secret=s.secret,
                    certificate=s.certificate_path,
                )
                for s in plan.secrets
            }
            return decide(sealed)

        seq, event, notes = self._write(decider)
        count = len(plan.contexts)
        summary = f"imported {count} context(s) from {Path(path).name}"
        return OperationResult(
            seq, event.type, None, f"{summary} (operation {seq})", (*plan.notes, *notes)
        )

    # ------------------------------------------------------------------ reads
    def _resolve(self, log: Log, when: When) -> int:
        head, _ = log.head()
        if when.seq is not None:
            if not 1 <= when.seq <= head:
                raise BadInput(f"there is no operation {when.seq} (the log has {head})")
            return when.seq
        assert when.time is not None
        return log.seq_at(when.time)

    def state(self, at: str | None = None) -> State:
        """The projected state now, or after the operation/time ``at`` names."""
        upto = None
        log = self._open()
        if at is not None:
            upto = self._resolve(log, parse_when(at, "--at"))
        state, _ = self._load(log, upto)
        return state

    def state_at(self, at: str) -> State:
        return self.state(at)

    def view(self, at: str | None = None) -> View:
        caller = self._caller()
        state = self.state(at)
        warning = session_warning(caller.session, session_status(state, caller))
        if warning is not None:
            self._warn(warning)
        return view(state, caller)

    def contexts(self, at: str | None = None) -> tuple[ViewContext, ...]:
        return self.view(at).contexts

    def default(self, at: str | None = None) -> str | None:
        return self.view(at).default

    def current(self) -> str | None:
        return self.view().default

    def get(self, name: str | None = None, at: str | None = None) -> ViewContext:
        return self.show(name, at=at)

    def show(self, name: str | None = None, *, at: str | None = None) -> ViewContext:
        return self._pick(self.view(at), name)

    def autosave_status(self) -> tuple[bool, str]:
        return autosave(self.state(), self._caller())

    def history(
        self,
        *,
        limit: int | None = None,
        context: str | None = None,
        since: str | None = None,
    ) -> list[HistoryRow]:
        log = self._open()
        after_seq, after_time = 0, None
        if since is not None:
            when = parse_when(since, "--since")
            if when.seq is not None:
                after_seq = self._resolve(log, when)
            after_time = when.time
        # The whole log is read (and so checked) below; the newest snapshot too, so a
        # forged cache is reported here as it is by every read of the present.
        log.latest_snapshot(PROJECTION_VERSION)
        entries = list(self._decoded(log, 0))
        undone = undone_by(entries)
        return history_rows(
            entries, undone, limit=limit, context=context, since=after_time, after=after_seq
        )

    def _secret(self, item: ViewContext) -> tuple[str | None, Credential | None]:
        """The plaintext secret of a view context's credential (None if it has none)."""
        cred = item.credential_obj
        if cred is None or cred.sealed is None:
            return None, cred
        blob = base64.b64decode(cred.sealed)
        return self._open().unseal(cred.key_id, blob).decode(), cred

    def environment_for(self, name: str | None = None) -> RunEnvironment:
        """The variables a child process needs to act as context ``name`` (default:
        the default context): for ``azctx run`` and Python background jobs."""
        from azctx.projections import interop  # only these commands need it

        state = self.state()
        caller = self._caller()
        item = self._pick(view(state, caller), name)
        secret, cred = self._secret(item)
        ctx = item.context
        variables = interop.environment_variables(
            ctx,
            secret=secret,
            credential_kind=None if cred is None else cred.kind,
            certificate_path=None if cred is None else cred.certificate_path,
            environment=_environments(state, caller).get(name_key(ctx.environment)),
        )
        if caller.session is not None:
            variables["AZCTX_SESSION"] = caller.session
        notes: list[str] = []
        if ctx.account_type != "service-principal":
            notes.append(
                f"note: '{ctx.name}' is a {ctx.account_type} account: "
                "there is no secret to hand over"
            )
        elif cred is None:
            notes.append(f"note: '{ctx.name}' has no stored credential")
        return RunEnvironment(ctx.name, variables, tuple(notes))

    def export(
        self,
        path: str,
        *,
        context: str | None = None,
        include_secrets: bool = False,
        force: bool = False,
    ) -> str:
        """Write Az PowerShell's AzureRmContext.json; returns a one-line summary."""
        from azctx.projections import interop  # only these commands need it

        state = self.state()
        caller = self._caller()
        shown = view(state, caller)
        items = shown.contexts if context is None else (self._pick(shown, context),)
        secrets: dict[str, interop.ExportSecret | None] = {}
        if include_secrets:
            for item in items:
                secret, cred = self._secret(item)
                if cred is not None:
                    secrets[account_key(item.context.account)] = interop.ExportSecret(
                        kind=cred.kind, secret=secret, certificate_path=cred.certificate_path
                    )
        default = shown.default
        if default is not None and all(
            name_key(i.context.name) != name_key(default) for i in items
        ):
            default = None
        text = interop.export_az_powershell(
            [i.context for i in items], default, _environments(state, caller), secrets
        )
        write_export_file(path, text, private=include_secrets, force=force)
        what = "with secrets" if include_secrets else "without secrets"
        return f"exported {len(items)} context(s) to {path} ({what})"

    @staticmethod
    def _pick(shown: View, name: str | None) -> ViewContext:
        wanted = name if name is not None else shown.default
        if wanted is None:
            raise Refused("there is no default context", hint="azctx select NAME")
        item = shown.get(wanted)
        if item is None:
            raise Refused(f"no context named '{wanted}'", hint="see 'azctx list'")
        return item

    def verify(self, *, chain_only: bool = False) -> VerifyReport:
        if chain_only:
            with open_log(self._target, environ=self._environ, key_required=False) as log:
                return log.verify(chain_only=True)
        log = self._open()
        report = log.verify(chain_only=False)
        self._verify_snapshots(log)
        return report

    def _verify_snapshots(self, log: Log) -> None:
        """Each snapshot opens and holds exactly the state a replay gives at its seq."""
        saved = sorted(log.snapshots(PROJECTION_VERSION), key=lambda s: s.seq)
        state = State.empty()
        for snapshot in saved:
            state = replay(state, self._decoded(log, state.seq, snapshot.seq))
            if State.model_validate_json(snapshot.payload) != state:
                raise TamperedError(
                    f"the snapshot of operation {snapshot.seq} does not match the log",
                    snapshot.seq,
                )

    def session_status(self) -> SessionStatus:
        caller = self._caller()
        state = self.state()
        status = session_status(state, caller)
        info = state.sessions.get(caller.session) if caller.session else None
        return SessionStatus(caller.session, status, None if info is None else info.expires)

    def key_status(self) -> KeyStatus:
        info = self._open().master_key_info()
        return KeyStatus(
            info.source or "none",
            None if info.path is None else str(info.path),
            info.key_id,
            info.store,
        )

    def rotate_key(self, new_key_file: str | None = None) -> OperationResult:
        from .keys import prepare_rotation

        log = self._open()
        rotation = prepare_rotation(log.master_key_info(), new_key_file)

        def decider(lg: Log, state: State, caller: Caller) -> d.Decision:
            key_id = lg.rotate_master_key(rotation.key, rotation.path)
            return d.decide_key_rotate(state, caller, master_key_id=key_id)

        installed = False

        def install() -> None:
            nonlocal installed
            installed = True  # from here the store needs the new key: never drop it
            rotation.commit()

        try:
            outcome = self._write(decider, after_commit=install)
        except BaseException:
            if not installed:
                rotation.abandon()
            raise
        return self._result(outcome, f"master key rotated; new key written to {rotation.path}")


@dataclass(frozen=True)
class RunEnvironment:
    context: str
    variables: dict[str, str]
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # the variables hold a secret: never show them
        return f"RunEnvironment(context={self.context!r}, variables=<{len(self.variables)}>)"


def _environments(state: State, caller: Caller) -> dict[str, Environment]:
    """Custom environments the caller can see: user scope, then its session's."""
    found = dict(state.user.environments)
    process = live_process(state, caller)
    if process is not None:
        found.update(process.environments)
    return found


def read_import_file(path: str) -> str:
    """The text of an import file; exit 2 for anything that is not a readable file
    within the size limit."""
    from azctx.projections import interop

    source = Path(path)
    try:
        info = source.stat()
    except FileNotFoundError:
        raise BadInput(f"cannot import {path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"cannot import {path}: not a regular file")
    if info.st_size > interop.MAX_IMPORT_BYTES:
        limit = interop.MAX_IMPORT_BYTES // (1024 * 1024)
        raise BadInput(f"cannot import {path}: larger than the {limit} MiB limit")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"cannot import {path}: not UTF-8 text") from None


def write_export_file(path: str, text: str, *, private: bool, force: bool) -> None:
    """Write an export; never over an existing file without ``force``; a file holding
    secrets is 0600 before the first byte is written."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600 if private else 0o644)
    except FileExistsError:
        raise Refused(f"{path} exists", hint="pass --force to overwrite it") from None
    except IsADirectoryError:
        raise BadInput(f"cannot export to {path}: it is a directory") from None
    except OSError as exc:
        raise BadInput(f"cannot export to {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        if private:
            os.fchmod(out.fileno(), 0o600)
        out.truncate(0)
        out.write(text)


def append_event(log: Log, event: Event) -> Entry:
    """One event as one log row: its clear metadata and its encoded payload."""
    return log.append(
        kind=event.type,
        scope=event.scope,
        session=event.session,
        time=event.time,
        payload=encode(event),
    )


def _require_text(label: str, value: str) -> None:
    if not value.strip():
        raise BadInput(f"{label} cannot be empty")
    if len(value) > 1024:
        raise BadInput(f"{label} is at most 1024 characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise BadInput(f"{label} cannot contain control characters")


__all__ = [
    "ContextStore",
    "KeyStatus",
    "OperationResult",
    "SessionInfo",
    "SessionStatus",
    "account_key",
]
