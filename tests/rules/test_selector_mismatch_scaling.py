"""service-selector-mismatch scores only workloads that can be plausible, found
through indexes built once per namespace; the choice it makes is the one scoring
every workload of the namespace makes."""

from __future__ import annotations

import random

import pytest

from footgun.rules import operators
from footgun.rules import selector_candidates as candidates
from footgun.rules.checks import service_selector_mismatch as rule
from footgun.rules.selectors import is_runtime_key
from tests.helpers import scan_texts

WORDS = [
    "api",
    "api-server",
    "apiserver",
    "web",
    "web-v2",
    "worker",
    "billing",
    "billing-web",
    "orders",
    "order",
    "cart",
    "carts",
    "search",
    "serach",
    "auth",
    "oauth",
    "Auth-Server",
    "db",
    "x",
    "payments",
]


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
            f"    team: {rng.choice(WORDS)}\nspec:\n  template:\n    metadata:\n      labels:\n{pod_labels}"
        )
    for i in range(rng.randint(1, 4)):
        selector = {
            rng.choice(["app", "app.kubernetes.io/name", "team", "tier"]): rng.choice(WORDS)
            for _ in range(rng.randint(1, 2))
        }
        body = "".join(f"    {k}: {v}\n" for k, v in selector.items())
        files[f"s{i}.yaml"] = (
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {rng.choice(WORDS)}\n"
            f"spec:\n  selector:\n{body}  ports:\n    - port: 80\n"
        )
    return files


def _findings(files):
    return [
        (f.path, f.line, f.message, f.fix.to_json() if f.fix else None)
        for f in scan_texts(files).findings
        if f.rule == rule.ID
    ]


def _score_every_workload(monkeypatch) -> None:
    """Switch the pruning off: every candidate workload of the Service is scored by difflib."""
    monkeypatch.setattr(rule, "plausible", lambda ctx, service, selector, found: list(found))
    monkeypatch.setattr(
        rule,
        "_contenders",
        lambda ctx, service, selector, workloads: [
            s for s in (rule._score(service, selector, w) for w in workloads) if s.plausible
        ],
    )


def test_resource_labels_are_label_values_already():
    from footgun.rules.selectors import label_value

    result = scan_texts(
        {
            "d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n"
            "    a: true\n    b: 1\n    c:\n    d: x\nspec:\n  template:\n"
            "    metadata:\n      labels:\n        app: d\n"
        }
    )
    workload = result.inventory.workloads[0]
    assert candidates.resource_labels(workload) == {
        k: label_value(v) for k, v in workload.resource.data["metadata"]["labels"].items()
    }


def _operator_files(rng: random.Random) -> dict[str, str]:
    files = _manifests(rng)
    for i in range(rng.randint(1, 5)):
        ns = rng.choice(["a", "b", None])
        meta_ns = f"  namespace: {ns}\n" if ns else ""
        files[f"op{i}.yaml"] = (
            f"apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: p{i}\n{meta_ns}"
            f"  labels:\n    app: {rng.choice(WORDS)}\nspec:\n  podMetadata:\n    labels:\n"
            f"      app: {rng.choice(WORDS)}\n"
        )
    for name, text in list(files.items()):
        if name.startswith("s") and rng.random() < 0.5:
            files[name] = text.replace("metadata:\n", f"metadata:\n  namespace: {rng.choice(['a', 'b'])}\n", 1)
    return files


@pytest.mark.parametrize("seed", range(30))
def test_indexed_pod_makers_equal_looking_through_every_resource(seed, monkeypatch):
    files = _operator_files(random.Random(seed))
    indexed = _findings(files)

    def every_resource(inventory, namespace):
        return [
            r
            for r in inventory.resources
            if operators.may_make_pods(inventory, r) and (namespace is None or r.namespace in (None, namespace))
        ]

    monkeypatch.setattr(operators, "pod_makers", every_resource)
    assert indexed == _findings(files)


NAMESPACES = ["a", "b", None]


def _namespaced(rng: random.Random) -> dict[str, str]:
    """Workloads and Services spread over namespaces (or none), some workloads
    carrying a Service's selector on their own metadata only, some bare Pods."""
    files = {}
    for i in range(rng.randint(3, 30)):
        ns = rng.choice(NAMESPACES)
        meta_ns = f"  namespace: {ns}\n" if ns else ""
        pod_labels = {"app": rng.choice(WORDS), "tier": rng.choice(["web", "backend", "Web"])}
        if rng.random() < 0.3:
            pod_labels["app.kubernetes.io/name"] = rng.choice(WORDS)
        if rng.random() < 0.1:
            pod_labels["pod-template-hash"] = rng.choice(WORDS)
        own = {"team": rng.choice(WORDS), "app": rng.choice(WORDS)}
        labels = "".join(f"        {k}: {v}\n" for k, v in pod_labels.items())
        own_labels = "".join(f"    {k}: {v}\n" for k, v in own.items())
        if rng.random() < 0.15:
            files[f"p{i}.yaml"] = (
                f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {rng.choice(WORDS)}\n{meta_ns}"
                f"  labels:\n"
                + labels.replace("        ", "    ")
                + "spec:\n  containers:\n    - name: c\n      image: c:1\n"
            )
            continue
        files[f"d{i}.yaml"] = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {rng.choice(WORDS)}\n{meta_ns}"
            f"  labels:\n{own_labels}spec:\n  template:\n    metadata:\n      labels:\n{labels}"
        )
    for i in range(rng.randint(1, 8)):
        ns = rng.choice(NAMESPACES)
        meta_ns = f"  namespace: {ns}\n" if ns else ""
        selector = {
            rng.choice(["app", "app.kubernetes.io/name", "team", "tier", "job-name"]): rng.choice(WORDS)
            for _ in range(rng.randint(1, 3))
        }
        body = "".join(f"    {k}: {v}\n" for k, v in selector.items())
        files[f"s{i}.yaml"] = (
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {rng.choice(WORDS)}\n{meta_ns}"
            f"spec:\n  selector:\n{body}  ports:\n    - port: 80\n"
        )
    return files


@pytest.mark.parametrize(
    "make, seed", [(_manifests, seed) for seed in range(40)] + [(_namespaced, seed) for seed in range(60)]
)
def test_pruned_choice_equals_scoring_every_workload(make, seed, monkeypatch):
    """Manifests in one folder, then spread over namespaces (and none): the indexes
    and the bound-ordered scoring choose as scoring every workload does."""
    files = make(random.Random(seed))
    pruned = _findings(files)
    _score_every_workload(monkeypatch)
    assert pruned == _findings(files)


@pytest.mark.parametrize("seed", range(30))
def test_index_candidates_hold_every_workload_the_test_passes(seed):
    """For each Service: the workloads near it (in `workloads_deployed_with`'s order), those
    whose own metadata the selector matches, and those passing the plausibility test,
    all as a pass over every workload finds them."""
    from footgun.rules.config import Config
    from footgun.rules.context import Context
    from footgun.rules.similarity import prepare

    result = scan_texts(_namespaced(random.Random(seed)))
    ctx = Context(result.inventory, Config(), rule)
    for service in result.inventory.of_kind("Service"):
        selector = rule.from_map(service.get("spec", "selector")).without_keys(is_runtime_key)
        if selector.is_empty:
            continue
        near = candidates.candidate_workloads(ctx, service)
        every = [w for w in result.inventory.workloads_deployed_with(service) if w.labels]
        assert list(near) == every and near.count == len(every) and near.first(3) == every[:3]
        assert near.metadata_matches(selector) == [
            w for w in every if w.template_path and selector.matches(w.resource.labels)
        ]
        values = [prepare(v) for v in dict.fromkeys([service.name] + [v for _, v in selector.labels])]
        pairs = [(key, prepare(value)) for key, value in selector.labels]
        test = candidates.plausibility_test(ctx, values, pairs)
        assert [w for w in near.may_pass(values, pairs) if test(w)] == [w for w in every if test(w)]


@pytest.mark.parametrize("seed", range(30))
def test_score_bound_is_never_below_the_score(seed):
    from footgun.rules.config import Config
    from footgun.rules.context import Context
    from footgun.rules.similarity import prepare

    result = scan_texts(_namespaced(random.Random(seed)))
    ctx = Context(result.inventory, Config(), rule)
    for service in result.inventory.of_kind("Service"):
        selector = rule.from_map(service.get("spec", "selector")).without_keys(is_runtime_key)
        values = [prepare(v) for v in [service.name] + [v for _, v in selector.labels]]
        pairs = [(key, prepare(value)) for key, value in selector.labels]
        for workload in result.inventory.workloads:
            if workload.labels and selector.labels:
                score = rule._score(service, selector, workload)
                assert rule._score_bound(ctx, values, pairs, workload) >= score.total, (service.name, workload.name)


def _crowded_namespace(workloads: int) -> dict[str, str]:
    """One namespace of a platform repository: many applications named word, suffix
    and a number once the name is taken; one Service's selector has a typo."""
    rng = random.Random(7)
    taken: dict[str, int] = {}
    files = {}
    for number in range(workloads):
        base = rng.choice(["cart", "billing", "search", "orders", "ledger", "geo", "feed", "media"]) + rng.choice(
            ["", "-web", "-worker", "-svc", "-admin", "-sync"]
        )
        taken[base] = taken.get(base, 0) + 1
        name = base if taken[base] == 1 else f"{base}-{taken[base]}"
        files[f"{number}.yaml"] = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n"
            f"spec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n"
            f"  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {name}\n"
            f"        tier: {rng.choice(['web', 'backend'])}\n---\n"
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\n"
            f"spec:\n  selector:\n    app.kubernetes.io/name: {name}\n  ports:\n    - port: 80\n"
        )
    files["typo.yaml"] = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: ledger-sync-typo\n  namespace: shop\n"
        "spec:\n  selector:\n    app.kubernetes.io/name: ledger-sync-17x\n  ports:\n    - port: 80\n"
    )
    return files


def test_a_namespace_of_thousands_of_workloads_still_finds_the_meant_one(monkeypatch):
    files = _crowded_namespace(3000)
    assert any("name: ledger-sync-17\n" in text for text in files.values())
    found = _findings(files)
    assert len(found) == 1
    assert found[0][3] is not None and "ledger-sync-17" in str(found[0][3])
    assert "Most likely meant: Deployment ledger-sync-17 " in found[0][2]
    scored = []
    score = rule._score
    monkeypatch.setattr(rule, "_score", lambda *args: scored.append(args[2]) or score(*args))
    assert _findings(files) == found
    assert 0 < len(scored) < 3000 / 100  # the index and the score bounds leave few workloads to score
    _score_every_workload(monkeypatch)
    assert _findings(files) == found
