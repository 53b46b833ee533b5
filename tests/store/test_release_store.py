"""A store written by the 0.1.0 release still opens, reads the same and takes writes.

``tests/store/data/release-0.1/`` was written by ``tests/store/data/make_release_store.py`` with the
0.1.0 release: 74 operations (contexts of every kind, a session with a process-scope
context and default, a rename, a removal and its undo, a disconnect whose undo brought the
account back with its secret shredded, an autosave toggle, an import) and a snapshot at
seq 64. ``expected/`` holds what 0.1.0 printed for each command in ``cases.json``; where this
version prints the same data otherwise by design, ``_assert_same`` says how.

Only the command line is used (real subprocesses), so these tests hold whatever the core
looks like inside. Every test works on a copy of the store in its own tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data" / "release-0.1"
EXPECTED = DATA / "expected"
CASES: list[dict[str, Any]] = json.loads((DATA / "cases.json").read_text())
SESSION = (DATA / "session-id.txt").read_text().strip()
SESSION_EXPIRES = datetime.fromisoformat(
    json.loads((DATA / "session-status.json").read_text())["expires"].replace("Z", "+00:00")
)
OPERATIONS = 74


def _session_live() -> bool:
    # A margin so that a run straddling the expiry does not see both states.
    return datetime.now(UTC) < SESSION_EXPIRES - timedelta(hours=1)


class Release:
    """``azctx`` run as a subprocess against a copy of the 0.1.0 store."""

    def __init__(self, root: Path) -> None:
        (root / "store").mkdir(parents=True)
        (root / "keys").mkdir()
        (root / "home").mkdir()
        shutil.copyfile(DATA / "store.db", root / "store" / "store.db")
        shutil.copyfile(DATA / "master.key", root / "keys" / "master.key")
        os.chmod(root / "keys" / "master.key", 0o600)
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
        self.env.update(
            {
                "AZCTX_STORE": str(root / "store" / "store.db"),
                "AZCTX_KEY_FILE": str(root / "keys" / "master.key"),
                "AZCTX_DATA_DIR": str(root / "azctx-data"),
                "AZCTX_CONFIG_DIR": str(root / "azctx-config"),
                "HOME": str(root / "home"),
                "NO_COLOR": "1",
                "COLUMNS": "1000",  # a list as wide as it is, as 0.1.0 printed it
                "TZ": "UTC",  # as recorded: plain history prints local time
            }
        )

    def __call__(
        self, *args: str, session: bool = False, code: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if session:
            env["AZCTX_SESSION"] = SESSION
        result = subprocess.run(
            [sys.executable, "-m", "azctx.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=120,
        )
        shown = f"azctx {args!r} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, shown
        if code is not None:
            assert result.returncode == code, shown
        return result

    def json(self, *args: str, session: bool = False) -> Any:
        result = self(*args, "--json", session=session)
        assert result.stderr == ""
        return json.loads(result.stdout)


@pytest.fixture
def release(tmp_path: Path) -> Release:
    return Release(tmp_path / "release")


def _expected(name: str) -> tuple[str, str]:
    return (
        (EXPECTED / f"{name}.stdout").read_text(),
        (EXPECTED / f"{name}.stderr").read_text(),
    )


def test_fixture_is_one_file_store_and_a_key() -> None:
    assert (DATA / "store.db").stat().st_size > 0
    assert not (DATA / "store.db-wal").exists()
    assert not (DATA / "store.db-shm").exists()
    assert (DATA / "master.key").stat().st_size > 0


def test_release_store_verifies(release: Release) -> None:
    result = release("verify")
    out, err = _expected("verify")
    assert result.stdout == out
    assert result.stderr == err
    assert f"ok: {OPERATIONS} operations" in result.stdout


def _columns(table: str) -> list[dict[str, str]]:
    """The rows of an aligned table, each cell under its header's name."""
    header, *rows = table.splitlines()
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    bounds = [(0, "MARKS"), *starts] if starts[0][0] > 0 else starts
    cells = []
    for row in rows:
        ends = [b for b, _ in bounds[1:]] + [len(row) + 1]
        cells.append({n: row[b:e].strip() for (b, n), e in zip(bounds, ends, strict=True)})
    return cells


def _assert_same(args: list[str], actual: str, recorded: str) -> None:
    """``actual`` shows what 0.1.0 printed as ``recorded``. By design since then: the
    JSON of a context has a ``protected`` field and ``show`` a Protected line; ``list``
    shows marks, name, subscription and account; a rename in ``history`` shows its new
    name after the old one."""
    command = args[0]
    if command in ("list", "show") and "--json" in args:
        old = json.loads(recorded)
        now = (
            [{**d, "protected": False} for d in old]
            if command == "list"
            else {**old, "protected": False}
        )
        assert json.loads(actual) == now
    elif command == "show":
        assert actual == recorded + "Protected:         no\n"
    elif command == "list" and args == ["list"]:
        keys = ("NAME", "SUBSCRIPTION", "ACCOUNT")
        old = [{k: r[k] for k in keys} | {"*": r["MARKS"]} for r in _columns(recorded)]
        now = [{k: r[k] for k in keys} | {"*": r["MARKS"]} for r in _columns(actual)]
        assert now == old and len(old) > 1
    elif command == "history" and "--json" not in args:
        old_rows, now_rows = _columns(recorded), _columns(actual)
        assert len(now_rows) == len(old_rows)
        for was, now in zip(old_rows, now_rows, strict=True):
            if was["OPERATION"] == "rename":
                assert now.pop("CONTEXT").startswith(was.pop("CONTEXT") + " → ")
            assert now == was
    else:
        assert actual == recorded


@pytest.mark.parametrize("case", [c for c in CASES if not c["session"]], ids=lambda c: c["name"])
def test_release_store_prints_recorded_output(release: Release, case: dict[str, Any]) -> None:
    result = release(*case["args"])
    out, err = _expected(case["name"])
    _assert_same(case["args"], result.stdout, out)
    assert result.stderr == err


# What the session cases show once the session has run out (after 2027-12): the user
# view, with a warning on stderr.
_EXPIRED_FALLBACK = {
    "session-list": "list",
    "session-list-json": "list-json",
    "session-current": "current",
}


@pytest.mark.parametrize("case", [c for c in CASES if c["session"]], ids=lambda c: c["name"])
def test_release_session_view(release: Release, case: dict[str, Any]) -> None:
    if _session_live():
        result = release(*case["args"], session=True)
        out, err = _expected(case["name"])
        _assert_same(case["args"], result.stdout, out)
        assert result.stderr == err
        return
    fallback = _EXPIRED_FALLBACK.get(case["name"])
    result = release(*case["args"], session=True, code=0 if fallback else 1)
    assert result.stderr != ""
    if fallback is not None:
        _assert_same(case["args"], result.stdout, _expected(fallback)[0])


def test_release_session_status(release: Release) -> None:
    if not _session_live():
        pytest.skip(f"the recorded session expired at {SESSION_EXPIRES.isoformat()}")
    status = release.json("session", "status", session=True)
    assert status["session"] == SESSION
    assert status["state"] == "live"


def test_release_shredded_account_has_no_credential(release: Release) -> None:
    shown = release.json("show", "sp-deploy")
    assert shown["account_type"] == "service-principal"
    assert shown["credential"] == "none"
    assert release.json("show", "sp-build")["credential"] == "stored"
    assert release.json("show", "sp-cert")["credential"] == "stored"
    history = {entry["seq"]: entry for entry in release.json("history")}
    assert history[12]["operation"] == "disconnect"
    assert history[12]["undone_by"] == 13
    assert history[10]["operation"] == "remove"
    assert history[10]["undone_by"] == 11


def test_release_store_takes_writes(release: Release) -> None:
    before = release.json("history")
    assert [entry["seq"] for entry in before] == list(range(OPERATIONS, 0, -1))

    release(
        "add",
        "--account",
        "dave@contoso.org",
        "--tenant",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "--subscription",
        "44444444-4444-4444-4444-444444444444",
        "--name",
        "after-upgrade",
    )
    assert release("current").stdout == "after-upgrade\n"
    release("select", "sp-build")
    assert release("current").stdout == "sp-build\n"
    release("undo")
    assert release("current").stdout == "after-upgrade\n"

    verified = release("verify")
    assert verified.stderr == ""
    assert verified.stdout.startswith("ok: ")

    after = release.json("history")
    oldest_first = list(reversed(after))
    assert oldest_first[:OPERATIONS] == list(reversed(before))
    # A session that ran out is ended by the first write: that entry may come first.
    added, selected, undo = [
        e for e in oldest_first[OPERATIONS:] if e["operation"] != "session-end"
    ]
    assert (added["operation"], added["context"]) == ("add", "after-upgrade")
    assert (selected["operation"], selected["context"]) == ("select", "sp-build")
    assert undo["operation"] == "undo"
    assert selected["undone_by"] == undo["seq"]
    assert added["undone_by"] is None

    names = [c["name"] for c in release.json("list")]
    old_names = [c["name"] for c in json.loads(_expected("list-json")[0])]
    assert sorted(names, key=str.casefold) == sorted(
        [*old_names, "after-upgrade"], key=str.casefold
    )
    assert release.json("show", "sp-deploy")["credential"] == "none"


def test_release_session_takes_writes(release: Release) -> None:
    if not _session_live():
        pytest.skip(f"the recorded session expired at {SESSION_EXPIRES.isoformat()}")
    release("select", "alice-dev", "--scope", "process", session=True)
    assert release("current", session=True).stdout == "alice-dev\n"
    assert release("current").stdout == _expected("current")[0]
    release("undo", session=True)
    assert release("current", session=True).stdout == "scratch\n"
    assert release("verify").stdout.startswith(f"ok: {OPERATIONS + 2} operations")
