"""Interop with Azure's own tools: Az PowerShell and Azure CLI files, and the
environment variables azure-identity reads. Pure: text and values in, values out.

The parsers and the exporter live in ``interop_*`` modules, the variables of ``run`` in
``run_variables`` (which ``run`` imports alone); this module is the one import point
for the rest.
"""

from __future__ import annotations

from .interop_azcli import parse_az_cli
from .interop_azps import parse_az_powershell
from .interop_export import export_az_powershell
from .interop_model import (
    MAX_IMPORT_BYTES,
    ExportSecret,
    ImportedSecret,
    ImportPlan,
    ImportSource,
    SecretKind,
)
from .run_variables import (
    ARM_ENVIRONMENTS,
    FOREIGN_IDENTITY_VARIABLES,
    HOST_IDENTITY_VARIABLES,
    RUN_VARIABLES,
    authority_host,
    authority_url,
    environment_variables,
)

__all__ = [
    "ARM_ENVIRONMENTS",
    "FOREIGN_IDENTITY_VARIABLES",
    "HOST_IDENTITY_VARIABLES",
    "MAX_IMPORT_BYTES",
    "RUN_VARIABLES",
    "ExportSecret",
    "ImportPlan",
    "ImportSource",
    "ImportedSecret",
    "SecretKind",
    "authority_host",
    "authority_url",
    "environment_variables",
    "export_az_powershell",
    "parse_az_cli",
    "parse_az_powershell",
]
