"""client-ip-session-affinity: wording with and without a proxy in front, and the
two-place fix (the Service, and the ingress-nginx Ingress that routes to it)."""

from __future__ import annotations

from footgun.rules.config import parse_config
from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "client-ip-session-affinity"
CASE = CASES / RULE

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  sessionAffinity: ClientIP
  selector:
    app: web
  ports:
    - port: 80
"""
INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: {ns}
spec:
{cls}  rules:
    - host: web.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
"""


def only(result):
    found = of_rule(result, RULE)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


def pair(ns_service="prod", ns_ingress="prod", cls="  ingressClassName: nginx\n"):
    return SERVICE.format(ns=ns_service) + "---\n" + INGRESS.format(ns=ns_ingress, cls=cls)


def test_footguns_example_edits_the_service_and_the_ingress():
    files = read_case(CASE / "footguns-example.yaml")
    found = only(scan_texts(files))
    assert found.severity == "warning"
    assert "Ingress api-ingress routes to it" in found.message
    service_edit, ingress_edit = found.fix.edits
    assert (service_edit.start_line, service_edit.end_line, service_edit.replacement) == (10, 10, "")
    assert ingress_edit.replacement == (
        "  namespace: production\n"
        "  annotations:\n"
        "    nginx.ingress.kubernetes.io/affinity: cookie\n"
        "    nginx.ingress.kubernetes.io/session-cookie-name: route\n"
        '    nginx.ingress.kubernetes.io/session-cookie-max-age: "10800"\n'
    )
    fixed = apply_fix(files, found.fix)
    assert not of_rule(scan_texts(fixed), RULE)


def test_without_a_proxy_the_wording_is_milder_and_the_fix_removes_both_fields():
    found = only(scan_texts(read_case(CASE / "no-ingress.yaml")))
    assert "routes to it" not in found.message and "NAT" in found.message
    (edit,) = found.fix.edits
    assert (found.line, found.end_line) == (edit.start_line, edit.end_line) == (12, 15)
    assert edit.replacement == ""


def test_an_ingress_in_another_namespace_does_not_route_to_it():
    found = only(scan_text(pair(ns_ingress="other")))
    assert "routes to it" not in found.message
    assert len(found.fix.edits) == 1


def test_an_ingress_with_unset_namespace_may_route_to_it():
    text = SERVICE.format(ns="prod") + "---\n" + INGRESS.format(ns="x", cls="").replace("  namespace: x\n", "")
    found = only(scan_text(text))
    assert "Ingress web routes to it" in found.message
    assert len(found.fix.edits) == 2


def test_the_service_timeout_becomes_the_cookie_max_age_and_quotes_follow_the_annotations():
    files = read_case(CASE / "existing-annotations-and-default-backend.yaml")
    found = only(scan_texts(files))
    ingress_edit = found.fix.edits[0]
    assert 'nginx.ingress.kubernetes.io/affinity: "cookie"' in ingress_edit.replacement
    assert 'session-cookie-max-age: "3600"' in ingress_edit.replacement
    assert ingress_edit.replacement.startswith('    cert-manager.io/cluster-issuer: "letsencrypt-prod"\n')


def test_traefik_gets_its_sticky_cookie_named_and_no_nginx_annotations():
    found = only(scan_text(pair(cls="  ingressClassName: traefik\n")))
    assert "traefik.ingress.kubernetes.io/service.sticky.cookie" in found.message
    assert len(found.fix.edits) == 1 and found.fix.edits[0].replacement == ""


def test_alb_gets_target_group_stickiness():
    found = only(scan_texts(read_case(CASE / "alb-ingressclass.yaml")))
    assert "stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=10800" in found.message
    assert "target-type: ip" in found.message
    assert len(found.fix.edits) == 1


def test_gke_and_f5_nginx_are_told_apart():
    gce = only(scan_text(pair(cls="  ingressClassName: gce\n")))
    assert "GENERATED_COOKIE" in gce.message
    f5 = only(
        scan_text(
            pair(cls="  ingressClassName: nginx\n").replace(
                "  namespace: prod\nspec:\n  ingressClassName",
                "  namespace: prod\n  annotations:\n    nginx.org/lb-method: round_robin\nspec:\n  ingressClassName",
            )
        )
    )
    assert "nginx.com/sticky-cookie-services" in f5.message
    assert len(f5.fix.edits) == 1


def test_a_classless_ingress_follows_the_configured_default_class():
    config = parse_config({"default-ingress-class": "traefik"})
    found = only(scan_text(pair(cls=""), config))
    assert "Traefik" in found.message and len(found.fix.edits) == 1
    found = only(scan_text(pair(cls="")))  # no class info at all: ingress-nginx
    assert len(found.fix.edits) == 2


def test_an_unknown_class_gets_generic_advice():
    found = only(scan_text(pair(cls="  ingressClassName: internal-lb\n")))
    assert "class internal-lb" in found.message and len(found.fix.edits) == 1


def test_flow_style_metadata_cannot_take_annotations_and_the_message_says_what_to_add():
    text = pair().replace(
        "metadata:\n  name: web\n  namespace: prod\nspec:\n  ingressClassName",
        "metadata: {name: web, namespace: prod}\nspec:\n  ingressClassName",
    )
    found = only(scan_text(text))
    assert 'set nginx.ingress.kubernetes.io/affinity: "cookie"' in found.message
    assert len(found.fix.edits) == 1


def test_crlf_and_four_space_indentation_survive_the_fix():
    files = read_case(CASE / "crlf-four-space.yaml")
    text = files["crlf-four-space.yaml"]
    assert "\r\n" in text
    found = only(scan_texts(files))
    fixed = apply_fix(files, found.fix)["crlf-four-space.yaml"]
    assert "\n" not in fixed.replace("\r\n", "")
    assert "\r\n    annotations:\r\n        nginx.ingress.kubernetes.io/affinity: cookie\r\n" in fixed
    assert "sessionAffinity" not in fixed


def test_suppressed_by_annotation_on_the_service():
    text = pair().replace(
        "  namespace: prod\nspec:\n  sessionAffinity",
        "  namespace: prod\n  annotations:\n    footgun.dev/ignore: client-ip-session-affinity\n"
        "spec:\n  sessionAffinity",
        1,
    )
    assert not of_rule(scan_text(text), RULE)
