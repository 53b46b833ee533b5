"""Decisions: a request, checked against the state, becomes one event (or a refusal).

Each ``decide_*`` function is pure: it reads the state and the caller and returns a
``Decision`` whose event lists every cell it changes, or raises ``Refused`` (exit 1) or
``BadInput`` (exit 2); nothing is ever half decided. ``decision`` holds what they all
share (the shape of a decision, where a change goes, the default's fallback); one module
per kind of operation: ``add``, ``contexts`` (select, rename, remove, disconnect,
clear), ``importing``, ``sessions`` (sessions, autosave, key rotation) and ``undo``.
"""

from __future__ import annotations

from azctx.projections.decisions.add import AddRequest, account_key_id, check_request, decide_add
from azctx.projections.decisions.contexts import (
    decide_clear,
    decide_disconnect,
    decide_remove,
    decide_rename,
    decide_select,
    decide_select_previous,
)
from azctx.projections.decisions.decision import Decision
from azctx.projections.decisions.importing import decide_import
from azctx.projections.decisions.sessions import (
    decide_autosave,
    decide_key_rotate,
    decide_session_end,
    decide_session_start,
)

__all__ = [
    "AddRequest",
    "Decision",
    "account_key_id",
    "check_request",
    "decide_add",
    "decide_autosave",
    "decide_clear",
    "decide_disconnect",
    "decide_import",
    "decide_key_rotate",
    "decide_remove",
    "decide_rename",
    "decide_select",
    "decide_select_previous",
    "decide_session_end",
    "decide_session_start",
]
