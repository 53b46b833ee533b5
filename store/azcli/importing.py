"""``import --from-az-cli FILE`` also reads the CLI's stored service principals,
``service_principal_entries.json`` beside FILE, when it exists."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from azctx.events import BadInput
from azctx.projections.formats.azcli_entries import ENTRIES_FILE, with_sp_entries
from azctx.projections.formats.plans import MAX_IMPORT_BYTES, ImportPlan


def parse_profile(text: str, profile: str) -> ImportPlan:
    """What importing the CLI's ``azureProfile.json`` (``text``, read from ``profile``)
    brings in, with the credentials stored beside it."""
    from azctx.projections.formats.azcli_profile import parse_az_cli

    return with_entries_beside(parse_az_cli(text), profile)


def with_entries_beside(plan: ImportPlan, profile: str) -> ImportPlan:
    """``plan`` plus the credentials of the entries file beside ``profile``, if any."""
    path = Path(profile).parent / ENTRIES_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return plan
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"cannot read {path}: not a regular file")
        if info.st_size > MAX_IMPORT_BYTES:
            raise BadInput(f"{path} is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
        data = source.read(MAX_IMPORT_BYTES + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None
    return with_sp_entries(plan, text)
