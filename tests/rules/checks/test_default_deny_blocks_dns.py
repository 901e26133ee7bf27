"""default-deny-blocks-dns: what marks cannot say (severity, wording, the new policy)."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "default-deny-blocks-dns"
CASE_DIR = CASES / RULE

DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: production
spec:
  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
"""


def _allow(ports: str, name: str = "allow-dns", selector: str = "{}", to: str = "") -> str:
    return f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: production
spec:
  podSelector: {selector}
  policyTypes: [Egress]
  egress:
    - {to}ports:
{ports}"""


UDP = "        - protocol: UDP\n          port: 53\n"
TCP = "        - protocol: TCP\n          port: 53\n"


def _documents(text: str) -> list:
    return [d for d in YAML(typ="safe").load_all(text) if d]


def test_default_deny_is_an_error_on_the_egress_policy_type():
    (finding,) = of_rule(scan_text(DENY), RULE)
    assert finding.severity == "error"
    assert DENY.splitlines()[finding.line - 1].strip() == "- Egress"
    assert finding.message.startswith("NetworkPolicy default-deny isolates every pod in namespace production")


def test_fix_appends_an_allow_dns_policy_for_the_same_pods_and_namespace():
    (finding,) = of_rule(scan_text(DENY), RULE)
    fixed = apply_fix({"manifest.yaml": DENY}, finding.fix)["manifest.yaml"]
    assert fixed.startswith(DENY + "---\n")
    new = _documents(fixed)[1]
    assert new["metadata"] == {"name": "allow-dns", "namespace": "production"}
    assert new["spec"]["podSelector"] == {}
    assert new["spec"]["policyTypes"] == ["Egress"]
    (rule,) = new["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert {"ipBlock": {"cidr": "169.254.20.10/32"}} in rule["to"]
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    } in rule["to"]
    assert of_rule(scan_text(fixed), RULE) == []
    assert finding.fix.description == "Add NetworkPolicy allow-dns allowing DNS (UDP and TCP 53) for the same pods"


def test_fix_keeps_a_narrow_deny_narrow():
    files = read_case(CASE_DIR / "egress-rules-without-dns.yaml")
    (finding,) = of_rule(scan_texts(files), RULE)
    fixed = apply_fix(files, finding.fix)["egress-rules-without-dns.yaml"]
    new = _documents(fixed)[1]
    assert new["metadata"]["name"] == "allow-dns-api-egress"
    assert new["spec"]["podSelector"] == {"matchLabels": {"app": "api-server"}}


def test_openshift_manifests_get_the_openshift_dns_port():
    route = """---
apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: web
spec:
  to:
    kind: Service
    name: web
"""
    (finding,) = of_rule(scan_text(DENY + route), RULE)
    fixed = apply_fix({"manifest.yaml": DENY + route}, finding.fix)["manifest.yaml"]
    new = _documents(fixed)[1]
    (rule,) = new["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "UDP", "port": 5353}, {"protocol": "TCP", "port": 5353}]
    assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "openshift-dns"}}}]
    assert of_rule(scan_text(fixed), RULE) == []


def test_udp_only_is_a_warning_on_the_udp_entry_fixed_with_tcp_alongside():
    text = DENY + _allow(UDP)
    (finding,) = of_rule(scan_text(text), RULE)
    assert finding.severity == "warning"
    assert finding.resource.name == "allow-dns"
    assert text.splitlines()[finding.line - 1].strip() == "- protocol: UDP"
    assert "retried over TCP" in finding.message
    fixed = apply_fix({"manifest.yaml": text}, finding.fix)["manifest.yaml"]
    assert fixed == text + TCP
    assert of_rule(scan_text(fixed), RULE) == []


def test_udp_and_tcp_in_two_policies_add_up():
    text = DENY + _allow(UDP, "dns-udp") + _allow(TCP, "dns-tcp")
    assert of_rule(scan_text(text), RULE) == []


def test_tcp_only_is_no_dns():
    findings = of_rule(scan_text(DENY + _allow(TCP)), RULE)
    # the TCP-only policy restricts egress for the same pods: reported too, the fix on the first
    assert [(f.resource.name, f.severity) for f in findings] == [("default-deny", "error"), ("allow-dns", "error")]


def test_port_range_that_includes_53_counts():
    ranged = "        - protocol: UDP\n          port: 1\n          endPort: 1024\n" + TCP
    assert of_rule(scan_text(DENY + _allow(ranged)), RULE) == []


def test_other_ports_only_do_not_count():
    https = "        - protocol: TCP\n          port: 443\n"
    findings = of_rule(scan_text(DENY + _allow(https, to="to: [{namespaceSelector: {}}]\n      ")), RULE)
    assert [f.resource.name for f in findings] == ["default-deny", "allow-dns"]


def test_explicit_ingress_only_policy_types_ignore_egress_rules():
    text = DENY.replace("    - Egress\n", "") + _allow(UDP + TCP).replace("[Egress]", "[Ingress]")
    assert of_rule(scan_text(text), RULE) == []
    both = DENY + _allow(UDP + TCP).replace("[Egress]", "[Ingress]")
    (finding,) = of_rule(scan_text(both), RULE)
    assert finding.resource.name == "default-deny"


def test_two_deny_policies_for_the_same_pods_share_one_fix():
    second = DENY.replace("name: default-deny", "name: deny-egress")
    text = DENY + "---\n" + second
    findings = of_rule(scan_text(text), RULE)
    assert [f.resource.name for f in findings] == ["default-deny", "deny-egress"]
    assert findings[0].fix is not None and findings[1].fix is None
    assert "The fix offered on NetworkPolicy default-deny" in findings[1].message
    fixed = apply_fix({"manifest.yaml": text}, findings[0].fix)["manifest.yaml"]
    assert of_rule(scan_text(fixed), RULE) == []


def test_workloads_left_without_dns_are_named_and_related():
    files = read_case(CASE_DIR / "coverage-judged-on-workloads.yaml")
    (finding,) = of_rule(scan_texts(files), RULE)
    assert "the pods of Deployment worker" in finding.message
    assert "Deployment web" not in finding.message
    assert [r.message for r in finding.related] == ["Deployment worker: no DNS egress"]


def test_dns_pods_in_own_namespace_note():
    files = read_case(CASE_DIR / "dns-pods-without-namespace-selector.yaml")
    (finding,) = of_rule(scan_texts(files), RULE)
    assert "has no namespaceSelector, so it only matches pods in the policy's own namespace" in finding.message


def test_skipped_file_in_the_namespace_is_a_caveat():
    files = {
        "deny.yaml": DENY,
        "allow.yaml": "metadata:\n  namespace: production\n{{ .Values.x }}\n",
        "chart/allow.yaml": "metadata:\n  namespace: production\n{{ .Values.x }}\n",
    }
    (finding,) = of_rule(scan_texts(files), RULE)
    # a skipped file of another folder is not deployed with the policy
    assert "allow.yaml could not be scanned" in finding.message and "chart/" not in finding.message


def test_kube_system_policy_may_select_dns_pods_by_pod_selector_alone():
    text = DENY.replace("production", "kube-system") + _allow(
        UDP + TCP, to="to: [{podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n      "
    ).replace("production", "kube-system")
    assert of_rule(scan_text(text), RULE) == []


def test_all_ports_to_a_private_range_may_reach_dns_but_a_public_one_does_not():
    private = DENY + _allow("", to="to: [{ipBlock: {cidr: 10.0.0.0/8}}]\n      ").replace("ports:\n", "")
    assert of_rule(scan_text(private), RULE) == []
    public = DENY + _allow("", to="to: [{ipBlock: {cidr: 203.0.113.0/24}}]\n      ").replace("ports:\n", "")
    assert [f.resource.name for f in of_rule(scan_text(public), RULE)] == ["default-deny", "allow-dns"]


@pytest.mark.parametrize(
    "case, severity, kept",
    [
        ("namespace-deny-dns-for-some-pods.yaml", "warning", "app=web"),
        ("namespace-deny-workloads-keep-dns.yaml", "info", "app=web"),
        ("coverage-judged-on-workloads.yaml", "error", None),
    ],
)
def test_namespace_wide_deny_names_who_keeps_dns(case, severity, kept):
    [finding] = of_rule(scan_texts(read_case(CASE_DIR / case)), "default-deny-blocks-dns")
    assert finding.severity == severity
    if kept:
        assert f"DNS is allowed only for the pods with {kept}" in finding.message
        assert finding.fix is not None
    else:
        assert "Deployment worker" in finding.message
