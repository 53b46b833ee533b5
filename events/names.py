"""Names and scope keys: the pure helpers of the vocabulary."""

from __future__ import annotations

import re

#: The scope key of the user scope. A process scope is keyed by its session id,
#: which always starts with ``SESSION_PREFIX`` so the two can never collide.
USER = "user"
SESSION_PREFIX = "s-"
#: A session id is ``SESSION_PREFIX`` and this many random bytes in lowercase hex. The
#: id becomes a folder name (the session's Azure CLI folder), so an id read from the log
#: is held to the same rule (``is_session_id``) before it is used at all.
SESSION_ID_BYTES = 8
_SESSION_ID = re.compile(f"{SESSION_PREFIX}[0-9a-f]{{{2 * SESSION_ID_BYTES}}}")

#: A session id, in an annotation: the codec reads such a field with ``is_session_id``.
SessionId = str
#: A scope key, in an annotation: ``USER`` or a session id.
ScopeKey = str

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


def is_session_id(text: str) -> bool:
    """Whether ``text`` is a session id as ``session_id_from`` makes them."""
    return _SESSION_ID.fullmatch(text) is not None


def session_id_from(random: bytes) -> str:
    """The session id made of ``SESSION_ID_BYTES`` random bytes."""
    if len(random) != SESSION_ID_BYTES:
        raise ValueError(f"a session id takes {SESSION_ID_BYTES} random bytes")
    return SESSION_PREFIX + random.hex()
