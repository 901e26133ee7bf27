"""Ingresses and the controllers that serve them, written once for every rule.

- Which class an Ingress uses: ``spec.ingressClassName``, else the deprecated
  ``kubernetes.io/ingress.class`` annotation, else the configured
  ``default-ingress-class``, else the one known class marked default
  (``ingressclass.kubernetes.io/is-default-class: "true"``).
- Which classes are known: the IngressClasses in the scan plus the config's
  ``ingress-classes``.
- Which controller a class means: the IngressClass's ``spec.controller`` when the
  scan or the config holds it, else the class name (``nginx`` is ingress-nginx
  unless ``nginx.org/*`` annotations or ``nginx-controller: nginx-inc`` say it is
  F5 NGINX; ``traefik``, ``alb``, ``gce``, ``istio``, ...), and for an Ingress
  with no class at all, its vendor annotation prefixes.
- An Ingress's rules, paths and backends with where they sit, which Ingresses
  route to a Service, and whether a Service is an ingress controller's own.

References: https://kubernetes.io/docs/concepts/services-networking/ingress/ and
https://kubernetes.io/docs/concepts/services-networking/ingress/#default-ingress-class
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .config import Config
from .inventory import Inventory
from .manifests import Resource
from .selectors import from_map
from .yamltree import YMap

CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"

# Controller ids used across the rules.
INGRESS_NGINX = "ingress-nginx"
NGINX_INC = "nginx-inc"  # F5 NGINX Ingress Controller (nginxinc/kubernetes-ingress)
TRAEFIK = "traefik"
ALB = "alb"  # AWS Load Balancer Controller
GCE = "gce"  # GKE's built-in Ingress controller (ingress-gce)
ISTIO = "istio"
HAPROXY = "haproxy"
KONG = "kong"
CILIUM = "cilium"
CONTOUR = "contour"
AZURE_AGIC = "azure-application-gateway"

# IngressClass spec.controller values (exact, or a prefix followed by "-" or "/").
_CONTROLLER_STRINGS = (
    ("k8s.io/ingress-nginx", INGRESS_NGINX),
    ("nginx.org/ingress-controller", NGINX_INC),
    ("traefik.io/ingress-controller", TRAEFIK),
    ("ingress.k8s.aws/alb", ALB),
    ("k8s.io/ingress-gce", GCE),
    ("istio.io/ingress-controller", ISTIO),
    ("haproxy.org/ingress-controller", HAPROXY),
    ("haproxy-ingress.github.io/controller", HAPROXY),
    ("ingress-controllers.konghq.com/kong", KONG),
    ("konghq.com/ingress-controller", KONG),
    ("io.cilium/ingress-controller", CILIUM),
    ("projectcontour.io/", CONTOUR),
    ("azure/application-gateway", AZURE_AGIC),
)
# Class names that mean one controller when no IngressClass says otherwise.
_CLASS_NAMES = {
    "nginx": INGRESS_NGINX,
    "traefik": TRAEFIK,
    "alb": ALB,
    "gce": GCE,
    "gce-internal": GCE,
    "gce-regional-external": GCE,
    "istio": ISTIO,
    "haproxy": HAPROXY,
    "kong": KONG,
    "cilium": CILIUM,
    "contour": CONTOUR,
    "azure-application-gateway": AZURE_AGIC,
}
# Annotation prefixes only one controller reads.
_ANNOTATION_PREFIXES = (
    ("nginx.ingress.kubernetes.io/", INGRESS_NGINX),
    ("nginx.org/", NGINX_INC),
    ("nginx.com/", NGINX_INC),
    ("traefik.ingress.kubernetes.io/", TRAEFIK),
    ("alb.ingress.kubernetes.io/", ALB),
    ("ingress.gcp.kubernetes.io/", GCE),
    ("networking.gke.io/", GCE),
    ("konghq.com/", KONG),
    ("haproxy.org/", HAPROXY),
    ("appgw.ingress.kubernetes.io/", AZURE_AGIC),
)
# Controllers that serve Ingresses naming no class, out of the box: Traefik's
# Kubernetes Ingress provider (shouldProcessIngress: no class and no configured
# ingressClass means "process"), and GKE's built-in controller (an Ingress with no
# class is handled by GKE Ingress).
SERVES_CLASSLESS = frozenset({TRAEFIK, GCE})


def is_ingress(resource: Resource) -> bool:
    return resource.kind == "Ingress" and resource.api_version.startswith(("networking.k8s.io/", "extensions/"))


def is_ingress_class(resource: Resource) -> bool:
    return resource.kind == "IngressClass" and resource.api_version.startswith("networking.k8s.io/")


def controller_id(controller: str | None) -> str | None:
    """The controller id for an IngressClass ``spec.controller`` string (or an id
    given as is in the config), None when unknown."""
    if not controller:
        return None
    value = controller.strip()
    if value in _CLASS_NAMES.values():
        return value
    for prefix, ident in _CONTROLLER_STRINGS:
        if value == prefix or (value.startswith(prefix) and (prefix.endswith("/") or value[len(prefix)] in "-/")):
            return ident
    return None


def controller_by_annotations(annotations: dict[str, str]) -> str | None:
    """The one controller whose vendor annotations the Ingress carries, if exactly one."""
    found = {ident for key in annotations for prefix, ident in _ANNOTATION_PREFIXES if key.startswith(prefix)}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class KnownClass:
    name: str
    controller: str | None  # the raw spec.controller (or config) string
    default: bool
    resource: Resource | None  # the IngressClass manifest; None when declared in config

    @property
    def controller_id(self) -> str | None:
        return controller_id(self.controller) or _CLASS_NAMES.get(self.name)


@dataclass(frozen=True)
class ClassRef:
    """A class an Ingress names, and where: ``spec.ingressClassName`` or the
    deprecated annotation."""

    name: str
    field_path: tuple[Any, ...]

    @property
    def by_annotation(self) -> bool:
        return self.field_path[0] == "metadata"


class IngressClasses:
    """The classes known in one scan (manifests and config) and how an Ingress
    resolves to a class and a controller."""

    def __init__(self, inventory: Inventory, config: Config, origin: Resource | None = None) -> None:
        self.config = config
        # (an IngressClass without metadata.name, a skeleton or a template's
        # fragment, is no class: no Ingress can name it, nor be defaulted to it)
        everywhere = [r for r in inventory.of_kind("IngressClass") if is_ingress_class(r) and _named(r)]
        deployed_with = everywhere if origin is None else [r for r in everywhere if inventory.together(origin, r)]
        # True when the unit deploys no IngressClass and the repository's stand in
        self.from_elsewhere = not deployed_with and bool(everywhere)
        self.manifests = everywhere if self.from_elsewhere else deployed_with
        known: dict[str, KnownClass] = {}
        for resource in self.manifests:
            known.setdefault(
                resource.name,
                KnownClass(
                    resource.name,
                    _str(resource.get("spec", "controller")),
                    resource.annotations.get(DEFAULT_CLASS_ANNOTATION, "").lower() == "true",
                    resource,
                ),
            )
        for decl in config.ingress_classes:
            if decl.name in known:
                current = known[decl.name]
                known[decl.name] = KnownClass(
                    decl.name, current.controller or decl.controller, current.default or decl.default, current.resource
                )
            else:
                known[decl.name] = KnownClass(decl.name, decl.controller, decl.default, None)
        default = config.default_ingress_class
        if default and default not in known:
            known[default] = KnownClass(default, None, True, None)
        self.known = known

    def defaults(self) -> list[KnownClass]:
        """Known classes marked default (the configured default counts)."""
        configured = self.config.default_ingress_class
        return [c for c in self.known.values() if c.default or c.name == configured]

    def default_class(self) -> str | None:
        """The class a class-less Ingress gets: the configured one, else the only
        known default."""
        if self.config.default_ingress_class:
            return self.config.default_ingress_class
        defaults = self.defaults()
        return defaults[0].name if len(defaults) == 1 else None

    def classless_server(self) -> KnownClass | None:
        """A known class whose controller serves Ingresses that name no class."""
        return next((c for c in self.known.values() if c.controller_id in SERVES_CLASSLESS), None)

    @staticmethod
    def declared(ingress: Resource) -> ClassRef | None:
        """The class the Ingress itself names, if any."""
        name = ingress.get("spec", "ingressClassName")
        if isinstance(name, str) and name:
            return ClassRef(name, ("spec", "ingressClassName"))
        name = ingress.annotations.get(CLASS_ANNOTATION)
        if name:
            return ClassRef(name, ("metadata", "annotations", CLASS_ANNOTATION))
        return None

    def class_of(self, ingress: Resource) -> str | None:
        """The class that serves the Ingress: its own, else the default."""
        declared = self.declared(ingress)
        return declared.name if declared else self.default_class()

    def controller_of_class(self, name: str | None, ingress: Resource | None = None) -> str | None:
        if not name:
            return None
        known = self.known.get(name)
        ident = controller_id(known.controller) if known else None
        if ident is None:
            ident = _CLASS_NAMES.get(name)
        if ident == INGRESS_NGINX and not (known and known.controller):
            ident = self._nginx_flavour(ingress)
        return ident

    def controller_of(self, ingress: Resource) -> str | None:
        """The controller serving the Ingress, or None when nothing tells."""
        name = self.class_of(ingress)
        if name:
            return self.controller_of_class(name, ingress)
        by_annotations = controller_by_annotations(ingress.annotations)
        if by_annotations:
            return by_annotations
        server = self.classless_server()
        return server.controller_id if server else None

    def _nginx_flavour(self, ingress: Resource | None) -> str:
        """A bare ``nginx`` class: F5 NGINX when the Ingress speaks its annotations
        only, or the config says so; else ingress-nginx, the common case."""
        if ingress is not None:
            keys = ingress.annotations
            inc = any(k.startswith(("nginx.org/", "nginx.com/")) for k in keys)
            community = any(k.startswith("nginx.ingress.kubernetes.io/") for k in keys)
            if inc and not community:
                return NGINX_INC
            if community:
                return INGRESS_NGINX
        return NGINX_INC if self.config.nginx_controller == NGINX_INC else INGRESS_NGINX


def ingress_classes(inventory: Inventory, config: Config, origin: Resource | None = None) -> IngressClasses:
    """The `IngressClasses` deployed with ``origin`` (when the unit deploys none, the
    repository's, with ``from_elsewhere`` set); without ``origin``, the whole scan's.
    Computed once per inventory, config and unit."""
    per_config: dict[tuple, IngressClasses] = inventory.memo("ingress-classes", dict)
    unit = inventory.units.roots(origin.path) if origin is not None else None
    key = (id(config), unit)
    found = per_config.get(key)
    if found is None or found.config is not config:
        found = per_config[key] = IngressClasses(inventory, config, origin)
    return found


# --- rules, paths, backends -------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IngressPath:
    """One ``spec.rules[r].http.paths[p]`` entry."""

    rule_index: int
    path_index: int
    host: str  # "" when the rule names no host
    path: str | None
    path_type: str | None  # None when the field is absent
    item: YMap  # the path entry itself
    service: str | None
    port: Any

    @property
    def field_path(self) -> tuple[Any, ...]:
        return ("spec", "rules", self.rule_index, "http", "paths", self.path_index)

    @property
    def field(self) -> str:
        """A name for the path that survives reordering: host and path."""
        return f"spec.rules.{self.host or '*'}.paths.{self.path or '/'}"


@dataclass(frozen=True)
class Backend:
    """A Service an Ingress sends traffic to, and the path to the backend field."""

    service: str
    port: Any
    field_path: tuple[Any, ...]
    host: str | None  # None for the default backend


def ingress_rules(ingress: Resource) -> Iterator[tuple[int, dict]]:
    rules = ingress.get("spec", "rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, dict):
                yield index, rule


def ingress_hosts(ingress: Resource) -> list[tuple[str, int]]:
    """(host, rule index) of every rule that names a host, in file order."""
    return [
        (str(rule["host"]), index)
        for index, rule in ingress_rules(ingress)
        if isinstance(rule.get("host"), str) and rule["host"]
    ]


def ingress_paths(ingress: Resource) -> Iterator[IngressPath]:
    for rule_index, rule in ingress_rules(ingress):
        http = rule.get("http")
        paths = http.get("paths") if isinstance(http, dict) else None
        if not isinstance(paths, list):
            continue
        host = rule.get("host")
        if not isinstance(host, str):
            host = ""
        for path_index, item in enumerate(paths):
            if not isinstance(item, YMap):
                continue
            service, port = _backend_target(item.get("backend"))
            path = item.get("path")
            path_type = item.get("pathType")
            yield IngressPath(
                rule_index,
                path_index,
                host,
                path if isinstance(path, str) else None,
                path_type if isinstance(path_type, str) else None,
                item,
                service,
                port,
            )


def ingress_backends(ingress: Resource) -> Iterator[Backend]:
    """Every Service backend: the default backend first, then each path's."""
    for key in ("defaultBackend", "backend"):  # v1, then v1beta1
        service, port = _backend_target(ingress.get("spec", key))
        if service:
            yield Backend(service, port, ("spec", key), None)
    for entry in ingress_paths(ingress):
        if entry.service:
            yield Backend(entry.service, entry.port, entry.field_path + ("backend",), entry.host)


def _backend_target(backend: Any) -> tuple[str | None, Any]:
    if not isinstance(backend, dict):
        return None, None
    service = backend.get("service")
    if isinstance(service, dict):  # networking.k8s.io/v1
        port = service.get("port")
        if isinstance(port, dict):
            port = port.get("number", port.get("name"))
        return _str(service.get("name")), port
    return _str(backend.get("serviceName")), backend.get("servicePort")  # v1beta1


def ingresses_routing_to(inventory: Inventory, service: Resource) -> list[tuple[Resource, Backend]]:
    """The Ingresses (with the backend entry) that send traffic to ``service``:
    an Ingress reaches Services of its own namespace only."""
    index = inventory.memo("ingress-backends", lambda: _backends_by_service(inventory))
    return [
        (ingress, backend)
        for ingress, backend in index.get(service.name, ())
        if ingress.could_share_namespace(service) and inventory.together(ingress, service)
    ]


def _backends_by_service(inventory: Inventory) -> dict[str, list[tuple[Resource, Backend]]]:
    index: dict[str, list[tuple[Resource, Backend]]] = {}
    for ingress in inventory.of_kind("Ingress"):
        if is_ingress(ingress):
            for backend in ingress_backends(ingress):
                index.setdefault(backend.service, []).append((ingress, backend))
    return index


# --- the controller's own Service --------------------------------------------------

# Names the controllers' charts and manifests give their Services and pods: a
# phrase anywhere in the name, or a word of it.
_CONTROLLER_PHRASES = (
    "ingress-nginx",
    "nginx-ingress",
    "ingress-controller",
    "ingressgateway",
    "haproxy-ingress",
    "kubernetes-ingress",
    "envoy-gateway",
)
_CONTROLLER_WORDS = frozenset({"traefik", "kong", "contour", "emissary", "ambassador", "skipper"})
_CONTROLLER_IMAGE = re.compile(
    r"(ingress-nginx/controller|nginx-ingress-controller|nginx/nginx-ingress|nginx-plus-ingress"
    r"|(^|/)traefik(:|@|$)|(^|/)kong(-gateway)?(:|@|$)|haproxytech/kubernetes-ingress|haproxy-ingress"
    r"|projectcontour/contour|envoyproxy/envoy|istio/proxyv2|emissary|datawire/ambassador"
    r"|zalando/skipper)"
)
_CONTROLLER_ARGS = (
    "/nginx-ingress-controller",
    "--providers.kubernetesingress",
    "--providers.kubernetescrd",
    "-nginx-configmaps",
    "--ingress-class",
)


def is_ingress_controller_service(inventory: Inventory, service: Resource) -> bool:
    """Whether a Service fronts an ingress controller (its own LoadBalancer, say):
    told by the selected pods' images or arguments, or by the well-known names
    and labels the controllers' charts and manifests use."""
    if _names_controller(service.name) or any(
        _names_controller(service.labels.get(k, ""))
        for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of", "app")
    ):
        return True
    selector = service.get("spec", "selector")
    if isinstance(selector, dict):
        if any(_names_controller(str(v)) for v in selector.values()) or selector.get("istio") == "ingressgateway":
            return True
        for workload in inventory.workloads_selected(from_map(selector), service):
            for container in workload.containers():
                if _CONTROLLER_IMAGE.search(str(container.get("image", ""))):
                    return True
                words = [str(w) for key in ("command", "args") for w in container.get(key) or []]
                if any(w.startswith(arg) for w in words for arg in _CONTROLLER_ARGS):
                    return True
    return False


def _names_controller(value: str) -> bool:
    value = value.lower()
    return any(p in value for p in _CONTROLLER_PHRASES) or not _CONTROLLER_WORDS.isdisjoint(
        re.split(r"[^a-z0-9]+", value)
    )


def _named(resource: Resource) -> bool:
    name = resource.get("metadata", "name")
    return isinstance(name, str) and bool(name.strip())


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
