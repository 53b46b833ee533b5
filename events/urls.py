"""The credentials a store URL can carry, found once: shown masked (``key status``, every
``error:`` line, a store's description) and left out of what ``run`` hands a child.

A URL carries a password in its user info (``scheme://user:PASSWORD@host``) and in
query settings such as ``?password=...`` (libpq also takes ``sslpassword``). A raw ``@``
inside a password makes the host start after the *last* ``@``, so everything from the
first ``:`` of the user info up to that ``@`` counts as the password: masking too much
is harmless, showing the tail of a password is not.
"""

from __future__ import annotations

import re

MASK = "***"
#: Query settings whose value is a credential (matched case-insensitively in the key).
_SECRET_KEYS = ("password", "secret", "token")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"]+")


def _split(url: str) -> tuple[str, str, str, str] | None:
    """``(scheme://, user, password, rest)`` of a URL with user info, where ``rest``
    starts at the host's ``@``; None when it has no password in its user info."""
    head, sep, tail = url.partition("://")
    if not sep:
        return None
    at = tail.rfind("@")
    colon = tail.find(":", 0, at) if at > 0 else -1
    if colon < 0:
        return None
    return head + sep, tail[:colon], tail[colon + 1 : at], tail[at:]


def _query_setting(part: str) -> bool:
    key = part.split("=", 1)[0].casefold()
    return "=" in part and any(word in key for word in _SECRET_KEYS)


def _rework_query(url: str, keep_secret: bool) -> str:
    base, sep, query = url.partition("?")
    if not sep:
        return url
    parts = []
    for part in query.split("&"):
        if not _query_setting(part):
            parts.append(part)
        elif keep_secret:
            parts.append(part.split("=", 1)[0] + "=" + MASK)
    return base + (sep + "&".join(parts) if parts else "")


def masked_url(url: str) -> str:
    """``url`` with every credential it carries replaced by ``***``."""
    split = _split(url)
    if split is not None:
        scheme, user, _password, rest = split
        url = f"{scheme}{user}:{MASK}{rest}"
    return _rework_query(url, keep_secret=True)


def url_without_password(url: str) -> str | None:
    """``url`` without its credentials: what a child may see of it (it then signs in
    by other means, ``~/.pgpass`` or ``PGPASSWORD``, or says that it cannot). None when
    the password holds a raw ``@``, ``/``, ``?`` or ``#``: where it ends is a guess then,
    and no part of such a URL is handed on."""
    split = _split(url)
    if split is not None:
        scheme, user, password, rest = split
        if any(mark in password for mark in "@/?#"):
            return None
        url = f"{scheme}{user}{rest}"
    return _rework_query(url, keep_secret=False)


def password_has_raw_at(url: str) -> bool:
    """Whether the user info's password holds a raw ``@``: a driver then takes the
    password's tail for the host (and names it in its errors), so such a URL is refused
    before any driver sees it."""
    split = _split(url)
    return split is not None and "@" in split[2]


def masked_text(text: str) -> str:
    """``text`` (an error line) with every URL in it masked."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda found: masked_url(found.group(0)), text)
