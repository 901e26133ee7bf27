"""ingress-path-overmatch: wording, the exact fixes, and controller semantics the
marks alone cannot pin down."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from footgun.rules.config import parse_config
from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "ingress-path-overmatch"


def ingress(path, path_type="ImplementationSpecific", cls="nginx", annotations="", extra_paths=""):
    type_line = f"        pathType: {path_type}\n" if path_type else ""
    return (
        f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n{annotations}"
        f"spec:\n  ingressClassName: {cls}\n  rules:\n  - host: web.example.com\n    http:\n      paths:\n"
        f"      - path: {path}\n{type_line}"
        f"        backend:\n          service:\n            name: web\n            port:\n"
        f"              number: 80\n{extra_paths}"
    )


def findings(text, config=None):
    return of_rule(scan_text(text, config), RULE)


def fixed(text, found):
    return apply_fix({"manifest.yaml": text}, found.fix)["manifest.yaml"]


def test_ingress_nginx_implementation_specific_becomes_prefix():
    text = ingress("/api")
    [found] = findings(text)
    assert found.severity == "warning" and found.line == 11
    assert found.message == (
        "`/api` (ImplementationSpecific) is a character prefix with ingress-nginx: it also "
        "matches `/api2` and `/api-anything`, not only `/api` and `/api/...`."
    )
    assert fixed(text, found) == text.replace("pathType: ImplementationSpecific", "pathType: Prefix")


@pytest.mark.parametrize("path_type", ["Prefix", "Exact"])
def test_ingress_nginx_prefix_and_exact_are_per_segment(path_type):
    assert findings(ingress("/api", path_type)) == []


def test_an_endpoint_becomes_exact_and_a_dotted_path_gets_a_trailing_slash():
    [found] = findings(ingress("/healthz"))
    assert "pathType: Exact" in found.fix.edits[0].replacement
    text = ingress("/v1.2")
    [found] = findings(text)
    assert fixed(text, found) == text.replace("path: /v1.2", "path: /v1.2/")


def test_files_roots_trailing_slashes_and_regexes_are_left_alone():
    for path in ("/favicon.ico", "/", "/api/", "/api/(.*)", "/v[0-9]+"):
        assert findings(ingress(path)) == [], path


def test_missing_path_type_is_inserted():
    text = ingress("/api", path_type=None)
    [found] = findings(text)
    assert fixed(text, found) == text.replace("      - path: /api\n", "      - path: /api\n        pathType: Prefix\n")


REGEX_ELSEWHERE = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rewrite
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /old(/|$)(.*)
        pathType: ImplementationSpecific
        backend:
          service: {name: legacy, port: {number: 80}}
"""


def test_regex_mode_from_another_file_is_named_and_related():
    files = {"rewrite.yaml": REGEX_ELSEWHERE, "web.yaml": ingress("/users", "Prefix")}
    [found] = of_rule(scan_texts(files), RULE)
    assert found.path == "web.yaml"
    assert "`nginx.ingress.kubernetes.io/rewrite-target` on Ingress rewrite (rewrite.yaml)" in found.message
    assert "`/USERS`" in found.message
    assert [(r.path, r.line) for r in found.related] == [("rewrite.yaml", 6)]
    after = apply_fix(files, found.fix)["web.yaml"]
    assert "      - path: /users(/|$)\n        pathType: ImplementationSpecific\n" in after


def test_regex_mode_needs_the_same_host_and_class():
    other_host = REGEX_ELSEWHERE.replace("web.example.com", "old.example.com")
    assert of_rule(scan_texts({"a.yaml": other_host, "b.yaml": ingress("/users", "Prefix")}), RULE) == []
    other_class = REGEX_ELSEWHERE.replace("ingressClassName: nginx", "ingressClassName: internal")
    assert of_rule(scan_texts({"a.yaml": other_class, "b.yaml": ingress("/users", "Prefix")}), RULE) == []


def test_a_rewrite_target_with_captures_gets_a_non_capturing_anchor():
    text = ingress(
        "/api", "Prefix", annotations="  annotations:\n    nginx.ingress.kubernetes.io/rewrite-target: /$1\n"
    )
    [found] = findings(text)
    assert "path: /api(?:/|$)" in fixed(text, found)


def test_exact_in_regex_mode_is_anchored_at_the_end_in_one_edit_when_path_type_is_missing():
    annotations = '  annotations:\n    nginx.ingress.kubernetes.io/use-regex: "true"\n'
    text = ingress("/login", "Exact", annotations=annotations)
    [found] = findings(text)
    assert "path: /login$" in fixed(text, found)
    text = ingress("/api", None, annotations=annotations)
    [found] = findings(text)
    [edit] = found.fix.edits
    assert edit.replacement == "      - path: /api(/|$)\n        pathType: ImplementationSpecific\n"


SPLIT_4 = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
    name: whoami
spec:
    ingressClassName: traefik
    rules:
        -   host: whoami.example.com
            http:
                paths:
                    -   path: /bar   # the API
                        pathType: Prefix
                        backend:
                            service:
                                name: whoami
                                port:
                                    number: 80
"""


def test_traefik_prefix_is_split_into_exact_and_slash_prefix_in_the_files_style():
    [found] = findings(SPLIT_4)
    assert found.message.startswith("`/bar` (Prefix) is a character prefix with Traefik")
    after = fixed(SPLIT_4, found)
    assert after == SPLIT_4.replace("pathType: Prefix", "pathType: Exact") + (
        "                    -   path: /bar/\n"
        "                        pathType: Prefix\n"
        "                        backend:\n"
        "                            service:\n"
        "                                name: whoami\n"
        "                                port:\n"
        "                                    number: 80\n"
    )
    paths = YAML(typ="safe").load(after)["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/bar", "Exact"), ("/bar/", "Prefix")]


def test_traefik_strict_prefix_matching_silences_prefix():
    assert findings(ingress("/api", "Prefix", cls="traefik"), parse_config({"traefik-strict-prefix": True})) == []
    assert len(findings(ingress("/api", "Prefix", cls="traefik"))) == 1


def test_f5_nginx_path_regex_modes():
    f5 = "  annotations:\n    nginx.org/path-regex: {}\n"
    [found] = findings(
        ingress("/tea", "Prefix", annotations=f5.format("case_sensitive") + '    nginx.org/server-tokens: "off"\n')
    )
    assert "`nginx.org/path-regex`" in found.message and "/tea(/|$)" in found.fix.description
    assert findings(ingress("/tea", "Prefix", annotations=f5.format("exact"))) == []


def test_alb_wildcard_becomes_prefix():
    text = ingress("/cart*", cls="alb")
    [found] = findings(text)
    assert found.message.startswith("`/cart*` is a character wildcard with the AWS Load Balancer Controller")
    assert fixed(text, found) == text.replace("path: /cart*", "path: /cart").replace(
        "pathType: ImplementationSpecific", "pathType: Prefix"
    )
    assert findings(ingress("/cart", cls="alb")) == []  # no wildcard: exact


def test_unknown_controllers_and_gce_stay_silent():
    assert findings(ingress("/api", cls="in-house")) == []
    assert findings(ingress("/api", cls="gce")) == []
    assert findings(ingress("/api", cls="cilium")) == []


def test_the_example_from_the_docstring_is_caught_and_its_good_twin_is_not():
    files = read_case(CASES / RULE / "implementation-specific-nginx.yaml")
    lines = {f.line for f in of_rule(scan_texts(files), RULE)}
    assert lines == {14, 22, 28}


def test_a_missing_path_type_is_said_so():
    [found] = findings(ingress("/api", path_type=None))
    assert found.message.startswith("`/api` (no pathType, so ImplementationSpecific) is a character prefix")
