"""Planning the PR review: inline comments, suggestions, the body, markers, limits."""

from __future__ import annotations

import difflib
import re

from footgun.bot import review
from footgun.bot.diff import parse_patch
from footgun.bot.links import rule_link
from footgun.bot.review import (
    MAX_BODY,
    code_block,
    finding_id,
    fingerprints_in,
    is_command_line,
    place,
    plan_review,
)
from footgun.rules.edits import apply_edits
from footgun.rules.engine import scan_files
from footgun.rules.model import Edit, Finding, Fix, Related, ResourceRef, Skip
from tests.helpers import scan_texts

SERVICE_BASE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
"""
SERVICE_HEAD = SERVICE_BASE + "      nodePort: 30080\n"
PATH = "k8s/web.yaml"


def make_patch(old: str, new: str) -> str:
    """A GitHub-style ``patch``: hunks only, 3 lines of context."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3)
    return "\n".join(line for line in lines if not line.startswith(("---", "+++")))


def diffs_for(path: str, old: str, new: str) -> dict:
    return {path: parse_patch(make_patch(old, new), path)}


def suggestion_of(body: str) -> list[str] | None:
    """The lines of the comment's suggestion block (None: no suggestion)."""
    lines = body.split("\n")
    for i, line in enumerate(lines):
        match = re.fullmatch(r"(`{3,})suggestion", line)
        if match:
            end = lines.index(match.group(1), i + 1)
            return lines[i + 1 : end]
    return None


def apply_suggestion(text: str, comment: dict) -> str:
    """What GitHub's "Commit suggestion" does: the commented lines replaced."""
    lines = text.splitlines(keepends=True)
    start = comment.get("start_line", comment["line"])
    new = [line + "\n" for line in suggestion_of(comment["body"])]
    return "".join(lines[: start - 1] + new + lines[comment["line"] :])


def finding(
    line=11,
    end_line=None,
    fix=None,
    rule="hardcoded-node-port",
    severity="warning",
    path=PATH,
    name="web",
    message="nodePort is pinned.",
    related=(),
):
    return Finding(
        rule,
        severity,
        message,
        path,
        line,
        end_line or line,
        ResourceRef("Service", name, None),
        f"spec.{name}.{line}",
        list(related),
        fix,
    )


def all_outputs(plan) -> list[str]:
    return [plan.body, *(c["body"] for c in plan.comments), plan.to_markdown()]


def test_engine_fix_becomes_a_suggestion_that_applies_like_the_fix():
    result = scan_texts({PATH: SERVICE_HEAD})
    [found] = [f for f in result.findings if f.rule == "hardcoded-node-port"]
    plan = plan_review(result.findings, diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "abc123")
    assert plan is not None and plan.commit_id == "abc123" and plan.event == "COMMENT"
    [comment] = plan.comments
    assert comment["path"] == PATH and comment["line"] == 11 and comment["side"] == "RIGHT"
    assert "start_line" not in comment and "start_side" not in comment
    assert suggestion_of(comment["body"]) == []  # an empty suggestion deletes the line
    assert apply_suggestion(SERVICE_HEAD, comment) == apply_edits(SERVICE_HEAD, found.fix.edits)
    body = comment["body"]
    assert "`hardcoded-node-port`" in body and "warning" in body and found.message in body
    assert (
        rule_link("hardcoded-node-port", "About `hardcoded-node-port`") in body
        and "# footgun:ignore hardcoded-node-port" in body
    )
    assert fingerprints_in(body) == {finding_id(found)}
    assert plan.payload() == {"commit_id": "abc123", "body": plan.body, "event": "COMMENT", "comments": plan.comments}


def test_multi_line_finding_and_fix_within_a_hunk():
    head = SERVICE_BASE.replace("app: web", "app: wbe")
    fix = Fix("Select the web pods", (Edit(PATH, 8, 8, "    app: web\n"),))
    found = finding(line=7, end_line=8, fix=fix, rule="service-selector-mismatch", severity="error")
    plan = plan_review([found], diffs_for(PATH, SERVICE_BASE, head), set(), "h")
    [comment] = plan.comments
    assert (comment["start_line"], comment["start_side"], comment["line"]) == (7, "RIGHT", 8)
    assert suggestion_of(comment["body"]) == ["  selector:", "    app: web"]
    assert apply_suggestion(head, comment) == apply_edits(head, fix.edits) == SERVICE_BASE


def test_comment_widens_over_finding_and_edit_in_one_hunk():
    head = SERVICE_BASE.replace("app: web", "app: wbe") + "      nodePort: 30080\n"
    fix = Fix("Select the web pods", (Edit(PATH, 8, 8, "    app: web\n"),))
    found = finding(line=11, fix=fix)
    plan = plan_review([found], diffs_for(PATH, SERVICE_BASE, head), set(), "h")
    [comment] = plan.comments
    assert (comment["start_line"], comment["line"]) == (8, 11)
    assert apply_suggestion(head, comment) == apply_edits(head, fix.edits)


def test_insertion_edit_keeps_the_anchor_line():
    fix = Fix("Add a port name", (Edit(PATH, 10, 10, "    - port: 80\n      name: http\n"),))
    found = finding(line=10, fix=fix)
    plan = plan_review([found], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    [comment] = plan.comments
    assert "start_line" not in comment and comment["line"] == 10
    assert apply_suggestion(SERVICE_HEAD, comment) == apply_edits(SERVICE_HEAD, fix.edits)


def test_range_across_hunks_goes_to_the_body():
    old = "".join(f"key{i}: {i}\n" for i in range(1, 31))
    new = old.replace("key2: 2", "key2: two").replace("key25: 25", "key25: x")
    diffs = diffs_for(PATH, old, new)
    assert len(diffs[PATH].hunks) == 2
    plan = plan_review([finding(line=2, end_line=25)], diffs, set(), "h")
    assert plan.comments == []
    assert "### Not commented inline" in plan.body and f"#### `{PATH}`" in plan.body
    assert "lines 2-25" in plan.body and "not in this diff" in plan.body


def test_fix_in_another_file_is_a_yaml_block_with_its_path():
    fix = Fix("Spread the pods", (Edit("k8s/deploy.yaml", 20, 20, "      topologySpreadConstraints: []\n"),))
    plan = plan_review([finding(line=11, fix=fix)], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    [comment] = plan.comments
    assert suggestion_of(comment["body"]) is None
    assert "```yaml\n      topologySpreadConstraints: []\n```" in comment["body"]
    assert "`k8s/deploy.yaml` line 20" in comment["body"]


def test_edit_outside_the_hunk_is_a_yaml_block_and_the_comment_stays_on_the_finding():
    fix = Fix("Rename", (Edit(PATH, 4, 4, "  name: site\n"),))  # line 4 is not in the hunk
    plan = plan_review([finding(line=11, fix=fix)], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    [comment] = plan.comments
    assert comment["line"] == 11 and "start_line" not in comment
    assert suggestion_of(comment["body"]) is None and "`k8s/web.yaml` line 4" in comment["body"]


def test_several_edits_are_yaml_blocks_and_deletions_are_named():
    fix = Fix("Two edits", (Edit(PATH, 11, 11, ""), Edit(PATH, 6, 6, "  type: ClusterIP\n")))
    plan = plan_review([finding(line=11, fix=fix)], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    body = plan.comments[0]["body"]
    assert suggestion_of(body) is None
    assert "`k8s/web.yaml` line 11: delete." in body and "  type: ClusterIP" in body


def test_already_commented_findings_are_left_out_and_nothing_new_means_no_review():
    diffs = diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD)
    first = finding(line=11)
    outside = finding(line=2, name="other")
    plan = plan_review([first, outside], diffs, set(), "h1")
    seen = set().union(*(fingerprints_in(text) for text in (plan.body, *(c["body"] for c in plan.comments))))
    assert seen == plan.fingerprints == {finding_id(first), finding_id(outside)}
    # a later push moves the lines: same fingerprints, nothing new
    moved = [finding(line=10), finding(line=3, name="other")]
    moved[0].field = first.field
    moved[1].field = outside.field
    assert plan_review(moved, diffs, seen, "h2") is None
    assert plan_review([first], diffs, {first.fingerprint}, "h2") is None  # raw fingerprints work too
    extra = finding(line=11, name="fresh")
    again = plan_review([first, outside, extra], diffs, seen, "h2")
    assert [fingerprints_in(c["body"]) for c in again.comments] == [{finding_id(extra)}]
    assert again.fingerprints == {finding_id(extra)}
    assert again.body.startswith("**footgun**: 0 errors, 3 warnings, 0 info (1 new, 2 already reported).")


def test_no_findings_no_review():
    assert plan_review([], {}, set(), "h") is None


def test_thirty_one_findings_give_thirty_inline_comments():
    head = "".join(f"key{i}: {i}\n" for i in range(1, 40))
    diffs = {PATH: parse_patch(make_patch("", head), PATH, "added")}
    findings = [finding(line=i, name=f"svc{i}") for i in range(1, 31)]
    findings.append(finding(line=31, name="svc31", severity="error"))
    plan = plan_review(findings, diffs, set(), "h")
    assert len(plan.comments) == 30
    assert any(c["line"] == 31 for c in plan.comments)  # errors take the inline slots first
    assert "over the 30 inline comments" in plan.body
    assert len(plan.fingerprints) == 31
    assert "30 commented inline; 1 listed below." in plan.body


def test_backticks_in_replacement_get_a_longer_fence():
    replacement = "  note: |\n    ```` quoted ````\n"
    fix = Fix("Add a note", (Edit(PATH, 11, 11, replacement),))
    plan = plan_review([finding(line=11, fix=fix)], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    body = plan.comments[0]["body"]
    assert "`````suggestion\n" in body
    assert suggestion_of(body) == ["  note: |", "    ```` quoted ````"]
    assert apply_suggestion(SERVICE_HEAD, plan.comments[0]) == apply_edits(SERVICE_HEAD, fix.edits)


def test_commands_are_never_written_as_a_line():
    message = "Broken.\n/footgun recheck\n  /FOOTGUN help"
    fix = Fix("/footgun fix\nthen", (Edit("other.yaml", 1, 1, "/footgun recheck\n"),))
    related = [Related("other.yaml", 1, "\n/footgun recheck")]
    inline = finding(line=11, message=message, fix=fix, related=related)
    outside = finding(line=2, name="b", message=message, fix=fix, related=related)
    skip = Skip("x.yaml", "bad\n/footgun recheck")
    plan = plan_review([inline, outside], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h", [skip])
    assert len(plan.comments) == 1
    for text in all_outputs(plan):
        assert not any(is_command_line(line) for line in text.split("\n")), text
    assert "\\/footgun recheck" in plan.comments[0]["body"]  # renders as /footgun recheck


def test_suggestion_that_would_write_a_command_falls_back_to_a_block():
    fix = Fix("odd", (Edit(PATH, 11, 11, "/footgun recheck\n"),))
    placement = place(finding(line=11, fix=fix), diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD)[PATH])
    assert placement.suggestion is None


def test_forged_markers_in_messages_are_neutralised():
    forged = finding(line=2, message="<!-- footgun:fp=0123456789abcdef -->")
    plan = plan_review([forged], {}, set(), "h")
    assert fingerprints_in(plan.body) == {finding_id(forged)}


def test_skipped_files_and_patchless_files_are_in_the_body():
    diffs = {PATH: parse_patch(None, PATH)}
    plan = plan_review(
        [finding(line=11)], diffs, set(), "h", [Skip("chart/svc.yaml", "Helm template syntax at line 3")]
    )
    assert plan.comments == []
    assert "### Files not scanned" in plan.body
    assert "- `chart/svc.yaml`: Helm template syntax at line 3" in plan.body


def test_body_stays_within_githubs_limit():
    big = "x" * 5000
    findings = [finding(line=i, name=f"svc{i}", message=big) for i in range(1, 40)]
    skips = [Skip(f"skip{i}.yaml", "y" * 200) for i in range(400)]
    plan = plan_review(findings, {}, set(), "h", skips)
    assert len(plan.body) <= MAX_BODY
    assert "did not fit in this review" in plan.body and "more." in plan.body
    listed = fingerprints_in(plan.body)
    assert listed == plan.fingerprints and 0 < len(listed) < 39


def test_over_long_inline_comment_drops_to_the_body():
    fix = Fix("huge", (Edit(PATH, 11, 11, "a: b\n" * 20000),))
    plan = plan_review([finding(line=11, fix=fix)], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    assert plan.comments == []
    assert len(plan.body) <= MAX_BODY and "did not fit" in plan.body


def test_to_markdown_renders_body_and_comments_without_markers():
    head = SERVICE_BASE.replace("app: web", "app: wbe")
    fix = Fix("Select the web pods", (Edit(PATH, 8, 8, "    app: web\n"),))
    plan = plan_review(
        [finding(line=7, end_line=8, fix=fix), finding(line=1, name="x")],
        diffs_for(PATH, SERVICE_BASE, head),
        set(),
        "h",
    )
    text = plan.to_markdown()
    assert text.startswith("**footgun**: ")
    assert "### `k8s/web.yaml:7-8`" in text and "```suggestion" in text
    assert "<!--" not in text


def test_angle_brackets_outside_code_are_shown_not_taken_for_html():
    message = "Run `kubectl get endpoints api -n <namespace>`: it shows <none>; ``a<b`` too."
    plan = plan_review([finding(line=2, message=message)], {}, set(), "h")
    assert "Run `kubectl get endpoints api -n <namespace>`: it shows &lt;none>; ``a<b`` too." in plan.body


# --- fixes of several edits as one suggestion ----------------------------------------

LOAD_BALANCERS = """apiVersion: v1
kind: Service
metadata:
  name: blog
spec:
  type: LoadBalancer
  selector:
    app: blog
  ports:
    - port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: docs
spec:
  type: LoadBalancer
  loadBalancerIP: 203.0.113.7
  selector:
    app: docs
  ports:
    - name: http
      port: 80
      nodePort: 30080
"""
AFFINITY_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: cart
spec:
  sessionAffinity: ClientIP
  selector:
    app: cart
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 600
  ports:
    - port: 80
"""
CART_INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cart
spec:
  ingressClassName: nginx
  rules:
    - host: cart.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: cart
                port:
                  number: 80
"""


def added(files: dict[str, str]) -> dict:
    """Diffs adding every file whole: each of its lines is commentable, in one hunk."""
    return {path: parse_patch(make_patch("", text), path, "added") for path, text in files.items()}


def engine_finding(files: dict[str, str], rule: str) -> Finding:
    [found] = [f for f in scan_files({p: t.encode() for p, t in files.items()}).findings if f.rule == rule]
    return found


def comment_for(plan, found: Finding) -> dict:
    [comment] = [c for c in plan.comments if finding_id(found) in fingerprints_in(c["body"])]
    return comment


def assert_suggestion_is_the_fix(text: str, comment: dict, found: Finding) -> None:
    """Committing the suggestion gives the file the fix's edits of that file give."""
    assert suggestion_of(comment["body"]) is not None
    ours = [e for e in found.fix.edits if e.path == comment["path"]]
    assert apply_suggestion(text, comment) == apply_edits(text, ours)


def test_load_balancer_fix_of_three_edits_is_one_suggestion():
    files = {"k8s/lb.yaml": LOAD_BALANCERS}
    found = engine_finding(files, "load-balancer-per-service")
    assert [(e.start_line, e.end_line) for e in found.fix.edits] == [(17, 17), (18, 18), (24, 24)]
    plan = plan_review(scan_files({p: t.encode() for p, t in files.items()}).findings, added(files), set(), "h")
    comment = comment_for(plan, found)
    assert (comment["start_line"], comment["line"]) == (17, 24)  # type: ... nodePort
    assert_suggestion_is_the_fix(LOAD_BALANCERS, comment, found)
    fixed = apply_suggestion(LOAD_BALANCERS, comment)
    assert "type: ClusterIP" in fixed and "loadBalancerIP" not in fixed and "nodePort" not in fixed
    assert "      port: 80\n" in fixed and "also apply" not in comment["body"]


def test_session_affinity_suggestion_with_the_ingress_edit_to_also_apply():
    files = {"k8s/svc.yaml": AFFINITY_SERVICE, "k8s/ing.yaml": CART_INGRESS}
    found = engine_finding(files, "client-ip-session-affinity")
    assert {e.path for e in found.fix.edits} == {"k8s/svc.yaml", "k8s/ing.yaml"}
    for diffs in (added(files), added({"k8s/svc.yaml": AFFINITY_SERVICE})):  # Ingress changed or not
        plan = plan_review([found], diffs, set(), "h")
        [comment] = plan.comments
        assert (comment["path"], comment["start_line"], comment["line"]) == ("k8s/svc.yaml", 6, 11)
        assert_suggestion_is_the_fix(AFFINITY_SERVICE, comment, found)
        assert "sessionAffinity" not in apply_suggestion(AFFINITY_SERVICE, comment)
        body = comment["body"]
        assert "only part of the fix: also apply this edit in another file:" in body
        assert body.index("```suggestion") < body.index("also apply") < body.index("`k8s/ing.yaml` line 4")
        [ingress_edit] = [e for e in found.fix.edits if e.path == "k8s/ing.yaml"]
        assert code_block(ingress_edit.replacement) in body
        assert "nginx.ingress.kubernetes.io/affinity: cookie" in body


def test_tls_fix_of_two_insertions_is_one_suggestion():
    files = {"k8s/ing.yaml": CART_INGRESS}
    found = engine_finding(files, "ingress-without-tls")
    assert sorted((e.start_line, e.end_line) for e in found.fix.edits) == [(4, 4), (17, 17)]
    plan = plan_review([found], added(files), set(), "h")
    [comment] = plan.comments
    assert (comment["start_line"], comment["line"]) == (4, 17)  # the finding (host, line 8) lies between
    assert_suggestion_is_the_fix(CART_INGRESS, comment, found)
    fixed = apply_suggestion(CART_INGRESS, comment)
    assert "  annotations:\n    cert-manager.io/cluster-issuer" in fixed and fixed.endswith("secretName: cart-tls\n")


def test_edits_in_two_hunks_fall_back_to_yaml_blocks():
    labels = "".join(f"    {key}: docs\n" for key in ("app", "tier", "team", "site", "part"))
    head = LOAD_BALANCERS.replace("    app: docs\n", labels)
    base = head.replace("  type: LoadBalancer\n  loadBalancerIP", "  type: NodePort\n  loadBalancerIP")
    base = base.replace("nodePort: 30080", "nodePort: 30081")
    diffs = {"k8s/lb.yaml": parse_patch(make_patch(base, head), "k8s/lb.yaml")}
    found = engine_finding({"k8s/lb.yaml": head}, "load-balancer-per-service")
    diff = diffs["k8s/lb.yaml"]
    assert len(diff.hunks) == 2
    assert all(diff.text(n) is not None for e in found.fix.edits for n in (e.start_line, e.end_line))
    assert diff.hunk_spanning(found.fix.edits[0].start_line, found.fix.edits[0].start_line) is not diff.hunk_spanning(
        found.fix.edits[-1].end_line, found.fix.edits[-1].end_line
    )
    plan = plan_review([found], diffs, set(), "h")
    [comment] = plan.comments
    assert comment["line"] == found.line == 17 and "start_line" not in comment
    body = comment["body"]
    assert suggestion_of(body) is None and "also apply" not in body
    assert "`k8s/lb.yaml` line 17, replace with:\n```yaml\n  type: ClusterIP\n```" in body
    assert "`k8s/lb.yaml` line 18: delete." in body and "`k8s/lb.yaml` line 28: delete." in body


def test_span_over_the_cap_falls_back_to_yaml_blocks(monkeypatch):
    path_item = """          - path: /{n}
            pathType: Prefix
            backend:
              service:
                name: cart
                port:
                  number: 80
"""
    head = CART_INGRESS + "".join(path_item.format(n=f"v{n}") for n in range(1, 8))
    files = {"k8s/ing.yaml": head}
    found = engine_finding(files, "ingress-without-tls")
    touched = [n for e in found.fix.edits for n in (e.start_line, e.end_line)]
    assert max(touched) - min(touched) + 1 > review.MAX_SUGGESTION_SPAN == 60
    diffs = added(files)
    assert diffs["k8s/ing.yaml"].hunk_spanning(1, head.count("\n")) is not None  # all in one hunk
    plan = plan_review([found], diffs, set(), "h")
    [comment] = plan.comments
    assert comment["line"] == found.line == 8 and "start_line" not in comment
    assert suggestion_of(comment["body"]) is None and comment["body"].count("```yaml") == 2
    monkeypatch.setattr(review, "MAX_SUGGESTION_SPAN", 100)  # only the cap stood in the way
    [comment] = plan_review([found], diffs, set(), "h").comments
    assert_suggestion_is_the_fix(head, comment, found)


def test_edit_of_the_same_file_outside_the_hunk_means_no_partial_suggestion():
    fix = Fix(
        "Three edits",
        (Edit(PATH, 11, 11, ""), Edit(PATH, 4, 4, "  name: site\n"), Edit("k8s/ingress.yaml", 3, 3, "  name: site\n")),
    )
    plan = plan_review([finding(line=11, fix=fix)], diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD), set(), "h")
    [comment] = plan.comments
    assert comment["line"] == 11 and "start_line" not in comment
    body = comment["body"]
    assert suggestion_of(body) is None and "also apply" not in body
    assert "`k8s/web.yaml` line 4" in body and "`k8s/ingress.yaml` line 3" in body


def test_overlapping_edits_are_not_merged_into_a_suggestion():
    fix = Fix("Overlap", (Edit(PATH, 9, 10, "  ports: []\n"), Edit(PATH, 10, 11, "")))
    placement = place(finding(line=11, fix=fix), diffs_for(PATH, SERVICE_BASE, SERVICE_HEAD)[PATH])
    assert placement.suggestion is None and (placement.start_line, placement.line) == (11, 11)


def test_untouched_lines_between_edits_are_copied_as_they_are():
    head = SERVICE_BASE.replace("app: web", "app: wbe") + "      nodePort: 30080\n"
    fix = Fix("Two edits", (Edit(PATH, 11, 11, ""), Edit(PATH, 8, 8, "    app: web  # `x`\n")))
    plan = plan_review([finding(line=10, fix=fix)], diffs_for(PATH, SERVICE_BASE, head), set(), "h")
    [comment] = plan.comments
    assert (comment["start_line"], comment["line"]) == (8, 11)
    assert suggestion_of(comment["body"]) == ["    app: web  # `x`", "  ports:", "    - port: 80"]
    assert apply_suggestion(head, comment) == apply_edits(head, fix.edits)
