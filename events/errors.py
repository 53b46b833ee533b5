"""The one domain error type, and its three families by exit code.

Every layer raises these (or subclasses of them); only the command line turns them
into ``error: ...`` lines and exit codes, in one place.
"""

from __future__ import annotations


class AzctxError(Exception):
    """An expected failure, with a one-line message and an optional hint."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Refused(AzctxError):
    """Exit 1: the request is well formed but cannot be done (unknown context, name
    taken, nothing to undo, undo conflict, no live session, no confirmation)."""

    exit_code = 1


class BadInput(AzctxError):
    """Exit 2: bad usage or bad input (invalid name, bad WHEN, bad environment value,
    a missing or malformed import file)."""

    exit_code = 2


class StoreError(AzctxError):
    """Exit 3: the store cannot be trusted or opened."""

    exit_code = 3


class ConfirmationNeeded(Refused):
    """Exit 1 unless confirmed: a destructive change that asks first on a TTY.

    The command line asks ``question`` and, on yes, repeats the call with the flag
    that skips the question.
    """

    def __init__(self, message: str, question: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.question = question
