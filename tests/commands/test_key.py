"""``azctx key status|rotate``: a rotation is an event that changes nothing in the view,
and the commands.

Where the key comes from is in tests/store/test_keys.py, a rotation killed at every step in
tests/adversarial/test_adversarial_rotation.py; the key-file errors every command gives
are in test_azctx.py.
"""

from __future__ import annotations

import stat
from pathlib import Path

from azctx.projections import decisions as d
from cli_runner import AzctxCli
from command_support import add, fails, secret_of
from decision_support import Log

# ---------------------------------------------------------------- the decision (pure)


def test_key_rotate_is_an_event_that_changes_nothing_in_the_view() -> None:
    log = Log()
    log.add("a")
    before = log.view()
    log.do(d.decide_key_rotate(log.state, log.caller(), master_key_id="m-2"))
    assert log.view() == before


# ------------------------------------------------------- through the CLI (in-process)


def test_key_status_and_rotate(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    add(azctx_cli, "a", "--account-type", "service-principal", "--secret-stdin", input="pw\n")
    before = azctx_cli.json("key", "status")
    assert before == {
        "source": "env-file",
        "path": azctx_cli.env["AZCTX_KEY_FILE"],
        "key_id": before["key_id"],
        "store": azctx_cli.env["AZCTX_STORE"],
    }
    assert before["key_id"] in azctx_cli("key", "status").stdout
    new_key = tmp_path / "rotated" / "new.key"
    new_key.parent.mkdir()
    rotated = azctx_cli("key", "rotate", "--new-key-file", str(new_key))
    assert str(new_key) in rotated.stdout
    assert stat.S_IMODE(new_key.stat().st_mode) == 0o600
    old = azctx_cli("list", code=3)
    assert old.stdout == "" and old.stderr.startswith("error: ")
    azctx_cli.env["AZCTX_KEY_FILE"] = str(new_key)
    after = azctx_cli.json("key", "status")
    assert after["key_id"] != before["key_id"]
    assert secret_of(azctx_cli, "a") == "pw"


# --------------------------------------------------------------- bad input and errors


def test_rotate_with_a_key_from_the_environment_needs_a_new_key_file(
    existing: AzctxCli, tmp_path: Path
) -> None:
    # Move the store onto AZCTX_KEY: same key, from the variable.
    key_text = Path(str(existing.env["AZCTX_KEY_FILE"])).read_text().strip()
    env: dict[str, str | None] = {"AZCTX_KEY": key_text, "AZCTX_KEY_FILE": None}
    assert existing.json("key", "status", env=env)["source"] == "env"
    # The SPEC makes --new-key-file required in this case: a usage error.
    assert "AZCTX_KEY" in fails(existing, 2, "key", "rotate", env=env)
    taken = tmp_path / "taken.key"
    taken.write_text("x")
    fails(existing, 1, "key", "rotate", "--new-key-file", str(taken), env=env)
    assert taken.read_text() == "x"
