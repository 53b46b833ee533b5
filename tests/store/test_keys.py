"""Where the master key comes from, the key file's life, and the default paths."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from azctx.events import BadInput, Refused
from azctx.store import (
    InsecureKeyFileError,
    Log,
    MalformedKeyError,
    MissingKeyError,
    WrongKeyError,
    open_log,
    paths,
)
from azctx.store.context_store import ContextStore
from azctx.store.keys import master as keys
from azctx.store.keys import rotation as key_rotation


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _made(target: Path | str | None = None, **kwargs: Any) -> Log:
    """An opened store, created by a first write (a store is never without operations:
    opening alone creates nothing)."""
    environ = kwargs.get("environ")
    with ContextStore(target, environ=environ) as store:
        store.set_autosave(True)
    return open_log(target, **kwargs)


def _config(tmp_path: Path) -> Path:
    return tmp_path / "azctx-config"


def test_key_id_is_stable_and_public() -> None:
    key = bytes(range(32))
    assert keys.key_id(key) == keys.key_id(key)
    assert len(keys.key_id(key)) == 16
    assert keys.key_id(key) != keys.key_id(bytes(32))
    assert keys.key_id(key) not in key.hex()


def test_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys.generate_key()
    monkeypatch.setenv("AZCTX_KEY", _b64(key))
    monkeypatch.setenv("AZCTX_KEY_FILE", "/nonexistent/ignored")
    master = keys.load_master_key()
    assert master is not None
    assert (master.key, master.source, master.path) == (key, "env", None)
    assert "key=" not in repr(master)  # the key never shows in a repr


def test_env_key_accepts_url_safe_base64(monkeypatch: pytest.MonkeyPatch) -> None:
    key = bytes([0xFB, 0xFF] * 16)
    monkeypatch.setenv("AZCTX_KEY", base64.urlsafe_b64encode(key).decode())
    master = keys.load_master_key()
    assert master is not None and master.key == key


@pytest.mark.parametrize(
    "value",
    ["not base64!", _b64(bytes(31)), _b64(bytes(33)), "QUJD", _b64(bytes(32))[:-2]],
    ids=["garbage", "31-bytes", "33-bytes", "3-bytes", "cut"],
)
def test_malformed_env_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    monkeypatch.setenv("AZCTX_KEY", value)
    with pytest.raises(MalformedKeyError) as caught:
        keys.load_master_key()
    assert caught.value.exit_code == 3
    assert caught.value.hint
    with pytest.raises(MalformedKeyError):
        open_log(tmp_path / "store.db")
    assert not (tmp_path / "store.db").exists() or (tmp_path / "store.db").stat().st_size == 0


def test_new_store_creates_a_private_key_file(tmp_path: Path) -> None:
    with _made(tmp_path / "store.db") as log:
        info = log.master_key_info()
    key_file = _config(tmp_path) / "master.key"
    assert (info.source, info.path) == ("file", key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(_config(tmp_path).stat().st_mode) == 0o700
    master = keys.read_key_file(key_file)
    assert master is not None and master.key_id == info.key_id
    assert list(_config(tmp_path).iterdir()) == [key_file]  # no temporary file left


def test_key_file_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "elsewhere" / "k"
    monkeypatch.setenv("AZCTX_KEY_FILE", str(key_file))
    with _made(tmp_path / "store.db") as log:
        info = log.master_key_info()
    assert (info.source, info.path) == ("env-file", key_file)
    assert key_file.exists() and not (_config(tmp_path) / "master.key").exists()


def test_an_existing_key_file_is_used_for_a_new_store(tmp_path: Path) -> None:
    key = keys.generate_key()
    keys.write_key_file(_config(tmp_path) / "master.key", key)
    with _made(tmp_path / "store.db") as log:
        assert log.master_key_info().key_id == keys.key_id(key)


def test_no_key_file_without_a_new_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Exception, match="no azctx store"):
        open_log(tmp_path / "absent.db", create=False)
    assert not _config(tmp_path).exists()
    with _made(tmp_path / "store.db"):
        pass
    (_config(tmp_path) / "master.key").unlink()
    with pytest.raises(MissingKeyError) as caught:
        open_log(tmp_path / "store.db")
    assert "AZCTX_KEY" in caught.value.message and caught.value.hint
    assert not (_config(tmp_path) / "master.key").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o666])
def test_a_key_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    with _made(tmp_path / "store.db"):
        pass
    key_file = _config(tmp_path) / "master.key"
    key_file.chmod(mode)
    with pytest.raises(InsecureKeyFileError) as caught:
        open_log(tmp_path / "store.db")
    assert caught.value.exit_code == 3
    assert caught.value.hint == f"chmod 600 {key_file}"
    key_file.chmod(0o600)
    open_log(tmp_path / "store.db").close()


@pytest.mark.parametrize("content", [b"", b"\xff\xfe", b"abc\n", _b64(bytes(16)).encode()])
def test_a_malformed_key_file(tmp_path: Path, content: bytes) -> None:
    key_file = _config(tmp_path) / "master.key"
    key_file.parent.mkdir(mode=0o700)
    key_file.write_bytes(content)
    key_file.chmod(0o600)
    with pytest.raises(MalformedKeyError) as caught:
        keys.load_master_key()
    assert str(key_file) in caught.value.message


def test_write_key_file_never_clobbers_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "k" / "master.key"
    first, second = keys.generate_key(), keys.generate_key()
    keys.write_key_file(path, first)
    with pytest.raises(FileExistsError):
        keys.write_key_file(path, second)
    keys.write_key_file(path, second, overwrite=True)
    master = keys.read_key_file(path)
    assert master is not None and master.key == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_racing_key_file_creators_agree(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = keys.create_key_file(path)
    second = keys.create_key_file(path)
    assert first.key == second.key


def test_default_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.default_store() == tmp_path / "azctx-data" / "store.db"
    assert paths.default_key_file() == tmp_path / "azctx-config" / "master.key"
    monkeypatch.setenv("AZCTX_STORE", "~/x.db")
    assert paths.default_store() == Path.home() / "x.db"
    monkeypatch.setenv("AZCTX_STORE", "postgresql+psycopg://u@h/db")
    assert paths.default_store() == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("AZCTX_KEY_FILE", str(tmp_path / "k"))
    assert paths.default_key_file() == tmp_path / "k"


def test_the_default_store_is_used(tmp_path: Path) -> None:
    with _made() as log:
        assert log.description == str(tmp_path / "azctx-data" / "store.db")
    assert stat.S_IMODE((tmp_path / "azctx-data").stat().st_mode) == 0o700


def test_platformdirs_only_without_overrides(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from azctx.store import paths\n"
        "paths.default_store(); paths.default_key_file()\n"
        "print('platformdirs' in sys.modules)\n"
    )
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "False", result.stderr
    env.pop("AZCTX_DATA_DIR")
    env.pop("AZCTX_CONFIG_DIR")
    env["HOME"] = str(tmp_path)  # platformdirs answers, but nothing is created
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "True", result.stderr


def test_an_explicit_environment_is_used(tmp_path: Path) -> None:
    environ = {
        "AZCTX_DATA_DIR": str(tmp_path / "d"),
        "AZCTX_CONFIG_DIR": str(tmp_path / "c"),
    }
    with _made(environ=environ) as log:
        info = log.master_key_info()
    assert info.store == str(tmp_path / "d" / "store.db")
    assert info.path == tmp_path / "c" / "master.key"
    with pytest.raises(MissingKeyError):
        open_log(tmp_path / "d" / "store.db")  # os.environ points elsewhere
    key = _b64(keys.generate_key())
    with pytest.raises(WrongKeyError):
        open_log(environ={**environ, "AZCTX_KEY": key})


def test_rotation_replaces_the_key_file_only_on_commit(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with _made(path) as log:
        info = log.master_key_info()
        assert info.path is not None
        old_text = info.path.read_text()
        rotation = key_rotation.prepare_rotation(info)
        assert info.path.read_text() == old_text  # nothing replaced yet
        assert stat.S_IMODE(rotation.temp.stat().st_mode) == 0o600
        with log.write():
            new_id = log.rotate_master_key(rotation.key)
        rotation.commit()
    assert not rotation.temp.exists()
    master = keys.read_key_file(info.path)
    assert master is not None and master.key_id == new_id
    open_log(path).close()  # the key file opens the rotated store


def test_an_abandoned_rotation_leaves_the_old_key(tmp_path: Path) -> None:
    with _made(tmp_path / "store.db") as log:
        info = log.master_key_info()
    assert info.path is not None
    before = info.path.read_bytes()
    rotation = key_rotation.prepare_rotation(info)
    rotation.abandon()
    assert info.path.read_bytes() == before
    assert sorted(p.name for p in info.path.parent.iterdir()) == ["master.key"]


def test_rotation_from_an_env_key_needs_a_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCTX_KEY", _b64(keys.generate_key()))
    with _made(tmp_path / "store.db") as log:
        info = log.master_key_info()
    with pytest.raises(BadInput):
        key_rotation.prepare_rotation(info)
    taken = tmp_path / "taken.key"
    taken.write_text("x")
    with pytest.raises(Refused):
        key_rotation.prepare_rotation(info, taken)
    rotation = key_rotation.prepare_rotation(info, tmp_path / "new" / "next.key")
    rotation.commit()
    assert stat.S_IMODE((tmp_path / "new" / "next.key").stat().st_mode) == 0o600
