"""The check run's output: title, summary table, annotations, conclusion, batches."""

from __future__ import annotations

from footgun.bot.annotations import MAX_SUMMARY_BYTES, batches, check_run_output, conclusion_for
from footgun.bot.links import rule_link
from footgun.bot.review import finding_id, is_command_line
from footgun.rules.model import Edit, Finding, Fix, Related, ResourceRef, Skip


def finding(
    rule="hardcoded-node-port",
    severity="warning",
    line=3,
    end_line=None,
    name="web",
    fix=None,
    message="pinned",
    related=(),
):
    return Finding(
        rule,
        severity,
        message,
        "k8s/a.yaml",
        line,
        end_line or line,
        ResourceRef("Service", name, "prod"),
        f"spec.{name}",
        list(related),
        fix,
    )


def test_conclusion():
    error, warning, info = finding(severity="error", name="e"), finding(name="w"), finding(severity="info", name="i")
    assert conclusion_for([], set()) == "success"
    assert conclusion_for([error, warning], {finding_id(error)}) == "failure"
    assert conclusion_for([error, warning], {error.fingerprint}) == "failure"
    assert conclusion_for([error, warning], {finding_id(warning)}) == "neutral"  # the error predates the PR
    assert conclusion_for([warning], {finding_id(warning)}) == "neutral"
    assert conclusion_for([info], set()) == "neutral"


def test_annotations_carry_level_title_message_and_fix():
    fix = Fix("Delete the nodePort", (Edit("k8s/a.yaml", 4, 4, ""),))
    error = finding(
        severity="error", line=5, end_line=7, name="e", fix=fix, related=[Related("k8s/b.yaml", 9, "the other Service")]
    )
    output = check_run_output([error, finding(severity="info", name="i")], {finding_id(error)}, [])
    first, second = output["annotations"]
    assert first == {
        "path": "k8s/a.yaml",
        "start_line": 5,
        "end_line": 7,
        "annotation_level": "failure",
        "title": "hardcoded-node-port",
        "message": "pinned\n\nk8s/b.yaml:9: the other Service",
        "raw_details": "Delete the nodePort\n\nk8s/a.yaml line 4: delete.",
    }
    assert second["annotation_level"] == "notice" and "raw_details" not in second
    assert output["title"] == "1 error, 1 info (1 new)"


def test_rule_links_follow_footgun_docs_url(monkeypatch):
    monkeypatch.setenv("FOOTGUN_DOCS_URL", "https://docs.example.org/footgun/rules")
    output = check_run_output([finding(rule="hardcoded-node-port")], set(), [])
    assert "[`hardcoded-node-port`](https://docs.example.org/footgun/rules#hardcoded-node-port)" in output["summary"]


def test_summary_table_and_skipped_files():
    findings = [
        finding(severity="error", name="a"),
        finding(severity="error", name="b"),
        finding(rule="ingress-without-tls", name="c"),
    ]
    output = check_run_output(findings, {finding_id(findings[0])}, [Skip("chart/x.yaml", "template")])
    summary = output["summary"]
    assert "| Rule | Severity | Count | New |" in summary
    assert f"| {rule_link('hardcoded-node-port')} | error | 2 | 1 |" in summary
    assert "| warning | 1 | 0 |" in summary
    assert summary.index("hardcoded-node-port") < summary.index("ingress-without-tls")  # errors first
    assert "- `chart/x.yaml`: template" in summary


def test_clean_output():
    output = check_run_output([], set(), [])
    assert output["annotations"] == [] and output["title"] == "No footguns found"


def test_limits_and_commands():
    skips = [Skip(f"s{i}.yaml", "z" * 300) for i in range(400)]
    bad = finding(message="x\n/footgun recheck", fix=Fix("/footgun help", ()))
    output = check_run_output([bad], set(), skips)
    assert len(output["summary"].encode()) <= MAX_SUMMARY_BYTES and "more." in output["summary"]
    texts = [output["summary"], output["annotations"][0]["message"], output["annotations"][0]["raw_details"]]
    assert not any(is_command_line(line) for text in texts for line in text.split("\n"))


def test_batches_of_fifty():
    items = list(range(120))
    assert [len(b) for b in batches(items)] == [50, 50, 20]
    assert [len(b) for b in batches(items, 60)] == [60, 60]
    assert list(batches([])) == []
