"""The master key's records in a store, and the data keys it wraps.

The ``meta`` table holds the master key's id, a key check (a known text sealed under
the master key) and the id of the log's data key. Each data key is wrapped (sealed)
under the master key with associated data naming the master key and the data key's own
id (``cipher.wrap_aad``), so a wrapped key moved to another row fails to open.
"""

from __future__ import annotations

import os

from azctx.store.backends.recorder import DataKeyRow, Recorder
from azctx.store.errors import TamperedError, WrongKeyError
from azctx.store.keys import cipher
from azctx.store.keys.master import MasterKey
from azctx.store.rows import now_us

META_MASTER_KEY_ID = "master_key_id"
META_KEY_CHECK = "key_check"
META_LOG_KEY_ID = "log_key_id"
#: Where the last ``key rotate`` wrote its new key: named in hints only, never read
#: as a key (whoever can write the database could point it anywhere).
META_ROTATED_KEY_FILE = "rotated_key_file"
SECRET_KINDS = ("account", "session")
KINDS = ("log", *SECRET_KINDS)

_KEY_CHECK_PLAINTEXT = b"azctx key check v1"
_MAX_ID_BYTES = 64


def key_check_aad(master_key_id: str) -> bytes:
    return b"azctx-key-check-v1\0" + master_key_id.encode()


def key_check(master: MasterKey) -> bytes:
    return cipher.seal(master.key, _KEY_CHECK_PLAINTEXT, key_check_aad(master.key_id))


def meta_text(recorder: Recorder, name: str) -> str | None:
    """A text record of ``meta`` (an id), None when absent; a value that is not short
    UTF-8 text was put there by hand: tampering, named as such."""
    value = recorder.get_meta(name)
    if value is None:
        return None
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text or len(value) > _MAX_ID_BYTES or not text.isprintable():
        raise TamperedError(f"the record meta.{name} of {recorder.description} is not valid")
    return text


def check_master(recorder: Recorder, master: MasterKey, stored_id: str, hint: str) -> None:
    """``master`` is the store's key: its id is the stored one and it opens the key
    check. ``hint`` says where the right key may be found."""
    if master.key_id != stored_id:
        where = "AZCTX_KEY" if master.path is None else f"key file {master.path}"
        raise WrongKeyError(
            f"the master key from {where} does not open the store {recorder.description}",
            hint=hint,
        )
    check = recorder.get_meta(META_KEY_CHECK)
    try:
        if check is None:
            raise cipher.CryptoError("no key check")
        cipher.open(master.key, check, key_check_aad(stored_id))
    except cipher.CryptoError:
        raise TamperedError(f"the key check of {recorder.description} fails") from None


def new_row(master: MasterKey, kind: str, session: str | None) -> DataKeyRow:
    """A fresh data key of ``kind``, wrapped under ``master``."""
    key_id = f"{kind}-{os.urandom(8).hex()}"
    wrapped = cipher.wrap(master.key, master.key_id, key_id, cipher.new_key())
    return DataKeyRow(key_id, kind, session, wrapped, now_us())


def unwrap(master: MasterKey, row: DataKeyRow) -> bytes:
    """The data key of ``row``; TamperedError naming it when it does not open, or when
    its clear columns contradict its id (``kind-…``; a session key names its session)."""
    bad = TamperedError(f"data key {row.key_id} fails its integrity check")
    if row.kind not in KINDS or not row.key_id.startswith(row.kind + "-"):
        raise bad
    if row.kind == "session" and not row.session:
        raise bad
    try:
        return cipher.unwrap(master.key, master.key_id, row.key_id, row.wrapped)
    except cipher.CryptoError:
        raise bad from None


def rewrap_all(recorder: Recorder, old: MasterKey, new: MasterKey) -> None:
    """Every data key and the key check under ``new`` (inside a write transaction)."""
    for row in recorder.data_keys():
        data_key = unwrap(old, row)
        recorder.rewrap_data_key(row.key_id, cipher.wrap(new.key, new.key_id, row.key_id, data_key))
    recorder.set_meta(META_MASTER_KEY_ID, new.key_id.encode())
    recorder.set_meta(META_KEY_CHECK, key_check(new))


def check_all(recorder: Recorder, master: MasterKey) -> int:
    """Open every data key (``verify``); returns how many there are."""
    rows = recorder.data_keys()
    for row in sorted(rows, key=lambda r: r.key_id):
        unwrap(master, row)
    return len(rows)


def initialize(recorder: Recorder, master: MasterKey) -> str:
    """A new store's key records and its log data key; returns the log key's id."""
    row = new_row(master, "log", None)
    recorder.insert_data_key(row)
    recorder.set_meta(META_MASTER_KEY_ID, master.key_id.encode())
    recorder.set_meta(META_KEY_CHECK, key_check(master))
    recorder.set_meta(META_LOG_KEY_ID, row.key_id.encode())
    return row.key_id
