"""The Azure CLI's stored service principals (``service_principal_entries.json``,
beside ``azureProfile.json``) for ``import --from-az-cli``. Pure.

Each entry is ``{"client_id", "tenant"}`` with one of ``client_secret``, ``certificate``
(a PEM path) or ``client_assertion`` (a federated token, not a stored credential: it is
skipped with a note). An entry becomes the credential of a service principal of the
profile with that client id (its own tenant first). Secrets never reach a note.
"""

from __future__ import annotations

import dataclasses
import json

from azctx.events import account_key
from azctx.projections.formats.import_models import (
    CliServicePrincipal,
    CliServicePrincipals,
    validated,
)
from azctx.projections.formats.json_input import JsonObject, bad, guarded
from azctx.projections.formats.plans import MAX_IMPORT_BYTES, ImportedSecret, ImportPlan

WHAT = "the Azure CLI's service_principal_entries.json"
ENTRIES_FILE = "service_principal_entries.json"


def with_sp_entries(plan: ImportPlan, text: str) -> ImportPlan:
    """``plan`` with the credentials the entries hold for its service principals."""
    return guarded(lambda: _merge(plan, _entries(text)), WHAT)


def _entries(text: str) -> list[CliServicePrincipal]:
    if len(text) > MAX_IMPORT_BYTES:
        bad(f"{WHAT} is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    try:
        value = json.loads(text.lstrip("\ufeff"), object_pairs_hook=JsonObject)
    except (ValueError, RecursionError):
        bad(f"{WHAT} is not valid JSON")
    return validated(CliServicePrincipals.validate_python, value, WHAT, ENTRIES_FILE)


def _merge(plan: ImportPlan, entries: list[CliServicePrincipal]) -> ImportPlan:
    principals = {
        account_key(c.account): c.tenant
        for c in plan.contexts
        if c.account_type == "service-principal"
    }
    found: dict[str, tuple[bool, ImportedSecret]] = {}
    assertions = 0
    for index, entry in enumerate(entries):
        where = f"{ENTRIES_FILE}[{index}]"
        client = entry.client_id
        key = account_key(client)
        if key not in principals:
            continue
        secret = _secret(entry, client, where)
        if secret is None:
            assertions += 1
            continue
        own_tenant = entry.tenant == principals[key]
        if key not in found or (own_tenant and not found[key][0]):
            found[key] = (own_tenant, secret)
    notes = list(plan.notes)
    if found:
        notes.append(f"{len(found)} service principal credential(s) imported from {ENTRIES_FILE}")
    if assertions:
        notes.append(
            f"{assertions} client_assertion entr{'y' if assertions == 1 else 'ies'} "
            f"of {ENTRIES_FILE} skipped (a federated token is not a stored credential)"
        )
    merged = {s.account: s for s in plan.secrets}
    merged.update({s.account: s for _, s in found.values()})
    return dataclasses.replace(plan, secrets=tuple(merged.values()), notes=tuple(notes))


def _secret(entry: CliServicePrincipal, client: str, where: str) -> ImportedSecret | None:
    if entry.client_secret is not None:
        return ImportedSecret(account=client, kind="client-secret", secret=entry.client_secret)
    if entry.certificate is not None:
        return ImportedSecret(
            account=client, kind="certificate", certificate_path=entry.certificate
        )
    if entry.client_assertion is not None:
        return None
    bad(f"{where}: holds no client_secret, certificate or client_assertion")
