"""ingress-without-tls: what the marks cannot say (wording, the exact fix, coverage)."""

from __future__ import annotations

import pytest

from footgun.rules.checks.ingress_without_tls import covered
from footgun.rules.config import parse_config
from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "ingress-without-tls"


def findings(text, config=None):
    return of_rule(scan_text(text, config), RULE)


def test_footguns_example_is_fixed_with_tls_issuer_and_redirect():
    files = read_case(CASES / RULE / "footguns-example.yaml")
    [found] = of_rule(scan_texts(files), RULE)
    assert found.severity == "warning"
    assert found.message.startswith("No `tls:` section: api.example.com is served over plain HTTP")
    assert found.fix.description == (
        "Add a `tls:` entry for api.example.com with Secret `api-ingress-tls`, "
        "issued by cert-manager (ClusterIssuer `letsencrypt-prod`) and redirect "
        "HTTP to HTTPS"
    )
    fixed = apply_fix(files, found.fix)["footguns-example.yaml"]
    assert fixed == files["footguns-example.yaml"].replace(
        "  name: api-ingress\n",
        "  name: api-ingress\n"
        "  annotations:\n"
        "    cert-manager.io/cluster-issuer: letsencrypt-prod\n"
        '    nginx.ingress.kubernetes.io/force-ssl-redirect: "true"\n',
    ) + ("  tls:\n  - hosts:\n    - api.example.com\n    secretName: api-ingress-tls\n")


TRAEFIK = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: blog
  annotations:
    cert-manager.io/issuer: team-issuer
spec:
  ingressClassName: traefik
  rules:
  - host: blog.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: blog, port: {number: 80}}
"""


def test_no_redirect_annotation_off_ingress_nginx_and_an_existing_issuer_is_kept():
    [found] = findings(TRAEFIK)
    assert len(found.fix.edits) == 1
    assert "force-ssl-redirect" not in found.fix.edits[0].replacement
    assert "cluster-issuer" not in found.fix.edits[0].replacement
    assert found.fix.description == "Add a `tls:` entry for blog.example.com with Secret `blog-tls`"


def test_issuer_comes_from_the_config():
    [found] = findings(
        TRAEFIK.replace("    cert-manager.io/issuer: team-issuer\n", "    team: blog\n"),
        parse_config({"cert-manager-issuer": "letsencrypt-staging"}),
    )
    assert "cert-manager.io/cluster-issuer: letsencrypt-staging" in "".join(e.replacement for e in found.fix.edits)


def test_partial_coverage_names_the_hosts_and_adds_a_second_secret():
    files = read_case(CASES / RULE / "partial-coverage.yaml")
    [found] = of_rule(scan_texts(files), RULE)
    assert found.message.startswith("`tls:` does not cover api.shop.example:")
    fixed = apply_fix(files, found.fix)["partial-coverage.yaml"]
    assert (
        "      secretName: shop-tls\n    - hosts:\n        - api.shop.example\n      secretName: shop-2-tls\n"
    ) in fixed
    assert "letsencrypt-staging" in fixed and "letsencrypt-prod" not in fixed


def test_one_finding_lists_every_uncovered_host_once():
    text = TRAEFIK.replace("  rules:\n", "  rules:\n  - host: www.example.com\n  - host: WWW.example.com\n")
    [found] = findings(text)
    assert "www.example.com, blog.example.com are served" in found.message
    assert found.line == 10


def test_no_host_and_alb_get_no_fix():
    files = read_case(CASES / RULE / "no-host.yaml")
    assert [f.fix for f in of_rule(scan_texts(files), RULE)] == [None, None]
    files = read_case(CASES / RULE / "alb-no-tls.yaml")
    [found] = of_rule(scan_texts(files), RULE)
    assert found.fix is None and "alb.ingress.kubernetes.io/listen-ports" in found.message


def test_flow_metadata_gets_no_fix_rather_than_a_wrong_one():
    text = TRAEFIK.replace(
        "metadata:\n  name: blog\n  annotations:\n    cert-manager.io/issuer: team-issuer\n", "metadata: {name: blog}\n"
    )
    [found] = findings(text)
    assert found.fix is None


@pytest.mark.parametrize(
    "host, entries, expected",
    [
        ("api.example.com", [{"hosts": ["api.example.com"]}], True),
        ("API.example.com", [{"hosts": ["api.EXAMPLE.com"]}], True),
        ("api.example.com", [{"hosts": ["*.example.com"]}], True),
        ("example.com", [{"hosts": ["*.example.com"]}], False),
        ("a.b.example.com", [{"hosts": ["*.example.com"]}], False),
        ("*.example.com", [{"hosts": ["*.example.com"]}], True),
        ("api.example.com", [{"secretName": "any"}], True),
        ("api.example.com", [{"hosts": [], "secretName": "any"}], True),
        ("api.example.com", [{"hosts": ["www.example.com"]}], False),
        ("api.example.com", [], False),
    ],
)
def test_coverage(host, entries, expected):
    assert covered(host, entries) is expected


def test_flow_annotations_and_tls_are_rewritten_whole():
    text = TRAEFIK.replace("  annotations:\n    cert-manager.io/issuer: team-issuer\n", "  annotations: {}\n").replace(
        "  ingressClassName: traefik\n", "  ingressClassName: traefik\n  tls: []\n"
    )
    [found] = findings(text)
    after = apply_fix({"manifest.yaml": text}, found.fix)["manifest.yaml"]
    assert "  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt-prod\n" in after
    assert "  tls:\n  - hosts:\n    - blog.example.com\n    secretName: blog-tls\n" in after
    assert findings(after) == []


def test_hosts_no_public_ca_can_certify_get_no_lets_encrypt_fix():
    files = read_case(CASES / RULE / "loopback-and-private-hosts.yaml")
    found = of_rule(scan_texts(files), RULE)
    assert [f.line for f in found] == [30]  # the *.localhost Ingress is left alone
    assert found[0].fix is None
    assert "`grafana.lab.local`, `wiki.corp.internal` are not a public DNS name" in found[0].message


def test_a_configured_issuer_may_be_an_internal_ca_and_is_offered_for_private_hosts():
    files = read_case(CASES / RULE / "loopback-and-private-hosts.yaml")
    config = parse_config({"cert-manager-issuer": "corp-ca"})
    (found,) = of_rule(scan_texts(files, config), RULE)
    assert found.fix is not None
    fixed = apply_fix(files, found.fix)["loopback-and-private-hosts.yaml"]
    assert "cert-manager.io/cluster-issuer: corp-ca" in fixed
