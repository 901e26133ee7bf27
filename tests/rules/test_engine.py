"""The engine around the rules: suppression, per-rule config, path filters, skips."""

from __future__ import annotations

import pytest

from footgun.rules.config import Config, ConfigError, parse_config
from footgun.rules.engine import collect_files, scan_paths
from tests.helpers import scan_text, scan_texts

NODE_PORT = "hardcoded-node-port"
AFFINITY = "client-ip-session-affinity"

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  sessionAffinity: ClientIP
  ports:
    - port: 80
      nodePort: 30080
"""


def rules_found(text: str, config: Config | None = None) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in scan_text(text, config).findings]


def test_both_rules_fire_without_suppression():
    assert rules_found(SERVICE) == [(AFFINITY, 7), (NODE_PORT, 10)]


def test_ignore_comment_on_the_findings_line():
    text = SERVICE.replace("nodePort: 30080", f"nodePort: 30080  # footgun:ignore {NODE_PORT}")
    assert rules_found(text) == [(AFFINITY, 7)]


def test_ignore_comment_on_the_line_above_the_finding():
    text = SERVICE.replace(
        "      nodePort: 30080", f"      # footgun:ignore {NODE_PORT} (pinned for the LB)\n      nodePort: 30080"
    )
    assert rules_found(text) == [(AFFINITY, 7)]


def test_ignore_comment_on_the_resources_first_line_covers_the_whole_resource():
    text = SERVICE.replace("apiVersion: v1", f"apiVersion: v1  # footgun:ignore {NODE_PORT}")
    assert rules_found(text) == [(AFFINITY, 7)]
    above = f"# footgun:ignore {AFFINITY}\n---\n" + SERVICE
    assert rules_found(above) == [(NODE_PORT, 12)]


def test_ignore_comment_with_several_rule_ids():
    for ids in (f"{NODE_PORT},{AFFINITY}", f"{NODE_PORT}, {AFFINITY}"):
        text = SERVICE.replace("apiVersion: v1", f"apiVersion: v1  # footgun:ignore {ids}")
        assert rules_found(text) == []


def test_ignore_comment_naming_another_rule_suppresses_nothing():
    text = SERVICE.replace("nodePort: 30080", "nodePort: 30080  # footgun:ignore service-selector-mismatch")
    assert rules_found(text) == [(AFFINITY, 7), (NODE_PORT, 10)]


def test_ignore_comment_elsewhere_in_the_resource_does_not_count():
    text = SERVICE.replace("  type: NodePort", f"  type: NodePort  # footgun:ignore {NODE_PORT}")
    assert (NODE_PORT, 10) in rules_found(text)


def test_ignore_comment_of_one_document_does_not_cover_the_next():
    text = (
        SERVICE.replace("apiVersion: v1", f"apiVersion: v1  # footgun:ignore {NODE_PORT}")
        + "---\n"
        + SERVICE.replace("name: web", "name: api").replace("30080", "30081")
    )
    assert [rule for rule, _ in rules_found(text)].count(NODE_PORT) == 1


def test_ignore_annotation_on_the_resource():
    text = SERVICE.replace(
        "  name: web\n", f'  name: web\n  annotations:\n    footgun.dev/ignore: "{NODE_PORT},{AFFINITY}"\n'
    )
    assert rules_found(text) == []
    one = SERVICE.replace("  name: web\n", f"  name: web\n  annotations:\n    footgun.dev/ignore: {AFFINITY}\n")
    assert [rule for rule, _ in rules_found(one)] == [NODE_PORT]


def test_rules_can_be_turned_off_and_on():
    config = parse_config({"rules": {NODE_PORT: False}})
    assert [rule for rule, _ in rules_found(SERVICE, config)] == [AFFINITY]
    config = parse_config({"rules": {NODE_PORT: {"enabled": False}, AFFINITY: {"enabled": True}}})
    assert [rule for rule, _ in rules_found(SERVICE, config)] == [AFFINITY]


def test_severity_overrides():
    config = parse_config({"rules": {NODE_PORT: "error", AFFINITY: {"severity": "info"}}})
    severities = {f.rule: f.severity for f in scan_text(SERVICE, config).findings}
    assert severities == {NODE_PORT: "error", AFFINITY: "info"}
    assert {f.rule: f.severity for f in scan_text(SERVICE).findings} == {NODE_PORT: "warning", AFFINITY: "warning"}


def test_fail_level_decides_what_fails():
    result = scan_text(SERVICE)
    assert len(result.failing("warning")) == 2 and result.failing("error") == [] and result.failing("never") == []


@pytest.mark.parametrize(
    "data, named",
    [
        ({"rule": {}}, "rule"),
        ({"rules": {"no-such-rule": False}}, "rules.no-such-rule"),
        ({"rules": {NODE_PORT: "loud"}}, f"rules.{NODE_PORT}"),
        ({"rules": {NODE_PORT: {"severity": "fatal"}}}, f"rules.{NODE_PORT}.severity"),
        ({"rules": {NODE_PORT: {"enable": False}}}, f"rules.{NODE_PORT}.enable"),
        ({"fail-level": "sometimes"}, "fail-level"),
        ({"exclude": 3}, "exclude"),
    ],
)
def test_config_errors_name_the_key(data, named):
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert str(caught.value).startswith(f"{named}:")


def tree(tmp_path) -> None:
    for path in (
        "app/svc.yaml",
        "app/deploy.yml",
        "charts/x/templates/svc.yaml",
        "app/testdata/bad.yaml",
        "notes.txt",
        ".git/config.yaml",
        "node_modules/pkg/a.yaml",
        ".footgun.yml",
        "app/.footgun.yaml",
    ):
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(SERVICE)


def relative(paths, root) -> list[str]:
    return sorted(p[len(str(root)) + 1 :] for p in paths)


def test_folders_are_scanned_recursively_for_manifest_yaml_only(tmp_path):
    tree(tmp_path)
    found = collect_files([str(tmp_path)], Config(root=str(tmp_path)))
    assert relative(found, tmp_path) == [
        "app/deploy.yml",
        "app/svc.yaml",
        "app/testdata/bad.yaml",
        "charts/x/templates/svc.yaml",
    ]


def test_exclude_globs(tmp_path):
    tree(tmp_path)
    config = parse_config({"exclude": ["charts/**", "**/testdata/**"]}, root=str(tmp_path))
    found = collect_files([str(tmp_path)], config)
    assert relative(found, tmp_path) == ["app/deploy.yml", "app/svc.yaml"]


def test_include_globs(tmp_path):
    tree(tmp_path)
    config = parse_config({"include": "app/*.yaml"}, root=str(tmp_path))
    assert relative(collect_files([str(tmp_path)], config), tmp_path) == ["app/svc.yaml", "app/testdata/bad.yaml"]
    config = parse_config({"include": ["app"], "exclude": ["app/testdata"]}, root=str(tmp_path))
    assert relative(collect_files([str(tmp_path)], config), tmp_path) == ["app/deploy.yml", "app/svc.yaml"]


def test_paths_are_reported_as_given(tmp_path, monkeypatch):
    tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = scan_paths(["app/svc.yaml"], Config())
    assert {f.path for f in result.findings} == {"app/svc.yaml"}


def test_findings_are_sorted_by_path_and_line_and_carry_their_resource():
    result = scan_texts({"b.yaml": SERVICE, "a.yaml": SERVICE.replace("30080", "30081")})
    assert [(f.path, f.line) for f in result.findings] == [("a.yaml", 7), ("a.yaml", 10), ("b.yaml", 7), ("b.yaml", 10)]
    finding = result.findings[1]
    assert finding.to_json()["resource"] == {"kind": "Service", "name": "web", "namespace": "default"}
    assert finding.fingerprint == f"{NODE_PORT}|a.yaml|Service||web|spec.ports.80.nodePort"
