"""The rule reference is generated from the rule modules and must not go stale."""

from __future__ import annotations

import pytest

from footgun.rules.checks import RULES
from footgun.rules.docs import PAGE, reference_page, rule_doc

SECTIONS = ("## Why it matters", "## How to fix", "## Example", "## Sources")


def test_reference_page_is_current():
    assert PAGE.read_text(encoding="utf-8") == reference_page(), (
        "docs/rules.md is stale: run python -m footgun.rules.docs"
    )


@pytest.mark.parametrize("rule_id", list(RULES))
def test_each_rule_documents_why_how_example_and_sources(rule_id):
    doc = rule_doc(RULES[rule_id])
    for section in SECTIONS:
        assert section in doc.body, f"{rule_id}: missing {section!r}"
    assert "Bad:" in doc.body and "Good:" in doc.body
    assert doc.title and doc.summary


def test_every_rule_has_a_section_linked_from_the_table():
    page = reference_page()
    for rule_id in RULES:
        assert f"](#{rule_id})" in page and f"\n## {rule_id}\n" in page
