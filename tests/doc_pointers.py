"""What the guards of test_catalog.py and test_docs.py share: the names of the developers' working files that
the project must never send a reader to, and the check that a "docs/PAGE.md, HEADING" pointer names a heading
that exists."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"

# their model and scenario specifications, their literature notes and their shared folder (never shipped);
# a path like multiprocessing.shared_memory or docs/scenario.md is not one of them
DEVELOPER_FILE = re.compile(r"\bMODELS\.md|\bSCENARIO\.md|(?i:\bliterature\.md)|(?<![\w.-])shared[/]")


def page_headings(page: str) -> list[str]:
    """The headings (levels 2-6) of docs/PAGE.md outside code blocks, longest first."""
    text = re.sub(r"^```.*?^```", "", (DOCS / f"{page}.md").read_text(encoding="utf-8"), flags=re.S | re.M)
    return sorted(re.findall(r"^#{2,6}\s+(.+?)\s*#*$", text, re.M), key=len, reverse=True)


def unknown_headings(text: str, pointer: re.Pattern, heads: dict[str, list[str]], shown: int = 40) -> list[str]:
    """The matches of `pointer` (group 1: the page) in text not followed by a heading of that page (the longest
    heading the text continues with, followed by a non-word character), each with `shown` characters after it."""
    bad = []
    for m in pointer.finditer(text):
        rest = text[m.end():]
        if not any(rest.startswith(h) and not rest[len(h):len(h) + 1].isalnum() for h in heads[m[1]]):
            bad.append(f"{m.group(0)}{rest[:shown]!r}...")
    return bad
