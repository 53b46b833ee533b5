"""``azctx`` on a real terminal (a pty, through pexpect) for the tests of the picker and of
the questions a command asks; no tests here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")


AZCTX = str(Path(sys.executable).with_name("azctx"))


def _spawn(env: dict[str, str], *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        AZCTX, list(args), env=env, encoding="utf-8", timeout=20, dimensions=(24, 100)
    )


def _current(env: dict[str, str]) -> str:
    import subprocess

    done = subprocess.run([AZCTX, "current"], env=env, capture_output=True, text=True)
    return done.stdout.strip()


def _ended(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.signalstatus
    return int(child.exitstatus)
