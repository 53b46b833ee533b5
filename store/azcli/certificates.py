"""A certificate credential as the Azure CLI reads it: one unencrypted PEM with the
private key and the certificate, made from a PKCS#12 file or an encrypted PEM."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
    pkcs12,
)


def unencrypted_pem(data: bytes, password: str | None) -> bytes | None:
    """The key and certificate(s) of ``data`` as one unencrypted PEM; None when it
    cannot be opened (wrong password, not a certificate)."""
    secret = password.encode() if password else None
    try:
        if b"-----BEGIN" in data:
            key: PrivateKeyTypes | None = load_pem_private_key(data, secret)
            certificates = x509.load_pem_x509_certificates(data)
        else:
            key, first, extra = pkcs12.load_key_and_certificates(data, secret)
            certificates = [c for c in (first, *extra) if c is not None]
    except (ValueError, TypeError):
        return None
    if key is None or not certificates:
        return None
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return pem + b"".join(c.public_bytes(Encoding.PEM) for c in certificates)
