"""The documentation stays true of the code: the command reference is what ``--help``
prints, every ``AZCTX_*`` variable the packages read is documented, every relative
link resolves, and no page points outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGES = ("events", "projections", "store", "cli")
GENERATOR = "python docs/generate_cli_reference.py > docs/reference/cli.md"

_FENCED = re.compile(r"^```.*?^```", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)


def _pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted(DOCS.rglob("*.md"))]


def _prose(text: str) -> str:
    """The text outside code, where a ``[x](y)`` is a link."""
    return _INLINE_CODE.sub("", _FENCED.sub("", text))


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``page``."""
    anchors = set()
    for heading in _HEADING.findall(_FENCED.sub("", page.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def _broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(root)}: {target}"
        if not resolved.is_relative_to(root):
            broken.append(f"{where} (outside the repository)")
        elif not resolved.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{where} (no such heading)")
    return broken


def test_command_reference_is_generated_from_help() -> None:
    """The page is what the generator makes now, whatever the caller's terminal width."""
    env = {**os.environ, "COLUMNS": "40"}
    fresh = subprocess.run(
        [sys.executable, str(DOCS / "generate_cli_reference.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stderr == ""
    written = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert written == fresh.stdout, f"docs/reference/cli.md is out of date: run {GENERATOR}"


def test_command_reference_covers_every_command() -> None:
    """The walk reaches every subcommand, e.g. of ``session`` and ``key``."""
    written = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for path in ("azctx add", "azctx session start", "azctx key rotate", "azctx autosave"):
        assert f"\n## {path}\n" in written
        assert f"Usage: {path} " in written


def test_every_azctx_variable_of_the_packages_is_documented() -> None:
    names: set[str] = set()
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"\bAZCTX_[A-Z0-9_]*[A-Z0-9]", source.read_text("utf-8")))
    assert {"AZCTX_STORE", "AZCTX_KEY", "AZCTX_SESSION"} <= names  # the search works
    page = (DOCS / "reference" / "environment.md").read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in page)
    assert not missing, f"not in docs/reference/environment.md: {missing}"


def test_every_variable_run_sets_or_keeps_is_documented() -> None:
    from azctx.projections.handoff.variables import HOST_IDENTITY_VARIABLES, RUN_VARIABLES

    page = (DOCS / "reference" / "environment.md").read_text(encoding="utf-8")
    names = {*RUN_VARIABLES, *HOST_IDENTITY_VARIABLES, "AZURE_CONFIG_DIR", "AZURE_EXTENSION_DIR"}
    missing = sorted(name for name in names if f"`{name}`" not in page)
    assert not missing, f"not in docs/reference/environment.md: {missing}"


def test_every_relative_link_resolves() -> None:
    broken = [link for page in _pages() for link in _broken_links(page)]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_link_check_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n", encoding="utf-8")
    (tmp_path / "page.md").write_text(
        "[ok](other.md#other) [gone](missing.md) `[code](skipped.md)` [url](https://x.org)\n"
        "[here](#a-heading) [bad](#nowhere) [up](../outside.md)\n\n## A heading\n",
        encoding="utf-8",
    )
    assert _broken_links(tmp_path / "page.md", tmp_path) == [
        "page.md: missing.md (no such file)",
        "page.md: #nowhere (no such heading)",
        "page.md: ../outside.md (outside the repository)",
    ]


def test_no_page_points_outside_the_repository() -> None:
    """The docs are the contract, in the repository: no file that a clone lacks."""
    offenders = [
        f"{page.relative_to(ROOT)}: {word}"
        for page in _pages()
        for word in ("SPEC", "§", "../shared", "/work/")
        if word in page.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders


def test_readme_stays_short() -> None:
    """The README is for a user getting started; the rest belongs in docs/."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move detail to docs/"


def test_every_source_file_a_page_names_exists() -> None:
    """A module moved or renamed shows up here, not in a reader's confusion."""
    named = re.compile(r"`((?:events|projections|store|cli|tests|bench|docs)/[\w/.]*\w)`")
    missing = [
        f"{page.relative_to(ROOT)}: {path}"
        for page in _pages()
        for path in named.findall(page.read_text(encoding="utf-8"))
        if not (ROOT / path).exists()
    ]
    assert not missing, missing


def test_the_package_tree_of_the_architecture_page_is_true() -> None:
    """Every module the tree names exists, and every module of the packages is named."""
    page = (DOCS / "explanation" / "architecture.md").read_text(encoding="utf-8")
    tree = page.split("## The packages", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\b(\w+\.py)\b", tree))
    modules = {
        source.name
        for package in PACKAGES
        for source in (ROOT / package).rglob("*.py")
        if source.name != "__init__.py" and "migrations" not in source.parts
    }
    assert not named - modules, f"named but missing: {sorted(named - modules)}"
    assert not modules - named, f"not in the tree: {sorted(modules - named)}"
