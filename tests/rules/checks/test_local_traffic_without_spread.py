"""local-traffic-without-spread: what marks cannot say (wording, fix text, severity)."""

from __future__ import annotations

from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "local-traffic-without-spread"
CASE_DIR = CASES / RULE

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: {type}
  externalTrafficPolicy: Local
  selector:
    app: web
  ports:
    - port: 80
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
{replicas}  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        version: v2
    spec:
      containers:
        - name: web
          image: example/web:2
"""


def _scan(service_type="LoadBalancer", replicas="  replicas: 3\n", extra=""):
    text = SERVICE.format(type=service_type) + "---\n" + DEPLOYMENT.format(replicas=replicas) + extra
    return text, of_rule(scan_text(text), RULE)


def test_finding_is_a_warning_on_the_policy_line_naming_the_workload():
    text, found = _scan()
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "warning"
    assert text.splitlines()[finding.line - 1].strip() == "externalTrafficPolicy: Local"
    assert finding.field == "spec.externalTrafficPolicy"
    assert "Deployment web (manifest.yaml)" in finding.message
    assert "healthCheckNodePort" in finding.message
    assert finding.related and finding.related[0].message.startswith("Deployment web")


def test_nodeport_message_explains_there_is_no_health_check():
    _, found = _scan("NodePort")
    assert "no health check port" in found[0].message
    assert "healthCheckNodePort" not in found[0].message


def test_clusterip_service_is_not_checked():
    _, found = _scan("ClusterIP")
    assert found == []


def test_fix_inserts_a_spread_constraint_with_the_selector_labels_only():
    text, found = _scan()
    fixed = apply_fix({"manifest.yaml": text}, found[0].fix)["manifest.yaml"]
    assert fixed.endswith(
        "          image: example/web:2\n"
        "      topologySpreadConstraints:\n"
        "        - maxSkew: 1\n"
        "          topologyKey: kubernetes.io/hostname\n"
        "          whenUnsatisfiable: DoNotSchedule\n"
        "          labelSelector:\n"
        "            matchLabels:\n"
        "              app: web\n"
    )
    assert "version: v2" not in fixed.split("topologySpreadConstraints")[1]
    assert "topologySpreadConstraints" in found[0].fix.description
    assert of_rule(scan_text(fixed), RULE) == []


def test_replicas_pinned_to_one_is_left_alone_unless_autoscaled():
    _, found = _scan(replicas="  replicas: 1\n")
    assert found == []
    hpa = """---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
spec:
  scaleTargetRef:
    name: web
"""
    _, found = _scan(replicas="  replicas: 1\n", extra=hpa)
    assert len(found) == 1


def test_replicas_left_unset_is_checked():
    _, found = _scan(replicas="")
    assert len(found) == 1


def test_schedule_anyway_becomes_do_not_schedule_in_place():
    files = read_case(CASE_DIR / "schedule-anyway.yaml")
    finding = of_rule(scan_texts(files), RULE)[0]
    (edit,) = finding.fix.edits
    assert edit.replacement == "          whenUnsatisfiable: DoNotSchedule  # a preference, not a guarantee\n"


def test_constraint_counting_other_pods_gets_this_workloads_labels():
    files = read_case(CASE_DIR / "spread-counts-other-pods.yaml")
    finding = of_rule(scan_texts(files), RULE)[0]
    (edit,) = finding.fix.edits
    assert edit.replacement == ("          labelSelector:\n            matchLabels:\n              app: search\n")


def test_cross_file_fix_edits_the_workload_file_in_its_own_style():
    files = read_case(CASE_DIR / "cross-file")
    finding = of_rule(scan_texts(files), RULE)[0]
    assert finding.path == "k8s/service.yaml"
    (edit,) = finding.fix.edits
    assert edit.path == "k8s/deployment.yaml"
    assert edit.replacement.splitlines()[1:] == [
        "            topologySpreadConstraints:",
        "            - maxSkew: 1",
        "              topologyKey: kubernetes.io/hostname",
        "              whenUnsatisfiable: DoNotSchedule",
        "              labelSelector:",
        "                  matchLabels:",
        "                      app: api",
    ]


def test_two_workloads_behind_one_service_share_one_finding_and_fix():
    files = read_case(CASE_DIR / "stable-and-canary.yaml")
    (finding,) = of_rule(scan_texts(files), RULE)
    assert "shop-stable" in finding.message and "shop-canary" in finding.message
    assert " do not keep their pods" in finding.message
    assert len(finding.fix.edits) == 2
    fixed = apply_fix(files, finding.fix)
    assert of_rule(scan_texts(fixed), RULE) == []
    text = fixed["stable-and-canary.yaml"]
    assert "track: stable" in text.split("shop-canary")[0].split("topologySpreadConstraints")[1]


def test_flow_style_pod_spec_gets_no_fix():
    text = (
        SERVICE.format(type="LoadBalancer")
        + """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "example/web:2"}]}
"""
    )
    (finding,) = of_rule(scan_text(text), RULE)
    assert finding.fix is None


def test_suppressed_by_comment():
    text = SERVICE.format(type="LoadBalancer").replace(
        "externalTrafficPolicy: Local", "externalTrafficPolicy: Local  # footgun:ignore " + RULE
    )
    text += "---\n" + DEPLOYMENT.format(replicas="  replicas: 3\n")
    assert of_rule(scan_text(text), RULE) == []
