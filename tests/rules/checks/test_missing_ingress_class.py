"""missing-ingress-class: wording, fixes, and the leave-alone conditions."""

from __future__ import annotations

from footgun.rules.config import parse_config
from tests.helpers import CASES, apply_fix, of_rule, read_case, scan_text, scan_texts

RULE = "missing-ingress-class"

CLASS = """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {name}
spec:
  controller: {controller}
"""


def ingress(spec="  defaultBackend:\n    service: {name: web, port: {number: 80}}\n", annotations=""):
    return f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n{annotations}spec:\n{spec}"


def findings(text, config=None):
    return of_rule(scan_text(text, config), RULE)


def test_typo_is_named_and_corrected():
    files = read_case(CASES / RULE / "typo.yaml")
    [found] = of_rule(scan_texts(files), RULE)
    assert found.severity == "error"
    assert found.message == (
        "`ingressClassName` names class `ngnix`, which does not exist (known: `nginx`): no "
        "controller will serve this Ingress, and nothing reports it. Did you mean `nginx`?"
    )
    after = apply_fix(files, found.fix)["typo.yaml"]
    assert after == files["typo.yaml"].replace("ingressClassName: ngnix", "ingressClassName: nginx")


def test_annotation_typo_keeps_its_quotes():
    files = read_case(CASES / RULE / "annotation-typo.yaml")
    [found] = of_rule(scan_texts(files), RULE)
    assert found.message.startswith("annotation `kubernetes.io/ingress.class` names class `Traefk`")
    assert 'kubernetes.io/ingress.class: "traefik"' in apply_fix(files, found.fix)["annotation-typo.yaml"]


def test_a_case_difference_is_a_near_miss():
    [found] = findings(
        CLASS.format(name="nginx", controller="k8s.io/ingress-nginx") + "---\n" + ingress("  ingressClassName: NGINX\n")
    )
    assert found.fix.description == "Use class `nginx`"


def test_unknown_class_without_near_miss_has_no_fix():
    [found] = findings(
        CLASS.format(name="nginx", controller="k8s.io/ingress-nginx")
        + "---\n"
        + ingress("  ingressClassName: haproxy\n")
    )
    assert found.fix is None and "Did you mean" not in found.message


def test_an_unscanned_file_makes_the_verdict_tentative():
    files = {
        "classes.yaml": CLASS.format(name="nginx", controller="k8s.io/ingress-nginx"),
        "class.yaml": "kind: IngressClass\nmetadata:\n  name: {{ .Values.name }}\n",
        "web.yaml": ingress("  ingressClassName: edge\n"),
    }
    [found] = of_rule(scan_texts(files), RULE)
    assert "class.yaml could not be scanned" in found.message


def test_classless_with_the_only_class_gets_it_as_first_key_of_spec():
    files = read_case(CASES / RULE / "classless-one-class.yaml")
    [found] = of_rule(scan_texts(files), RULE)
    assert found.message.startswith("No `ingressClassName`, and no known IngressClass is marked default")
    after = apply_fix(files, found.fix)["classless-one-class.yaml"]
    assert "spec:  # expect: missing-ingress-class\n  ingressClassName: nginx\n  # served at the apex\n" in after


def test_classless_with_a_flow_spec_gets_no_fix():
    [found] = findings(
        CLASS.format(name="nginx", controller="k8s.io/ingress-nginx")
        + "---\n"
        + ingress("  {defaultBackend: {service: {name: web, port: {number: 80}}}}\n")
    )
    assert found.fix is None


def test_several_candidates_are_not_guessed_but_vendor_annotations_decide():
    files = read_case(CASES / RULE / "cross-file")
    by_line = {f.line: f for f in of_rule(scan_texts(files), RULE)}
    assert by_line[6].fix is None and "mark one IngressClass as the default" in by_line[6].message
    assert by_line[26].fix.description.startswith("Set `ingressClassName: public`")


def test_two_defaults_each_name_the_other():
    files = read_case(CASES / RULE / "two-defaults.yaml")
    found = of_rule(scan_texts(files), RULE)
    assert [(f.line, [r.line for r in f.related]) for f in found] == [(7, [16]), (16, [7])]
    assert all(f.fix is None and "refuses every new Ingress that names no class" in f.message for f in found)


def test_config_declared_classes_and_default():
    config = parse_config({"ingress-classes": ["internal"]})
    assert len(findings(ingress(), config)) == 1
    assert findings(ingress("  ingressClassName: internal\n"), config) == []
    config = parse_config({"ingress-classes": ["internal"], "default-ingress-class": "internal"})
    assert findings(ingress(), config) == []
    config = parse_config({"ingress-classes": [{"name": "internal", "default": True}]})
    assert findings(ingress(), config) == []


def test_nothing_known_means_nothing_reported():
    assert findings(ingress("  ingressClassName: whatever\n")) == []
    assert findings(ingress()) == []


def test_gke_and_traefik_serve_classless_ingresses():
    gce = parse_config({"ingress-classes": [{"name": "gce", "controller": "k8s.io/ingress-gce"}, "nginx"]})
    assert findings(ingress(), gce) == []
    traefik = CLASS.format(name="edge", controller="traefik.io/ingress-controller")
    assert findings(traefik + "---\n" + ingress()) == []
    nginx = CLASS.format(name="edge", controller="k8s.io/ingress-nginx")
    assert len(findings(nginx + "---\n" + ingress())) == 1


def test_messages_say_how_to_declare_what_the_cluster_has():
    [unknown] = findings(
        CLASS.format(name="nginx", controller="k8s.io/ingress-nginx")
        + "---\n"
        + ingress("  ingressClassName: haproxy\n")
    )
    assert "declare it under `ingress-classes` in `.footgun.yml`" in unknown.message
    [classless] = findings(CLASS.format(name="nginx", controller="k8s.io/ingress-nginx") + "---\n" + ingress())
    assert "set `default-ingress-class` in `.footgun.yml`" in classless.message
