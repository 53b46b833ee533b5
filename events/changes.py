"""Changes: the exact effect of an operation on one cell of one scope's state.

Every operation event carries the list of cells it changed, each with its value before
and after. ``evolve`` applies the ``after`` values; ``undo`` checks that each cell still
holds its ``after`` value and appends the same changes with before and after swapped.
A cell is addressed by ``scope`` (``"user"`` or a session id), its ``type`` and ``key``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .values import Context, Credential, Environment, Frozen


class ContextChange(Frozen):
    """A context appearing, disappearing or changing under its (case-folded) name."""

    type: Literal["context"] = "context"
    scope: str
    key: str
    before: Context | None
    after: Context | None


class HiddenChange(Frozen):
    """A process scope hiding (or showing again) a user-scope context of that name."""

    type: Literal["hidden"] = "hidden"
    scope: str
    key: str
    before: bool
    after: bool


class DefaultChange(Frozen):
    """The scope's default context name (as given, case kept), or None."""

    type: Literal["default"] = "default"
    scope: str
    key: str = ""
    before: str | None
    after: str | None


class AutosaveChange(Frozen):
    """The scope's autosave setting; None means never set in that scope."""

    type: Literal["autosave"] = "autosave"
    scope: str
    key: str = ""
    before: bool | None
    after: bool | None


class CredentialChange(Frozen):
    """An account's credential in the scope, keyed by the case-folded account id."""

    type: Literal["credential"] = "credential"
    scope: str
    key: str
    before: Credential | None
    after: Credential | None


class EnvironmentChange(Frozen):
    """A custom environment known to the scope, keyed by its case-folded name."""

    type: Literal["environment"] = "environment"
    scope: str
    key: str
    before: Environment | None
    after: Environment | None


Change = Annotated[
    ContextChange
    | HiddenChange
    | DefaultChange
    | AutosaveChange
    | CredentialChange
    | EnvironmentChange,
    Field(discriminator="type"),
]


def inverse(change: Change) -> Change:
    """The change that puts the cell back to its value before ``change``."""
    return change.model_copy(update={"before": change.after, "after": change.before})


def describe_cell(change: Change) -> str:
    """A human name of the cell a change touches, for conflict messages."""
    where = "user scope" if change.scope == "user" else f"session {change.scope}"
    match change:
        case ContextChange():
            ctx = change.before or change.after
            return f"context '{ctx.name if ctx else change.key}' ({where})"
        case HiddenChange():
            return f"context '{change.key}' hidden in {where}"
        case DefaultChange():
            return f"the default context ({where})"
        case AutosaveChange():
            return f"the autosave setting ({where})"
        case CredentialChange():
            return f"the credential of account '{change.key}' ({where})"
        case EnvironmentChange():
            return f"environment '{change.key}' ({where})"
    raise AssertionError(change)  # pragma: no cover
