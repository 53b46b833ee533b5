"""The ContextStore library API, through the store itself: every
operation, scopes and autosave, sessions and their expiry, undo of every kind,
history, time travel, snapshots, keys, and crypto-shredding checked on the raw rows.

``ContextStoreContract`` runs on every backend (SQLite, PostgreSQL); the tests of how a
load reads a SQLite file (rows fetched, a file put back, a row changed in place) are
SQLite's own."""

from __future__ import annotations

import base64
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azctx.events import (
    BadInput,
    ConfirmationNeeded,
    Event,
    Refused,
    SessionEnded,
    StoreError,
    decode,
)
from azctx.projections import decisions as d
from azctx.projections import snapshot
from azctx.projections.state import State, evolve, replay
from azctx.projections.view import Caller, View
from azctx.store import Log, open_log
from azctx.store.backends.sqlite import SqliteRecorder
from azctx.store.caller import actor
from azctx.store.context_store import ContextStore
from azctx.store.errors import StoreAbsentError
from azctx.store.keys import cipher as crypto
from azctx.store.keys.master import key_id
from azctx.store.loader import SNAPSHOT_EVERY
from azctx.store.rows import row_metadata
from azctx.store.writing import append_event

# -- the world: one store, stores with their own environments ---------------------------


@dataclass
class World:
    tmp: Path
    #: a database URL; ``None``: the SQLite file ``path``
    url: str | None = None
    key: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    opened: list[ContextStore] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.tmp / "store.db"

    @property
    def target(self) -> str | Path:
        return self.path if self.url is None else self.url

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The raw rows of a query, past azctx's own reading."""
        if self.url is None:
            con = sqlite3.connect(self.path)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def env(self, **extra: str) -> dict[str, str]:
        environ = {
            "AZCTX_KEY": self.key,
            "AZCTX_DATA_DIR": str(self.tmp / "data"),
            "AZCTX_CONFIG_DIR": str(self.tmp / "config"),
        }
        environ.update(extra)
        return environ

    def store(self, **extra: str) -> ContextStore:
        """A store with its own environ (``session=`` sets AZCTX_SESSION)."""
        if "session" in extra:
            extra["AZCTX_SESSION"] = extra.pop("session")
        opened = ContextStore(self.target, environ=self.env(**extra))
        self.opened.append(opened)
        return opened

    def session(self, ttl: str = "24h", **extra: str) -> ContextStore:
        sid = self.store().start_session(ttl).session_id
        return self.store(session=sid, **extra)

    def log(self) -> Log:
        return open_log(self.target, environ=self.env())


def _world(tmp_path: Path, url: str | None = None) -> Iterator[World]:
    w = World(tmp_path, url)
    yield w
    for opened in w.opened:
        opened.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A SQLite store, for the tests of SQLite's own."""
    yield from _world(tmp_path)


def add(store: ContextStore, name: str | None, account: str = "u@contoso.org", **kw: Any) -> int:
    kw.setdefault("tenant", "tenant-1")
    kw.setdefault("subscription", f"sub-{name or 'none'}")
    return store.add(account=account, name=name, **kw).seq


def names(store: ContextStore, at: str | None = None) -> list[str]:
    return [c.context.name for c in store.contexts(at)]


def entries(world: World) -> list[tuple[int, Event]]:
    with world.log() as log:
        return [(e.seq, decode(e.payload)) for e in log.entries()]


# -- disconnect, clear -------------------------------------------------------------------


def _credential_key_ids(world: World) -> list[str]:
    return [k for (k,) in world.rows("SELECT key_id FROM data_keys WHERE kind != 'log'")]


# -- sessions --------------------------------------------------------------------------


def _marker() -> str:
    return f"MARKER-{secrets.token_hex(8)}"


# -- undo of every kind ------------------------------------------------------------------


def _import_file(world: World) -> Path:
    """An AzureRmContext.json with contexts 'imp' (its default) and 'a' (a name clash)."""
    donor = World(world.tmp / "donor")
    try:
        s = donor.store()
        add(s, "a", subscription="from-file")
        add(s, "imp", account="importer")
        target = world.tmp / "AzureRmContext.json"
        s.export(str(target))
        return target
    finally:
        for opened in donor.opened:
            opened.close()


def _setup(world: World, store: ContextStore, scope: str | None) -> None:
    add(world.store(), "saved", select=False)  # a user context for the session to hide
    add(store, "a", scope=scope)
    add(store, "b", scope=scope, account="other@contoso.org")
    add(store, "c", scope=scope, select=False)


OPERATIONS: dict[str, Callable[[World, ContextStore, str | None], object]] = {
    "add": lambda w, s, sc: add(s, "new", scope=sc),
    "add-force": lambda w, s, sc: add(s, "A", scope=sc, force=True, subscription="x"),
    "add-no-select": lambda w, s, sc: add(s, "quiet", scope=sc, select=False),
    "select": lambda w, s, sc: s.select("c", scope=sc),
    "select-previous": lambda w, s, sc: s.select_previous(scope=sc),
    "rename": lambda w, s, sc: s.rename("b", "renamed", scope=sc),
    "rename-case": lambda w, s, sc: s.rename("b", "B", scope=sc),
    "rename-force": lambda w, s, sc: s.rename("b", "a", force=True, scope=sc),
    "remove": lambda w, s, sc: s.remove("c", scope=sc),
    "remove-default": lambda w, s, sc: s.remove("b", force=True, scope=sc),
    "disconnect": lambda w, s, sc: s.disconnect("u@contoso.org", scope=sc),
    "clear": lambda w, s, sc: s.clear(scope=sc),
    "autosave": lambda w, s, sc: s.set_autosave(False, scope=sc),
    "import": lambda w, s, sc: s.import_file(str(_import_file(w)), scope=sc),
}


def _undone_by(store: ContextStore, seq: int) -> int | None:
    return {r.seq: r.undone_by for r in store.history()}[seq]


# -- snapshots ---------------------------------------------------------------------------


def _many_operations(store: ContextStore, count: int) -> None:
    add(store, "a", account="sp", account_type="service-principal", secret="s")
    add(store, "b")
    done = 2
    while done < count:
        step = done % 5
        if step == 2:
            store.select_previous()
        elif step == 3:
            add(store, f"n{done}", select=False)
        elif step == 4:
            store.rename(f"n{done - 1}", f"r{done}")
        elif step == 0:
            store.undo()
        else:
            store.set_autosave(True)
        done += 1


def _replayed(world: World, upto: int | None = None) -> State:
    with world.log() as log:
        return replay(State.empty(), ((e.seq, decode(e.payload)) for e in log.entries(upto=upto)))


def _snapshot_seqs(world: World) -> list[int]:
    return [s for (s,) in world.rows("SELECT seq FROM snapshots ORDER BY seq")]


class _RowCounter:
    """Counts the log rows a load fetches from the database at all (decrypted or only
    hash-checked), at the recorder, below every check the log layer may add."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = 0
        for name in ("log_page", "log_page_desc"):
            monkeypatch.setattr(SqliteRecorder, name, self._counting(getattr(SqliteRecorder, name)))
        single = SqliteRecorder.log_row

        def counting_row(recorder: SqliteRecorder, seq: int) -> Any:
            row = single(recorder, seq)
            self.rows += row is not None
            return row

        monkeypatch.setattr(SqliteRecorder, "log_row", counting_row)

    def _counting(self, fetch: Any) -> Any:
        def counting(recorder: SqliteRecorder, *args: Any) -> Any:
            rows = fetch(recorder, *args)
            self.rows += len(rows)
            return rows

        return counting

    def load(self, world: World) -> int:
        """Rows a fresh ContextStore (a new command) reads to load the present."""
        self.rows = 0
        world.store().state()
        return self.rows


def test_a_snapshot_of_another_projection_version_is_ignored_and_rebuilt(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = world.store()
    _many_operations(s, SNAPSHOT_EVERY + 10)
    expected = _replayed(world)
    with world.log() as log:
        head = log.head()[0]
        with log.write():  # an unreadable snapshot of an older version at the head
            log.save_snapshot(head, snapshot.PROJECTION_VERSION - 1, b"{not a state}")
    counter = _RowCounter(monkeypatch)
    assert counter.load(world) < SNAPSHOT_EVERY
    assert s.state() == expected
    monkeypatch.setattr(snapshot, "PROJECTION_VERSION", snapshot.PROJECTION_VERSION + 1)
    assert counter.load(world) == head  # no snapshot of this version: the whole log
    assert s.state() == expected
    add(world.store(), "after-upgrade")  # the next write (of the new program) rebuilds one
    assert counter.load(world) <= 2  # the snapshot's own row (and it again as the anchor)
    assert s.state() == _replayed(world)


def _bulk_selects(world: World, count: int) -> None:
    """``count`` select operations appended in one transaction, decided and evolved in
    memory: a long log, as an older azctx without snapshots would have left it."""
    caller = Caller(actor=actor(), time=datetime.now(UTC))
    with world.log() as log, log.write():
        state = replay(State.empty(), ((e.seq, decode(e.payload)) for e in log.entries()))
        for _ in range(count):
            event = d.decide_select_previous(state, caller).event
            seq = append_event(log, event).seq
            state = evolve(state, seq, event)


@pytest.mark.parametrize("length", [100, 2000])
def test_loading_reads_at_most_snapshot_every_rows(
    world: World, monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    s = world.store()
    add(s, "a")
    add(s, "b")
    _bulk_selects(world, length - 42)
    for i in range(40):
        if i % 2:
            s.select_previous()
        else:
            add(s, f"c{i}", select=False)
    assert s.verify().count == length
    counter = _RowCounter(monkeypatch)
    # The tail after the snapshot, plus the snapshot's own row and the tail's anchor.
    bound = SNAPSHOT_EVERY + 2
    assert counter.load(world) <= bound
    s.select_previous()
    assert counter.load(world) <= bound
    assert s.state() == _replayed(world)


def test_writers_taking_turns_fold_only_the_rows_the_others_appended(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = world.store(), world.store()
    _many_operations(first, SNAPSHOT_EVERY + 5)  # a snapshot, then a tail
    add(first, "c")
    second.select("a")
    first.select("b")
    counter = _RowCounter(monkeypatch)
    for turn in range(6):
        counter.rows = 0
        (first if turn % 2 else second).select("bc"[turn % 2])
        # The cached head's row and its anchor, the other's one new row and its
        # anchor: not the snapshot and the tail.
        assert counter.rows <= 4
    assert first.state() == second.state() == _replayed(world)


def test_a_log_that_no_longer_continues_the_cached_one_is_loaded_afresh(world: World) -> None:
    ours, theirs = world.store(), world.store()
    add(ours, "a")
    add(ours, "b")
    ours.close()
    con = sqlite3.connect(world.path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    saved = world.path.read_bytes()
    ours.select("a")  # cached by ours, then lost when the file is put back
    ours.select("b")
    ours.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{world.path}{suffix}").unlink(missing_ok=True)
    world.path.write_bytes(saved)
    add(theirs, "x")
    add(theirs, "y", select=False)
    add(theirs, "z", select=False)
    ours.select("y")  # one row past what ours cached, but not after it: no catch-up
    assert ours.state() == _replayed(world)
    assert names(ours) == ["a", "b", "x", "y", "z"]


def test_catching_up_checks_the_rows_it_folds(world: World) -> None:
    ours, theirs = world.store(), world.store()
    add(ours, "a")
    add(ours, "b")
    theirs.select("a")
    con = sqlite3.connect(world.path)
    with con:
        con.execute("UPDATE log SET ciphertext = zeroblob(length(ciphertext)) WHERE seq = 3")
    con.close()
    with pytest.raises(StoreError, match="log row 3"):
        ours.select("b")


# -- secrets are gone after disconnect and session end -------------------------------------


def _raw_file_bytes(world: World) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        path = Path(f"{world.path}{suffix}")
        if path.exists():
            data += path.read_bytes()
    return data


def _assert_secret_unrecoverable(world: World, marker: str) -> None:
    """Decrypt everything the master key can open in the raw database file and look
    for ``marker``: in payloads, snapshots, and every sealed credential under every data
    key that is left."""
    master = base64.b64decode(world.key)
    master_id = key_id(master)
    wrapped = {
        k: crypto.unwrap(master, master_id, k, bytes(w))
        for k, w in world.rows("SELECT key_id, wrapped FROM data_keys")
    }
    rows = [
        (*r[:6], *(bytes(b) for b in r[6:]))
        for r in world.rows(
            "SELECT seq, time, kind, scope, session, key_id, nonce, ciphertext, prev_hash, hash"
            " FROM log ORDER BY seq"
        )
    ]
    snapshot_rows = [
        (*r[:3], bytes(r[3]), bytes(r[4]))
        for r in world.rows("SELECT seq, version, key_id, nonce, ciphertext FROM snapshots")
    ]
    hashes: dict[int, bytes] = {}
    sealed: list[tuple[str, bytes]] = []
    for seq, time_us, kind, scope, session, log_key, nonce, ciphertext, prev, digest in rows:
        aad = prev + row_metadata(seq, time_us, kind, scope, session, log_key)
        payload = crypto.decrypt(wrapped[log_key], nonce, ciphertext, aad)
        hashes[seq] = digest
        assert marker.encode() not in payload
        for change in decode(payload).changes:
            if change.type != "credential":
                continue
            for cred in (change.before, change.after):
                if cred is not None and cred.sealed is not None:
                    sealed.append((cred.key_id, base64.b64decode(cred.sealed)))
    for seq, version, log_key, nonce, ciphertext in snapshot_rows:
        aad = b"azctx-snapshot-v1\0" + seq.to_bytes(8, "big") + version.to_bytes(8, "big")
        text = crypto.decrypt(wrapped[log_key], nonce, ciphertext, aad + hashes[seq])
        assert marker.encode() not in text
        for cred_key, blob in _sealed_in_snapshot(text):
            sealed.append((cred_key, blob))
    assert sealed, "the test expects the secret to have been sealed somewhere"
    for sealed_under, blob in sealed:
        for data_key_id, data_key in wrapped.items():
            aad = b"azctx-secret-v1\0" + sealed_under.encode()
            try:
                opened = crypto.open(data_key, blob, aad)
            except crypto.CryptoError:
                continue
            assert opened != marker.encode(), f"the secret opens with data key {data_key_id}"
    if world.url is None:
        assert marker.encode() not in _raw_file_bytes(world)


def _sealed_in_snapshot(text: bytes) -> Iterator[tuple[str, bytes]]:
    state = snapshot.state_from_snapshot(text)
    assert state is not None
    for scope in (state.user, *state.process.values()):
        for cred in scope.credentials.values():
            if cred.sealed is not None:
                yield cred.key_id, base64.b64decode(cred.sealed)


def _assert_no_api_reads(store: ContextStore, marker: str, tmp: Path) -> None:
    for item in store.contexts():
        env = store.environment_for(item.context.name)
        assert marker not in env.variables.values()
        if item.context.account.casefold() == "sp":
            assert store.show(item.context.name).credential == "none"
    out = tmp / f"export-{secrets.token_hex(4)}.json"
    store.export(str(out), include_secrets=True)
    assert marker not in out.read_text()


class ContextStoreContract:
    """Every backend must pass these; subclasses provide the ``world`` fixture."""

    def test_a_refused_first_write_leaves_no_store(self, world: World) -> None:
        s = world.store()
        refused: list[Callable[[], object]] = [
            lambda: s.select("prod"),
            lambda: s.remove("prod"),
            lambda: s.rename("prod", "dev"),
            lambda: s.protect("prod"),
            lambda: s.undo(),
            lambda: s.select_previous(),
        ]
        for operation in refused:
            with pytest.raises(Refused):
                operation()
        with pytest.raises(StoreAbsentError):
            open_log(world.target, create=False, environ=world.env()).close()
        add(s, "prod")  # and the first write that is not refused makes it
        assert s.current() == "prod"
        open_log(world.target, create=False, environ=world.env()).close()

    def test_add_default_name_is_account_and_subscription(self, world: World) -> None:
        s = world.store()
        result = s.add(account="user1@contoso.org", tenant="t", subscription="123456-7890")
        assert result.context == "[user1@contoso.org; 123456-7890]"
        assert s.current() == "[user1@contoso.org; 123456-7890]"
        shown = s.show()
        assert shown.context.tenant == "t"
        assert shown.context.environment == "AzureCloud"
        assert shown.scope == "user"
        assert shown.credential == "none"

    def test_add_names_are_case_insensitive_and_keep_their_case(self, world: World) -> None:
        s = world.store()
        add(s, "Prod")
        with pytest.raises(Refused, match="'Prod' already exists"):
            add(s, "PROD")
        assert s.show("pRoD").context.name == "Prod"
        add(s, "PROD", force=True, subscription="replaced")
        assert names(s) == ["PROD"]
        assert s.show("prod").context.subscription == "replaced"

    def test_add_force_replaces_and_no_select_keeps_the_default(self, world: World) -> None:
        s = world.store()
        add(s, "a")
        add(s, "b", select=False)
        assert s.current() == "a"
        assert names(s) == ["a", "b"]
        with pytest.raises(BadInput):
            add(s, "bad\x07name")
        with pytest.raises(BadInput):
            add(s, "x" * 257)

    def test_select_previous_toggles_like_cd_dash(self, world: World) -> None:
        s = world.store()
        with pytest.raises(Refused):
            s.select_previous()
        add(s, "a")
        add(s, "b")
        add(s, "c", select=False)
        s.select("A")
        assert s.current() == "a"
        assert s.select_previous().context == "b"
        assert s.select_previous().context == "a"
        assert s.select_previous().context == "b"
        with pytest.raises(Refused, match="no context named 'zz'"):
            s.select("zz")

    def test_rename_default_follows_and_case_only_rename(self, world: World) -> None:
        s = world.store()
        add(s, "old")
        add(s, "other", select=False)
        s.rename("OLD", "new")
        assert s.current() == "new"
        assert names(s) == ["new", "other"]
        s.rename("new", "NEW")
        assert names(s) == ["NEW", "other"]
        assert s.current() == "NEW"
        with pytest.raises(ConfirmationNeeded):
            s.rename("NEW", "other")
        s.rename("NEW", "other", force=True)
        assert names(s) == ["other"]
        assert s.show().context.subscription == "sub-old"
        with pytest.raises(Refused):
            s.rename("missing", "x")

    def test_remove_default_needs_force_and_falls_back_to_an_earlier_default(
        self, world: World
    ) -> None:
        s = world.store()
        add(s, "a")
        add(s, "b")
        add(s, "c")
        s.remove("b")  # not the default: no confirmation
        with pytest.raises(ConfirmationNeeded):
            s.remove("C")
        assert names(s) == ["a", "c"]
        s.remove("c", force=True)
        assert s.current() == "a"  # "b", more recent, no longer exists
        s.remove("a", force=True)
        assert s.current() is None
        with pytest.raises(Refused):
            s.remove("a", force=True)

    def test_disconnect_removes_every_context_of_the_account(self, world: World) -> None:
        s = world.store()
        add(s, "p1", account="sp1", account_type="service-principal", secret="s3cret")
        add(s, "other", account="someone")
        add(s, "p2", account="SP1", account_type="service-principal")
        s.disconnect()  # the default context's account
        assert names(s) == ["other"]
        assert s.current() == "other"
        with pytest.raises(Refused):
            s.disconnect("sp1")

    def test_clear_removes_everything_in_the_scope(self, world: World) -> None:
        s = world.store()
        add(s, "a", account="x", account_type="service-principal", secret="one")
        add(s, "b", account="y", account_type="service-principal", secret="two")
        s.clear()
        assert names(s) == []
        assert s.current() is None
        assert _credential_key_ids(world) == []

    def test_autosave_precedence_env_then_session_then_user_then_default(
        self, world: World
    ) -> None:
        s = world.store()
        assert s.autosave_status() == (True, "default")
        s.set_autosave(False)
        assert s.autosave_status() == (False, "user")
        session = world.session()
        assert session.autosave_status() == (False, "user")
        session.set_autosave(True, scope="process")
        assert session.autosave_status() == (True, "process")
        assert s.autosave_status() == (False, "user")  # only that session
        sid = session.session_status().session_id
        assert sid is not None
        forced = world.store(session=sid, AZCTX_AUTOSAVE="FALSE")
        assert forced.autosave_status() == (False, "env")
        with pytest.raises(BadInput):
            world.store(AZCTX_AUTOSAVE="yes").autosave_status()

    def test_autosave_off_hides_saved_contexts_and_changes_go_to_the_session(
        self, world: World
    ) -> None:
        s = world.store()
        add(s, "saved")
        s.set_autosave(False)
        assert names(s) == []
        assert s.current() is None
        with pytest.raises(Refused, match="no live session"):
            add(s, "nowhere")
        session = world.session()
        add(session, "mine")
        assert [(c.context.name, c.scope) for c in session.contexts()] == [("mine", "process")]
        add(session, "forced", scope="user")
        s.set_autosave(True)
        assert names(s) == ["forced", "saved"]
        assert sorted(names(session)) == ["forced", "mine", "saved"]

    def test_process_scope_shadows_and_hides_user_contexts(self, world: World) -> None:
        s = world.store()
        add(s, "shared", subscription="user-one")
        session = world.session()
        add(session, "SHARED", scope="process", subscription="session-one", force=True)
        assert session.show("shared").context.subscription == "session-one"
        assert s.show("shared").context.subscription == "user-one"
        add(s, "other")
        session.remove("other", scope="process")
        assert "other" not in names(session)
        assert "other" in names(s)

    def test_session_start_status_end(self, world: World) -> None:
        s = world.store()
        assert s.session_status().state == "none"
        session = world.session()
        status = session.session_status()
        assert status.state == "live"
        assert status.expires is not None and status.expires > datetime.now(UTC)
        add(session, "temp", scope="process")
        session.end_session()
        assert session.session_status().state == "ended"
        warnings: list[str] = []
        sid = status.session_id
        assert sid is not None
        reader = ContextStore(
            world.target, environ=world.env(AZCTX_SESSION=sid), on_warning=warnings.append
        )
        assert names(reader) == []
        assert warnings and "ended" in warnings[0]
        with pytest.raises(Refused):
            add(session, "late", scope="process")
        with pytest.raises(Refused, match="already ended"):
            session.end_session()

    def test_end_session_needs_a_known_session(self, world: World) -> None:
        with pytest.raises(Refused, match="AZCTX_SESSION is not set"):
            world.store().end_session()
        with pytest.raises(Refused, match="unknown"):
            world.store(session="s-0000000000000000").end_session()
        assert entries(world) == []  # nothing appended
        with pytest.raises(BadInput):
            world.store().start_session("forever")

    def test_an_expired_session_ends_on_the_next_write_and_its_secrets_go(
        self, world: World
    ) -> None:
        session = world.session("1s")
        marker = _marker()
        add(
            session,
            "tmp",
            account="sp",
            account_type="service-principal",
            secret=marker,
            scope="process",
        )
        assert session.environment_for("tmp").variables["AZURE_CLIENT_SECRET"] == marker
        time.sleep(1.1)
        assert session.session_status().state == "expired"
        assert names(session) == []  # reads already show the view without it
        add(world.store(), "later")  # any write notices the expiry
        ended = [e for _, e in entries(world) if isinstance(e.op, SessionEnded)]
        assert [(e.op.session_id, e.op.reason) for e in ended] == [
            (session.session_status().session_id, "expired")
        ]
        assert ended[0].shredded
        _assert_secret_unrecoverable(world, marker)

    def test_end_session_of_an_expired_session_is_recorded(self, world: World) -> None:
        session = world.session("1s")
        marker = _marker()
        add(
            session,
            "tmp",
            account="sp",
            account_type="service-principal",
            secret=marker,
            scope="process",
        )
        time.sleep(1.1)
        result = session.end_session()
        assert result.operation == "session-end"
        ended = [e for _, e in entries(world) if isinstance(e.op, SessionEnded)]
        assert len(ended) == 1
        _assert_secret_unrecoverable(world, marker)

    @pytest.mark.parametrize("scope", ["user", "process"])
    @pytest.mark.parametrize("kind", list(OPERATIONS))
    def test_undo_restores_the_view_before_and_redo_the_view_after(
        self, world: World, kind: str, scope: str
    ) -> None:
        store = world.session() if scope == "process" else world.store()
        _setup(world, store, scope)
        before = store.view()
        OPERATIONS[kind](world, store, scope)
        after = store.view()
        assert after != before
        undo = store.undo()
        assert store.view() == before
        redo = store.undo(undo.seq)
        assert store.view() == after
        store.undo(redo.seq)  # undoing the redo undoes the operation again
        assert store.view() == before
        assert world.store().verify().count == len(entries(world))

    def test_undo_of_an_undo_of_an_undo_and_undone_by(self, world: World) -> None:
        s = world.store()
        first = add(s, "a")
        undo = s.undo().seq
        assert _undone_by(s, first) == undo
        redo = s.undo(undo).seq
        assert _undone_by(s, first) is None
        assert _undone_by(s, undo) == redo
        assert names(s) == ["a"]
        with pytest.raises(Refused, match="already undone"):
            s.undo(undo)

    def test_undo_conflicts_are_refused_naming_the_context(self, world: World) -> None:
        s = world.store()
        add(s, "a")
        add(s, "keep")
        removed = s.remove("a").seq
        add(s, "A", select=False, subscription="reused")
        count = len(entries(world))
        with pytest.raises(Refused, match="context 'a' \\(user scope\\) has changed"):
            s.undo(removed)
        assert len(entries(world)) == count  # nothing appended

    def test_plain_undo_picks_the_user_scope_or_the_callers_session(self, world: World) -> None:
        s = world.store()
        user_op = add(s, "u")
        mine = world.session()
        theirs = world.session()
        mine_op = add(mine, "m", scope="process")
        add(theirs, "t", scope="process")
        undo_mine = mine.undo().seq  # its own session's operation, the newest it may undo
        assert _undone_by(s, mine_op) == undo_mine
        undo_user = s.undo().seq  # no session: the user scope only
        assert _undone_by(s, user_op) == undo_user
        with pytest.raises(Refused, match="nothing to undo"):
            s.undo()
        assert "t" in names(theirs)  # the other session's operation was never picked

    def test_plain_undo_skips_undos_and_undone_operations(self, world: World) -> None:
        s = world.store()
        first = add(s, "a")
        second = add(s, "b")
        s.undo()
        assert _undone_by(s, second) is not None
        s.undo()
        assert _undone_by(s, first) is not None
        assert names(s) == []

    def test_not_undoable_kinds_and_bad_targets_are_refused(self, world: World) -> None:
        session = world.session()
        start = 1
        end = session.end_session().seq
        for seq in (start, end):
            with pytest.raises(Refused, match="cannot be undone"):
                world.store().undo(seq)
        for seq in (0, -1, end + 1):
            with pytest.raises(Refused, match=f"there is no operation {seq}"):
                world.store().undo(seq)
        assert len(entries(world)) == end

    def test_other_sessions_process_operations_cannot_be_undone(self, world: World) -> None:
        session = world.session()
        op = add(session, "p", scope="process")
        with pytest.raises(Refused, match="only that session"):
            world.store().undo(op)

    def test_history_rows_newest_first_with_filters(self, world: World) -> None:
        s = world.store()
        add(s, "a")
        middle = datetime.now(UTC)
        add(s, "b")
        s.rename("b", "c")
        s.undo()
        rows = s.history()
        assert [r.seq for r in rows] == [4, 3, 2, 1]
        assert [r.operation for r in rows] == ["undo", "rename", "add", "add"]
        assert [r.context for r in rows][1:] == ["b", "b", "a"]
        assert rows[1].undone_by == 4
        first = rows[-1]
        assert first.scope == "user" and first.session is None
        assert first.user and first.host
        assert first.time.tzinfo is not None
        assert [r.seq for r in s.history(limit=2)] == [4, 3]
        assert [r.seq for r in s.history(context="B")] == [4, 3, 2]
        assert [r.seq for r in s.history(context="c")] == [4, 3]
        assert [r.seq for r in s.history(since="2")] == [4, 3]
        assert [r.seq for r in s.history(since=middle.isoformat())] == [4, 3, 2]
        with pytest.raises(BadInput):
            s.history(since="99")
        with pytest.raises(BadInput):
            s.history(since="last tuesday")

    def test_view_at_an_operation_number_or_a_time(self, world: World) -> None:
        s = world.store()
        start = datetime.now(UTC) - timedelta(seconds=1)
        views: list[View] = []
        moments: list[datetime] = []
        for op in (
            lambda: add(s, "a"),
            lambda: add(s, "b"),
            lambda: s.select("a"),
            lambda: s.remove("b"),
        ):
            op()
            views.append(s.view())
            moments.append(datetime.now(UTC))
        for n, expected in enumerate(views, start=1):
            assert s.view(at=str(n)) == expected
            assert s.view(at=moments[n - 1].isoformat()) == expected
        assert s.view(at=start.isoformat()).contexts == ()
        assert s.current(at="2") == "b"
        assert s.show("b", at="3").context.name == "b"
        for bad in ("0", "5", "99", "soon", "2026-13-45"):
            with pytest.raises(BadInput):
                s.view(at=bad)

    def test_verify_counts_every_operation(self, world: World) -> None:
        s = world.store()
        for name in ("a", "b", "c"):
            add(s, name)
        report = s.verify()
        assert (report.count, report.head_seq, report.ciphertexts_checked) == (3, 3, True)
        chain = s.verify(chain_only=True)
        assert chain.head_hash == report.head_hash and not chain.ciphertexts_checked

    def test_key_status_and_rotation(self, world: World) -> None:
        key_file = world.tmp / "keys" / "master.key"
        env = world.env(AZCTX_KEY_FILE=str(key_file))
        del env["AZCTX_KEY"]
        s = ContextStore(world.target, environ=env)
        world.opened.append(s)
        marker = _marker()
        add(s, "sp", account="sp", account_type="service-principal", secret=marker)
        status = s.key_status()
        assert (status.source, status.path) == ("env-file", str(key_file))
        old = key_file.read_text().strip()
        s.rotate_key()
        assert key_file.read_text().strip() != old
        assert s.key_status().key_id != status.key_id
        with pytest.raises(StoreError):
            ContextStore(world.target, environ=world.env(AZCTX_KEY=old)).view()
        again = ContextStore(world.target, environ=env)
        world.opened.append(again)
        assert again.environment_for("sp").variables["AZURE_CLIENT_SECRET"] == marker
        assert again.verify().count == 2
        with pytest.raises(Refused, match="cannot be undone"):
            again.undo(2)

    def test_replay_from_zero_equals_snapshot_plus_tail_equals_live(self, world: World) -> None:
        s = world.store()
        _many_operations(s, 2 * SNAPSHOT_EVERY + 20)
        seqs = _snapshot_seqs(world)
        assert len(seqs) >= 2
        live = s.state()
        assert live == _replayed(world)
        assert live.seq == len(entries(world))
        with world.log() as log:
            for seq in seqs:
                snap = log.latest_snapshot(snapshot.PROJECTION_VERSION, seq)
                assert snap is not None and snap.seq == seq
                assert snapshot.state_from_snapshot(snap.payload) == _replayed(world, seq)
        for at in (str(seqs[0]), str(seqs[0] + 3), str(live.seq)):
            assert s.state(at) == _replayed(world, int(at))

    def test_a_snapshot_is_saved_at_every_multiple_whoever_writes(self, world: World) -> None:
        stores = [world.store() for _ in range(3)]
        add(stores[0], "a")
        add(stores[0], "b")
        for index in range(3 * SNAPSHOT_EVERY):
            stores[index % 3].select("ab"[index % 2])
        head = stores[0].state().seq
        multiples = list(range(SNAPSHOT_EVERY, head + 1, SNAPSHOT_EVERY))
        assert _snapshot_seqs(world) == multiples  # one each, by whoever crossed it

    @pytest.mark.parametrize("after_undone_add", [False, True])
    def test_after_disconnect_the_secret_is_gone_for_good(
        self, world: World, after_undone_add: bool
    ) -> None:
        s = world.store()
        kept = _marker()
        add(s, "other", account="keeper", account_type="service-principal", secret=kept)
        marker = _marker()
        if after_undone_add:  # an earlier secret of the account, added then undone
            add(s, "p0", account="sp", account_type="service-principal", secret=marker)
            s.undo()
        add(s, "p1", account="sp", account_type="service-principal", secret=marker)
        add(s, "p2", account="SP", account_type="service-principal")
        assert s.environment_for("p2").variables["AZURE_CLIENT_SECRET"] == marker
        s.disconnect("sp")
        assert names(s) == ["other"]
        with pytest.raises(Refused):
            s.environment_for("p1")
        _assert_no_api_reads(s, marker, world.tmp)
        _assert_secret_unrecoverable(world, marker)
        # The rest of the history still reads.
        assert s.environment_for("other").variables["AZURE_CLIENT_SECRET"] == kept
        assert s.history()[0].operation == "disconnect"
        assert s.verify().count == len(s.history())
        # Undo brings the contexts back, without their credential.
        s.undo()
        assert names(s) == ["other", "p1", "p2"]
        assert [s.show(n).credential for n in ("p1", "p2")] == ["none", "none"]
        _assert_no_api_reads(s, marker, world.tmp)
        assert "AZURE_CLIENT_SECRET" not in s.environment_for("p1").variables
        _assert_secret_unrecoverable(world, marker)

    def test_after_clear_the_secrets_are_gone(self, world: World) -> None:
        s = world.store()
        marker = _marker()
        add(s, "p0", account="sp", account_type="service-principal", secret=marker)
        s.undo()
        add(s, "p1", account="sp", account_type="service-principal", secret=marker)
        s.clear()
        _assert_secret_unrecoverable(world, marker)
        s.undo()
        assert s.show("p1").credential == "none"

    def test_after_session_end_its_process_secret_is_gone(self, world: World) -> None:
        s = world.store()
        kept = _marker()
        add(s, "saved", account="keeper", account_type="service-principal", secret=kept)
        session = world.session()
        marker = _marker()
        add(
            session,
            "tmp",
            account="sp",
            account_type="service-principal",
            secret=marker,
            scope="process",
        )
        assert session.environment_for("tmp").variables["AZURE_CLIENT_SECRET"] == marker
        session.end_session()
        with pytest.raises(Refused):
            session.environment_for("tmp")
        _assert_no_api_reads(session, marker, world.tmp)
        _assert_secret_unrecoverable(world, marker)
        assert s.environment_for("saved").variables["AZURE_CLIENT_SECRET"] == kept
        assert s.verify().count == len(s.history()) == 4

    def test_a_store_object_sees_what_another_wrote_since_its_last_operation(
        self, world: World
    ) -> None:
        """An object reuses the state it loaded or wrote only while the head is unchanged:
        another writer's operation (another process, or another object) is never missed."""
        a, b = world.store(), world.store()
        add(a, "first")
        add(b, "second")
        assert {i.context.name for i in a.contexts()} == {"first", "second"}
        b.remove("first", force=False)
        with pytest.raises(Refused):  # decided against b's removal, not a's stale state
            a.select("first")
        add(a, "third")
        assert a.state() == b.state() == _replayed(world)

    def test_an_invalid_name_is_bad_input_where_it_is_only_looked_up(self, world: World) -> None:
        # an invalid name is bad input (exit 2) for the lookups too, not "no context"
        store = world.store()
        store.add(account="a@x", tenant="t", subscription="s", name="ok")
        before = store.history()
        for lookup in (
            lambda: store.show("bad\u200bname"),
            lambda: store.environment_for("bad\x01name"),
            lambda: store.export(str(world.tmp / "out.json"), context="-"),
        ):
            with pytest.raises(BadInput, match="invalid context name"):
                lookup()
        with pytest.raises(Refused, match="no context named 'missing'"):
            store.show("missing")
        assert store.history() == before
        assert not (world.tmp / "out.json").exists()


class TestSqliteContextStore(ContextStoreContract):
    @pytest.fixture
    def world(self, tmp_path: Path) -> Iterator[World]:
        yield from _world(tmp_path)


@pytest.mark.postgres
class TestPostgresContextStore(ContextStoreContract):
    @pytest.fixture
    def world(self, tmp_path: Path, postgres_url: str) -> Iterator[World]:
        yield from _world(tmp_path, postgres_url)
