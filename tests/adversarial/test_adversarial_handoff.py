"""What azctx hands on or prints besides a context: a store URL's credentials (user info,
``password=`` and friends, the tail of a password with a raw ``@``) are masked in
``key status`` (text and JSON) and in every ``error:`` line, and a malformed URL is one
line, never "internal error"; ``run`` gives CMD neither ``AZCTX_KEY`` nor the store URL's
password; ``--secret-env`` never repeats what it was given."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from adversarial_support import assert_error, home, run, store_path
from azctx.events.urls import masked_text, masked_url, url_without_password
from azctx.store.context_store import ContextStore
from azctx.store.keys import master as keys

pytestmark = pytest.mark.adversarial

PW = "Pw-Secret-91x"
TAIL = "TailOfPw-33q"
KEY = keys.encode_key(bytes(range(32)))


def _clean(text: str) -> None:
    for secret in (PW, TAIL, KEY):
        assert secret not in text, text


# -- masking, the one function ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"postgresql+psycopg://u:{PW}@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        (f"postgresql+psycopg://u@h/db?password={PW}", "postgresql+psycopg://u@h/db?password=***"),
        (
            f"postgresql+psycopg://u:{PW}@{TAIL}@h/db?sslmode=require&sslpassword={PW}",
            "postgresql+psycopg://u:***@h/db?sslmode=require&sslpassword=***",
        ),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/a@b:c/store.db", "sqlite:////tmp/a@b:c/store.db"),
    ],
)
def test_every_credential_a_url_can_carry_is_masked(url: str, masked: str) -> None:
    assert masked_url(url) == masked
    assert masked_text(f"error: cannot use the database '{url}': down") == (
        f"error: cannot use the database '{masked}': down"
    )


def test_a_url_handed_on_loses_its_password_or_is_not_handed_on() -> None:
    assert url_without_password(f"postgresql://u:{PW}@h/db?password={PW}&x=1") == (
        "postgresql://u@h/db?x=1"
    )
    assert url_without_password(f"postgresql://u:{PW}@{TAIL}@h/db") is None


# -- through the command line --------------------------------------------------------------

UNREACHABLE = [
    f"postgresql+psycopg://u:{PW}@127.0.0.1:1/db",
    f"postgresql+psycopg://u@127.0.0.1:1/db?password={PW}",
    f"postgresql+psycopg://u:{PW}@{TAIL}@127.0.0.1:1/db",
    f"postgresql+psycopg://u:{PW}@127.0.0.1:1/db?connect_timeout=1&password={PW}",
]


@pytest.mark.parametrize("url", UNREACHABLE)
@pytest.mark.parametrize("args", [["key", "status"], ["select", "x"]])
def test_no_error_line_shows_a_password_of_the_store_url(
    tmp_path: Path, url: str, args: list[str]
) -> None:
    env = {**home(tmp_path), "AZCTX_STORE": url, "AZCTX_KEY": KEY, "AZCTX_LOCK_TIMEOUT": "2"}
    outcome = run(args, env)
    assert_error(outcome, 3)
    _clean(outcome.out + outcome.err)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://u:{PW}@127.0.0.1:abc/db",
        f"postgresql+psycopg://u:{PW}@127.0.0.1:99999999/db",
        f"postgresql+psycopg://u:{PW}@[::1/db",
        f"postgresql+nodriver://u:{PW}@h/db",
        "://nothing",
    ],
)
def test_a_malformed_url_is_one_error_line(tmp_path: Path, url: str) -> None:
    env = {**home(tmp_path), "AZCTX_STORE": url, "AZCTX_KEY": KEY, "AZCTX_LOCK_TIMEOUT": "2"}
    for args in (["list"], ["key", "status"]):
        outcome = run(args, env)
        assert outcome.code in (2, 3), outcome.describe()
        assert outcome.err.startswith("error: "), outcome.describe()
        assert "internal error" not in outcome.err and "Traceback" not in outcome.err
        _clean(outcome.out + outcome.err)


def test_key_status_masks_the_url_in_text_and_json(postgres_url: str, tmp_path: Path) -> None:
    # The server trusts this client: the password is never checked, only carried.
    with_pw = postgres_url.replace("://postgres@", f"://postgres:{PW}@", 1)
    url = f"{with_pw}&password={PW}"
    env = {**home(tmp_path), "AZCTX_STORE": url, "AZCTX_KEY": KEY}
    assert (
        run(
            ["add", "--account", "a", "--tenant", "t", "--subscription", "s", "--name", "a"], env
        ).code
        == 0
    )
    text = run(["key", "status"], env)
    assert text.code == 0, text.describe()
    _clean(text.out + text.err)
    assert "postgres:***@" in text.out and "password=***" in text.out
    as_json = run(["key", "status", "--json"], env)
    assert as_json.code == 0, as_json.describe()
    _clean(as_json.out)
    assert "password=***" in json.loads(as_json.out)["store"]


# -- what run hands CMD ---------------------------------------------------------------------

DUMP = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]


def test_run_never_hands_cmd_the_master_key(tmp_path: Path) -> None:
    env = {**home(tmp_path), "AZCTX_KEY": KEY}
    assert (
        run(
            ["add", "--account", "a", "--tenant", "t", "--subscription", "s", "--name", "a"], env
        ).code
        == 0
    )
    done = run(["run", "--context", "a", "--", *DUMP], env)
    assert done.code == 0, done.describe()
    child = json.loads(done.out)
    assert "AZCTX_KEY" not in child and KEY not in done.out
    assert child["AZCTX_CONTEXT"] == "a"
    assert child["AZCTX_STORE"] == env["AZCTX_STORE"]  # a path carries no credential
    # An azctx inside CMD knows its context, and says what it lacks for the store.
    inner = [sys.executable, "-m", "azctx.cli", "list"]
    nested = run(["run", "--context", "a", "--", *inner], env)
    assert nested.code == 3, nested.describe()
    assert "AZCTX_KEY" in nested.err and KEY not in nested.err


def test_run_hands_cmd_the_store_url_without_its_password(
    postgres_url: str, tmp_path: Path
) -> None:
    url = postgres_url.replace("://postgres@", f"://postgres:{PW}@", 1) + f"&password={PW}"
    env = {**home(tmp_path), "AZCTX_STORE": url, "AZCTX_KEY": KEY}
    assert (
        run(
            ["add", "--account", "a", "--tenant", "t", "--subscription", "s", "--name", "a"], env
        ).code
        == 0
    )
    done = run(["run", "--context", "a", "--", *DUMP], env)
    assert done.code == 0, done.describe()
    child = json.loads(done.out)
    _clean(done.out)
    assert child["AZCTX_STORE"] == postgres_url  # the same store, no password
    assert "AZCTX_KEY" not in child


def test_run_drops_a_store_url_whose_password_end_is_a_guess(tmp_path: Path) -> None:
    from azctx.cli import child as run_child

    url = f"postgresql+psycopg://u:{PW}@{TAIL}@h/db"
    monkey = pytest.MonkeyPatch()
    try:
        monkey.setenv("AZCTX_STORE", url)
        monkey.setenv("AZCTX_KEY", KEY)
        env = run_child.child_environment({"AZCTX_CONTEXT": "a"})
    finally:
        monkey.undo()
    assert "AZCTX_STORE" not in env and "AZCTX_KEY" not in env
    _clean(json.dumps(env))


# -- --secret-env ---------------------------------------------------------------------------


@pytest.mark.parametrize("given", [PW, f"{PW} with spaces", "UNSET_BUT_" + TAIL.replace("-", "_")])
def test_secret_env_never_repeats_its_argument(tmp_path: Path, given: str) -> None:
    env = home(tmp_path)
    with ContextStore(store_path(env), environ=env):
        pass
    args = ["add", "--account", "sp", "--tenant", "t", "--subscription", "s", "--name", "sp"]
    args += ["--account-type", "service-principal", "--secret-env", given]
    outcome = run(args, env)
    assert_error(outcome, 2, "--secret-env")
    assert given not in outcome.err
    assert TAIL.replace("-", "_") not in outcome.err and PW not in outcome.err
