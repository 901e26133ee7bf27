"""headless-service-load-balancing: what marks cannot say (wording, fix text, severity)."""

from __future__ import annotations

from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "headless-service-load-balancing"
CASE_DIR = CASES / RULE

HEADLESS = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  clusterIP: None
  selector:
    app: api
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: {kind}
metadata:
  name: api
spec:
{extra}  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: example/api:1
"""


def _found(kind="Deployment", extra=""):
    return of_rule(scan_text(HEADLESS.format(kind=kind, extra=extra)), RULE)


def test_deployment_behind_headless_service_is_a_warning_on_the_cluster_ip_line():
    (finding,) = _found()
    assert finding.severity == "warning"
    assert finding.line == finding.end_line == 6
    assert finding.field == "spec.clusterIP"
    assert "selects Deployment api" in finding.message
    assert "delete the Service and apply it again" in finding.message
    assert finding.related[0].message == "Deployment api, selected by this headless Service"


def test_fix_deletes_the_cluster_ip_line_only():
    text = HEADLESS.format(kind="Deployment", extra="")
    (finding,) = of_rule(scan_text(text), RULE)
    (edit,) = finding.fix.edits
    assert (edit.start_line, edit.end_line, edit.replacement) == (6, 6, "")
    fixed = apply_fix({"manifest.yaml": text}, finding.fix)["manifest.yaml"]
    assert fixed == text.replace("  clusterIP: None\n", "")
    assert of_rule(scan_text(fixed), RULE) == []


def test_replicaset_is_caught_too():
    assert len(_found("ReplicaSet")) == 1


def test_daemonset_and_job_pods_are_not_load_balancing_targets():
    assert _found("DaemonSet") == []
    assert _found("Job") == []


def test_statefulset_governed_by_this_service_is_left_alone():
    assert _found("StatefulSet", "  serviceName: api\n") == []


def test_statefulset_governed_elsewhere_in_the_scan_gets_the_fix_and_the_advice():
    files = read_case(CASE_DIR / "statefulset-second-headless.yaml")
    (finding,) = of_rule(scan_texts(files), RULE)
    assert "Keep the headless governing Service postgres-headless (of StatefulSet postgres)" in finding.message
    assert "regular ClusterIP Service for load-balanced access" in finding.message
    assert finding.fix is not None
    fixed = apply_fix(files, finding.fix)["statefulset-second-headless.yaml"]
    assert fixed.count("clusterIP: None") == 1  # the governing Service keeps it


def test_statefulset_whose_governing_service_is_not_scanned_gets_no_fix():
    files = read_case(CASE_DIR / "governing-service-missing.yaml")
    (finding,) = of_rule(scan_texts(files), RULE)
    assert finding.fix is None
    assert "'kafka-headless' is not in the scanned files" in finding.message
    assert "serviceName cannot be changed in place" in finding.message


def test_cluster_ips_list_is_removed_with_cluster_ip():
    files = read_case(CASE_DIR / "cross-file")
    (finding,) = of_rule(scan_texts(files), RULE)
    fixed = apply_fix(files, finding.fix)["service.yaml"]
    assert "None" not in fixed and "clusterIP" not in fixed
    assert "  ipFamilyPolicy: SingleStack\n" in fixed


def test_governing_service_in_another_namespace_does_not_count():
    text = HEADLESS.replace("  name: api\nspec:\n  clusterIP", "  name: api\n  namespace: a\nspec:\n  clusterIP", 1)
    text = (
        text.format(kind="Deployment", extra="")
        + """---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: other
  namespace: b
spec:
  serviceName: api
  selector:
    matchLabels: {app: other}
  template:
    metadata:
      labels: {app: other}
    spec:
      containers: [{name: other, image: other}]
"""
    )
    assert len(of_rule(scan_text(text), RULE)) == 1


def test_workload_held_by_several_bundles_is_named_once():
    service_and_deployment = HEADLESS.format(kind="Deployment", extra="")
    deployment_only = service_and_deployment.split("---\n", 1)[1]
    files = {"install.yaml": service_and_deployment, "install-with-monitoring.yaml": deployment_only}
    (finding,) = of_rule(scan_texts(files), RULE)
    assert "selects Deployment api: its DNS name" in finding.message
    assert len(finding.related) == 2
