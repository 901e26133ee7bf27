"""Label selectors with Kubernetes' semantics, and the inventory's label index."""

from __future__ import annotations

import pytest

from footgun.rules.inventory import Inventory
from footgun.rules.manifests import load_text
from footgun.rules.selectors import Requirement, Selector, from_label_selector, from_map, label_value


def test_a_service_selector_is_an_and_of_pairs():
    selector = from_map({"app": "web", "tier": "front"})
    assert selector.matches({"app": "web", "tier": "front", "extra": "x"})
    assert not selector.matches({"app": "web"})
    assert not selector.matches({"app": "web", "tier": "back"})


def test_label_values_compare_as_the_strings_kubernetes_stores():
    assert label_value(True) == "true" and label_value(False) == "false"
    assert label_value(2) == "2" and label_value(None) == "" and label_value("x") == "x"
    assert from_map({"version": 2, "canary": False}).matches({"version": "2", "canary": "false"})


@pytest.mark.parametrize(
    "operator, values, labels, expected",
    [
        ("In", ["a", "b"], {"k": "a"}, True),
        ("In", ["a", "b"], {"k": "c"}, False),
        ("In", ["a"], {}, False),  # In needs the key
        ("NotIn", ["a"], {"k": "b"}, True),
        ("NotIn", ["a"], {"k": "a"}, False),
        ("NotIn", ["a"], {}, True),  # NotIn matches when the key is absent
        ("Exists", [], {"k": ""}, True),
        ("Exists", [], {"other": "x"}, False),
        ("DoesNotExist", [], {}, True),
        ("DoesNotExist", [], {"k": "x"}, False),
    ],
)
def test_match_expressions_follow_kubernetes(operator, values, labels, expected):
    expression = {"key": "k", "operator": operator}
    if values:
        expression["values"] = values
    selector = from_label_selector({"matchExpressions": [expression]})
    assert selector.matches(labels) is expected


def test_match_labels_and_expressions_are_anded():
    selector = from_label_selector(
        {
            "matchLabels": {"app": "api"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches({"app": "api", "env": "prod"})
    assert not selector.matches({"app": "api", "env": "dev"})
    assert not selector.matches({"app": "api", "env": "prod", "canary": "true"})
    assert not selector.matches({"env": "prod"})


def test_empty_label_selector_selects_everything_and_says_it_is_empty():
    for value in (None, {}, {"matchLabels": {}}, {"matchLabels": None, "matchExpressions": []}):
        selector = from_label_selector(value)
        assert selector.is_empty and selector.matches({}) and selector.matches({"a": "b"})


@pytest.mark.parametrize(
    "value",
    [
        "app=web",
        ["app"],
        {"matchLabels": ["app"]},
        {"matchExpressions": {"key": "a"}},
        {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]},
        {"matchExpressions": [{"operator": "Exists"}]},
        {"matchExpressions": [{"key": "a", "operator": "In"}]},  # In without values
        {"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]},  # values not a list
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
    ],
)
def test_malformed_label_selectors_are_none_so_rules_stay_silent(value):
    assert from_label_selector(value) is None


def test_from_map_of_a_non_mapping_is_empty():
    assert from_map(None).is_empty and from_map(["a"]).is_empty


def test_without_keys_drops_pairs_and_expressions_on_those_keys():
    selector = Selector((("app", "a"), ("job-name", "j")), (Requirement("job-name", "Exists"),))
    trimmed = selector.without_keys(lambda key: key == "job-name")
    assert trimmed == Selector((("app", "a"),))


def inventory(text: str, custom=()) -> Inventory:
    return Inventory([load_text("k.yaml", text)], custom)


WORKLOADS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: one}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a, tier: web}}
    spec: {containers: [{name: a, image: a}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b, tier: web}}
    spec: {containers: [{name: b, image: b}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: two}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: c, tier: batch}}
        spec: {containers: [{name: c, image: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: d, namespace: two, labels: {app: d}}
spec: {containers: [{name: d, image: d}]}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: e, namespace: two}
spec:
  podTemplate:
    metadata: {labels: {app: e}}
---
apiVersion: apps/v1
kind: Rollout
metadata: {name: not-argo}
spec:
  template:
    metadata: {labels: {app: f}}
"""


def names(workloads) -> list[str]:
    return sorted(w.name for w in workloads)


def test_workloads_and_their_pod_templates():
    found = inventory(WORKLOADS)
    assert names(found.workloads) == ["a", "b", "c", "d"]  # Rollout only from argoproj.io
    cronjob = next(w for w in found.workloads if w.name == "c")
    assert cronjob.template_path == ("spec", "jobTemplate", "spec", "template")
    assert cronjob.labels == {"app": "c", "tier": "batch"}


def test_custom_workloads_are_taught_through_their_template_path():
    found = inventory(WORKLOADS, [("Widget", ("spec", "podTemplate"))])
    assert "e" in names(found.workloads)


ASKING = "".join(
    f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: in-{ns}{', namespace: ' + ns if ns else ''}}}\n"
    for ns in ("one", "two", None)
)


def asking(found: Inventory, namespace: str | None):
    """The Service of ``namespace`` the look-ups are asked for (same file: one unit)."""
    return next(r for r in found.of_kind("Service") if r.namespace == namespace)


def test_selection_by_label_index_respects_namespaces():
    found = inventory(WORKLOADS + ASKING)
    web = from_map({"tier": "web"})
    assert names(found.workloads_selected(web, asking(found, "one"))) == ["a", "b"]  # b's namespace is unset
    assert names(found.workloads_selected(web, asking(found, "two"))) == ["b"]
    assert names(found.workloads_selected(web, asking(found, None))) == ["a", "b"]
    assert names(found.workloads_selected(from_map({"app": "d"}), asking(found, "two"))) == ["d"]
    assert found.workloads_selected(from_map({"app": "d"}), asking(found, "one")) == []


def test_selection_by_expressions_only_and_empty_selectors():
    found = inventory(WORKLOADS + ASKING)
    batch = from_label_selector({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]})
    assert names(found.workloads_selected(batch, asking(found, "two"))) == ["c", "d"]
    # a Service's empty selector selects nothing
    assert found.workloads_selected(Selector(), asking(found, "two")) == []


def test_workloads_deployed_with_a_namespace():
    found = inventory(WORKLOADS + ASKING)
    assert names(found.workloads_deployed_with(asking(found, "one"))) == ["a", "b"]
    assert names(found.workloads_deployed_with(asking(found, "two"))) == ["b", "c", "d"]
    assert names(found.workloads_deployed_with(asking(found, None))) == ["a", "b", "c", "d"]
