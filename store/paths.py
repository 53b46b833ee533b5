"""Where the store and the key file live by default.

The only module that consults platformdirs, and only when no environment override says
where to look, so the common case of an explicit path never imports it. Every function
reads ``environ`` (default: ``os.environ``), so a caller can pass its own environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STORE_ENV = "AZCTX_STORE"
KEY_FILE_ENV = "AZCTX_KEY_FILE"
DATA_DIR_ENV = "AZCTX_DATA_DIR"
CONFIG_DIR_ENV = "AZCTX_CONFIG_DIR"
APP_NAME = "azctx"


Environ = Mapping[str, str]


def _env_path(name: str, environ: Environ | None) -> Path | None:
    value = (os.environ if environ is None else environ).get(name)
    return Path(value).expanduser() if value else None


def data_dir(environ: Environ | None = None) -> Path:
    override = _env_path(DATA_DIR_ENV, environ)
    if override is not None:
        return override
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def config_dir(environ: Environ | None = None) -> Path:
    override = _env_path(CONFIG_DIR_ENV, environ)
    if override is not None:
        return override
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def default_store(environ: Environ | None = None) -> str | Path:
    """``$AZCTX_STORE`` (a path, or a URL when it contains ``://``), else
    ``store.db`` in the user data directory."""
    value = (os.environ if environ is None else environ).get(STORE_ENV)
    if value:
        return value if "://" in value else Path(value).expanduser()
    return data_dir(environ) / "store.db"


def default_key_file(environ: Environ | None = None) -> Path:
    """``$AZCTX_KEY_FILE``, else ``master.key`` in the user config directory."""
    return _env_path(KEY_FILE_ENV, environ) or config_dir(environ) / "master.key"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents with mode 0700.

    Folders that already exist are left as they are: they may be the user's own
    (``~/.config``) and are not ours to change.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        # mkdir's mode is filtered by the umask; make sure it is exactly 0700.
        os.chmod(folder, 0o700)
