"""Walking the hash chain: every row read is checked against its own hash and linked
to its predecessor, with no gaps, then decrypted under its log data key.

So editing, swapping, reordering or dropping a row from the middle breaks a hash or a
link (found without the key), and rewriting the whole chain after an edit still breaks
the authentication of the edited row (found with the key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from azctx.store.backends.recorder import LogRow, Recorder
from azctx.store.errors import TamperedError
from azctx.store.keys import cipher
from azctx.store.rows import ZERO_HASH, Entry, missing, row_hash, row_metadata
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PAGE = 256
#: Rows decrypted ahead at first by ``entries``; doubled per batch up to ``PAGE``.
_FIRST_BATCH = 16

Rows = Iterator[tuple[LogRow, bytes]]


def check_row(row: LogRow) -> bytes:
    """Check the row's hash; returns its metadata, which its decryption needs too."""
    try:
        metadata = row_metadata(row.seq, row.time_us, row.kind, row.scope, row.session, row.key_id)
        intact = row_hash(row.prev_hash, metadata, row.nonce, row.ciphertext) == row.hash
    except (TypeError, AttributeError, OverflowError):
        intact = False  # a column of the wrong type was written behind azctx's back
    if not intact:
        raise TamperedError(f"log row {row.seq} fails its hash check", row.seq)
    return metadata


def _link(row: LogRow, prev_hash: bytes) -> None:
    if row.prev_hash != prev_hash:
        raise TamperedError(f"log row {row.seq} does not link to its predecessor", row.seq)


def walk(recorder: Recorder, after: int, upto: int | None) -> Rows:
    """Rows after < seq <= upto, oldest first, checked; each with its metadata."""
    prev_hash: bytes | None = ZERO_HASH
    if after > 0:
        anchor = recorder.log_row(after)
        prev_hash = None if anchor is None else anchor.hash
    expected = after + 1
    while True:
        page = recorder.log_page(expected - 1, upto, PAGE)
        for row in page:
            if row.seq != expected:
                raise missing(expected)
            if prev_hash is None:
                raise missing(after)
            metadata = check_row(row)
            _link(row, prev_hash)
            yield row, metadata
            prev_hash = row.hash
            expected += 1
        if len(page) < PAGE:
            break
    if upto is not None and expected <= upto:
        head = recorder.head()
        if head is not None and head.seq >= expected:
            raise missing(expected)


def walk_reverse(recorder: Recorder, before: int | None) -> Rows:
    """Rows seq < before, newest first, with the same checks as ``walk``; each row's
    link is checked against its predecessor before the row is returned."""
    rows = _desc_rows(recorder, before)
    current = next(rows, None)
    if current is not None and before is not None and current.seq != before - 1:
        head = recorder.head()
        if head is not None and head.seq >= before - 1:
            raise missing(before - 1)
    while current is not None:
        previous = next(rows, None)
        metadata = check_row(current)
        if current.seq > 1 and (previous is None or previous.seq != current.seq - 1):
            raise missing(current.seq - 1)
        _link(current, ZERO_HASH if previous is None else previous.hash)
        yield current, metadata
        current = previous


def _desc_rows(recorder: Recorder, before: int | None) -> Iterator[LogRow]:
    bound = before
    while True:
        page = recorder.log_page_desc(bound, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        bound = page[-1].seq


def _decrypt(aead: AESGCM, row: LogRow, metadata: bytes) -> Entry:
    try:
        payload = cipher.decrypt_with(aead, row.nonce, row.ciphertext, row.prev_hash + metadata)
    except cipher.CryptoError:
        raise TamperedError(f"log row {row.seq} fails its authentication check", row.seq) from None
    return Entry(row.seq, row.time_us, row.kind, row.scope, row.session, payload, row.hash)


def entries(
    rows: Rows, ciphers: dict[str, AESGCM], cipher_for: Callable[[str, int], AESGCM]
) -> Iterator[Entry]:
    """The checked ``rows`` (with their metadata, from ``check_row``) decrypted, under
    the ciphers in ``ciphers`` or, for a key not there yet, ``cipher_for(key_id, seq)``.

    One loop for every read, run a batch of rows at a time, the batch doubling up to a
    page: a replay then alternates between this loop and its own decode-and-fold loop
    once per batch instead of once per row, which is markedly faster (each loop keeps
    its code and data in the CPU caches), while a caller that stops early has paid for
    few rows more than it took. A failure is raised after the entries before it, as if
    the rows were read one by one."""
    size = _FIRST_BATCH
    while True:
        batch: list[Entry] = []
        failure: Exception | None = None
        try:
            for row, metadata in rows:
                aead = ciphers.get(row.key_id) or cipher_for(row.key_id, row.seq)
                batch.append(_decrypt(aead, row, metadata))
                if len(batch) == size:
                    break
        except Exception as exc:
            failure = exc
        yield from batch
        if failure is not None:
            raise failure
        if len(batch) < size:
            return
        size = min(2 * size, PAGE)
