"""service-selector-mismatch: which workload the fix targets, and what it says."""

from __future__ import annotations

from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "service-selector-mismatch"
CASE = CASES / RULE


def only(result):
    found = of_rule(result, RULE)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


def deployment(
    name: str,
    labels: dict[str, str],
    namespace: str | None = "prod",
    match: dict[str, str] | None = None,
    meta: dict[str, str] | None = None,
) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    meta_lines = "".join(f"    {k}: {v}\n" for k, v in (meta or {}).items())
    meta_block = f"  labels:\n{meta_lines}" if meta else ""
    match_lines = "".join(f"      {k}: {v}\n" for k, v in (match or labels).items())
    label_lines = "".join(f"        {k}: {v}\n" for k, v in labels.items())
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ns}{meta_block}"
        f"spec:\n  selector:\n    matchLabels:\n{match_lines}  template:\n    metadata:\n"
        f"      labels:\n{label_lines}    spec:\n      containers:\n        - name: c\n"
        f"          image: example/{name}:1\n"
    )


def service(name: str, selector: dict[str, str], namespace: str | None = "prod") -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    lines = "".join(f"    {k}: {v}\n" for k, v in selector.items())
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n{ns}spec:\n  selector:\n{lines}"
        f"  ports:\n    - port: 80\n"
    )


def test_footguns_example_is_fixed_on_the_selector_lines():
    files = read_case(CASE / "footguns-example.yaml")
    found = only(scan_texts(files))
    assert (found.line, found.end_line) == (8, 9)  # the selector: block
    assert "Deployment api-server (footguns-example.yaml)" in found.message
    assert "`kubectl get endpoints api-server -n production`" in found.message
    (edit,) = found.fix.edits
    assert (edit.path, edit.start_line, edit.end_line) == ("footguns-example.yaml", 8, 9)
    assert edit.replacement == "  selector:  # expect: service-selector-mismatch\n    app: api\n"
    assert found.related and found.related[0].line == 26


def test_labels_only_on_deployment_metadata_are_added_to_the_pod_template():
    files = read_case(CASE / "labels-on-deployment-metadata.yaml")
    found = only(scan_texts(files))
    assert "spec.selector app=orders still matches" in found.message
    (edit,) = found.fix.edits
    assert edit.start_line == edit.end_line == 18  # after the template's app: orders
    assert edit.replacement == "        app: orders\n        tier: backend\n"
    fixed = apply_fix(files, found.fix)
    assert not of_rule(scan_texts(fixed), RULE)


def test_template_fix_that_would_break_the_deployment_selector_changes_the_service_instead():
    files = read_case(CASE / "labels-on-metadata-selector-would-break.yaml")
    found = only(scan_texts(files))
    assert "spec.selector app=web would no longer match" in found.message
    (edit,) = found.fix.edits
    assert edit.start_line == found.line  # the Service's selector, not the Deployment
    assert edit.replacement.endswith("    app: web\n")


def test_template_fix_keeps_a_matchexpressions_selector_valid():
    text = (
        deployment("api", {"app": "api"}, meta={"app": "api", "tier": "web"}).replace(
            "    matchLabels:\n      app: api\n",
            "    matchExpressions:\n      - {key: tier, operator: DoesNotExist}\n"
            "      - {key: app, operator: In, values: [api]}\n",
        )
        + "---\n"
        + service("api", {"app": "api", "tier": "web"})
    )
    found = only(scan_text(text))
    # tier on the pods would take them out of the Deployment's own selector
    assert "would no longer match" in found.message
    assert found.fix.edits[0].start_line == found.line


def test_a_typo_in_one_of_several_keys_picks_the_closest_workload():
    found = only(scan_texts(read_case(CASE / "typo-in-one-of-several-keys.yaml")))
    assert "Deployment shop-backend" in found.message
    assert "component: backend   # the typo" in found.fix.edits[0].replacement


def test_a_differing_key_is_renamed_to_the_pods_key():
    found = only(scan_texts(read_case(CASE / "app-vs-app-kubernetes-io-name.yaml")))
    assert found.fix.edits[0].replacement.splitlines()[1] == "    app.kubernetes.io/name: checkout"


def test_cross_file_fix_names_the_workload_file():
    files = read_case(CASE / "cross-file")
    found = only(scan_texts(files))
    assert found.path == "k8s/svc/service.yaml"
    assert "(k8s/base/deployment.yaml)" in found.message
    assert found.related[0].path == "k8s/base/deployment.yaml"


def test_pods_in_another_namespace_are_named_without_a_fix():
    found = only(scan_texts(read_case(CASE / "wrong-namespace.yaml")))
    assert found.fix is None
    assert "namespace backend" in found.message


def test_no_fix_when_nothing_looks_meant():
    found = only(scan_texts(read_case(CASE / "nothing-close-no-fix.yaml")))
    assert found.fix is None
    assert "Deployment backend (app=backend)" in found.message


def test_no_fix_when_two_workloads_are_equally_close():
    text = "---\n".join(
        [service("api", {"app": "api"}), deployment("one", {"app": "api1"}), deployment("two", {"app": "api2"})]
    )
    assert only(scan_text(text)).fix is None


def test_selector_that_singles_out_nothing_gets_the_workload_own_selector_pairs():
    # the typo'd key is dropped; app alone would also pick the worker's pods
    text = "---\n".join(
        [
            service("web", {"app": "shop", "role": "frontend-web"}),
            deployment("web", {"app": "shop", "component": "web"}, match={"app": "shop", "component": "web"}),
            deployment("worker", {"app": "shop", "component": "worker"}, match={"app": "shop", "component": "worker"}),
        ]
    )
    found = only(scan_text(text))
    lines = found.fix.edits[0].replacement.splitlines()
    assert lines[1:] == ["    app: shop", "    component: web"]


def test_unset_namespace_is_compared_with_every_namespace_and_says_so():
    text = service("api", {"app": "api-srv"}, namespace=None) + "---\n" + deployment("api", {"app": "api"})
    found = only(scan_text(text))
    assert "`kubectl get endpoints api -n <namespace>`" in found.message
    assert found.fix is not None


def test_unscanned_files_that_could_hold_the_workload_are_named():
    files = {
        "svc.yaml": service("api", {"app": "api"}),
        "web.yaml": deployment("web", {"app": "web"}),
        "api-template.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        "  name: {{ .Release.Name }}\n  namespace: prod\n",
    }
    found = only(scan_texts(files))
    assert "api-template.yaml could not be scanned" in found.message


def test_crlf_file_fix_keeps_crlf():
    text = (service("api-server", {"app": "api-server"}) + "---\n" + deployment("api", {"app": "api"})).replace(
        "\n", "\r\n"
    )
    found = only(scan_text(text))
    fixed = apply_fix({"manifest.yaml": text}, found.fix)["manifest.yaml"]
    assert "\n" not in fixed.replace("\r\n", "")
    assert "    app: api\r\n" in fixed
    assert not of_rule(scan_text(fixed), RULE)


def test_suppressed_on_the_selector_line():
    text = (
        service("api", {"app": "nope"}).replace(
            "  selector:\n", "  selector:  # footgun:ignore service-selector-mismatch\n"
        )
        + "---\n"
        + deployment("api", {"app": "api"})
    )
    assert not of_rule(scan_text(text), RULE)


def test_many_services_and_workloads_scan_without_pairwise_work():
    parts = []
    for i in range(400):
        ns = f"ns{i % 40}"
        parts.append(deployment(f"app{i}", {"app": f"app{i}"}, namespace=ns))
        parts.append(service(f"app{i}", {"app": f"app{i}" if i % 10 else f"app{i}x"}, namespace=ns))
    found = of_rule(scan_text("---\n".join(parts)), RULE)
    assert len(found) == 40 and all(f.fix for f in found)


def test_a_value_that_only_starts_like_another_label_under_another_key_is_no_typo():
    # `release: invoice` is no misspelling of `app.kubernetes.io/name: invoice-api`
    files = read_case(CASE / "unrelated-workload-shares-a-word-no-fix.yaml")
    found = only(scan_texts(files))
    assert found.fix is None
    assert "None of the workloads" in found.message


def test_a_typo_in_one_chapter_is_matched_against_that_chapter_only():
    files = read_case(CASES / RULE / "chapters")
    found = only(scan_texts(files))
    assert found.path == "chapter7/web.yaml"
    assert found.related and all(r.path == "chapter7/web.yaml" for r in found.related)
    assert found.fix and all(e.path == "chapter7/web.yaml" for e in found.fix.edits)
