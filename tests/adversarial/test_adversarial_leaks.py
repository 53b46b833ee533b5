"""Secrets leak nowhere: after a scripted session with service-principal secrets (unique
random markers), `show`, `history --json`, an export without secrets and some errors,
the marker bytes are in no output and no file azctx or SQLite wrote (database, WAL,
SHM, platform dirs, temp dir). After `disconnect` and `session end` the secrets cannot
be recovered even with the master key and raw SQL."""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path

import pytest
from adversarial_support import Outcome, home, run, sql, store_path
from azctx.events import decode
from azctx.store import open_log
from azctx.store.keys import cipher as crypto
from azctx.store.keys import master as keys
from azctx.store.log import Log

pytestmark = pytest.mark.adversarial


def _marker() -> str:
    return f"SECRET-{secrets.token_hex(12)}"


def _forms(marker: str) -> list[bytes]:
    """The marker as it could appear: raw, UTF-16, base64 (at every alignment)."""
    raw = marker.encode()
    found = [raw, marker.encode("utf-16-le")]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)[4:-4]
        found.append(encoded)
    return found


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _assert_absent(markers: list[str], outputs: list[Outcome], roots: list[Path]) -> None:
    for marker in markers:
        for outcome in outputs:
            assert marker not in outcome.out and marker not in outcome.err, outcome.describe()
        for root in roots:
            for path in _files(root):
                data = path.read_bytes()
                for form in _forms(marker):
                    assert form not in data, f"{marker} found in {path}"


def _add_sp(env: dict[str, str], name: str, account: str, secret: str, *extra: str) -> Outcome:
    args = ["add", "--account", account, "--tenant", "t", "--subscription", f"sub-{name}",
            "--name", name, "--account-type", "service-principal", "--secret-stdin",
            *extra]  # fmt: skip
    return run(args, env, stdin=f"{secret}\n")


def _plaintexts(env: dict[str, str]) -> list[bytes]:
    """Everything the master key can decrypt: every log payload and every snapshot,
    plus every sealed secret they hold that a surviving data key still opens."""
    found: list[bytes] = []
    with open_log(store_path(env), environ=env) as log:
        for entry in log.entries():
            found.append(entry.payload)
            found.extend(_unsealed(log, entry.payload))
            decode(entry.payload)
        for snapshot in log.snapshots(1):
            found.append(snapshot.payload)
    return found


_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")


def _unsealed(log: Log, payload: bytes) -> list[bytes]:
    """Every base64 run in a payload (sealed secrets are stored so), opened with every
    data key the store still has."""
    opened = []
    key_ids = [row.key_id for row in log._recorder.data_keys() if row.kind != "log"]
    for blob in _BASE64_RUN.findall(payload):
        raw = base64.b64decode(blob)
        for key_id in key_ids:
            try:
                opened.append(log.unseal(key_id, raw))
            except Exception:  # not sealed under this key: exactly what we hope
                continue
    return opened


def test_secrets_leak_nowhere_and_are_shredded(tmp_path: Path) -> None:
    env = home(tmp_path)
    kept, gone, session_secret, env_secret = _marker(), _marker(), _marker(), _marker()
    outputs = [
        _add_sp(env, "keep", "app-keep", kept),
        _add_sp(env, "gone", "app-gone", gone),
        _add_sp(env, "gone", "app-gone", gone),  # refused: the name is taken
        run(
            [
                "add",
                "--account",
                "app-env",
                "--tenant",
                "t",
                "--subscription",
                "e",
                "--name",
                "envsp",
                "--account-type",
                "service-principal",
                "--secret-env",
                "SP_SECRET",
            ],
            {**env, "SP_SECRET": env_secret},
        ),
    ]
    assert [o.code for o in outputs] == [0, 0, 1, 0], [o.describe() for o in outputs]
    started = run(["session", "start"], env)
    session = started.out.splitlines()[0].split("=", 1)[1]
    in_session = {**env, "AZCTX_SESSION": session}
    outputs += [
        started,
        _add_sp(in_session, "proc", "app-proc", session_secret, "--scope", "process"),
        run(["show", "gone", "--json"], env),
        run(["show", "keep"], env),
        run(["list", "--json"], in_session),
        run(["history", "--json"], in_session),
        run(["export", str(tmp_path / "tmp" / "out.json")], in_session),
        run(["show", "missing"], env),
        run(["select", "\u0007bad"], env),
        run(["history", "--since", "not a time"], env),
    ]
    assert json.loads(outputs[6].out)["credential"] == "stored"
    markers = [kept, gone, session_secret, env_secret]
    roots = [tmp_path / "data", tmp_path / "config", tmp_path / "tmp"]
    _assert_absent(markers, outputs, roots)
    # With the key, the live secrets can still be read: the search below is real.
    assert any(kept.encode() in p for p in _plaintexts(env))
    gone_keys = _account_keys(env, "app-gone")
    wrapped = {
        k: bytes(w) for k, w in sql(store_path(env), "SELECT key_id, wrapped FROM data_keys")
    }
    outputs = [run(["disconnect", "app-gone", "--yes"], env),
               run(["session", "end"], in_session)]  # fmt: skip
    assert [o.code for o in outputs] == [0, 0], [o.describe() for o in outputs]
    session_keys = [k for k in wrapped if k not in _live_key_ids(env)]
    assert set(gone_keys) <= set(session_keys) and len(session_keys) > len(gone_keys)
    _assert_absent(markers, outputs, roots)
    plaintexts = _plaintexts(env)
    for marker in (gone, session_secret):
        assert not any(marker.encode() in p for p in plaintexts), marker
    assert any(kept.encode() in p for p in plaintexts)
    # The destroyed data keys: no row, and no copy of the wrapped bytes in any file.
    master = keys.read_key_file(Path(env["AZCTX_CONFIG_DIR"]) / "master.key")
    assert master is not None
    blob = b"".join(p.read_bytes() for p in _files(tmp_path / "data"))
    for key_id in session_keys:
        assert wrapped[key_id] not in blob, key_id
        assert not sql(store_path(env), "SELECT 1 FROM data_keys WHERE key_id = ?", (key_id,))
        crypto.unwrap(master.key, master.key_id, key_id, wrapped[key_id])  # it was real


def _live_key_ids(env: dict[str, str]) -> set[str]:
    return {str(r[0]) for r in sql(store_path(env), "SELECT key_id FROM data_keys")}


def _account_keys(env: dict[str, str], account: str) -> list[str]:
    with open_log(store_path(env), environ=env) as log:
        found = [
            json.loads(e.payload)
            for e in log.entries()
            if account.encode() in e.payload and e.kind == "add"
        ]
    text = json.dumps(found)
    return sorted({k for k in _live_key_ids(env) if k in text and k.startswith("account-")})
