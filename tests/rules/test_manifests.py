"""Files to resources, or to a skip with its reason: never a crash, never unbounded.

The hostile inputs (alias bombs, absurd nesting) are asserted to be skipped with a
reason; their bounded cost is what makes these tests finish at all."""

from __future__ import annotations

import os

import pytest

from footgun.rules.config import Config
from footgun.rules.engine import scan_files, scan_paths
from footgun.rules.manifests import load_file, load_text
from footgun.rules.yamltree import Limits

LIMIT = 1024 * 1024


def load(path: str, raw: bytes | str, limits: Limits = Limits(), max_bytes: int = LIMIT):
    return load_file(path, raw.encode() if isinstance(raw, str) else raw, limits, max_bytes)


def kinds(loaded) -> list[tuple[str, str, int]]:
    return [(r.kind, r.name, r.start_line) for r in loaded.resources]


def test_multi_document_file_yields_every_manifest_with_its_lines():
    loaded = load(
        "all.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n"
        "---\n# only a comment\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: x\n"
        "...\n---\nnot: a manifest\n",
    )
    assert loaded.skip is None
    assert kinds(loaded) == [("Service", "a", 1), ("Deployment", "b", 8)]
    deployment = loaded.resources[1]
    assert (deployment.namespace, deployment.end_line, deployment.api_version) == ("x", 12, "apps/v1")
    assert loaded.resources[0].namespace is None  # unset is unknown, not "default"


def test_list_items_are_manifests_of_their_own():
    loaded = load(
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: b\n"
        "- not: a manifest\n",
    )
    assert kinds(loaded) == [("Service", "a", 4), ("Deployment", "b", 8)]
    assert loaded.resources[0].span("metadata", "name").key_line == 7
    typed = load(
        "svcs.yaml",
        "apiVersion: v1\nkind: ServiceList\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n",
    )
    assert kinds(typed) == [("Service", "a", 4)]


@pytest.mark.parametrize(
    "path, text",
    [
        ("kustomization.yaml", "resources:\n- deploy.yaml\n"),
        ("overlay/kustomization.yml", "resources: [../base]\nnamespace: prod\n"),
        ("base/Kustomization", "resources: []\n"),
        ("kust.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"),
        ("component.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"),
    ],
)
def test_kustomization_files_are_not_manifests(path, text):
    loaded = load(path, text)
    assert loaded.is_kustomization and loaded.skip is None and not loaded.resources


@pytest.mark.parametrize(
    "text",
    [
        "replicaCount: 2\nimage:\n  tag: v1\n",
        "- a\n- b\n",
        "just text\n",
        "apiVersion: v1\nkind: 5\n",
        "kind: Service\nmetadata: {name: a}\n",
    ],
)
def test_non_kubernetes_yaml_is_skipped_with_a_reason(text):
    loaded = load("values.yaml", text)
    assert loaded.skip is not None and not loaded.resources
    assert "not a Kubernetes manifest" in loaded.skip.reason


def test_empty_and_comment_only_files_are_neither_manifests_nor_skips():
    for text in ("", "# nothing here\n", "---\n", "---\n# placeholder\n---\n"):
        loaded = load("empty.yaml", text)
        assert loaded.skip is None and not loaded.resources


@pytest.mark.parametrize(
    "text, line",
    [
        ("apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n", 4),
        ("{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\n{{- end }}\n", 1),
        ("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n  c: {% raw %}\n", 5),
    ],
)
def test_helm_and_go_templates_are_skipped_naming_the_line(text, line):
    loaded = load("chart/templates/svc.yaml", text)
    assert loaded.skip.line == line
    assert f"template syntax at line {line}" in loaded.skip.reason
    assert "helm template" in loaded.skip.reason


@pytest.mark.parametrize(
    "text, line",
    [
        ("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: {{ .Values.replicas }}\n", 4),
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: web:{{ .Values.tag }}\n", 5),
        ("apiVersion: v1\nkind: ConfigMap\ndata:\n  {{ .Values.key }}: x\n", 4),
        ("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '{{ x }}'\n  b: {{ y }}\n", 5),
    ],
)
def test_a_marker_where_yaml_structure_is_makes_a_template(text, line):
    loaded = load("deploy.yaml", text)
    assert loaded.skip is not None and loaded.skip.line == line and not loaded.resources


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  alert: '{{ $labels.instance }} is down'\n",
        'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: "web:{{TAG}}"\n',
        'apiVersion: v1\nkind: ConfigMap\ndata:\n  tmpl: |\n    {{- with secret "db" -}}\n    {{ .Data.password }}\n    {{- end }}\n',
        "# {{ rendered by CI }}\napiVersion: v1\nkind: ConfigMap  # {% not this either %}\ndata: {}\n",
    ],
)
def test_markers_inside_quoted_or_block_scalars_and_comments_are_data(text):
    loaded = load("cm.yaml", text)
    assert loaded.skip is None and len(loaded.resources) == 1


@pytest.mark.parametrize(
    "text, line",
    [
        ("apiVersion: v1\nkind: Service\nmetadata:\n\tname: tab\n", 4),
        ("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n    labels: x\n", 5),
        ("apiVersion: v1\nkind: Service\nspec:\n  ports: [80, 443\nmetadata: {}\n", 5),
        ("a: 'unterminated\n", 2),
    ],
)
def test_invalid_yaml_is_skipped_saying_the_line(text, line):
    loaded = load("bad.yaml", text)
    assert loaded.skip is not None and not loaded.resources
    assert loaded.skip.reason.startswith("invalid YAML")
    assert loaded.skip.line == line and f"at line {line}" in loaded.skip.reason


def test_non_utf8_text_is_skipped_naming_the_byte_and_line():
    loaded = load("latin1.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata:\n  city: Z\xfcrich\n")
    assert loaded.skip.reason == "not UTF-8 text: invalid byte 0xfc at line 4"
    assert loaded.skip.line == 4


def test_utf8_byte_order_mark_is_accepted():
    loaded = load("bom.yaml", "\ufeffapiVersion: v1\nkind: Service\nmetadata:\n  name: a\n")
    assert kinds(loaded) == [("Service", "a", 1)]


def test_binary_file_named_yaml_is_skipped():
    loaded = load("image.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "binary file" in loaded.skip.reason and loaded.source is None


def test_file_over_the_size_limit_is_skipped_without_parsing():
    loaded = load("huge.yaml", b"a: 1\n" * 100, max_bytes=200)
    assert loaded.skip.reason == "file is 500 bytes, over the 200-byte limit"


def test_oversized_file_on_disk_reports_its_real_size(tmp_path):
    (tmp_path / "huge.yaml").write_bytes(b"a: 1\n" * 1000)
    result = scan_paths([str(tmp_path)], Config(max_file_bytes=100))
    (skip,) = result.skipped
    assert skip.reason == "file is 5,000 bytes, over the 100-byte limit"


def billion_laughs(levels: int = 9) -> str:
    lines = [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: lol}",
        "data:",
        '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for index in range(1, levels):
        prev, name = chr(ord("a") + index - 1), chr(ord("a") + index)
        lines.append(f"  {name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_skipped():
    loaded = load("lol.yaml", billion_laughs())
    assert loaded.skip is not None and not loaded.resources
    assert "nodes once aliases are expanded" in loaded.skip.reason


def test_small_alias_use_stays_within_the_limit():
    loaded = load("ok.yaml", billion_laughs(levels=2))
    assert loaded.skip is None and kinds(loaded) == [("ConfigMap", "lol", 1)]


@pytest.mark.parametrize(
    "name, text",
    [
        ("flow-sequence", "[" * 10_000 + "]" * 10_000),
        ("flow-mapping", "a: " + "{a: " * 10_000 + "1" + "}" * 10_000),
        ("unclosed-flow", "k: " + "[" * 10_000),
        ("block-sequence", "- " * 10_000 + "x\n"),
        ("block-mapping", "".join(" " * depth + "a:\n" for depth in range(10_000)) + " " * 10_000 + "b: 1\n"),
    ],
)
def test_ten_thousand_deep_nesting_is_skipped(name, text):
    loaded = load(f"{name}.yaml", text, max_bytes=100 * LIMIT)
    assert loaded.skip is not None and not loaded.resources
    assert "nesting" in loaded.skip.reason


def test_limits_are_configurable():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: {b: {c: d}}}\n"
    assert load("c.yaml", text, Limits(max_depth=4)).skip is None
    assert "nesting deeper than 3" in load("c.yaml", text, Limits(max_depth=3)).skip.reason
    assert "more than 5 nodes" in load("c.yaml", text, Limits(max_nodes=5)).skip.reason


def test_resource_fields_read_as_kubernetes_does():
    loaded = load_text(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n"
        "  labels: {enabled: true, version: 2, empty: }\n"
        "  annotations:\n    footgun.dev/ignore: x\n",
    )
    resource = loaded.resources[0]
    assert resource.labels == {"enabled": "true", "version": "2", "empty": ""}
    assert resource.annotations == {"footgun.dev/ignore": "x"}
    assert resource.get("metadata", "labels", "version") == 2
    assert resource.get("metadata", "missing", default="d") == "d"
    assert resource.span("metadata", "annotations").start == 7
    assert resource.span("spec") is None


def test_generate_name_and_unnamed_resources():
    loaded = load(
        "gen.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n---\napiVersion: v1\nkind: Pod\n",
    )
    assert [r.name for r in loaded.resources] == ["migrate-", "<unnamed>"]


def test_skips_appear_in_a_scan_next_to_findings_and_never_crash():
    files = {
        "ok.yaml": b"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
        b"    - port: 80\n      nodePort: 30080\n",
        "bin.yaml": b"\x00\x01",
        "bad.yaml": b"a: [\n",
        "tpl.yaml": b"a: {{ x }}\n",
        "lol.yaml": billion_laughs().encode(),
        "deep.yaml": b"[" * 10_000,
    }
    result = scan_files(files)
    assert {s.path for s in result.skipped} == {"bin.yaml", "bad.yaml", "tpl.yaml", "lol.yaml", "deep.yaml"}
    assert all(s.reason for s in result.skipped)
    assert [f.rule for f in result.findings] == ["hardcoded-node-port"]


def test_unreadable_path_is_a_skip(tmp_path):
    missing = os.path.join(str(tmp_path), "gone.yaml")
    result = scan_paths([missing])
    assert result.skipped[0].path == missing and "cannot read" in result.skipped[0].reason
