"""ContextStore: the library API. Every write takes the write lock, loads the state
(snapshot + tail), decides, appends and commits; every read loads and projects.

Errors are ``AzctxError`` subclasses with an ``exit_code``: ``BadInput`` (2) for input
that can never succeed, ``Refused`` (1) for an operation the state does not allow
(``ConfirmationNeeded`` when ``force=True`` would allow it), ``StoreError`` (3) for a
store that cannot be opened, read, locked or trusted. Every write is one operation in
the log, all or nothing: when a method raises, the store is as it was."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from azctx.events import (
    SESSION_ID_BYTES,
    USER,
    AzctxError,
    Credential,
    Disconnected,
    Event,
    Refused,
    SessionStarted,
    Undone,
    decode,
    session_id_from,
)
from azctx.projections.state import State, evolve
from azctx.projections.view import (
    Caller,
    View,
    ViewContext,
    autosave,
    session_status,
    view,
    whose_default,
)
from azctx.store import caller as callers
from azctx.store import past, processes, writing
from azctx.store.azcli.sweep import sweep
from azctx.store.loader import (
    StateCache,
    decoded,
    save_snapshot,
    snapshot_due,
    verify_data_keys,
    verify_snapshots,
)
from azctx.store.log import Log, OutsideWrite
from azctx.store.opening import open_log
from azctx.store.results import (
    KeyStatus,
    OperationResult,
    PinResult,
    RunEnvironment,
    SessionInfo,
    SessionRow,
    SessionStatus,
)
from azctx.store.rows import VerifyReport
from azctx.store.when import parse_ttl, parse_when

if TYPE_CHECKING:
    from azctx.projections.decisions.decision import Decision
    from azctx.projections.history import HistoryRow

Decider = Callable[[Log, State, Caller], "Decision"]


class ContextStore:
    """The azctx library API over one store (a SQLite path or a SQLAlchemy URL;
    ``None``: ``AZCTX_STORE`` or the default path). Opened on first use, closed by
    ``close()`` or the ``with`` block; not shared between threads.

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
        self._cache = StateCache()

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
        """Close the store's connection; the next call opens it again."""
        if self._log is not None:
            self._log.close()
            self._log = None

    def _open(self) -> Log:
        if self._log is None:
            # Every command opens its store, a read included: run folders a killed
            # azctx left behind (SIGKILL), and the folders (and secrets) of sessions
            # whose shell is gone or whose ttl ran out, live no longer than that.
            sweep(self._environ)
            self._log = open_log(self._target, environ=self._environ)
        return self._log

    def _caller(self) -> Caller:
        return callers.caller(self._environ)

    def _warn(self, message: str) -> None:
        if self._on_warning is not None:
            self._on_warning(message)

    # ------------------------------------------------------------------ writes
    def _decide_on_empty(self, log: Log, caller: Caller, decider: Decider) -> None:
        """A store that does not exist yet is made by its first write, and a refused
        operation must leave nothing behind (no store file, no key file): so the first
        write is decided once on the empty store before the store is made. A decision
        that gets as far as sealing a secret was not refused."""
        state, _ = self._cache.load(log)
        with contextlib.suppress(OutsideWrite):
            decider(log, state, caller)

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
        if not log.exists:
            self._decide_on_empty(log, caller, decider)
        with log.write(after_commit):
            state, base = self._cache.load(log)
            loaded = state  # what the live sessions saw before this write
            before = state.seq
            state = writing.expire_sessions(log, state, caller, keep=ending)
            decision = decider(log, state, caller)
            entry = writing.record(log, decision.event)
            due = snapshot_due(before, entry.seq, base)
            if due:
                state = evolve(state, entry.seq, decision.event)
                save_snapshot(log, entry.seq, state)
                base = entry.seq
        if not due:  # folded after the commit: other writers need not wait for it
            state = evolve(state, entry.seq, decision.event)
        # Only once committed: the next operation of this object starts from here.
        self._cache.remember(entry, state, base)
        if any(not info.ended for info in loaded.sessions.values()):  # else: no I/O at all
            from azctx.store.azcli.sessions import refresh_after_write

            refresh_after_write(loaded, state, self._environ, log.unseal, self._warn)
        return entry.seq, decision.event, tuple(decision.notes)

    @staticmethod
    def _result(outcome: tuple[int, Event, tuple[str, ...]], summary: str) -> OperationResult:
        seq, event, notes = outcome
        return OperationResult(
            seq, event.type, event.subject, f"{summary} (operation {seq})", notes
        )

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
        """Add a context (and the account's credential, ``secret`` or ``certificate``
        path, when given) and select it unless ``select=False``. Returns the operation.
        Raises ``BadInput`` for an invalid field, ``Refused`` when the name is taken
        (``ConfirmationNeeded``: ``force=True`` replaces it)."""
        from azctx.projections.decisions import add as d

        request = d.AddRequest(
            account=account,
            tenant=tenant,
            subscription=subscription,
            account_type=account_type,
            subscription_name=subscription_name,
            environment=environment,
            name=name,
            scope=scope,
            select=select,
            force=force,
        )
        d.check_request(request, secret, certificate)  # before the store is opened
        if certificate is not None:
            certificate = str(Path(certificate).expanduser().absolute())

        def decider(log: Log, state: State, caller: Caller) -> Decision:
            probe = d.decide_add(state, caller, request)
            if secret is None and certificate is None:
                return probe
            wanted = {account: (secret, certificate)}
            sealed = writing.sealed(log, state, caller, probe.event, wanted)
            return d.decide_add(state, caller, request, credential=sealed[account])

        before = self._seen_default()
        outcome = self._write(decider)
        added = f"added context '{outcome[1].subject}'"
        return self._result(outcome, added + self._moved(before, outcome[1]))

    def select(self, name: str, scope: str | None = None, *, yes: bool = False) -> OperationResult:
        """Make ``name`` the default in ``scope`` (default: the session's for a
        session's context, else the user's while autosave is on). ``name`` is a context
        name (any case), else a unique subscription id, else a unique subscription
        name. Returns the operation; raises ``BadInput`` for an invalid name,
        ``Refused`` when no context or several match, ``ConfirmationNeeded`` for a
        protected context unless ``yes``."""
        from azctx.projections.decisions.contexts import decide_select

        outcome = self._write(lambda _l, s, c: decide_select(s, c, name, scope, yes))
        return self._result(outcome, selected(outcome[1], name))

    def select_previous(self, scope: str | None = None, *, yes: bool = False) -> OperationResult:
        """Select the context that was the default before the current one (``select -``).
        Returns the operation; raises ``Refused`` when there is none left,
        ``ConfirmationNeeded`` when it is protected unless ``yes``."""
        from azctx.projections.decisions.contexts import decide_select_previous

        outcome = self._write(lambda _l, s, c: decide_select_previous(s, c, scope, yes))
        return self._result(outcome, selected(outcome[1], "-"))

    def protect(self, name: str, *, scope: str | None = None) -> OperationResult:
        """Mark a context protected: selecting it or running as it asks first."""
        return self._protection(name, True, scope)

    def unprotect(self, name: str, *, scope: str | None = None) -> OperationResult:
        return self._protection(name, False, scope)

    def _protection(self, name: str, on: bool, scope: str | None) -> OperationResult:
        from azctx.projections.decisions.protection import decide_protect

        outcome = self._write(lambda _l, s, c: decide_protect(s, c, name, on, scope))
        word = (
            "protected: selecting it or running as it asks first" if on else "no longer protected"
        )
        return self._result(outcome, f"'{outcome[1].subject}' is {word}")

    def rename(
        self, old: str, new: str, *, force: bool = False, scope: str | None = None
    ) -> OperationResult:
        """Rename context ``old`` to ``new``. Returns the operation; raises ``BadInput``
        for an invalid name, ``Refused`` when ``old`` is missing or ``new`` taken
        (``ConfirmationNeeded``: ``force=True`` replaces it)."""
        from azctx.projections.decisions.contexts import decide_rename

        outcome = self._write(lambda _l, s, c: decide_rename(s, c, old, new, force, scope))
        return self._result(outcome, f"renamed '{outcome[1].subject or old}' to '{new}'")

    def remove(
        self, name: str, *, force: bool = False, scope: str | None = None
    ) -> OperationResult:
        """Remove context ``name``; the account's credential stays for its other
        contexts. Returns the operation; raises ``Refused`` when there is no such
        context, ``ConfirmationNeeded`` when it is the default (``force=True`` removes it)."""
        from azctx.projections.decisions.contexts import decide_remove

        before = self._seen_default()
        outcome = self._write(lambda _l, s, c: decide_remove(s, c, name, force, scope))
        event = outcome[1]
        return self._result(
            outcome, f"removed context '{event.subject or name}'{self._moved(before, event)}"
        )

    def disconnect(
        self, account: str | None = None, *, scope: str | None = None, ask: bool = False
    ) -> OperationResult:
        """Remove every context of ``account`` (default: the current context's) and
        destroy its credential's key, so no undo brings the secret back. Returns the
        operation; raises ``Refused`` when the account has neither context nor
        credential there; ``ask``: ``ConfirmationNeeded`` first, its question naming
        the account and how many contexts go."""
        from azctx.projections.decisions.contexts import decide_disconnect, removed_count

        def decider(log: Log, state: State, caller: Caller) -> Decision:
            decision = decide_disconnect(state, caller, account, scope, ask)
            return writing.shred_undone_keys(log, state, decision)

        before = self._seen_default()
        outcome = self._write(decider)
        event = outcome[1]
        removed = removed_count(event.changes)
        who = event.op.account if isinstance(event.op, Disconnected) else account
        summary = f"disconnected '{who}': {removed} context(s) removed, credential destroyed"
        return self._result(outcome, summary + self._moved(before, event))

    def clear(self, *, scope: str | None = None, ask: bool = False) -> OperationResult:
        """Remove every context and credential of ``scope`` (default: the caller's) and
        destroy the credentials' keys. Returns the operation; ``ask`` as ``disconnect``."""
        from azctx.projections.decisions.contexts import decide_clear, removed_count

        outcome = self._write(
            lambda log, s, c: writing.shred_undone_keys(log, s, decide_clear(s, c, scope, ask))
        )
        event = outcome[1]
        creds = sum(1 for c in event.changes if c.type == "credential")
        where = "the user scope" if event.scope == "user" else f"session {event.session}"
        gone = removed_count(event.changes)
        summary = f"cleared {where}: {gone} context(s) and {creds} credential(s) removed"
        return self._result(outcome, summary)

    def set_autosave(self, enabled: bool, *, scope: str | None = None) -> OperationResult:
        """Turn autosave on or off in ``scope`` (whether Azure CLI changes are taken
        back into the store). Returns the operation."""
        from azctx.projections.decisions.sessions import decide_autosave

        outcome = self._write(lambda _l, s, c: decide_autosave(s, c, enabled, scope))
        word = "enabled" if enabled else "disabled"
        return self._result(outcome, f"autosave {word} in the {outcome[1].scope} scope")

    def undo(self, seq: int | None = None) -> OperationResult:
        """Undo operation ``seq`` (default: the caller's newest undoable one) by
        appending its inverse. Returns the operation; raises ``Refused`` when there is
        nothing to undo, no such operation, or a later one changed the same contexts."""
        from azctx.projections.decisions.undo import decide_undo, find_undo_target

        def decider(log: Log, state: State, caller: Caller) -> Decision:
            target = seq
            if target is None:
                newest_first = ((e.seq, decode(e.payload)) for e in log.entries_reverse())
                target = find_undo_target(newest_first, caller)
                if target is None:
                    raise Refused("nothing to undo")
            if target < 1 or target > state.seq:
                raise Refused(f"there is no operation {target}", hint="see 'azctx history'")
            entries = decoded(log, target - 1)
            _, event = next(entries)
            account = event.op.account if isinstance(event.op, Disconnected) else None
            subjects.append(event.subject or account)
            return decide_undo(state, caller, target, event, entries)

        subjects: list[str | None] = []  # the undone operation's context, once read
        before = self._seen_default()
        outcome = self._write(decider)
        event = outcome[1]
        return self._result(outcome, undone(event, subjects[-1]) + self._moved(before, event))

    def start_session(
        self,
        ttl: str = "24h",
        *,
        shell: str | None = None,
        pid: int | None = None,
        new: bool = False,
        parent: str | None = None,
    ) -> SessionInfo:
        """A new session. With ``shell`` (its kind), the session lives in that shell,
        the process ``pid`` (default: the parent of this process, the shell that runs
        ``eval "$(azctx session start)"``), and ends when it is gone; a shell that has a
        live session of its own is refused one more, unless ``new`` ends that first.
        Returns its id (for ``AZCTX_SESSION``) and expiry; raises ``BadInput`` for a
        malformed ``ttl``. ``parent``: the session it starts from, where ``AZCTX_SESSION``
        cannot say it (a tmux pane)."""
        from azctx.projections.decisions.sessions import Shell, decide_session_start, own_session

        lifetime = parse_ttl(ttl)
        session_id = session_id_from(os.urandom(SESSION_ID_BYTES))
        marked = None if shell is None else Shell(shell_mark(pid), shell)
        if new and marked is not None and own_session(self.state(), self._caller(), marked.mark):
            self.end_session()

        def decider(_log: Log, state: State, caller: Caller) -> Decision:
            expires = caller.time + lifetime
            return decide_session_start(
                state, caller, session_id=session_id, expires=expires, shell=marked, parent=parent
            )

        _, event, notes = self._write(decider)
        assert isinstance(event.op, SessionStarted)
        from azctx.store.azcli.sessions import start_session_dir  # the session's own az folder

        start_session_dir(self.state(), session_id, self._environ, self._open().unseal, self._warn)
        return SessionInfo(session_id, event.op.expires, event.op.parent, notes)

    def own_session(self, shell_pid: int | None = None) -> str | None:
        """The caller's live session when it belongs to the shell ``shell_pid`` (default:
        this process's parent), else None: the shell has none of its own yet."""
        from azctx.projections.decisions.sessions import own_session

        return own_session(self.state(), self._caller(), shell_mark(shell_pid))

    def allow_pin(self, directory: str | None = None) -> str:
        """Honour the ``.azctx`` file of ``directory`` (as it is now) from now on."""
        from azctx.store.pins import allow

        pin = allow(directory, self._environ)
        if self.view().get(pin.name) is None:
            self._warn(f"{pin.path} names '{pin.name}', which is not a context here")
        self._pin_changed(Path(pin.path))
        return f"allowed {pin.path} (context '{pin.name}')"

    def disallow_pin(self, directory: str | None = None) -> str:
        from azctx.store.pins import disallow, pin_file

        path = pin_file(directory)
        if not disallow(directory, self._environ):
            raise Refused(f"{path} was not allowed")
        self._pin_changed(path)
        return f"{path} is no longer honoured"

    def _pin_changed(self, pin: Path) -> None:
        """After ``allow`` or ``disallow`` of ``pin``: when the caller's shell is under
        that very pin, its hook applies the change at the next prompt, as ``direnv
        allow`` does. Only then: a shell in another pinned folder, whose default was
        changed by hand since, keeps it."""
        from azctx.store.azcli.sessions import mark_pin_changed
        from azctx.store.pins import governing_pin

        caller = self._caller()
        if caller.session is None or caller.run_context is not None:
            return  # no shell session to tell, or a shell that pins never move
        if governing_pin(self._environ) != pin or self.session_status().state != "live":
            return
        try:
            mark_pin_changed(caller.session, self._environ, pin)
        except (OSError, AzctxError) as exc:
            self._warn(f"this shell applies it when it next enters the folder: {exc}")

    def pin(
        self, path: str, previous: str | None = None, *, yes: bool = False, again: bool = False
    ) -> PinResult:
        """A shell crossed a pin boundary: it is now under the pin file ``path`` ("" for
        none). Entering a pin makes its context the shell's own default; leaving the
        last one brings back ``previous``, the default from before the first pin.
        Pinning a protected context raises ``ConfirmationNeeded`` unless ``yes``; going
        back to ``previous`` never asks (the shell had it already). ``again``: the shell
        is still under ``path``, whose permission changed (``allow``, ``disallow``): a
        pin no longer honoured brings ``previous`` back, as leaving does."""
        from azctx.store.pins import pin_warning

        self._clear_pin_changed()
        if self.session_status().state != "live":  # else a pin would move the saved default
            self._warn("a directory pin needs this shell's own session")
            return PinResult(previous, None)
        if not path:
            if not previous or self.view().get(previous) is None:
                return PinResult(None, None)
            summary = self.select(previous, yes=True).summary
            return PinResult(None, f"left the pinned folder: {summary}")
        pin, warning = pin_warning(path, self._environ)
        if pin is None and again:  # the user has just said so: no warning
            if not previous or self.view().get(previous) is None:
                return PinResult(previous, None)
            summary = self.select(previous, yes=True).summary
            return PinResult(None, f"{path} is no longer honoured: {summary}")
        if pin is None:
            self._warn(str(warning))
            return PinResult(previous, None)
        shown = self.view()
        if shown.get(pin.name) is None:
            self._warn(f"{path} names '{pin.name}', which is not a context here")
            return PinResult(previous, None)
        before = previous or shown.default
        if shown.default is not None and shown.default.casefold() == pin.name.casefold():
            return PinResult(before, None)
        summary = self.select(pin.name, yes=yes).summary
        return PinResult(before, f"pinned by {path}: {summary}")

    def _clear_pin_changed(self) -> None:
        """The mark ``allow`` left goes first, whatever this pin then does: left behind,
        it would have every prompt start azctx."""
        from azctx.store.azcli.sessions import clear_pin_changed

        session = self._caller().session
        if session is not None:
            with contextlib.suppress(OSError, AzctxError):
                clear_pin_changed(session, self._environ)

    def _seen_default(self) -> str | None:
        """The caller's default, for a message: a view without the warnings a read
        gives (the command's own view already said them)."""
        return view(self.state(), self._caller()).default

    def _moved(self, before: str | None, event: Event) -> str:
        """What an add, a removal or an undo did to the defaults: the caller's, when it now sees
        another one (in a shell, "this shell's"), and the saved one when it moved while
        the shell shows something else."""
        state, caller = self.state(), self._caller()
        now = view(state, caller).default
        in_shell = session_status(state, caller) == "live"
        whose = whose_default(state, caller)
        text = ""
        if now != before:
            text = f"; {whose} is now '{now}'" if now else f"; {whose} is none now"
        saved = [c.after for c in event.changes if c.type == "default" and c.scope == USER]
        if in_shell and saved and saved[0] != now:
            text += f"; the saved default (user scope) is {_named_or_none(saved[0])}"
        return text

    def sessions(self) -> list[SessionRow]:
        """The live sessions of this host, with their shells, oldest first."""
        from azctx.projections.handoff.session_default import live_sessions, session_default
        from azctx.store.writing import shell_gone

        state, here = self.state(), callers.actor().host
        now = self._caller().time
        rows = []
        for sid in live_sessions(state, now):
            info = state.sessions[sid]
            if info.actor.host != here or shell_gone(info, here):
                continue
            mark = None if info.shell is None else processes.parse(info.shell)
            choice = session_default(state, sid, now)
            rows.append(
                SessionRow(
                    sid,
                    None if mark is None else mark.pid,
                    info.shell_name,
                    info.started,
                    info.expires,
                    None if choice is None else choice.context.name,
                    sid == self._caller().session,
                )
            )
        return rows

    def end_session(self) -> OperationResult:
        """End the session ``AZCTX_SESSION`` names and destroy its secrets. Returns the
        operation; raises ``Refused`` when no session is set."""
        from azctx.projections.decisions.sessions import decide_session_end

        def decider(log: Log, state: State, caller: Caller) -> Decision:
            sid = caller.session
            if sid is None:
                raise Refused("no session to end: AZCTX_SESSION is not set")
            key_ids = tuple(log.session_key_ids(sid))
            return decide_session_end(state, caller, session_id=sid, key_ids=key_ids)

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
        """Import an AzureRmContext.json (``from_az_cli``: an azureProfile.json) as one
        operation: same names replaced, others kept, the file's default selected.
        Returns the operation; raises ``BadInput`` naming the bad field's path."""
        from azctx.projections.decisions.importing import decide_import
        from azctx.projections.formats.azps_import import parse_az_powershell  # import only
        from azctx.store.files import read_import_file

        text = read_import_file(path)
        if from_az_cli:
            from azctx.store.azcli.importing import (
                parse_profile,  # + service_principal_entries.json
            )

            plan = parse_profile(text, path)
        else:
            plan = parse_az_powershell(text, rename_invalid=rename_invalid)
        wanted = {s.account: (s.secret, s.certificate_path) for s in plan.secrets}

        def decider(log: Log, state: State, caller: Caller) -> Decision:
            def decide(credentials: Mapping[str, Credential]) -> Decision:
                return decide_import(
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
            if not wanted:
                return probe
            return decide(writing.sealed(log, state, caller, probe.event, wanted))

        seq, event, notes = self._write(decider)
        summary = f"imported {len(plan.contexts)} context(s) from {Path(path).name}"
        return OperationResult(
            seq, event.type, None, f"{summary} (operation {seq})", (*plan.notes, *notes)
        )

    # ------------------------------------------------------------------ reads
    def state(self, at: str | None = None) -> State:
        """The whole projected state (every scope, session and environment) now, or
        after the operation number or time ``at`` names (``BadInput`` if malformed)."""
        upto = None
        log = self._open()
        if at is not None:
            upto = past.resolve(log, parse_when(at, "--at"))
        state, _ = self._cache.load(log, upto)
        return state

    def view(self, at: str | None = None) -> View:
        """What the caller sees (its session over the user scope): the contexts,
        the default, the environments; ``at`` as in ``state``."""
        caller = self._caller()
        state = self.state(at)
        warning = callers.session_warning(caller.session, session_status(state, caller))
        if warning is not None:
            self._warn(warning)
        return view(state, caller)

    def contexts(self, at: str | None = None) -> tuple[ViewContext, ...]:
        """The contexts the caller sees, sorted by name; ``at`` as in ``state``."""
        return self.view(at).contexts

    def current(self, at: str | None = None) -> str | None:
        """The name of the caller's default context, or ``None`` when none is
        selected; ``at`` as in ``state``."""
        return self.view(at).default

    def show(self, name: str | None = None, *, at: str | None = None) -> ViewContext:
        """Context ``name`` (default: the default context), without secrets. Raises
        ``BadInput`` for an invalid name, ``Refused`` when there is no such context.
        A secret whose key is gone from the store (deleted behind azctx's back) shows as
        no credential, with a warning."""
        item = self.view(at).pick(name)
        cred = item.credential_obj
        sealed = at is None and cred is not None and cred.sealed is not None
        if sealed and cred is not None and not self._open().key_exists(cred.key_id):
            self._warn(
                f"the key of the credential of '{item.context.name}' is gone from the store:"
                " its secret cannot be read; add the credential again"
            )
            return item._replace(credential="none")
        return item

    def autosave_status(self) -> tuple[bool, str]:
        """Whether autosave is on for the caller, and the scope that decided it."""
        return autosave(self.state(), self._caller())

    def history(
        self,
        *,
        limit: int | None = None,
        context: str | None = None,
        since: str | None = None,
    ) -> list[HistoryRow]:
        """The operations, newest first: at most ``limit``, only those touching context
        ``context``, only since the time or operation ``since``."""
        return past.history(self._open(), limit=limit, context=context, since=since)

    def environment_for(self, name: str | None = None, *, yes: bool = False) -> RunEnvironment:
        """The variables a child process needs to act as context ``name`` (default:
        the default context): for ``azctx run`` and Python background jobs. Holds the
        credential in clear: hand it to the child only. Raises ``Refused`` when there
        is no such context or its key was destroyed, ``ConfirmationNeeded`` for a
        protected context unless ``yes``."""
        from azctx.store import handoff  # only run and Python jobs hand a context on

        return handoff.run_environment(self._open(), self.state(), self._caller(), name, yes)

    def export(
        self,
        path: str,
        *,
        context: str | None = None,
        include_secrets: bool = False,
        force: bool = False,
    ) -> str:
        """Write the caller's contexts (or only ``context``) as Az PowerShell's
        AzureRmContext.json to ``path``, secrets only with ``include_secrets`` (then
        the file is private to the user). Returns a one-line summary; raises
        ``Refused`` when ``path`` exists and ``force`` is not set."""
        from azctx.store import handoff
        from azctx.store.files import write_export_file

        log, state, caller = self._open(), self.state(), self._caller()
        text, count = handoff.export_text(log, state, caller, context, include_secrets)
        write_export_file(path, text, private=include_secrets, force=force)
        what = "with secrets" if include_secrets else "without secrets"
        return f"exported {count} context(s) to {path} ({what})"

    def verify(self, *, chain_only: bool = False) -> VerifyReport:
        """Check every log row's hash chain and, unless ``chain_only`` (which needs no
        master key), decrypt every row and snapshot. Returns the counts; raises
        ``TamperedError`` at the first row or snapshot that does not check."""
        if chain_only:
            with open_log(self._target, environ=self._environ, key_required=False) as log:
                return log.verify(chain_only=True)
        log = self._open()
        report = log.verify(chain_only=False)
        verify_snapshots(log)
        verify_data_keys(log, self.state())
        return report

    def session_status(self) -> SessionStatus:
        """The caller's session (``AZCTX_SESSION``): its id, its state (``live``,
        ``ended``, ``expired``, ``unknown`` to this store, or ``none`` when no session
        is set) and when it expires."""
        caller = self._caller()
        state = self.state()
        status = session_status(state, caller)
        info = state.sessions.get(caller.session) if caller.session else None
        return SessionStatus(caller.session, status, None if info is None else info.expires)

    def key_status(self) -> KeyStatus:
        """Where the master key comes from (file, environment), its path and id, and
        the store it opens."""
        info = self._open().master_key_info()
        return KeyStatus(
            info.source or "none",
            None if info.path is None else str(info.path),
            info.key_id,
            info.store,
        )

    def rotate_key(self, new_key_file: str | None = None) -> OperationResult:
        """Rewrap every data key under a new master key, written to ``new_key_file``
        (default: in place of the current one) only once the store has committed.
        Returns the operation; raises ``StoreError`` when the new file cannot be
        written (nothing changes then)."""
        from azctx.projections.decisions.sessions import decide_key_rotate
        from azctx.store.keys.rotation import prepare_rotation

        log = self._open()
        rotation = prepare_rotation(log.master_key_info(), new_key_file)

        def decider(lg: Log, state: State, caller: Caller) -> Decision:
            key_id = lg.rotate_master_key(rotation.key, rotation.path)
            return decide_key_rotate(state, caller, master_key_id=key_id)

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


def undone(event: Event, subject: str | None) -> str:
    """ "undid operation 5 (remove 'prod'): 'prod' is back"."""
    from azctx.projections.history import undo_effects

    op = event.op
    assert isinstance(op, Undone)
    what = op.target_type if subject is None else f"{op.target_type} '{subject}'"
    effects = undo_effects(event)
    return f"undid operation {op.target} ({what})" + (f": {effects}" if effects else "")


def _named_or_none(value: object) -> str:
    return "none now" if value is None else f"now '{value}'"


def shell_mark(pid: int | None) -> str:
    """The mark of the shell process ``pid`` (default: this process's parent)."""
    from azctx.events import BadInput

    wanted = processes.shell_of(os.getppid()) if pid is None else pid
    mark = processes.mark_of(wanted)
    if mark is None:
        raise BadInput(f"no process {wanted} runs here", hint="--pid names the shell's process")
    return mark.text()


def selected(event: Event, name: str) -> str:
    """What a select says: the new default, and which scope it changed."""
    name = event.subject or name
    if event.scope == "process":
        return f"this shell's default context is now '{name}'"
    return f"the saved default context (user scope) is now '{name}'"


__all__ = [
    "ContextStore",
    "KeyStatus",
    "OperationResult",
    "RunEnvironment",
    "SessionInfo",
    "SessionStatus",
]
