"""``azctx verify``: the count and the head hash it prints.

What verify finds in a tampered store is in tests/adversarial/test_adversarial_tamper.py,
the chain itself in tests/store/test_log.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from command_support import add

if TYPE_CHECKING:
    from cli_runner import AzctxCli


# ------------------------------------------------------- through the CLI (in-process)


def test_verify_prints_the_count_and_the_head_hash(azctx_cli: AzctxCli, tmp_path: Path) -> None:
    add(azctx_cli, "a")
    azctx_cli("select", "a")
    seq, head = azctx_cli.head()
    full = azctx_cli("verify")
    assert full.stdout == (
        f"ok: 2 operations, chain and ciphertexts verified\nhead: {seq} {head.hex()}\n"
    )
    no_key: dict[str, str | None] = {"AZCTX_KEY_FILE": str(tmp_path / "missing.key")}
    assert azctx_cli("verify", env=no_key, code=3).stderr.startswith("error: ")
    chain = azctx_cli("verify", "--chain-only", env=no_key)
    assert chain.stdout == f"ok: 2 operations, chain verified\nhead: 2 {head.hex()}\n"
