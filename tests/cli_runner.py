"""``azctx`` in-process through typer's CliRunner (the ``azctx_cli`` fixture of conftest.py
and the stores the tests of tests/commands/ set up); no tests here."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _click_command(app: Any) -> Any:
    import typer.main

    return typer.main.get_command(app)


class AzctxCli:
    """``azctx`` run in-process through typer's CliRunner against one store.

    Every run is checked for what must hold whatever the command: no colour or other
    escape codes, no traceback, and (unless ``code`` is None) the expected exit code."""

    def __init__(self, env: dict[str, str]) -> None:
        # None unsets: a developer's own session or autosave setting must not leak in.
        self.env: dict[str, str | None] = {
            "AZCTX_SESSION": None,
            "AZCTX_AUTOSAVE": None,
            "AZCTX_KEY": None,
            "AZCTX_LOCK_TIMEOUT": None,
            **env,
        }

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
        code: int | None = 0,
    ) -> Any:
        from unittest import mock

        import typer.testing
        from azctx.cli.commands import app

        # typer rebuilds the click command from the annotations on every invoke (most of
        # the time of a run); the command is stateless, so it is built once.
        with mock.patch.object(typer.testing, "_get_command", _click_command):
            result = typer.testing.CliRunner().invoke(
                app, list(args), input=input, env={**self.env, **(env or {})}, prog_name="azctx"
            )
        shown = f"azctx {args!r} -> {result.exit_code}\n{result.stdout}\n{result.stderr}"
        assert "\x1b" not in result.stdout + result.stderr, shown
        assert "Traceback" not in result.stdout + result.stderr, shown
        assert result.exception is None or isinstance(result.exception, SystemExit), shown
        if code is not None:
            assert result.exit_code == code, shown
        return result

    def json(self, *args: str, env: dict[str, str | None] | None = None) -> Any:
        import json

        result = self(*args, "--json", env=env)
        assert result.stderr == ""
        return json.loads(result.stdout)

    def head(self) -> tuple[int, bytes]:
        """The log's head (seq, hash), read without the key."""
        from azctx.store import open_log

        environ = {k: v for k, v in self.env.items() if v is not None}
        with open_log(environ["AZCTX_STORE"], key_required=False, environ=environ) as log:
            return log.head()
