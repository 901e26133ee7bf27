"""The shared Ingress helpers: class and controller resolution, paths, backends,
routes to a Service, and the ingress controller's own Service."""

from __future__ import annotations

import pytest

from footgun.rules.config import Config, parse_config
from footgun.rules.ingress import (
    ALB,
    GCE,
    INGRESS_NGINX,
    NGINX_INC,
    TRAEFIK,
    controller_by_annotations,
    controller_id,
    ingress_backends,
    ingress_classes,
    ingress_hosts,
    ingress_paths,
    ingresses_routing_to,
    is_ingress_controller_service,
)
from tests.helpers import scan_text

NGINX_CLASS = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {name}
  annotations:
    ingressclass.kubernetes.io/is-default-class: "{default}"
spec:
  controller: {controller}
"""


def ingress(
    name="web",
    spec="  defaultBackend:\n    service: {name: web, port: {number: 80}}\n",
    annotations=None,
    namespace=None,
):
    meta = f"  name: {name}\n" + (f"  namespace: {namespace}\n" if namespace else "")
    if annotations:
        meta += "  annotations:\n" + "".join(f'    {k}: "{v}"\n' for k, v in annotations.items())
    return f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n{meta}spec:\n{spec}"


def classes_and(text, config=None):
    result = scan_text(text, config)
    config = config or Config()
    classes = ingress_classes(result.inventory, config)
    ingresses = {r.name: r for r in result.inventory.of_kind("Ingress")}
    return classes, ingresses, result


def test_class_comes_from_spec_then_annotation_then_default():
    text = "\n---\n".join(
        [
            NGINX_CLASS.format(name="public", default="true", controller="k8s.io/ingress-nginx"),
            ingress("named", spec="  ingressClassName: internal\n"),
            ingress("annotated", annotations={"kubernetes.io/ingress.class": "legacy"}),
            ingress("classless"),
        ]
    )
    classes, ingresses, _ = classes_and(text)
    assert classes.class_of(ingresses["named"]) == "internal"
    assert classes.declared(ingresses["annotated"]).by_annotation
    assert classes.class_of(ingresses["annotated"]) == "legacy"
    assert classes.declared(ingresses["classless"]) is None
    assert classes.class_of(ingresses["classless"]) == "public"


def test_configured_default_wins_and_two_defaults_give_none():
    text = "\n---\n".join(
        [
            NGINX_CLASS.format(name="a", default="true", controller="k8s.io/ingress-nginx"),
            NGINX_CLASS.format(name="b", default="true", controller="traefik.io/ingress-controller"),
            ingress("classless"),
        ]
    )
    classes, ingresses, _ = classes_and(text)
    assert classes.default_class() is None
    assert {c.name for c in classes.defaults()} == {"a", "b"}
    configured = parse_config({"default-ingress-class": "b"})
    classes, ingresses, _ = classes_and(text, configured)
    assert classes.class_of(ingresses["classless"]) == "b"
    assert classes.controller_of(ingresses["classless"]) == TRAEFIK


def test_known_classes_merge_manifests_and_config():
    config = parse_config(
        {"ingress-classes": ["internal", {"name": "edge", "controller": "ingress.k8s.aws/alb", "default": True}]}
    )
    text = NGINX_CLASS.format(name="internal", default="false", controller="nginx.org/ingress-controller")
    classes, _, _ = classes_and(text, config)
    assert set(classes.known) == {"internal", "edge"}
    assert classes.known["internal"].resource is not None
    assert classes.known["internal"].controller_id == NGINX_INC
    assert classes.known["edge"].resource is None and classes.known["edge"].controller_id == ALB
    assert classes.default_class() == "edge"


def test_ingress_class_spec_controller_beats_the_name():
    text = "\n---\n".join(
        [
            NGINX_CLASS.format(name="nginx", default="false", controller="nginx.org/ingress-controller"),
            ingress("web", spec="  ingressClassName: nginx\n"),
        ]
    )
    classes, ingresses, _ = classes_and(text)
    assert classes.controller_of(ingresses["web"]) == NGINX_INC


@pytest.mark.parametrize(
    "annotations, config, expected",
    [
        ({}, {}, INGRESS_NGINX),
        ({"nginx.org/proxy-read-timeout": "60s"}, {}, NGINX_INC),
        (
            {"nginx.org/proxy-read-timeout": "60s", "nginx.ingress.kubernetes.io/ssl-redirect": "true"},
            {},
            INGRESS_NGINX,
        ),
        ({}, {"nginx-controller": "nginx-inc"}, NGINX_INC),
        ({"nginx.ingress.kubernetes.io/ssl-redirect": "true"}, {"nginx-controller": "nginx-inc"}, INGRESS_NGINX),
    ],
)
def test_a_bare_nginx_class_is_told_apart_by_annotations_then_config(annotations, config, expected):
    classes, ingresses, _ = classes_and(
        ingress("web", spec="  ingressClassName: nginx\n", annotations=annotations), parse_config(config)
    )
    assert classes.controller_of(ingresses["web"]) == expected


def test_controller_of_a_classless_ingress():
    text = "\n---\n".join(
        [
            ingress("alb", annotations={"alb.ingress.kubernetes.io/scheme": "internal"}),
            ingress(
                "mixed",
                annotations={
                    "alb.ingress.kubernetes.io/scheme": "internal",
                    "traefik.ingress.kubernetes.io/router.tls": "true",
                },
            ),
            ingress("plain"),
            ingress("unknown-class", spec="  ingressClassName: in-house\n"),
        ]
    )
    classes, ingresses, _ = classes_and(text)
    assert classes.controller_of(ingresses["alb"]) == ALB
    assert classes.controller_of(ingresses["mixed"]) is None
    assert classes.controller_of(ingresses["plain"]) is None
    assert classes.controller_of(ingresses["unknown-class"]) is None
    with_traefik = (
        text + "\n---\n" + NGINX_CLASS.format(name="edge", default="false", controller="traefik.io/ingress-controller")
    )
    classes, ingresses, _ = classes_and(with_traefik)
    assert classes.classless_server().name == "edge"
    assert classes.controller_of(ingresses["plain"]) == TRAEFIK


def test_controller_ids():
    assert controller_id("k8s.io/ingress-nginx") == INGRESS_NGINX
    assert controller_id("k8s.io/ingress-nginx-internal") == INGRESS_NGINX
    assert controller_id("k8s.io/ingress-nginxish") is None
    assert controller_id("ingress.k8s.aws/alb") == ALB
    assert controller_id("traefik") == TRAEFIK  # an id as the config may give it
    assert controller_id("example.com/proxy") is None
    assert controller_by_annotations({"networking.gke.io/managed-certificates": "c"}) == GCE
    assert controller_by_annotations({"cert-manager.io/cluster-issuer": "x"}) is None


def test_ingress_classes_are_computed_once_per_scan():
    result = scan_text(ingress())
    config = Config()
    assert ingress_classes(result.inventory, config) is ingress_classes(result.inventory, config)
    assert ingress_classes(result.inventory, Config()) is not ingress_classes(result.inventory, config)


V1BETA1 = """apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: old
spec:
  backend:
    serviceName: fallback
    servicePort: 8080
  rules:
  - host: old.example.com
    http:
      paths:
      - path: /api
        backend:
          serviceName: api
          servicePort: http
  - http:
      paths:
      - backend:
          serviceName: web
          servicePort: 80
"""

V1 = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: new
  namespace: shop
spec:
  defaultBackend:
    service:
      name: fallback
      port:
        number: 8080
  rules:
  - host: new.example.com
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service:
            name: api
            port:
              name: http
      - path: /files
        pathType: ImplementationSpecific
        backend:
          resource:
            apiGroup: k8s.example.com
            kind: StorageBucket
            name: files
"""


@pytest.mark.parametrize("text", [V1, V1BETA1])
def test_paths_and_backends_in_both_api_versions(text):
    resource = scan_text(text).inventory.of_kind("Ingress")[0]
    paths = list(ingress_paths(resource))
    assert paths[0].host.endswith(".example.com") and paths[0].path == "/api"
    assert paths[0].service == "api" and paths[0].port == "http"
    assert paths[0].field_path == ("spec", "rules", 0, "http", "paths", 0)
    line = resource.span(*paths[0].field_path, "path").key_line
    assert resource.source.line(line).strip() == "- path: /api"
    backends = list(ingress_backends(resource))
    assert backends[0].service == "fallback" and backends[0].port == 8080 and backends[0].host is None
    assert {b.service for b in backends} == {"fallback", "api", "web"} - ({"web"} if text is V1 else set())
    assert ingress_hosts(resource) == [(paths[0].host, 0)]


def test_missing_path_type_is_none_and_the_field_names_host_and_path():
    resource = scan_text(V1BETA1).inventory.of_kind("Ingress")[0]
    first, second = ingress_paths(resource)
    assert first.path_type is None and first.field == "spec.rules.old.example.com.paths./api"
    assert second.host == "" and second.path is None and second.field == "spec.rules.*.paths./"


ROUTED = """apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector: {app: api}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: other
spec:
  selector: {app: api}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: fallback
spec:
  selector: {app: fallback}
  ports: [{port: 8080}]
"""


def test_ingresses_routing_to_a_service_stay_in_its_namespace():
    result = scan_text(ROUTED + "---\n" + V1)
    services = {(s.namespace, s.name): s for s in result.inventory.of_kind("Service")}
    routes = ingresses_routing_to(result.inventory, services[("shop", "api")])
    assert [(i.name, b.field_path[-1], b.host) for i, b in routes] == [("new", "backend", "new.example.com")]
    assert ingresses_routing_to(result.inventory, services[("other", "api")]) == []
    fallback = ingresses_routing_to(result.inventory, services[(None, "fallback")])
    assert [b.field_path for _, b in fallback] == [("spec", "defaultBackend")]


CONTROLLER = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: edge
  namespace: edge
spec:
  selector: {matchLabels: {app: edge}}
  template:
    metadata:
      labels: {app: edge}
    spec:
      containers:
      - name: controller
        image: registry.k8s.io/ingress-nginx/controller:v1.10.0
---
apiVersion: v1
kind: Service
metadata:
  name: edge-lb
  namespace: edge
spec:
  type: LoadBalancer
  selector: {app: edge}
  ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata:
  name: traefik
  namespace: kube-system
spec:
  type: LoadBalancer
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: public
  labels:
    app.kubernetes.io/name: ingress-nginx
spec:
  type: LoadBalancer
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: kongregate-api
spec:
  type: LoadBalancer
  selector: {app: kongregate}
  ports: [{port: 80}]
"""


def test_the_ingress_controllers_own_service_is_recognised():
    result = scan_text(CONTROLLER)
    verdicts = {s.name: is_ingress_controller_service(result.inventory, s) for s in result.inventory.of_kind("Service")}
    assert verdicts == {"edge-lb": True, "traefik": True, "public": True, "kongregate-api": False}
