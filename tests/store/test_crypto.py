"""AES-GCM helpers, key wrapping, and the log's row encoding."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from azctx.store import open_log
from azctx.store.keys import cipher as crypto
from azctx.store.rows import row_metadata
from hypothesis import given, settings
from hypothesis import strategies as st

keys_ = st.binary(min_size=32, max_size=32)
texts = st.text(max_size=40)
optional_texts = st.none() | texts


@given(key=keys_, plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_seal_open_round_trip(key: bytes, plaintext: bytes, aad: bytes) -> None:
    blob = crypto.seal(key, plaintext, aad)
    assert len(blob) == crypto.NONCE_BYTES + len(plaintext) + crypto.TAG_BYTES
    assert crypto.open(key, blob, aad) == plaintext


@given(
    key=keys_, plaintext=st.binary(max_size=256), aad=st.binary(max_size=32), flip=st.integers(0)
)
def test_any_changed_byte_fails(key: bytes, plaintext: bytes, aad: bytes, flip: int) -> None:
    blob = bytearray(crypto.seal(key, plaintext, aad))
    blob[flip % len(blob)] ^= 0x80
    with pytest.raises(crypto.CryptoError):
        crypto.open(key, bytes(blob), aad)
    with pytest.raises(crypto.CryptoError):
        crypto.open(key, crypto.seal(key, plaintext, aad), aad + b"x")


@given(key=keys_, plaintext=st.binary(max_size=256), aad=st.binary(max_size=32))
def test_a_kept_cipher_decrypts_as_the_key_does(key: bytes, plaintext: bytes, aad: bytes) -> None:
    nonce, ciphertext = crypto.encrypt(key, plaintext, aad)
    aead = crypto.cipher(key)
    assert crypto.decrypt_with(aead, nonce, ciphertext, aad) == plaintext
    assert crypto.decrypt(key, nonce, ciphertext, aad) == plaintext
    for bad in ((nonce, ciphertext, aad + b"x"), (nonce[:-1], ciphertext, aad), (nonce, b"", aad)):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt_with(aead, *bad)


def test_nonces_are_fresh() -> None:
    key = crypto.new_key()
    assert len({crypto.seal(key, b"same", b"")[:12] for _ in range(1000)}) == 1000


def test_malformed_blobs_fail_cleanly() -> None:
    key = crypto.new_key()
    for blob in (b"", b"short", bytes(27)):
        with pytest.raises(crypto.CryptoError):
            crypto.open(key, blob, b"")


@given(master=keys_, data_key=keys_, master_id=texts, key_id=texts)
def test_wrap_unwrap_round_trip(
    master: bytes, data_key: bytes, master_id: str, key_id: str
) -> None:
    wrapped = crypto.wrap(master, master_id, key_id, data_key)
    assert crypto.unwrap(master, master_id, key_id, wrapped) == data_key
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap(master, master_id, key_id + "x", wrapped)  # moved to another key's row
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap(master, master_id + "x", key_id, wrapped)  # another master key id


row_fields = st.tuples(
    st.integers(0, 2**63 - 1),
    st.integers(-(2**62), 2**62),
    texts,
    optional_texts,
    optional_texts,
    texts,
)


@given(a=row_fields, b=row_fields)
def test_row_metadata_is_unambiguous(
    a: tuple[int, int, str, str | None, str | None, str],
    b: tuple[int, int, str, str | None, str | None, str],
) -> None:
    assert (row_metadata(*a) == row_metadata(*b)) == (a == b)


def test_row_metadata_separates_none_from_empty() -> None:
    assert row_metadata(1, 0, "k", None, "", "id") != row_metadata(1, 0, "k", "", None, "id")


def _row_metadata_as_first_defined(
    seq: int, time_us: int, kind: str, scope: str | None, session: str | None, key_id: str
) -> bytes:
    """The definition every stored row's hash and associated data were made with."""
    parts = [b"azctx-log-v1\0", seq.to_bytes(8, "big"), time_us.to_bytes(8, "big", signed=True)]
    for text in (kind, scope, session, key_id):
        if text is None:
            parts.append(b"\x00")
        else:
            data = text.encode("utf-8")
            parts.append(b"\x01" + len(data).to_bytes(4, "big") + data)
    return b"".join(parts)


@settings(max_examples=500)
@given(
    fields=st.tuples(
        st.integers(0, 2**64 - 1),
        st.integers(-(2**63), 2**63 - 1),
        st.text(),
        st.none() | st.text(),
        st.none() | st.text(),
        st.text(),
    )
)
def test_row_metadata_is_the_stored_format(
    fields: tuple[int, int, str, str | None, str | None, str],
) -> None:
    assert row_metadata(*fields) == _row_metadata_as_first_defined(*fields)


@pytest.mark.parametrize(("seq", "time_us"), [(-1, 0), (2**64, 0), (1, 2**63), (1, -(2**63) - 1)])
def test_row_metadata_refuses_what_does_not_fit_as_it_always_did(seq: int, time_us: int) -> None:
    with pytest.raises(OverflowError):
        _row_metadata_as_first_defined(seq, time_us, "add", None, None, "k")
    with pytest.raises(OverflowError):
        row_metadata(seq, time_us, "add", None, None, "k")


@pytest.fixture(scope="module")
def store_dir() -> Iterator[Path]:
    # One store for all examples of a test; its key file goes to the test's private
    # config folder (conftest), which stays the same across examples.
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@settings(max_examples=40, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=512), min_size=1, max_size=5),
    kind=st.text(min_size=1, max_size=20),
    scope=optional_texts,
    session=optional_texts,
)
def test_log_payloads_round_trip(
    store_dir: Path,
    payloads: list[bytes],
    kind: str,
    scope: str | None,
    session: str | None,
) -> None:
    with open_log(store_dir / "store.db") as log:
        (start, _) = log.head()
        with log.write():
            written = [
                log.append(
                    kind=kind, scope=scope, session=session, time=datetime.now(UTC), payload=p
                )
                for p in payloads
            ]
        read = list(log.entries(after=start))
        assert read == written
        assert [e.payload for e in read] == payloads


def test_the_cipher_is_the_public_aes_gcm() -> None:
    """crypto.py uses cryptography's public AESGCM, never a private module's class."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert crypto.AESGCM is AESGCM
