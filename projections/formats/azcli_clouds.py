"""The Azure CLI's custom clouds (``clouds.config``, beside ``azureProfile.json``) for
``import --from-az-cli``. Pure.

``clouds.config`` is an INI file with one section per cloud ``az cloud register``
added, named as the cloud, holding its ``endpoint_*`` and ``suffix_*`` options (and
``profile``, and the ``subscription`` last used in it). Sections of built-in clouds
may be there too; they are never read, as the built-in clouds' endpoints are known.
A custom cloud a subscription of the profile uses becomes an ``Environment``: its
authority, its Resource Manager URL and the Az PowerShell environment object made of
its options (``CLOUD_OPTIONS``), so that export and run give the cloud back.
"""

from __future__ import annotations

import configparser
import json
from collections.abc import Mapping

from azctx.events import Environment
from azctx.projections.formats.azps_export import az_environment
from azctx.projections.formats.import_models import CliCloud, ini_place, validated
from azctx.projections.formats.json_input import bad, show
from azctx.projections.formats.plans import MAX_IMPORT_BYTES
from azctx.projections.handoff.azcli_folder import CLOUDS, environment_fields

#: A section name shown in an error as it is, unless it needs quoting.
_SHOWN_AS_IS = 60


def read_clouds(text: str) -> configparser.ConfigParser:
    """The sections of ``clouds.config`` (``text``); one ``BadInput`` line, naming
    the line or the section and option, when it is not an INI file the CLI could read.
    The lines themselves are never shown."""
    if len(text) > MAX_IMPORT_BYTES:
        bad(f"{CLOUDS} is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    # No interpolation: a % in a value is a character, as the CLI writes it.
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text.lstrip("\ufeff"), source=CLOUDS)
    except configparser.MissingSectionHeaderError as exc:
        bad(f"{CLOUDS} is not an INI file: line {exc.lineno} comes before any [section]")
    except configparser.DuplicateSectionError as exc:
        bad(f"{CLOUDS}: {section_label(exc.section)} appears twice (line {exc.lineno})")
    except configparser.DuplicateOptionError as exc:
        where = f"{section_label(exc.section)} {exc.option}"
        bad(f"{CLOUDS}: {where}: given twice (line {exc.lineno})")
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if exc.errors else "?"
        bad(f"{CLOUDS} is not an INI file: line {line} is neither a [section] nor an option")
    except configparser.Error:
        bad(f"{CLOUDS} is not an INI file")
    return parser


def section_label(section: str) -> str:
    """``[section]`` for a message, quoted when it is long or holds odd characters."""
    plain = section.isprintable() and len(section) <= _SHOWN_AS_IS
    return f"[{section if plain else show(section)}]"


def custom_cloud(clouds: configparser.ConfigParser, name: str) -> Environment | None:
    """The cloud ``name`` as ``clouds`` defines it, or None when it has no section for
    it. ``BadInput`` naming section and option for an option that is not what it
    should be (an endpoint not an https URL, a suffix not a host suffix)."""
    section = _section(clouds, name)
    if section is None:
        return None
    options = _checked_options(section, dict(clouds.items(section)))
    fields = environment_fields(options)
    authority = fields.get("ActiveDirectoryAuthority")
    resource_manager = fields.get("ResourceManagerUrl")
    # ``az_environment`` places each field where Az keeps it (some under
    # ExtendedProperties), so export writes what Import-AzContext reads.
    document = az_environment(
        name,
        kind="User-defined",
        authority=authority,
        resource_manager=resource_manager,
        endpoints=fields,
    )
    return Environment(
        name=name,
        authority=authority,
        resource_manager=resource_manager,
        raw=json.dumps(document, separators=(",", ":"), ensure_ascii=False),
    )


def _section(clouds: configparser.ConfigParser, name: str) -> str | None:
    """The section of ``name``: the same spelling first (the CLI's own lookup), then
    any case (azctx's names are case-insensitive)."""
    if clouds.has_section(name):
        return name
    folded = name.casefold()
    return next((s for s in clouds.sections() if s.casefold() == folded), None)


def _checked_options(section: str, options: Mapping[str, str]) -> dict[str, str]:
    model = validated(
        CliCloud.model_validate,
        options,
        CLOUDS,
        f"{CLOUDS}: {section_label(section)}",
        ini_place,
    )
    return {key: value for key, value in model.model_dump().items() if isinstance(value, str)}
