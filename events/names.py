"""Names and scope keys: the pure helpers of the vocabulary."""

from __future__ import annotations

#: The scope key of the user scope. A process scope is keyed by its session id,
#: which always starts with ``SESSION_PREFIX`` so the two can never collide.
USER = "user"
SESSION_PREFIX = "s-"

DEFAULT_ENVIRONMENT = "AzureCloud"


def name_key(name: str) -> str:
    """The case-insensitive identity of a context name (or an account id)."""
    return name.casefold()


def account_key(account: str) -> str:
    return account.casefold()


def default_name(account: str, subscription: str | None) -> str:
    """The name a context gets when none is given: ``[ACCOUNT; SUBSCRIPTION]``."""
    return f"[{account}; {subscription or ''}]"


def is_session_scope(scope_key: str) -> bool:
    return scope_key.startswith(SESSION_PREFIX)
