"""How long ``azctx import`` and ``azctx export`` take as a user runs them, against
``azctx show`` (the same typer start-up without reading or writing a file), so what the
file formats cost shows as the difference. Not a pass/fail figure: a measurement to
compare before and after a change to the formats.

    python bench/import_export.py [--rounds N] [--sample PATH]
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
from pathlib import Path

from figures_cli import azctx_argv
from stores import new_store
from timing import Command, interleave, median, run_once

SAMPLE = {
    "Contexts": {
        f"ctx-{i}": {
            "Account": {"Id": "user1@contoso.org", "Type": "User"},
            "Tenant": {"Id": "00000000-0000-0000-0000-000000000001"},
            "Subscription": {"Id": f"00000000-0000-0000-0000-{i:012d}", "Name": f"sub {i}"},
            "Environment": {"Name": "AzureCloud"},
        }
        for i in range(20)
    },
    "DefaultContextKey": "ctx-0",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sample", type=Path, help="an AzureRmContext.json to import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="azctx-bench-") as tmp:
        root = Path(tmp)
        sample = args.sample
        if sample is None:
            sample = root / "AzureRmContext.json"
            sample.write_text(json.dumps(SAMPLE))
        store = new_store(root / "store")
        azctx = azctx_argv()
        run_once(Command([*azctx, "import", str(sample)], store.env))
        out = root / "export.json"
        commands = {
            "show": Command([*azctx, "show"], store.env),
            "import": Command([*azctx, "import", str(sample)], store.env),
            "export": Command([*azctx, "export", str(out), "--force"], store.env),
        }
        contenders = {name: functools.partial(run_once, c) for name, c in commands.items()}
        samples = interleave(contenders, args.rounds)
        floor = median(samples["show"])
        for name, values in samples.items():
            ms = median(values) * 1000
            print(f"{name:7} {ms:6.0f} ms  ({ms - floor * 1000:+.0f} ms over show)")


if __name__ == "__main__":
    main()
