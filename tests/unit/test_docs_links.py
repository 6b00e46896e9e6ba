"""Every link in the README and docs/ resolves inside a clone of this repository, and none
points at material a user does not have."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a markdown file."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            title = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            found.add(title)
    return found


def test_every_link_resolves_inside_the_repository():
    broken = []
    for doc in _documents():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):  # http(s):, mailto: - outside the clone
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (doc.parent / file_part).resolve() if file_part else doc
            if ROOT not in resolved.parents and resolved != ROOT:
                broken.append(f"{doc.name}: {target} leaves the repository")
            elif not resolved.exists():
                broken.append(f"{doc.name}: {target} does not exist")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{doc.name}: {target} names no heading")
    assert broken == []


def test_no_document_sends_users_to_the_developers_notes():
    for doc in _documents():
        assert "../shared" not in doc.read_text(encoding="utf-8"), doc


def test_the_manual_is_there():
    for name in ("language", "connections", "events", "crm"):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
