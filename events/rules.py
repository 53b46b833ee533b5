"""The input rules, once, for every door a value comes in by: command-line
options and arguments, stdin, the library API and import files.

Every value that enters the store is valid UTF-8 (text decoded from bytes that are not
UTF-8 carries lone surrogates, which are refused here), has no control characters and
is bounded in length. A context name also has no invisible format characters (bidi
controls, zero-width characters: they make names that look like other names) and is
not ``-`` (which ``select -`` reads as "go back"). A secret is at most 64 KiB (it must
fit in one environment variable of the child that ``run`` starts). A cloud's endpoint
is an ``https://`` URL with a host and no user name or password, and its DNS suffixes
are plain host suffixes.
"""

from __future__ import annotations

import re
import unicodedata

from azctx.events.errors import BadInput

MAX_NAME_LENGTH = 256
MAX_TEXT_LENGTH = 1024
MAX_SECRET_BYTES = 64 * 1024

#: Unicode categories no stored text may hold: control characters, and lone
#: surrogates (what Python makes of bytes that are not UTF-8).
_NEVER = frozenset({"Cc", "Cs"})
#: ... and what a name may not hold besides: invisible format characters and the
#: line and paragraph separators, none of which a person can see.
_NEVER_IN_NAMES = _NEVER | {"Cf", "Zl", "Zp"}


def _banned(text: str, categories: frozenset[str]) -> str | None:
    for ch in text:
        category = unicodedata.category(ch)
        if category in categories:
            return category
    return None


def _why(category: str) -> str:
    if category == "Cs":
        return "is not valid UTF-8"
    if category == "Cc":
        return "cannot contain control characters"
    return "cannot contain invisible characters (bidi controls, zero-width or format characters)"


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid context name, or None when it is valid."""
    if not name:
        return "a context name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a context name is at most {MAX_NAME_LENGTH} characters (got {len(name)})"
    category = _banned(name, _NEVER_IN_NAMES)
    if category is not None:
        return f"a context name {_why(category)}"
    if name == "-":
        return "'-' is not a name ('azctx select -' goes back to the previous default)"
    return None


#: One DNS label: letters, digits and hyphens (not at either end); underscores too, which
#: private DNS zones use.
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_MAX_HOST_LENGTH = 253


def host_problem(host: str) -> str | None:
    """Why ``host`` is not a DNS host name (or IPv4 address), or None when it is."""
    if not host:
        return "has no host"
    if len(host) > _MAX_HOST_LENGTH:
        return f"has a host name longer than {_MAX_HOST_LENGTH} characters"
    if not all(_LABEL.fullmatch(label) for label in host.split(".")):
        return "has a host name with characters a host name cannot have"
    return None


def https_url_problem(url: str) -> str | None:
    """Why ``url`` is not an ``https://`` URL of a host (an endpoint of a cloud), or
    None when it is. The reasons never repeat the value."""
    from urllib.parse import urlsplit  # only the readers of import files need it

    if len(url) > MAX_TEXT_LENGTH:
        return f"is longer than {MAX_TEXT_LENGTH} characters"
    if any(ch.isspace() for ch in url) or _banned(url, _NEVER) is not None:
        return "cannot contain white space or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number up to 65535 raises
    except ValueError:
        return "is not a valid URL"
    if port == 0:
        return "has port 0"
    if parts.scheme.casefold() != "https":
        return "must be an https:// URL"
    if "@" in parts.netloc:
        return "cannot carry a user name or password"
    if parts.query or parts.fragment:
        return "cannot have a query or a fragment"
    if parts.netloc.startswith("["):
        return _ipv6_problem(parts.hostname or "")
    return host_problem(parts.hostname or "")


def _ipv6_problem(host: str) -> str | None:
    import ipaddress

    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return "has an invalid IPv6 address"
    return None


def host_suffix_problem(suffix: str) -> str | None:
    """Why ``suffix`` is not a plain host suffix (``core.windows.net``, or with the
    leading dot the Azure CLI writes, ``.vault.azure.net``), or None when it is."""
    bare = suffix[1:] if suffix.startswith(".") else suffix
    if host_problem(bare) is not None:
        return "must be a host suffix such as core.windows.net (no scheme, path, port or spaces)"
    return None


def shown(value: str, limit: int = 60) -> str:
    """A value quoted for a one-line message: escapes, and cut short."""
    cut = value if len(value) <= limit else value[:limit] + "..."
    return repr(cut).encode("utf-8", "backslashreplace").decode("utf-8")


def check_name(name: str) -> str:
    """``name``, or ``BadInput`` (exit 2) saying why it is not a valid context name."""
    problem = name_problem(name)
    if problem is not None:
        raise BadInput(f"invalid context name {shown(name)}: {problem}")
    return name


def check_text(label: str, value: str, *, required: bool = True) -> str:
    """A stored text value (an account, tenant, subscription, path, ...), or
    ``BadInput`` naming ``label``."""
    if required and not value.strip():
        raise BadInput(f"{label} cannot be empty")
    if len(value) > MAX_TEXT_LENGTH:
        raise BadInput(f"{label} is at most {MAX_TEXT_LENGTH} characters (got {len(value)})")
    category = _banned(value, _NEVER)
    if category is not None:
        raise BadInput(f"{label} {_why(category)}")
    return value


def check_optional_text(label: str, value: str | None) -> str | None:
    return None if value is None else check_text(label, value)


def check_secret(secret: str, label: str = "the secret") -> str:
    """A secret to store, or ``BadInput``. (Which accounts may have one is a rule of
    the decisions: ``projections.decide.check_credential``.)"""
    if not secret:
        raise BadInput(f"{label} is empty")
    size = len(secret.encode("utf-8", "surrogatepass"))
    if size > MAX_SECRET_BYTES:
        raise BadInput(f"{label} is larger than {MAX_SECRET_BYTES // 1024} KiB ({size} bytes)")
    category = _banned(secret, _NEVER)
    if category is not None:
        raise BadInput(f"{label} {_why(category)}")
    return secret


def decode_text(label: str, data: bytes) -> str:
    """Bytes read from stdin or a file as UTF-8 text, or ``BadInput``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{label} is not valid UTF-8") from None
