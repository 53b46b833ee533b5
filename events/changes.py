"""Changes: the exact effect of an operation on one cell of one scope's state.

Every operation event carries the list of cells it changed, each with its value before
and after. ``evolve`` applies the ``after`` values; ``undo`` checks that each cell still
holds its ``after`` value and appends the same changes with before and after swapped.
A cell is addressed by ``scope`` (``"user"`` or a session id), its ``type`` and ``key``.

The value a cell holds depends on its type (``CELL_VALUES``, which the codec reads):
a context, a credential or an environment (or None when absent), the default's name,
the autosave setting, or whether a user context is hidden in a session.
"""

from __future__ import annotations

from typing import Literal

from azctx.events.names import ScopeKey
from azctx.events.records import Record
from azctx.events.values import Context, Credential, Environment

CellType = Literal["context", "hidden", "default", "autosave", "credential", "environment"]
CellValue = Context | Credential | Environment | str | bool | None

#: Each cell type -> the annotation of the value it holds.
CELL_VALUES: dict[str, str] = {
    "context": "Context | None",
    "hidden": "bool",
    "default": "str | None",
    "autosave": "bool | None",
    "credential": "Credential | None",
    "environment": "Environment | None",
}


class Change(Record):
    type: CellType
    scope: ScopeKey
    key: str
    before: CellValue
    after: CellValue


def context_change(scope: str, key: str, before: Context | None, after: Context | None) -> Change:
    """A context appearing, disappearing or changing under its (case-folded) name."""
    return Change("context", scope, key, before, after)


def hidden_change(scope: str, key: str, before: bool, after: bool) -> Change:
    """A process scope hiding (or showing again) a user-scope context of that name."""
    return Change("hidden", scope, key, before, after)


def default_change(scope: str, before: str | None, after: str | None) -> Change:
    """The scope's default context name (as given, case kept), or None."""
    return Change("default", scope, "", before, after)


def autosave_change(scope: str, before: bool | None, after: bool | None) -> Change:
    """The scope's autosave setting; None means never set in that scope."""
    return Change("autosave", scope, "", before, after)


def credential_change(
    scope: str, key: str, before: Credential | None, after: Credential | None
) -> Change:
    """An account's credential in the scope, keyed by the case-folded account id."""
    return Change("credential", scope, key, before, after)


def environment_change(
    scope: str, key: str, before: Environment | None, after: Environment | None
) -> Change:
    """A custom environment known to the scope, keyed by its case-folded name."""
    return Change("environment", scope, key, before, after)


def inverse(change: Change) -> Change:
    """The change that puts the cell back to its value before ``change``."""
    return change._replace(before=change.after, after=change.before)


def describe_cell(change: Change) -> str:
    """A human name of the cell a change touches, for conflict messages."""
    where = "user scope" if change.scope == "user" else f"session {change.scope}"
    kind = change.type
    if kind == "context":
        ctx = change.before or change.after
        name = ctx.name if isinstance(ctx, Context) else change.key
        return f"context '{name}' ({where})"
    if kind == "hidden":
        return f"context '{change.key}' hidden in {where}"
    if kind == "default":
        return f"the default context ({where})"
    if kind == "autosave":
        return f"the autosave setting ({where})"
    if kind == "credential":
        return f"the credential of account '{change.key}' ({where})"
    return f"environment '{change.key}' ({where})"
