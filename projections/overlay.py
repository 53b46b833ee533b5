"""The rules of SPEC §2, once, for both the model view (``view.py``) and the plain
JSON view of the prompt commands (``plain.py``): session status, autosave precedence,
and the overlay of a live session's process scope on the user scope.

Pure and pydantic-free: it reads any state whose scopes and sessions have the
attributes named by the protocols below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Generic, Literal, NamedTuple, Protocol, TypeVar

from azctx.events.names import account_key, name_key

SessionStatus = Literal["none", "live", "ended", "unknown", "expired"]
AutosaveSource = Literal["env", "process", "user", "default"]


class SessionLike(Protocol):
    @property
    def ended(self) -> bool: ...

    @property
    def expires(self) -> datetime: ...


class ContextLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def account(self) -> str: ...


C = TypeVar("C", bound=ContextLike)
K = TypeVar("K")
C_co = TypeVar("C_co", bound=ContextLike, covariant=True)
K_co = TypeVar("K_co", covariant=True)


class ScopeLike(Protocol[C_co, K_co]):
    @property
    def contexts(self) -> Mapping[str, C_co]: ...

    @property
    def hidden(self) -> AbstractSet[str]: ...

    @property
    def default(self) -> str | None: ...

    @property
    def autosave(self) -> bool | None: ...

    @property
    def credentials(self) -> Mapping[str, K_co]: ...


def session_status(
    sessions: Mapping[str, SessionLike], session: str | None, now: datetime
) -> SessionStatus:
    if session is None:
        return "none"
    info = sessions.get(session)
    if info is None:
        return "unknown"
    if info.ended:
        return "ended"
    if info.expires <= now:
        return "expired"
    return "live"


def autosave(
    env: bool | None, process: ScopeLike[C, K] | None, user: ScopeLike[C, K]
) -> tuple[bool, AutosaveSource]:
    """``AZCTX_AUTOSAVE``, else the live session's setting, else the user's, else on."""
    if env is not None:
        return env, "env"
    if process is not None and process.autosave is not None:
        return process.autosave, "process"
    if user.autosave is not None:
        return user.autosave, "user"
    return True, "default"


class Shown(NamedTuple, Generic[C, K]):
    """One context of the overlay: where it lives, whether it is the default, and its
    account's readable credential (None when there is none or its key is gone)."""

    context: C
    scope: Literal["user", "process"]
    default: bool
    credential: K | None


def visible(
    user: ScopeLike[C, K], process: ScopeLike[C, K] | None, saved: bool, key: str
) -> tuple[C, Literal["user", "process"]] | None:
    """The context the caller sees under name key ``key``, and its scope: what
    ``overlay`` shows under that key, without building the whole view."""
    if process is not None and key in process.contexts:
        return process.contexts[key], "process"
    if saved and key in user.contexts and (process is None or key not in process.hidden):
        return user.contexts[key], "user"
    return None


def select_notes(
    user: ScopeLike[C, K], process: ScopeLike[C, K], saved: bool, session: str, name: str
) -> tuple[str, ...]:
    """SPEC §2: what a user-scope select of ``name`` says when the caller's live
    ``session`` (whose scope is ``process``) would not show it as the default."""
    key = name_key(name)
    if key in process.hidden:
        return (f"hint: '{name}' is hidden in session {session} (removed there)",)
    # The session's default wins only while the session sees it.
    own = (
        None
        if process.default is None
        else visible(user, process, saved, name_key(process.default))
    )
    if own is not None and name_key(own[0].name) != key:
        return (
            f"hint: session {session} has its own default '{own[0].name}', "
            "which wins in this session (azctx select NAME --scope process changes it)",
        )
    return ()


def overlay(
    user: ScopeLike[C, K],
    process: ScopeLike[C, K] | None,
    saved: bool,
    shredded: AbstractSet[str],
    key_id: Callable[[K], str],
) -> tuple[list[Shown[C, K]], str | None]:
    """The contexts the caller sees, sorted by name key, and the default's name.

    User contexts (when ``saved``) less the names the session hides, then the session's
    own contexts shadowing them; the session's default wins over the user's when it is
    visible. A credential comes from the session first, then the user scope."""
    found: dict[str, tuple[C, Literal["user", "process"]]] = {}
    if saved:
        hidden = process.hidden if process is not None else frozenset()
        for key, ctx in user.contexts.items():
            if key not in hidden:
                found[key] = (ctx, "user")
    if process is not None:
        for key, ctx in process.contexts.items():
            found[key] = (ctx, "process")

    default_key: str | None = None
    for name in (process.default if process is not None else None, user.default if saved else None):
        if name is not None and name_key(name) in found:
            default_key = name_key(name)
            break

    shown: list[Shown[C, K]] = []
    for key in sorted(found):
        ctx, scope = found[key]
        account = account_key(ctx.account)
        candidates = (
            process.credentials.get(account) if process is not None else None,
            user.credentials.get(account) if saved else None,
        )
        # A credential whose data key was destroyed can never be read again.
        live = [c for c in candidates if c is not None and key_id(c) not in shredded]
        shown.append(Shown(ctx, scope, key == default_key, live[0] if live else None))
    default = found[default_key][0].name if default_key is not None else None
    return shown, default
