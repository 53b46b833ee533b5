"""A store that does not exist is made by its first write, and only by a write that is
not refused: a refused or bad first command, run as a real ``azctx`` process, leaves no
store file, no lock file and no key file behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REFUSED = [
    ("select", "prod"),
    ("remove", "prod"),
    ("rename", "prod", "dev"),
    ("protect", "prod"),
    ("disconnect", "prod"),
    ("undo",),
    ("select", "-"),
]


def _azctx(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("azctx")
    found = str(exe) if exe.is_file() else shutil.which("azctx")
    assert found is not None
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    return subprocess.run(
        [found, *args], env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("args", REFUSED, ids=" ".join)
def test_a_refused_first_command_creates_no_store_and_no_key(
    args: tuple[str, ...], azctx_env: dict[str, str], tmp_path: Path
) -> None:
    before = _files(tmp_path)
    done = _azctx(azctx_env, *args)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("error: ")
    assert _files(tmp_path) == before
    assert not Path(azctx_env["AZCTX_STORE"]).exists()
    assert not Path(azctx_env["AZCTX_KEY_FILE"]).exists()


def test_the_first_command_that_is_not_refused_makes_the_store(
    azctx_env: dict[str, str],
) -> None:
    assert _azctx(azctx_env, "remove", "prod").returncode == 1
    missing = _azctx(azctx_env, "add", "--account", "a@contoso.org", "--tenant", "t")
    assert missing.returncode == 2  # --subscription is required
    assert not Path(azctx_env["AZCTX_STORE"]).exists()
    done = _azctx(
        azctx_env, "add", "--account", "a@contoso.org", "--tenant", "t", "--subscription", "s"
    )
    assert done.returncode == 0, done.stderr
    assert Path(azctx_env["AZCTX_STORE"]).is_file()
    assert Path(azctx_env["AZCTX_KEY_FILE"]).is_file()
