"""Opening a store: the recorder for a path or URL, the schema, the master key.

A store that does not exist is not created by opening it: ``open_log`` then returns a
``Log`` that reads as empty, and its first ``write()`` creates the store (file, schema,
key records and, if no key is configured, the key file) inside that write's own
transaction. So a read creates nothing, and a reader with a wrong key cannot bind a new
store to it.
"""

from __future__ import annotations

import os
from pathlib import Path

from azctx.events import BadInput
from azctx.store.backends.recorder import DEFAULT_LOCK_TIMEOUT, Recorder
from azctx.store.errors import CorruptStoreError, SchemaTooNewError, StoreAbsentError
from azctx.store.keys import data_keys
from azctx.store.keys import master as keys
from azctx.store.keys.master import MasterKey
from azctx.store.log import Log
from azctx.store.migrations import HEAD_REVISION, REVISIONS
from azctx.store.paths import Environ

LOCK_TIMEOUT_ENV = "AZCTX_LOCK_TIMEOUT"
MAX_LOCK_TIMEOUT = 3600.0


class Attached:
    """The key records of an open store (``master`` None: opened without the key).
    A plain class: a NamedTuple costs a prompt command more to define."""

    __slots__ = ("log_key_id", "master", "stored_key_id")

    def __init__(self, master: MasterKey | None, stored_key_id: str, log_key_id: str) -> None:
        self.master = master
        self.stored_key_id = stored_key_id
        self.log_key_id = log_key_id


def open_log(
    target: str | Path | None = None,
    *,
    create: bool = True,
    key_required: bool = True,
    lock_timeout: float | None = None,
    environ: Environ | None = None,
) -> Log:
    """Open the store at ``target``; with ``create``, one that does not exist yet reads
    as empty and is created by the first write, else it is ``StoreAbsentError``.

    ``target`` containing ``://`` is a SQLAlchemy URL; anything else is a file path for
    the sqlite3 recorder; None is the default store (``azctx.store.paths``). With
    ``key_required=False`` no master key is loaded: only the chain can be read (``verify
    (chain_only=True)``, ``head``). ``environ`` (default ``os.environ``) is where the key
    and path variables are read. ``lock_timeout`` (seconds to wait for a lock or the
    server) defaults to ``$AZCTX_LOCK_TIMEOUT``, else ``DEFAULT_LOCK_TIMEOUT``.
    """
    if target is None:
        from azctx.store.paths import default_store

        target = default_store(environ)
    # The key is read first: a malformed or exposed key stops every command.
    master = keys.load_master_key(environ) if key_required else None
    if lock_timeout is None:
        lock_timeout = _lock_timeout(environ)
    opener = _Opener(target, lock_timeout, environ, master, key_required)
    try:
        recorder = opener.recorder(create=False)
    except StoreAbsentError as absent:
        if not create:
            raise
        return opener.absent(absent.where)
    try:
        return opener.existing(recorder, create=create, key_required=key_required)
    except BaseException:
        recorder.close()
        raise


def _lock_timeout(environ: Environ | None) -> float:
    """``$AZCTX_LOCK_TIMEOUT`` in seconds (a positive number), else the default."""
    raw = (os.environ if environ is None else environ).get(LOCK_TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_LOCK_TIMEOUT:
        raise BadInput(
            f"{LOCK_TIMEOUT_ENV} must be a number of seconds, more than 0 and at most "
            f"{MAX_LOCK_TIMEOUT:g}, not {raw!r}"[:300],
            hint=f"unset {LOCK_TIMEOUT_ENV} or fix it",
        )
    return value


def _check_revision(revision: str | None, description: str) -> None:
    if revision is not None and revision not in REVISIONS:
        raise SchemaTooNewError(
            f"the store {description} has schema {revision}, newer than this azctx knows"
            f" (up to {HEAD_REVISION})",
            hint="upgrade azctx to use this store",
        )


class _Opener:
    """What opening one store needs, kept for its first write when it does not exist
    yet (then it is the ``Log``'s ``Maker``)."""

    def __init__(
        self,
        target: str | Path,
        lock_timeout: float,
        environ: Environ | None,
        master: MasterKey | None,
        key_required: bool = True,
    ) -> None:
        self._target = target
        self._lock_timeout = lock_timeout
        self._environ = environ
        self._master = master
        self._key_required = master is not None or key_required

    def recorder(self, *, create: bool = True) -> Recorder:
        target, timeout = self._target, self._lock_timeout
        if isinstance(target, str) and "://" in target:
            from azctx.store.backends.sqlalchemy_core import SqlAlchemyRecorder

            return SqlAlchemyRecorder(target, create=create, lock_timeout=timeout)
        from azctx.store.backends.sqlite import SqliteRecorder

        return SqliteRecorder(Path(target).expanduser(), create=create, lock_timeout=timeout)

    def probe(self) -> tuple[Recorder, Attached] | None:
        """``Maker.probe``: the store, if it was created since."""
        try:
            recorder = self.recorder(create=False)
        except StoreAbsentError:
            return None
        try:
            if recorder.schema_revision() != HEAD_REVISION:
                # Absent, being created right now, or to be migrated: the next write
                # (or the next open) deals with it.
                recorder.close()
                return None
            return recorder, self.keys(recorder, key_required=self._key_required)
        except BaseException:
            recorder.close()
            raise

    def key_location(self) -> tuple[keys.KeySource, Path] | None:
        if self._master is not None or self._key_required is False:
            return None
        path, source = keys.key_file_location(self._environ)
        return source, path

    def absent(self, where: str) -> Log:
        """A store to be created by its first write; until then it reads as empty."""
        from azctx.store.backends.absent import EmptyRecorder  # only for a store not created yet

        master = self._master
        # No store, so no key id yet unless a key is configured: "none" until then.
        stored = "none" if master is None else master.key_id
        return Log(EmptyRecorder(where), Attached(master, stored, ""), maker=self)

    def existing(self, recorder: Recorder, *, create: bool, key_required: bool) -> Log:
        revision = recorder.schema_revision()
        _check_revision(revision, recorder.description)
        if revision is None:
            # A file or database without azctx's tables: it is not a store yet.
            recorder.close()
            if not create:
                raise StoreAbsentError(recorder.description)
            return self.absent(recorder.description)
        if revision != HEAD_REVISION:
            with recorder.transaction():
                # Re-checked under the lock: another process may be migrating too.
                if recorder.schema_revision() != HEAD_REVISION:
                    recorder.migrate()
        log = Log(recorder, self.keys(recorder, key_required=key_required))
        log.check_log_key()
        if log.head()[0] == 0:
            # The key records and the first operation are committed together: key
            # records without a log are a log deleted behind azctx's back.
            raise CorruptStoreError(
                f"the store {recorder.description} has its key records but no operations"
                " (its log was deleted)"
            )
        return log

    def attach(self, recorder: Recorder) -> Attached:
        """The first write's part (``Maker.attach``), inside its transaction: create the
        schema and key records unless another process just did."""
        revision = recorder.schema_revision()
        _check_revision(revision, recorder.description)
        if revision != HEAD_REVISION:
            recorder.migrate()
        if revision is not None:
            return self.keys(recorder, key_required=True)
        master = self._master or keys.load_master_key(self._environ)
        if master is None:
            path, source = keys.key_file_location(self._environ)
            master = keys.create_key_file(path, source)
        log_key_id = data_keys.initialize(recorder, master)
        return Attached(master, master.key_id, log_key_id)

    def keys(self, recorder: Recorder, *, key_required: bool) -> Attached:
        stored_id = data_keys.meta_text(recorder, data_keys.META_MASTER_KEY_ID)
        log_key_id = data_keys.meta_text(recorder, data_keys.META_LOG_KEY_ID)
        if stored_id is None or log_key_id is None:
            raise CorruptStoreError(f"the store {recorder.description} has no key record")
        if not key_required:
            return Attached(None, stored_id, log_key_id)
        # Another process may have created the store, and its key file, meanwhile.
        master = self._master or keys.load_master_key(self._environ)
        if master is None:
            raise keys.missing_key_error(self._environ)
        from azctx.store.keys.rotation import checked_master

        return Attached(checked_master(recorder, master, stored_id), stored_id, log_key_id)
