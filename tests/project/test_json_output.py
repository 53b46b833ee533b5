"""The ``--json`` documents: the published schema page is the one the models generate,
and what the commands really print (in real processes) validates against the models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from azctx.cli.json_output import (
    DOCUMENTS,
    AutosaveStatusDocument,
    ContextDocument,
    ContextList,
    HistoryList,
    KeyStatusDocument,
    SessionStatusDocument,
    markdown,
)
from pydantic import BaseModel, ValidationError

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "json-output.md"


def test_the_published_page_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == markdown(), (
        "regenerate it: python -m azctx.cli.json_output > docs/reference/json-output.md"
    )


def test_every_document_has_a_section_with_its_schema() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for command, model in DOCUMENTS.items():
        assert f"## `{command}`" in page
        assert json.dumps(model.model_json_schema(), indent=2) in page


@pytest.fixture
def env(azctx_env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    return {**base, **azctx_env}


def azctx(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "azctx.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return json.loads(done.stdout)


def azctx_plain(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "azctx.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_real_outputs_validate_against_the_models(env: dict[str, str]) -> None:
    azctx_plain(env, "add", "--account", "u@contoso.org", "--tenant", "t-1",
                "--subscription", "s-1", "--name", "dev")  # fmt: skip
    azctx_plain(env, "add", "--account", "app-1", "--account-type", "service-principal",
                "--tenant", "t-1", "--subscription", "s-2", "--name", "prod")  # fmt: skip
    azctx_plain(env, "select", "dev")
    documents: list[tuple[type[BaseModel], Any]] = [
        (ContextList, azctx(env, "list", "--json")),
        (ContextDocument, azctx(env, "show", "--json")),
        (ContextDocument, azctx(env, "show", "prod", "--json")),
        (HistoryList, azctx(env, "history", "--json")),
        (SessionStatusDocument, azctx(env, "session", "status", "--json")),
        (KeyStatusDocument, azctx(env, "key", "status", "--json")),
        (AutosaveStatusDocument, azctx(env, "autosave", "status", "--json")),
    ]
    for model, document in documents:
        model.model_validate(document)
    listed = documents[0][1]
    assert [c["name"] for c in listed] == ["dev", "prod"]
    assert len(documents[3][1]) == 3


def test_a_field_the_models_do_not_name_fails_validation() -> None:
    document = {
        "enabled": True,
        "source": "default",
    }
    AutosaveStatusDocument.model_validate(document)
    with pytest.raises(ValidationError):
        AutosaveStatusDocument.model_validate({**document, "new": 1})
    with pytest.raises(ValidationError):
        AutosaveStatusDocument.model_validate({**document, "source": "elsewhere"})
