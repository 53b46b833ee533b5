"""AES-256-GCM with random 96-bit nonces, and data-key wrapping under the master key.

A sealed blob is ``nonce ‖ ciphertext+tag``. Every use passes associated data that names
what the blob belongs to, so a blob moved to another place fails to open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag

# The public import (cryptography's stable API). It also loads the public cipher, mode
# and padding wrappers, which the binding's own class would not need; the README's
# speed section says what that costs a prompt command.
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class CryptoError(Exception):
    """A blob failed authentication (wrong key, wrong associated data, or altered bytes).

    Internal: ``Log`` turns it into the precise store error for the situation.
    """


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext) for callers that store the nonce in its own column."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    return decrypt_with(AESGCM(key), nonce, ciphertext, aad)


def cipher(key: bytes) -> AESGCM:
    """The AES-256-GCM object of ``key``, to keep for ``decrypt_with``: building it
    costs more than decrypting one small blob, and a replay decrypts every row."""
    return AESGCM(key)


def decrypt_with(aead: AESGCM, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    if len(nonce) != NONCE_BYTES or len(ciphertext) < TAG_BYTES:
        raise CryptoError("malformed ciphertext")
    try:
        return aead.decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise CryptoError("authentication failed") from None


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce, ciphertext = encrypt(key, plaintext, aad)
    return nonce + ciphertext


def open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return decrypt(key, blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)


def wrap_aad(master_key_id: str, data_key_id: str) -> bytes:
    """Binds a wrapped data key to the master key and to its own id, so wrapped keys
    cannot be swapped between rows."""
    return b"azctx-wrap-v1\0" + master_key_id.encode() + b"\0" + data_key_id.encode()


def wrap(master_key: bytes, master_key_id: str, data_key_id: str, data_key: bytes) -> bytes:
    return seal(master_key, data_key, wrap_aad(master_key_id, data_key_id))


def unwrap(master_key: bytes, master_key_id: str, data_key_id: str, wrapped: bytes) -> bytes:
    data_key = open(master_key, wrapped, wrap_aad(master_key_id, data_key_id))
    if len(data_key) != KEY_BYTES:
        raise CryptoError("wrapped key has the wrong length")
    return data_key
