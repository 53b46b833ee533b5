"""``Log``: the encrypted, hash-chained, append-only operation log, over any ``Recorder``.

The row format is in ``rows``, the chain checks in ``chain``, the master key's records
and the data keys in ``data_keys``, opening (and creating, at the first write) in
``opening``. Every read checks the rows it returns; ``verify`` checks them all, and
every data key.

Times never decrease along the log: an append whose clock is behind the head (another
process' clock, or a clock step) is stamped with the head's time, so "the last
operation at or before T" is one index lookup and agrees with the order of the log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from azctx.store import chain
from azctx.store.backends.recorder import LogRow, Recorder, SnapshotRow
from azctx.store.errors import (
    KeyDestroyedError,
    MalformedKeyError,
    MissingKeyError,
    TamperedError,
    WrongKeyError,
)
from azctx.store.keys import cipher, data_keys
from azctx.store.keys import master as keys
from azctx.store.keys.master import MasterKey, MasterKeyInfo
from azctx.store.rows import (
    ZERO_HASH,
    Entry,
    Snapshot,
    VerifyReport,
    now_us,
    row_hash,
    row_metadata,
    secret_aad,
    snapshot_aad,
    to_us,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_KINDS = data_keys.SECRET_KINDS
_SNAPSHOT_PAGE = 8

if TYPE_CHECKING:  # annotations only: defining Protocol classes costs a prompt command

    class Keys(Protocol):
        """How a ``Log`` gets its key records: ``opening.Attached`` once the store exists."""

        @property
        def master(self) -> MasterKey | None: ...

        @property
        def stored_key_id(self) -> str: ...

        @property
        def log_key_id(self) -> str: ...

    class Maker(Protocol):
        """Creates a store that did not exist when it was opened, at its first write."""

        def recorder(self) -> Recorder:
            """The recorder of the store, its file (and folder) created."""
            ...

        def attach(self, recorder: Recorder) -> Keys:
            """Inside the first write transaction: the schema and key records, made now
            unless another process made them first."""
            ...

        def probe(self) -> tuple[Recorder, Keys] | None:
            """The store, if another process has created it since: its recorder and key
            records, checked as at any open; None while it still does not exist."""
            ...

        def key_location(self) -> tuple[keys.KeySource, Path] | None:
            """Where the first write will take the key from, when no key is loaded yet."""
            ...


class OutsideWrite(RuntimeError):
    """A change of the log asked for outside ``Log.write()``."""


class Log:
    """One open store. Not thread-safe: use one ``Log`` per thread or process.

    Made by ``open_log``; a store that does not exist yet reads as empty and is
    created by the first ``write()`` (``maker``)."""

    def __init__(self, recorder: Recorder, attached: Keys, maker: Maker | None = None) -> None:
        self._recorder = recorder
        self._master = attached.master
        self._stored_key_id = attached.stored_key_id
        self._log_key_id = attached.log_key_id
        self._maker = maker
        self._made = False
        self._log_keys: dict[str, bytes] = {}
        self._log_ciphers: dict[str, AESGCM] = {}
        self._writing = False
        self._pending_master: MasterKey | None = None
        self._shredded = False

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        self._log_keys.clear()
        self._log_ciphers.clear()
        self._recorder.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def description(self) -> str:
        return self._recorder.description

    @property
    def exists(self) -> bool:
        """False until the first write of a store that did not exist when opened (or
        until a read finds that another process created it)."""
        self._refresh()
        return self._maker is None

    def _refresh(self) -> None:
        # A store missing at open reads as empty; another process may create it while
        # this log stays open, and from then on the reads must see it.
        if self._maker is None or self._made:
            return
        found = self._maker.probe()
        if found is None:
            return
        self._recorder.close()
        self._recorder, attached = found
        self._master = attached.master
        self._stored_key_id = attached.stored_key_id
        self._log_key_id = attached.log_key_id
        self._maker = None

    # -- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def write(self, after_commit: Callable[[], None] | None = None) -> Iterator[None]:
        """One write transaction; a nested ``write()`` joins the outer one. The first
        write of a store that did not exist creates it, in the same transaction.

        ``after_commit`` runs once the transaction is committed and before the journal
        is scrubbed of shredded keys: a key rotation puts its new key file in place
        there, since the writers queued behind it may be waiting for that file."""
        if self._writing:
            yield
            if after_commit is not None:
                raise RuntimeError("a nested write cannot run code after the commit")
            return
        self._pending_master = None
        self._shredded = False
        if self._maker is not None and not self._made:
            # The store is made now: until here reads went to an empty stand-in.
            self._recorder.close()
            self._recorder = self._maker.recorder()
            self._made = True
        try:
            with self._recorder.transaction():
                self._writing = True
                self._attach_new()
                self._check_master_current()
                yield
        finally:
            self._writing = False
            pending, self._pending_master = self._pending_master, None
        self._committed(pending, after_commit)

    def _attach_new(self) -> None:
        if self._maker is None:
            return
        attached = self._maker.attach(self._recorder)
        self._master = attached.master
        self._stored_key_id = attached.stored_key_id
        self._log_key_id = attached.log_key_id

    def _committed(
        self, pending: MasterKey | None, after_commit: Callable[[], None] | None
    ) -> None:
        self._maker = None
        if pending is not None:
            self._master = pending
            self._stored_key_id = pending.key_id
        if after_commit is not None:
            after_commit()
        # Never waits: a scrub that a reader holds back is left to a later write.
        self._recorder.scrub(self._shredded)

    def _require_writing(self, what: str) -> None:
        if not self._writing:
            raise OutsideWrite(f"Log.{what}() must run inside Log.write()")

    def _check_master_current(self) -> None:
        # Another process may have rotated the master key since we opened the store;
        # wrapping new keys with the old one would make them unreadable. A key that
        # came from a file is read again (the rotation replaced it); one from
        # AZCTX_KEY cannot be, so the write stops here, before it changes anything.
        if self._master is None:
            return
        stored = data_keys.meta_text(self._recorder, data_keys.META_MASTER_KEY_ID)
        if stored == self._master.key_id:
            return
        from azctx.store.keys.rotation import rotated_master

        fresh = None if stored is None else rotated_master(self._recorder, self._master, stored)
        if fresh is None:
            raise WrongKeyError(
                f"the master key of {self.description} changed since it was opened",
                hint="the key was rotated by another command; run it again with the new key",
            )
        self._master = fresh
        self._stored_key_id = fresh.key_id

    # -- keys ---------------------------------------------------------------------------

    def _current_master(self) -> MasterKey:
        master = self._pending_master or self._master
        if master is None:
            raise MissingKeyError(
                f"the store {self.description} was opened without its master key",
                hint="this needs the key: set AZCTX_KEY or AZCTX_KEY_FILE",
            )
        return master

    def _log_key(self, key_id: str, seq: int | None) -> bytes:
        cached = self._log_keys.get(key_id)
        if cached is not None:
            return cached
        row = self._recorder.data_key(key_id)
        if row is None or row.kind != "log":
            where = f"log row {seq}" if seq is not None else "the store"
            raise TamperedError(f"{where} names a log data key that does not exist", seq)
        key = data_keys.unwrap(self._current_master(), row)
        self._log_keys[key_id] = key
        return key

    def _log_cipher(self, key_id: str, seq: int) -> AESGCM:
        cached = self._log_ciphers.get(key_id)
        if cached is None:
            cached = self._log_ciphers[key_id] = cipher.cipher(self._log_key(key_id, seq))
        return cached

    def check_log_key(self) -> None:
        """Open the log data key now (a wrong or tampered key shows at open)."""
        if self.exists and self._master is not None:
            self._log_key(self._log_key_id, None)

    def master_key_info(self) -> MasterKeyInfo:
        """Where the key comes from (for a store not created yet: where its first
        write will take it from, with no id until then) and the store's key id."""
        master = self._master
        location = None if self.exists or self._maker is None else self._maker.key_location()
        if master is None and location is not None:
            return MasterKeyInfo(location[0], location[1], self._stored_key_id, self.description)
        if master is None:
            return MasterKeyInfo(None, None, self._stored_key_id, self.description)
        return MasterKeyInfo(master.source, master.path, self._stored_key_id, self.description)

    def new_data_key(self, kind: str, session: str | None = None) -> str:
        self._require_writing("new_data_key")
        if kind not in SECRET_KINDS:
            raise ValueError(f"data key kind must be one of {SECRET_KINDS}, not {kind!r}")
        row = data_keys.new_row(self._current_master(), kind, session)
        self._recorder.insert_data_key(row)
        return row.key_id

    def _secret_key(self, key_id: str) -> bytes:
        row = self._recorder.data_key(key_id)
        if row is None:
            raise KeyDestroyedError(
                f"the key {key_id} of this secret was destroyed; the secret is gone",
                hint="add the credential again",
            )
        return data_keys.unwrap(self._current_master(), row)

    def seal(self, key_id: str, plaintext: bytes) -> bytes:
        return cipher.seal(self._secret_key(key_id), plaintext, secret_aad(key_id))

    def unseal(self, key_id: str, blob: bytes) -> bytes:
        key = self._secret_key(key_id)
        try:
            return cipher.open(key, blob, secret_aad(key_id))
        except cipher.CryptoError:
            raise TamperedError(
                f"a secret sealed under {key_id} fails its integrity check"
            ) from None

    def key_exists(self, key_id: str) -> bool:
        return self._recorder.data_key(key_id) is not None

    def session_key_ids(self, session: str) -> list[str]:
        return self._recorder.session_key_ids(session)

    def destroy_data_keys(self, key_ids: Iterable[str]) -> None:
        """Shred data keys: their secrets become unreadable for good. After the commit
        the old bytes are pushed out of the journal as well, at once if no reader holds
        them back, else by a later write (see ``Recorder.scrub``)."""
        self._require_writing("destroy_data_keys")
        wanted = list(dict.fromkeys(key_ids))
        for key_id in wanted:
            row = self._recorder.data_key(key_id)
            if row is not None and row.kind == "log":
                raise ValueError("the log data key is never destroyed")
        self._recorder.delete_data_keys(wanted)
        self._shredded = True

    def rotate_master_key(self, new_key: bytes, key_file: Path | None = None) -> str:
        """Rewrap every data key and the key check under ``new_key``; returns its id.

        Takes effect at commit; the caller stores the new key (``rotation.prepare_rotation``)
        and has it safely on disk before the transaction commits. ``key_file``, where
        that key will live, is recorded to be named in hints."""
        self._require_writing("rotate_master_key")
        if len(new_key) != keys.KEY_BYTES:
            raise MalformedKeyError(f"a master key is exactly {keys.KEY_BYTES} bytes")
        old = self._current_master()
        new = MasterKey(new_key, old.source, old.path)
        data_keys.rewrap_all(self._recorder, old, new)
        if key_file is not None:
            where = str(key_file).encode("utf-8", "replace")
            self._recorder.set_meta(data_keys.META_ROTATED_KEY_FILE, where)
        self._pending_master = new
        self._shredded = True
        return new.key_id

    # -- appending ------------------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        self._refresh()
        row = self._recorder.head()
        return (0, ZERO_HASH) if row is None else (row.seq, row.hash)

    def stored_hash(self, seq: int) -> bytes | None:
        """Row ``seq``'s hash as stored, unchecked (None if there is no such row): enough
        to tell whether the log still continues from a row already read and checked."""
        self._refresh()
        row = self._recorder.log_row(seq)
        return None if row is None else row.hash

    def append(
        self,
        *,
        kind: str,
        scope: str | None,
        session: str | None,
        time: datetime,
        payload: bytes,
    ) -> Entry:
        self._require_writing("append")
        key = self._log_key(self._log_key_id, None)
        head = self._recorder.head()
        seq = 1 if head is None else head.seq + 1
        prev_hash = ZERO_HASH if head is None else head.hash
        time_us = to_us(time) if head is None else max(to_us(time), head.time_us)
        metadata = row_metadata(seq, time_us, kind, scope, session, self._log_key_id)
        nonce, ciphertext = cipher.encrypt(key, payload, prev_hash + metadata)
        digest = row_hash(prev_hash, metadata, nonce, ciphertext)
        self._recorder.insert_log(
            LogRow(
                seq, time_us, kind, scope, session, self._log_key_id, nonce, ciphertext,
                prev_hash, digest,
            )
        )  # fmt: skip
        return Entry(seq, time_us, kind, scope, session, payload, digest)

    # -- reading ----------------------------------------------------------------------------

    def _entries(self, rows: chain.Rows) -> Iterator[Entry]:
        return chain.entries(rows, self._log_ciphers, self._log_cipher)

    def entries(self, after: int = 0, upto: int | None = None) -> Iterator[Entry]:
        """Entries with after < seq <= upto, oldest first, decrypted and checked."""
        self._refresh()
        return self._entries(chain.walk(self._recorder, after, upto))

    def entries_reverse(self, before: int | None = None) -> Iterator[Entry]:
        """Entries with seq < before (all when None), newest first, decrypted and checked."""
        self._refresh()
        return self._entries(chain.walk_reverse(self._recorder, before))

    def entry(self, seq: int) -> Entry:
        """The entry ``seq``; LookupError when the log has no such row (seq < 1 or past
        the head), TamperedError when a row that should be there is missing."""
        self._refresh()
        if seq < 1:
            raise LookupError(f"no log row {seq}")
        for found in self._entries(chain.walk(self._recorder, seq - 1, seq)):
            return found
        raise LookupError(f"no log row {seq}")

    def seq_at(self, time: datetime) -> int:
        """The last seq whose time is at or before ``time``; 0 if none."""
        self._refresh()
        return self._recorder.seq_at(to_us(time))

    # -- snapshots ------------------------------------------------------------------------

    def latest_snapshot(self, version: int, upto: int | None = None) -> Snapshot | None:
        """The newest snapshot of ``version`` at or before ``upto``.

        A snapshot that fails to open is tampering, not a cache miss: passing over it
        would let anyone with write access roll the cache back unnoticed. Only a
        deleted snapshot goes unnoticed, and that merely costs a longer replay."""
        self._refresh()
        page = self._recorder.snapshot_page(version, upto, 1)
        return self._open_snapshot(page[0]) if page else None

    def snapshots(self, version: int) -> Iterator[Snapshot]:
        """Every snapshot of ``version``, newest first, each opened and checked."""
        self._refresh()
        bound = None
        while True:
            page = self._recorder.snapshot_page(version, bound, _SNAPSHOT_PAGE)
            for row in page:
                yield self._open_snapshot(row)
            if len(page) < _SNAPSHOT_PAGE:
                return
            bound = page[-1].seq - 1

    def _open_snapshot(self, row: SnapshotRow) -> Snapshot:
        log_row = self._recorder.log_row(row.seq)
        if log_row is None:
            # Snapshots are only saved for rows that exist: the log was cut short.
            raise TamperedError(
                f"the snapshot of operation {row.seq} has no log row: log rows are missing",
                row.seq,
            )
        chain.check_row(log_row)
        try:
            key = self._log_key(row.key_id, None)
            aad = snapshot_aad(row.seq, row.version, log_row.hash)
            payload = cipher.decrypt(key, row.nonce, row.ciphertext, aad)
        except (cipher.CryptoError, TamperedError):
            raise TamperedError(
                f"the snapshot of operation {row.seq} fails its authentication check", row.seq
            ) from None
        return Snapshot(row.seq, row.version, payload)

    def save_snapshot(self, seq: int, version: int, payload: bytes) -> None:
        """Cache the projected state after row ``seq``; a second save of the same
        (seq, version) is ignored. Joins the current write transaction, if any."""
        with self.write():
            log_row = self._recorder.log_row(seq)
            if log_row is None:
                raise LookupError(f"no log row {seq}")
            chain.check_row(log_row)
            if self._recorder.has_snapshot(seq, version):
                return
            key = self._log_key(self._log_key_id, None)
            nonce, ciphertext = cipher.encrypt(
                key, payload, snapshot_aad(seq, version, log_row.hash)
            )
            self._recorder.insert_snapshot(
                SnapshotRow(seq, version, self._log_key_id, nonce, ciphertext), now_us()
            )

    # -- verify -----------------------------------------------------------------------------

    def verify(self, *, chain_only: bool = False) -> VerifyReport:
        """Walk the whole log: every hash and link, and (unless ``chain_only``) every
        data key and every ciphertext. Raises TamperedError naming the first bad row or
        key. A store that does not exist yet verifies as 0 operations."""
        if not self.exists:
            return VerifyReport(0, 0, ZERO_HASH, not chain_only)
        if not chain_only:
            data_keys.check_all(self._recorder, self._current_master())
        count, head_seq, head_hash = 0, 0, ZERO_HASH
        rows = chain.walk(self._recorder, 0, None)
        checked: Iterator[LogRow | Entry] = (
            (row for row, _ in rows) if chain_only else self._entries(rows)
        )
        for row in checked:
            count, head_seq, head_hash = count + 1, row.seq, row.hash
        return VerifyReport(count, head_seq, head_hash, not chain_only)
