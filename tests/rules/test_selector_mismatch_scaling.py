"""service-selector-mismatch scores only workloads that can be plausible; the choice
it makes is the one scoring every workload of the namespace makes."""
from __future__ import annotations

import random

import pytest

from rules.checks import service_selector_mismatch as rule
from tests.helpers import scan_texts

WORDS = ["api", "api-server", "apiserver", "web", "web-v2", "worker", "billing", "billing-web", "orders",
         "order", "cart", "carts", "search", "serach", "auth", "oauth", "Auth-Server", "db", "x", "payments"]


def _manifests(rng: random.Random) -> dict[str, str]:
    files = {}
    for i in range(rng.randint(2, 8)):
        name = rng.choice(WORDS)
        labels = {"app": rng.choice(WORDS), "tier": rng.choice(["web", "backend"])}
        if rng.random() < 0.3:
            labels["app.kubernetes.io/name"] = rng.choice(WORDS)
        pod_labels = "".join(f"        {k}: {v}\n" for k, v in labels.items())
        files[f"d{i}.yaml"] = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n"
            f"    team: {rng.choice(WORDS)}\nspec:\n  template:\n    metadata:\n      labels:\n{pod_labels}")
    for i in range(rng.randint(1, 4)):
        selector = {rng.choice(["app", "app.kubernetes.io/name", "team", "tier"]): rng.choice(WORDS)
                    for _ in range(rng.randint(1, 2))}
        body = "".join(f"    {k}: {v}\n" for k, v in selector.items())
        files[f"s{i}.yaml"] = (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {rng.choice(WORDS)}\n"
                               f"spec:\n  selector:\n{body}  ports:\n    - port: 80\n")
    return files


def _findings(files):
    return [(f.path, f.line, f.message, f.fix.to_json() if f.fix else None)
            for f in scan_texts(files).findings if f.rule == rule.ID]


@pytest.mark.parametrize("seed", range(40))
def test_pruned_choice_equals_scoring_every_workload(seed, monkeypatch):
    files = _manifests(random.Random(seed))
    pruned = _findings(files)
    monkeypatch.setattr(rule, "_plausibility_test", lambda *args: lambda workload: True)
    assert pruned == _findings(files)


def test_resource_labels_are_label_values_already():
    from rules.selectors import label_value

    result = scan_texts({"d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n"
                                   "    a: true\n    b: 1\n    c:\n    d: x\nspec:\n  template:\n"
                                   "    metadata:\n      labels:\n        app: d\n"})
    workload = result.inventory.workloads[0]
    assert rule._resource_labels(workload) == {k: label_value(v) for k, v in
                                                workload.resource.data["metadata"]["labels"].items()}


def _operator_files(rng: random.Random) -> dict[str, str]:
    files = _manifests(rng)
    for i in range(rng.randint(1, 5)):
        ns = rng.choice(["a", "b", None])
        meta_ns = f"  namespace: {ns}\n" if ns else ""
        files[f"op{i}.yaml"] = (
            f"apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: p{i}\n{meta_ns}"
            f"  labels:\n    app: {rng.choice(WORDS)}\nspec:\n  podMetadata:\n    labels:\n"
            f"      app: {rng.choice(WORDS)}\n")
    for name, text in list(files.items()):
        if name.startswith("s") and rng.random() < 0.5:
            files[name] = text.replace("metadata:\n", f"metadata:\n  namespace: {rng.choice(['a', 'b'])}\n", 1)
    return files


@pytest.mark.parametrize("seed", range(30))
def test_indexed_pod_makers_equal_looking_through_every_resource(seed, monkeypatch):
    files = _operator_files(random.Random(seed))
    indexed = _findings(files)

    def every_resource(ctx, namespace):
        return [r for r in ctx.inventory.resources if rule._may_make_pods(ctx, r)
                and (namespace is None or r.namespace in (None, namespace))]

    monkeypatch.setattr(rule, "_pod_makers", every_resource)
    assert indexed == _findings(files)


