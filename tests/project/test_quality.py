"""Style and types never drift: ruff and mypy run as part of the test suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("azctx.events", "azctx.projections", "azctx.store", "azctx.cli")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_check_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_format_is_clean() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_the_packages(tmp_path: Path) -> None:
    """mypy sees the folders under their installed names through a symlinked tree,
    so the check is the same for an editable and a regular install."""
    pytest.importorskip("mypy")
    tree = tmp_path / "src" / "azctx"
    tree.mkdir(parents=True)
    for package in PACKAGES:
        folder = package.split(".")[1]
        (tree / folder).symlink_to(ROOT / folder, target_is_directory=True)
    args = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    args += ["--cache-dir", str(tmp_path / "cache")]
    for package in PACKAGES:
        args += ["-p", package]
    env = {**os.environ, "MYPYPATH": str(tmp_path / "src")}
    result = subprocess.run(
        args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
