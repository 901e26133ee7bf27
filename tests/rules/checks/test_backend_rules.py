"""The backend rules (dangling names and undeclared ports): severities, what the
messages tell, what the fixes write, and the Gateway API reading they share."""

from __future__ import annotations

import pytest

from footgun.rules.gateway import hostname_matches, regex_character_prefix
from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

NEW_RULES = (
    "ingress-backend-missing",
    "route-backend-missing",
    "networkpolicy-selects-nothing",
    "service-target-port-not-declared",
    "probe-port-not-declared",
    "statefulset-governing-service",
)

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
          ports:
{ports}
"""


def service(ports: str) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n{ports}\n"
    )


@pytest.mark.parametrize("rule", NEW_RULES)
def test_every_finding_says_how_to_verify_with_kubectl(rule):
    for case in sorted((CASES / rule).iterdir()):
        for found in of_rule(scan_texts(read_case(case)), rule):
            assert "kubectl" in found.message, found.message


def test_named_target_port_nobody_declares_is_an_error_fixed_to_the_declared_name():
    text = (
        service("    - port: 80\n      targetPort: htp")
        + "---\n"
        + DEPLOYMENT.format(ports="            - name: http\n              containerPort: 8080")
    )
    [found] = of_rule(scan_text(text), "service-target-port-not-declared")
    assert found.severity == "error"
    assert "no endpoints" in found.message and "8080 (http)" in found.message
    fixed = apply_fix({"manifest.yaml": text}, found.fix)["manifest.yaml"]
    assert "      targetPort: http\n" in fixed


def test_numeric_target_port_is_a_warning_and_silent_once_declared():
    wrong = (
        service("    - port: 80\n      targetPort: 8000")
        + "---\n"
        + DEPLOYMENT.format(ports="            - containerPort: 8080")
    )
    [found] = of_rule(scan_text(wrong), "service-target-port-not-declared")
    assert found.severity == "warning"
    right = wrong.replace("targetPort: 8000", "targetPort: 8080")
    assert not of_rule(scan_text(right), "service-target-port-not-declared")


def test_a_udp_service_port_needs_a_udp_container_port():
    text = (
        service("    - name: dns\n      port: 53\n      protocol: UDP\n      targetPort: dns")
        + "---\n"
        + DEPLOYMENT.format(ports="            - name: dns\n              containerPort: 53")
    )
    [found] = of_rule(scan_text(text), "service-target-port-not-declared")
    assert "protocol UDP" in found.message and "53 (dns)" in found.message


def test_probe_on_an_undeclared_name_is_fixed_to_the_only_port():
    text = DEPLOYMENT.format(
        ports="            - name: http\n              containerPort: 8080\n"
        "          livenessProbe:\n            tcpSocket:\n              port: admin"
    )
    [found] = of_rule(scan_text(text), "probe-port-not-declared")
    assert "CrashLoopBackOff" in found.message
    fixed = apply_fix({"manifest.yaml": text}, found.fix)["manifest.yaml"]
    assert "              port: http\n" in fixed


def test_missing_governing_service_is_appended_headless_with_the_pods_ports():
    files = read_case(CASES / "statefulset-governing-service" / "missing.yaml")
    [found] = of_rule(scan_texts(files), "statefulset-governing-service")
    fixed = apply_fix(files, found.fix)["missing.yaml"]
    added = fixed.split("---\n")[1]
    assert "name: redis-headless" in added and "clusterIP: None" in added
    assert "namespace: cache" in added and "app: redis" in added and "port: 6379" in added


def test_ingress_port_that_is_the_target_port_is_explained():
    files = read_case(CASES / "ingress-backend-missing" / "typo-and-wrong-port.yaml")
    found = [f for f in of_rule(scan_texts(files), "ingress-backend-missing") if "8080" in f.message]
    assert found and "targetPort" in found[0].message
    assert found[0].fix and "number: 80" in found[0].fix.edits[0].replacement


def test_kube_linter_style_selectorless_service_is_an_existing_backend():
    text = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
spec:
  defaultBackend:
    service:
      name: legacy
      port:
        number: 443
---
apiVersion: v1
kind: Service
metadata:
  name: legacy
spec:
  ports:
    - port: 443
"""
    assert not of_rule(scan_text(text), "ingress-backend-missing")


@pytest.mark.parametrize(
    "pattern, host, expected",
    [
        (None, "a.example.com", True),
        ("a.example.com", "A.example.com", True),
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "a.b.example.com", True),
        ("*.example.com", "example.com", False),
        ("b.example.com", "a.example.com", False),
    ],
)
def test_listener_hostnames(pattern, host, expected):
    assert hostname_matches(pattern, host) is expected


@pytest.mark.parametrize(
    "value, prefix",
    [
        ("/api.*", "/api"),
        ("^/api.*$", "/api"),
        ("/api/.*", None),
        ("/api", None),
        ("/v[0-9]+.*", None),
        ("/a.b.*", None),
    ],
)
def test_regex_paths_that_are_character_prefixes(value, prefix):
    assert regex_character_prefix({"type": "RegularExpression", "value": value}) == prefix
    assert regex_character_prefix({"type": "PathPrefix", "value": value}) is None


def test_a_governing_service_that_is_not_headless_warns_only_when_the_pods_use_its_names():
    files = read_case(CASES / "statefulset-governing-service" / "across-files")
    severities = {f.resource.name: f.severity for f in of_rule(scan_texts(files), "statefulset-governing-service")}
    assert severities == {"kafka": "info", "zookeeper": "warning"}
