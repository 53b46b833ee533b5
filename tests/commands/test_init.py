"""``azctx init`` (the shell hooks: init, allow, disallow and the hidden pin): the
scripts init prints without a terminal, pwsh's checked as text, the documented startup
lines, and init at shell start without typer.

init, allow and pin in real bash, zsh and fish shells are in tests/shell/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from two_contexts import make_two, store_at

# ------------------------------------------------------------------------- azctx init


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return make_two(tmp_path)


def _init(shell: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    environ.update(
        AZCTX_STORE=str(tmp_path / "store.db"), AZCTX_KEY_FILE=str(tmp_path / "key"), **env
    )
    return subprocess.run(
        [sys.executable, "-m", "azctx.cli", "init", shell],
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "pwsh"])
def test_init_without_a_terminal_prints_the_hooks_and_starts_nothing(
    shell: str, base: Path
) -> None:
    done = _init(shell, base)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "AZCTX_SESSION =" not in done.stdout and "export AZCTX_SESSION" not in done.stdout
    with store_at(base) as store:
        assert store.state().sessions == {}


def test_the_pwsh_script_hooks_prompt_exit_and_pins_with_builtins(base: Path) -> None:
    text = _init("pwsh", base).stdout
    assert "function global:azctx_prompt" in text
    assert "[IO.File]::ReadAllText($file)" in text  # no process per prompt
    assert "$env:AZCTX_PROMPT = $value" in text
    assert "Register-EngineEvent -SourceIdentifier PowerShell.Exiting" in text
    assert "session end --shell pwsh" in text
    assert "[IO.File]::Exists($candidate)" in text and "pin --shell pwsh" in text
    assert "if (-not $global:__azctxHooked)" in text  # sourced twice: hooked once
    assert "$global:__azctxOriginalPrompt = $function:prompt" in text


def test_the_documented_startup_lines_and_prompts_are_the_tested_ones() -> None:
    from shell_world import RC

    page = (Path(__file__).resolve().parents[2] / "docs" / "how-to" / "shell.md").read_text()
    for shell, text in RC.items():
        for line in text.splitlines():
            if "fish_greeting" not in line:  # the tests' own quiet start
                assert line.replace("|", "\\|") in page or line in page, (shell, line)


def test_init_at_shell_start_skips_typer(base: Path) -> None:
    probe = (
        "import atexit, sys; sys.argv = ['azctx', 'init', 'bash'];"
        " atexit.register(lambda: sys.stderr.write(str('typer' in sys.modules)));"
        " from azctx.cli.main import main; main()"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    environ.update(AZCTX_STORE=str(base / "store.db"), AZCTX_KEY_FILE=str(base / "key"))
    done = subprocess.run(
        [sys.executable, "-c", probe], env=environ, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "__azctx_hook" in done.stdout
    assert done.stderr == "False"
