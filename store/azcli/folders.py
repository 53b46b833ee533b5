"""Private Azure CLI config directories: where they live, writing them, and
removing them. ``azctx run`` makes one per command; a session keeps one per shell
(``azcli_sessions``). They are the only place where azctx writes a secret outside its
store: 0700 directories with 0600 files, on a RAM-backed file system where one exists.

The caller's own Azure CLI directory is only read (its ``config``, ``clouds.config``,
``commandIndex.json``, ``versionCheck.json``); a user account's token cache is shared
through a symlink, so that ``az`` refreshes the caller's own cache.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from azctx.events.errors import StoreError
from azctx.projections.handoff import azcli_folder as plan
from azctx.projections.handoff.azcli_folder import AzTarget
from azctx.store.azcli.runtime import check_private_dir, run_prefix, runtime_root, setting
from azctx.store.files import write_atomically


def caller_config_dir(environ: Mapping[str, str]) -> Path:
    """The caller's own Azure CLI directory: ``$AZURE_CONFIG_DIR``, else ``~/.azure``."""
    configured = setting(environ, "AZURE_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(setting(environ, "HOME") or Path.home()) / ".azure"


def extension_dir(environ: Mapping[str, str], caller: Path) -> str:
    """Where the caller's ``az`` keeps its extensions."""
    return setting(environ, "AZURE_EXTENSION_DIR") or str(caller / "cliextensions")


def write_private(path: Path, data: str | bytes) -> None:
    """``path`` replaced atomically by ``data`` (mode 0600; never through a symlink)."""
    write_atomically(path, data.encode() if isinstance(data, str) else data)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def write_config_dir(
    directory: Path, target: AzTarget | None, caller: Path, extensions: str | None = None
) -> None:
    """Make ``directory`` act as ``target`` (None: no default): every file azctx
    manages is written or removed; whatever ``az`` itself wrote there stays.
    ``extensions``: the caller's extension folder, linked as ``cliextensions`` (for a
    session's folder, which plain ``az`` uses without ``AZURE_EXTENSION_DIR``)."""
    pem = _certificate_pem(directory, target) if plan.needs_certificate(target) else None
    if pem != str(directory / plan.CERTIFICATE_COPY):
        _remove(directory / plan.CERTIFICATE_COPY)
    texts: dict[str, str | None] = {
        plan.CONFIG: plan.config_text(target, _read_text(caller / plan.CONFIG)),
        plan.CLOUDS: plan.clouds_text(target, _read_text(caller / plan.CLOUDS)),
        plan.SP_ENTRIES: plan.sp_entries_text(target, pem),
        # Last: a prompt that reads the profile sees the other files already in place.
        plan.PROFILE: plan.profile_text(
            target, str(uuid.uuid5(uuid.NAMESPACE_URL, str(directory)))
        ),
    }
    for name, text in texts.items():
        if text is None:
            _remove(directory / name)
        elif _read_text(directory / name) != text:  # a rewrite touches what changed only
            write_private(directory / name, text)
    _share_token_cache(directory, caller, target is not None and target.account_type == "user")
    for name in plan.WARM_FILES:
        _copy_warm(caller / name, directory / name)
    link = directory / plan.EXTENSIONS
    if extensions is not None and not link.is_symlink() and os.path.isdir(extensions):
        os.symlink(extensions, link)


def _share_token_cache(directory: Path, caller: Path, share: bool) -> None:
    """A user account signs in with the caller's token cache (a symlink, so ``az``
    refreshes the caller's own); any other identity keeps its tokens in the directory."""
    link = directory / plan.TOKEN_CACHE
    source = caller / plan.TOKEN_CACHE
    if link.is_symlink() and (not share or os.readlink(link) != str(source)):
        _remove(link)
    elif not link.is_symlink() and share:
        _remove(link)  # tokens of the identity the directory acted as before
    if share and not link.is_symlink() and source.is_file():
        os.symlink(source, link)


def _copy_warm(source: Path, copy: Path) -> None:
    if copy.exists() or not source.is_file():
        return
    with contextlib.suppress(OSError):
        write_private(copy, source.read_bytes())


def _certificate_pem(directory: Path, target: AzTarget | None) -> str | None:
    """The unencrypted PEM the CLI's entry names: the stored file when it is one, else
    a decrypted copy in ``directory``; None when the file cannot be read or opened."""
    assert target is not None and target.certificate_path is not None
    path = Path(target.certificate_path)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if is_plain_pem(data):
        return str(path)
    from azctx.store.azcli.certificates import unencrypted_pem

    pem = unencrypted_pem(data, target.secret)
    if pem is None:
        return None
    copy = directory / plan.CERTIFICATE_COPY
    write_private(copy, pem)
    return str(copy)


def is_plain_pem(data: bytes) -> bool:
    """A PEM holding a certificate and an unencrypted private key, as the CLI reads it."""
    has_key = re.search(rb"-----BEGIN (RSA |EC )?PRIVATE KEY-----", data) is not None
    return has_key and b"-----BEGIN CERTIFICATE-----" in data and b"ENCRYPTED" not in data


def remove_dir(directory: Path) -> None:
    """Remove a private directory and everything in it (a shared token cache is a
    symlink: removing it leaves the caller's cache alone)."""
    shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def private_config_dir(target: AzTarget, environ: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """A directory that makes ``az`` act as ``target`` for one command; yields the
    variables that point ``az`` at it, and removes it however the block ends. A folder
    that cannot be made or written (a full file system) is one ``StoreError``."""
    root = runtime_root(environ)
    try:
        directory = Path(tempfile.mkdtemp(prefix=run_prefix(), dir=root))
    except OSError as exc:
        raise _unwritable(root, exc) from None
    try:
        if not check_private_dir(directory):  # what mkdtemp made is this user's own
            raise StoreError(f"the Azure CLI folder {directory} is not azctx's own")
        caller = caller_config_dir(environ)
        try:
            write_config_dir(directory, target, caller)
        except OSError as exc:
            raise _unwritable(root, exc) from None
        yield {
            "AZURE_CONFIG_DIR": str(directory),
            "AZURE_EXTENSION_DIR": extension_dir(environ, caller),
            **plan.QUIET_VARIABLES,
        }
    finally:
        remove_dir(directory)


def _unwritable(root: Path, exc: OSError) -> StoreError:
    reason = exc.strerror or type(exc).__name__
    return StoreError(
        f"cannot write the private Azure CLI folder in {root}: {reason}",
        hint="free some space there, or set XDG_RUNTIME_DIR to another private folder",
    )
