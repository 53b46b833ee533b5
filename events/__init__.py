"""The azctx vocabulary: frozen pydantic models of events and value types. No I/O.

The error families and the name helpers load with the package; the models load on
first use (PEP 562), so that ``from azctx.events import Refused`` does not import
pydantic: the prompt commands (``azctx current``, ``azctx list``) never need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import AzctxError, BadInput, ConfirmationNeeded, Refused, StoreError
from .names import (
    DEFAULT_ENVIRONMENT,
    SESSION_PREFIX,
    USER,
    account_key,
    default_name,
    is_session_scope,
    name_key,
    name_problem,
)

if TYPE_CHECKING:
    from .changes import (
        AutosaveChange,
        Change,
        ContextChange,
        CredentialChange,
        DefaultChange,
        EnvironmentChange,
        HiddenChange,
        describe_cell,
        inverse,
    )
    from .codec import (
        EventDecodeError,
        decode,
        encode,
        upcast,
    )
    from .operations import (
        EVENT_CLASSES,
        NOT_UNDOABLE,
        OPERATIONS,
        AccountDisconnected,
        AutosaveSet,
        ContextAdded,
        ContextRemoved,
        ContextRenamed,
        ContextsImported,
        DefaultSelected,
        Event,
        EventBase,
        KeyRotated,
        Operation,
        OperationUndone,
        ScopeCleared,
        SessionEnded,
        SessionStarted,
    )
    from .values import (
        ACCOUNT_TYPES,
        BUILTIN_ENVIRONMENT_NAMES,
        BUILTIN_ENVIRONMENTS,
        SCOPES,
        AccountType,
        Actor,
        Context,
        Credential,
        Environment,
        ScopeName,
    )

#: Every name loaded on first use -> the submodule that defines it.
_LAZY: dict[str, str] = {
    "AutosaveChange": "changes",
    "Change": "changes",
    "ContextChange": "changes",
    "CredentialChange": "changes",
    "DefaultChange": "changes",
    "EnvironmentChange": "changes",
    "HiddenChange": "changes",
    "describe_cell": "changes",
    "inverse": "changes",
    "EventDecodeError": "codec",
    "decode": "codec",
    "encode": "codec",
    "upcast": "codec",
    "EVENT_CLASSES": "operations",
    "NOT_UNDOABLE": "operations",
    "OPERATIONS": "operations",
    "AccountDisconnected": "operations",
    "AutosaveSet": "operations",
    "ContextAdded": "operations",
    "ContextRemoved": "operations",
    "ContextRenamed": "operations",
    "ContextsImported": "operations",
    "DefaultSelected": "operations",
    "Event": "operations",
    "EventBase": "operations",
    "KeyRotated": "operations",
    "Operation": "operations",
    "OperationUndone": "operations",
    "ScopeCleared": "operations",
    "SessionEnded": "operations",
    "SessionStarted": "operations",
    "ACCOUNT_TYPES": "values",
    "BUILTIN_ENVIRONMENTS": "values",
    "BUILTIN_ENVIRONMENT_NAMES": "values",
    "SCOPES": "values",
    "AccountType": "values",
    "Actor": "values",
    "Context": "values",
    "Credential": "values",
    "Environment": "values",
    "ScopeName": "values",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ACCOUNT_TYPES",
    "BUILTIN_ENVIRONMENTS",
    "BUILTIN_ENVIRONMENT_NAMES",
    "DEFAULT_ENVIRONMENT",
    "EVENT_CLASSES",
    "NOT_UNDOABLE",
    "OPERATIONS",
    "SCOPES",
    "SESSION_PREFIX",
    "USER",
    "AccountDisconnected",
    "AccountType",
    "Actor",
    "AutosaveChange",
    "AutosaveSet",
    "AzctxError",
    "BadInput",
    "Change",
    "ConfirmationNeeded",
    "Context",
    "ContextAdded",
    "ContextChange",
    "ContextRemoved",
    "ContextRenamed",
    "ContextsImported",
    "Credential",
    "CredentialChange",
    "DefaultChange",
    "DefaultSelected",
    "Environment",
    "EnvironmentChange",
    "Event",
    "EventBase",
    "EventDecodeError",
    "HiddenChange",
    "KeyRotated",
    "Operation",
    "OperationUndone",
    "Refused",
    "ScopeCleared",
    "ScopeName",
    "SessionEnded",
    "SessionStarted",
    "StoreError",
    "account_key",
    "decode",
    "default_name",
    "describe_cell",
    "encode",
    "inverse",
    "is_session_scope",
    "name_key",
    "name_problem",
    "upcast",
]
