"""Names and scope keys: the pure helpers of the vocabulary, importable without
pydantic (the prompt commands' read path needs them, see ``projections/plain.py``)."""

from __future__ import annotations

import unicodedata

#: The scope key of the user scope. A process scope is keyed by its session id,
#: which always starts with ``SESSION_PREFIX`` so the two can never collide.
USER = "user"
SESSION_PREFIX = "s-"

MAX_NAME_LENGTH = 256

DEFAULT_ENVIRONMENT = "AzureCloud"


def name_key(name: str) -> str:
    """The case-insensitive identity of a context name (or an account id)."""
    return name.casefold()


def account_key(account: str) -> str:
    return account.casefold()


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid context name, or None when it is valid."""
    if not name:
        return "a context name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a context name is at most {MAX_NAME_LENGTH} characters (got {len(name)})"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "a context name cannot contain control characters"
    return None


def default_name(account: str, subscription: str | None) -> str:
    """The name a context gets when none is given: ``[ACCOUNT; SUBSCRIPTION]``."""
    return f"[{account}; {subscription or ''}]"


def is_session_scope(scope_key: str) -> bool:
    return scope_key.startswith(SESSION_PREFIX)
