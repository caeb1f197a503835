"""The repository documents itself: no page links outside the clone, and the architecture page names files that
exist."""

import re

from tests.processes import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_page_links_outside_the_repository():
    outside = []
    for page in PAGES:
        text = page.read_text()
        links = re.findall(r"\]\(([^)#]+)", text) + re.findall(r"`(\.\./[^`]+)`", text)
        outside += [f"{page.relative_to(ROOT)}: {link}" for link in links
                    if "://" not in link and not (page.parent / link).resolve().is_relative_to(ROOT)]
    assert outside == []


def test_the_architecture_page_names_files_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:core|audit|platforms|accounts|alerts|cases|intake|evidence|referral|devtools|config)"
                           r"/[\w/]+\.py)`", text))
    assert len(named) > 15
    assert sorted(path for path in named if not (ROOT / path).exists()) == []
