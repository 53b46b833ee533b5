"""Directory pins: a ``.azctx`` file (one line, a context name) that makes its context a
shell's own while the shell is inside that directory, honoured only once allowed.

What was allowed is kept in ``allowed-pins.json`` (0600) in azctx's config folder: each
pin file's absolute path and the SHA-256 of its content. It is not an operation in the
store: trusting a file of this machine's file system is a fact about this machine and
this user (a store on a server is shared by hosts whose paths mean other files), it
holds no secret, and it changes no context, so there is nothing in it to undo.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from azctx.events import BadInput, check_name
from azctx.events.errors import AzctxError
from azctx.events.records import Record
from azctx.store.paths import config_dir, ensure_private_dir

PIN_FILE = ".azctx"
ALLOWED = "allowed-pins.json"
#: A pin file is one line; anything much longer is not a pin.
_LIMIT = 4096

PinState = Literal["allowed", "not allowed", "changed"]


class Pin(Record):
    path: str
    name: str
    state: PinState


def pin_file(directory: str | None) -> Path:
    """The ``.azctx`` file of ``directory`` (default: the current one)."""
    return (Path(directory or ".").expanduser().absolute() / PIN_FILE).resolve()


def governing_pin(environ: Mapping[str, str]) -> Path | None:
    """The pin file the caller's shell is under: the first ``.azctx`` walking up from
    its folder, found as the shell's hook finds it (from ``PWD``, the path the shell
    shows, when that is the working folder: with a symlink on the way its parents are
    not the working folder's), resolved as ``pin_file`` resolves it."""
    shown = environ.get("PWD", "")
    try:
        here = Path.cwd()
        if os.path.isabs(shown) and os.path.samefile(shown, here):
            here = Path(shown)
        for folder in (here, *here.parents):
            candidate = folder / PIN_FILE
            if candidate.is_file():
                return candidate.resolve()
    except OSError:  # a working folder removed meanwhile: no shell can be under it
        pass
    return None


def _allowed_path(environ: Mapping[str, str]) -> Path:
    return config_dir(environ) / ALLOWED


def _load(environ: Mapping[str, str]) -> dict[str, str]:
    try:
        loaded = json.loads(_allowed_path(environ).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}


def _save(environ: Mapping[str, str], allowed: Mapping[str, str]) -> None:
    from azctx.store.files import write_export_file

    path = _allowed_path(environ)
    ensure_private_dir(path.parent)
    text = json.dumps(dict(sorted(allowed.items())), indent=1)
    write_export_file(str(path), text, private=True, force=True)


def _content(path: Path) -> tuple[str, str]:
    """The pin's context name and the hash of the file's bytes."""
    try:
        with open(path, "rb") as file:
            data = file.read(_LIMIT + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > _LIMIT:
        raise BadInput(f"{path} is not a pin file (one line: a context name)")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None
    name = check_name(lines[0].strip() if lines else "")
    return name, hashlib.sha256(data).hexdigest()


def read_pin(path: Path, environ: Mapping[str, str]) -> Pin:
    """The pin at ``path`` and whether its present content is the one allowed."""
    name, digest = _content(path)
    known = _load(environ).get(str(path))
    state: PinState = "allowed" if known == digest else "changed" if known else "not allowed"
    return Pin(str(path), name, state)


def allow(directory: str | None, environ: Mapping[str, str]) -> Pin:
    path = pin_file(directory)
    if not path.is_file():
        raise BadInput(f"there is no {PIN_FILE} file in {path.parent}")
    name, digest = _content(path)
    allowed = _load(environ)
    allowed[str(path)] = digest
    _save(environ, allowed)
    return Pin(str(path), name, "allowed")


def disallow(directory: str | None, environ: Mapping[str, str]) -> bool:
    """Forget the pin of ``directory``; False when it was not allowed."""
    path = pin_file(directory)
    allowed = _load(environ)
    if allowed.pop(str(path), None) is None:
        return False
    _save(environ, allowed)
    return True


def pin_warning(path: str, environ: Mapping[str, str]) -> tuple[Pin | None, str | None]:
    """The pin at ``path`` when it is honoured, else why not (a warning, never an
    error: a pin never breaks the shell)."""
    try:
        pin = read_pin(Path(path), environ)
    except AzctxError as exc:
        return None, exc.message
    folder = str(Path(path).parent)
    if pin.state == "not allowed":
        return None, f"{path} is not allowed yet (azctx allow {folder} honours it)"
    if pin.state == "changed":
        return None, f"{path} changed since it was allowed (azctx allow {folder} again)"
    return pin, None
