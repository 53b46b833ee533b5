"""The master key: where it comes from, its id, and the key file.

Lookup order: ``AZCTX_KEY`` (base64 of exactly 32 bytes), else the file named by
``AZCTX_KEY_FILE``, else ``master.key`` in the user config directory.

A key file holds the base64 of the key on one line. It is created only together with a
new store (mode 0600, in a folder created 0700), written under a temporary name, flushed
to disk and then linked into place, so no reader ever sees a partial key and two
creators cannot overwrite each other.

Key file permissions: on POSIX systems a key file that the group or others may read or
write, that another user owns, or that sits in a folder the group or others may write
(who could swap it) is **refused** (``InsecureKeyFileError``, exit 3), as ssh refuses
such keys, rather than merely warned about: whoever can read it can read every secret
in the store, and a warning on stderr is easy to miss in scripts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path
from typing import Literal

from azctx.events.errors import BadInput
from azctx.events.records import Record
from azctx.store import paths
from azctx.store.errors import InsecureKeyFileError, MalformedKeyError, MissingKeyError
from azctx.store.paths import Environ

KEY_ENV = "AZCTX_KEY"


KEY_BYTES = 32


KeySource = Literal["env", "env-file", "file"]


_KEY_ID_DOMAIN = b"azctx-master-key-id\0"


_GENERATE_HINT = "make one with: head -c 32 /dev/urandom | base64"


class MasterKey:
    """A master key and where it was found (``path`` is None for ``env``).

    Immutable; its repr leaves the key out. (A class of its own, not a dataclass:
    importing ``dataclasses`` costs a prompt command more than reading its key.)"""

    __slots__ = ("key", "path", "source")
    key: bytes
    source: KeySource
    path: Path | None

    def __init__(self, key: bytes, source: KeySource, path: Path | None) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "path", path)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"MasterKey is immutable: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return (self.key, self.source, self.path) == (other.key, other.source, other.path)

    def __hash__(self) -> int:
        return hash((self.key, self.source, self.path))

    def __repr__(self) -> str:
        return f"MasterKey(source={self.source!r}, path={self.path!r})"

    @property
    def key_id(self) -> str:
        return key_id(self.key)


class MasterKeyInfo(Record):
    """Where the open store's master key came from (``source`` None: opened without a
    key), the store's master key id, and the store it opens."""

    source: KeySource | None
    path: Path | None
    key_id: str
    store: str


def key_id(key: bytes) -> str:
    """A public name for a key: it identifies the key without revealing it."""
    return hashlib.sha256(_KEY_ID_DOMAIN + key).hexdigest()[:16]


def generate_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str, where: str) -> bytes:
    """Base64 (standard or URL-safe alphabet) of exactly 32 bytes, else MalformedKeyError."""
    cleaned = "".join(text.split())
    try:
        key = base64.b64decode(cleaned.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedKeyError(f"{where} is not valid base64", hint=_GENERATE_HINT) from None
    if len(key) != KEY_BYTES:
        raise MalformedKeyError(
            f"{where} holds {len(key)} bytes; a master key is exactly {KEY_BYTES}",
            hint=_GENERATE_HINT,
        )
    return key


def key_file_location(environ: Environ | None = None) -> tuple[Path, KeySource]:
    """The key file this process would use, and whether the environment named it."""
    override = (os.environ if environ is None else environ).get(paths.KEY_FILE_ENV)
    if override:
        return Path(override).expanduser(), "env-file"
    return paths.default_key_file(environ), "file"


def load_master_key(environ: Environ | None = None) -> MasterKey | None:
    """The configured master key, or None when neither variable is set and the key
    file does not exist (a new store may then create one)."""
    text = (os.environ if environ is None else environ).get(KEY_ENV)
    if text:
        return MasterKey(decode_key(text, KEY_ENV), "env", None)
    path, source = key_file_location(environ)
    return read_key_file(path, source)


def read_key_file(path: Path, source: KeySource = "file") -> MasterKey | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MissingKeyError(
            f"cannot read key file {path}: {exc.strerror}", hint=f"check {path}"
        ) from None
    try:
        # Checked on the descriptor before reading (a folder cannot even be read).
        _check_private(path, os.fstat(fd), source)
        check_folder(path.parent)
        raw = os.read(fd, 4096)
    except OSError as exc:
        raise MissingKeyError(
            f"cannot read key file {path}: {exc.strerror}", hint=f"check {path}"
        ) from None
    finally:
        os.close(fd)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedKeyError(f"key file {path} is not base64 text") from None
    return MasterKey(decode_key(text, f"key file {path}"), source, path)


def _check_private(path: Path, st: os.stat_result, source: KeySource) -> None:
    if stat.S_ISDIR(st.st_mode) and source == "env-file":
        raise BadInput(
            f"{paths.KEY_FILE_ENV} names a folder, not a key file: {path}",
            hint=f"set {paths.KEY_FILE_ENV} to the path of the key file",
        )
    if os.name != "posix":
        return
    if not stat.S_ISREG(st.st_mode):
        raise MalformedKeyError(f"key file {path} is not a regular file")
    loose = stat.S_IMODE(st.st_mode) & 0o077
    if loose:
        raise InsecureKeyFileError(
            f"key file {path} is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o})",
            hint=f"chmod 600 {path}",
        )
    if st.st_uid != os.geteuid():
        raise InsecureKeyFileError(
            f"key file {path} belongs to another user (uid {st.st_uid})",
            hint=f"use a key file of your own, or chown it: chown {os.geteuid()} {path}",
        )


def check_folder(folder: Path) -> None:
    """The key file's folder: not writable by the group or others (who could replace
    the key file with theirs) and owned by this user or root."""
    if os.name != "posix":
        return
    try:
        st = os.stat(folder)
    except OSError:
        return  # a missing folder holds no key; creating it makes it 0700
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022 or st.st_uid not in (0, os.geteuid()):
        raise InsecureKeyFileError(
            f"the folder {folder} of the key file can be changed by other users"
            f" (mode {mode:04o}, uid {st.st_uid})",
            hint=f"chmod go-w {folder}, or keep the key in a folder of your own",
        )


def missing_key_error(environ: Environ | None = None) -> MissingKeyError:
    path, _ = key_file_location(environ)
    return MissingKeyError(
        f"no master key for this store: {KEY_ENV} is not set and {path} does not exist",
        hint=f"set {KEY_ENV} or restore the key file {path}",
    )


def create_key_file(path: Path, source: KeySource = "file") -> MasterKey:
    """Create a key file holding a fresh key; if another process created one first,
    use that one instead, so concurrent creators agree on a single key."""
    key = generate_key()
    try:
        write_key_file(path, key)
    except FileExistsError:
        existing = read_key_file(path, source)
        if existing is None:
            raise MissingKeyError(f"key file {path} vanished while it was created") from None
        return existing
    return MasterKey(key, source, path)


def write_key_file(path: Path, key: bytes, *, overwrite: bool = False) -> None:
    """Write ``key`` to ``path`` atomically with mode 0600 (folder 0700 if created).

    Raises FileExistsError when the file exists and ``overwrite`` is false; any other
    failure is a ``MissingKeyError`` naming the path.
    """
    from azctx.store.files import write_atomically

    try:
        paths.ensure_private_dir(path.parent)
        check_folder(path.parent)
        write_atomically(path, (encode_key(key) + "\n").encode("ascii"), overwrite=overwrite)
    except FileExistsError:
        raise
    except OSError as exc:
        raise MissingKeyError(
            f"cannot write key file {path}: {exc.strerror or exc}", hint=f"check {path.parent}"
        ) from None
