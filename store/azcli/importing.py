"""``import --from-az-cli FILE`` also reads what the CLI keeps beside FILE, when it is
there: its stored service principals (``service_principal_entries.json``) and its
custom clouds (``clouds.config``)."""

from __future__ import annotations

from pathlib import Path

from azctx.projections.formats.azcli_entries import ENTRIES_FILE, with_sp_entries
from azctx.projections.formats.plans import ImportPlan
from azctx.projections.handoff.azcli_folder import CLOUDS
from azctx.store.files import read_file_beside


def parse_profile(text: str, profile: str) -> ImportPlan:
    """What importing the CLI's ``azureProfile.json`` (``text``, read from ``profile``)
    brings in, with the custom clouds and the credentials stored beside it."""
    from azctx.projections.formats.azcli_profile import parse_az_cli

    folder = Path(profile).parent
    plan = parse_az_cli(text, read_file_beside(str(folder / CLOUDS)))
    entries = read_file_beside(str(folder / ENTRIES_FILE))
    return plan if entries is None else with_sp_entries(plan, entries)
