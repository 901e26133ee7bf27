"""The rule reference is generated from the rule modules and must not go stale."""

from __future__ import annotations

import pytest

from footgun.rules import docs
from footgun.rules.checks import RULES
from footgun.rules.docs import PAGE, README, readme_with_table, reference_page, rule_doc

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


def test_readme_rule_table_is_current():
    assert README.read_text(encoding="utf-8") == readme_with_table(README.read_text(encoding="utf-8")), (
        "README.md's rule table is stale: run python -m footgun.rules.docs"
    )


def test_readme_table_without_markers_is_a_clear_error():
    with pytest.raises(ValueError, match="no rule table markers"):
        readme_with_table("# a README without the table\n")


def test_check_reports_a_stale_readme_table(tmp_path, monkeypatch, capsys):
    stale = README.read_text(encoding="utf-8").replace("| 1 | [`service-selector-mismatch`]", "| 1 | [`renamed`]")
    (tmp_path / "README.md").write_text(stale, encoding="utf-8")
    (tmp_path / "rules.md").write_text(reference_page(), encoding="utf-8")
    monkeypatch.setattr(docs, "README", tmp_path / "README.md")
    monkeypatch.setattr(docs, "PAGE", tmp_path / "rules.md")
    assert docs.main(["--check"]) == 1
    assert "README.md is stale" in capsys.readouterr().err
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0


def test_a_rule_module_not_in_the_catalogue_order_is_found_and_numbered_after(monkeypatch):
    from footgun.rules import checks

    listed = [rule_id for rule_id in checks.ORDER if rule_id != "service-selector-mismatch"]
    monkeypatch.setattr(checks, "ORDER", tuple(listed))
    assert list(checks._discover()) == [*listed, "service-selector-mismatch"]
