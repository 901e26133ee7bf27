"""A Service pins clients to pods by source IP (`sessionAffinity: ClientIP`).

With `sessionAffinity: ClientIP`, kube-proxy sends every connection from one
source IP address to the same pod (for `sessionAffinityConfig.clientIP.timeoutSeconds`,
three hours by default). The rule reports every Service that sets it, and says so
more strongly when an Ingress or a Gateway API route in the scanned files sends
traffic to that Service (an Ingress reaches Services of its own namespace through
`spec.rules[].http.paths[].backend.service.name` or `spec.defaultBackend`): then
every request comes from the proxy's few pods.

Left alone: a LoadBalancer or NodePort Service with `externalTrafficPolicy: Local`
that no Ingress or route in the scanned files sends traffic to. Local keeps the
clients' own source addresses all the way to the pods (no SNAT), which is what
ClientIP affinity needs to pin each client, not a proxy; the policy says the client
addresses matter.

## Why it matters
Source-IP affinity only spreads load when the clients connect with their own
addresses. Behind an ingress controller, a service mesh sidecar, a NAT gateway or
any connection-pooling proxy, thousands of users share a handful of source IPs:
they are all pinned to the same one or few pods, while the other replicas sit
idle. Scaling out does not help, and a pod that goes away takes its "sessions"
with it anyway.

## How to fix
Drop `sessionAffinity` (and `sessionAffinityConfig`) from the Service. If users
must stick to one pod, do it at the HTTP layer with a cookie, which survives
proxies and NAT. The fix removes both fields and, on each ingress-nginx Ingress
that routes to the Service, turns on cookie affinity:
`nginx.ingress.kubernetes.io/affinity: "cookie"`, `session-cookie-name` and
`session-cookie-max-age` (the Service's affinity timeout, 10800 seconds unless
it set another). An Ingress counts as ingress-nginx by its class (`nginx`, or an
IngressClass with controller `k8s.io/ingress-nginx`), or when nothing names its
class at all. The annotations apply to every backend of that Ingress.

For other controllers the message names their cookie setting instead:
- Traefik: the Service annotation `traefik.ingress.kubernetes.io/service.sticky.cookie: "true"`
  (with `service.sticky.cookie.name`);
- AWS Load Balancer Controller: `alb.ingress.kubernetes.io/target-group-attributes:
  stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=<s>`, with
  `alb.ingress.kubernetes.io/target-type: ip` so that it sticks to pods, not nodes;
- GKE Ingress: a BackendConfig with `sessionAffinity: {affinityType: GENERATED_COOKIE}`,
  referenced by the Service's `cloud.google.com/backend-config` annotation;
- F5 NGINX Ingress Controller: `nginx.com/sticky-cookie-services` (NGINX Plus), or
  a VirtualServer upstream's `sessionCookie`;
- HAProxy: `haproxy.org/cookie-persistence`; Istio: a DestinationRule with
  `consistentHash.httpCookie`; Contour: an HTTPProxy `loadBalancerPolicy` with
  `strategy: Cookie`; Kong: a KongUpstreamPolicy hashing on a cookie;
- Gateway API routes: the route rule's `sessionPersistence` (type Cookie) where
  the implementation supports it.

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
spec:
  sessionAffinity: ClientIP
  selector:
    app: cart
  ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cart
spec:
  ingressClassName: nginx
  rules:
    - host: cart.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: cart
                port:
                  number: 80
```
Good:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
spec:
  selector:
    app: cart
  ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cart
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-name: route
    nginx.ingress.kubernetes.io/session-cookie-max-age: "10800"
spec:
  ingressClassName: nginx
  rules:
    - host: cart.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: cart
                port:
                  number: 80
```

## Sources
- https://kubernetes.io/docs/reference/networking/virtual-ips/#session-affinity
- https://kubernetes.github.io/ingress-nginx/examples/affinity/cookie/
- https://doc.traefik.io/traefik/routing/providers/kubernetes-ingress/ (service.sticky.cookie)
- https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/ (target-group-attributes)
- https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration (BackendConfig session affinity)
- https://github.com/nginx/kubernetes-ingress/tree/main/examples/ingress-resources/session-persistence
- https://gateway-api.sigs.k8s.io/reference/spec/ (HTTPRouteRule sessionPersistence)
- https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from ..context import Context
from ..edits import merge_entries, remove_keys
from ..gateway import backend_refs, is_gateway_api
from ..ingress import (
    ALB,
    CONTOUR,
    GCE,
    HAPROXY,
    INGRESS_NGINX,
    ISTIO,
    KONG,
    NGINX_INC,
    TRAEFIK,
    ingress_classes,
    ingresses_routing_to,
)
from ..inventory import Inventory
from ..manifests import Resource
from ..model import Edit, Finding, Fix, Related
from ..yamltree import YMap

ID = "client-ip-session-affinity"
SEVERITY = "warning"
SUMMARY = "`sessionAffinity: ClientIP` behind a proxy"

DEFAULT_TIMEOUT = 10800  # Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds
COOKIE_NAME = "route"
AFFINITY = "nginx.ingress.kubernetes.io/affinity"
COOKIE_NAME_KEY = "nginx.ingress.kubernetes.io/session-cookie-name"
COOKIE_MAX_AGE = "nginx.ingress.kubernetes.io/session-cookie-max-age"

# What to use instead, per controller (the ingress-nginx case is the fix itself).
ADVICE = {
    TRAEFIK: 'annotate this Service with traefik.ingress.kubernetes.io/service.sticky.cookie: "true" '
    "(and service.sticky.cookie.name)",
    ALB: "set alb.ingress.kubernetes.io/target-group-attributes: stickiness.enabled=true,"
    "stickiness.lb_cookie.duration_seconds={timeout} (with alb.ingress.kubernetes.io/target-type: ip, "
    "so it sticks to pods rather than nodes)",
    GCE: "use a BackendConfig with sessionAffinity: {{affinityType: GENERATED_COOKIE, "
    "affinityCookieTtlSec: {timeout}}}, referenced by this Service's cloud.google.com/backend-config annotation",
    NGINX_INC: "use nginx.com/sticky-cookie-services (NGINX Plus) or a VirtualServer upstream's sessionCookie",
    HAPROXY: "use the haproxy.org/cookie-persistence annotation",
    ISTIO: "use a DestinationRule with trafficPolicy.loadBalancer.consistentHash.httpCookie",
    CONTOUR: "use an HTTPProxy route with loadBalancerPolicy strategy: Cookie",
    KONG: "use a KongUpstreamPolicy that hashes on a cookie",
}
CONTROLLER_NAMES = {
    TRAEFIK: "Traefik",
    ALB: "the AWS Load Balancer Controller",
    GCE: "GKE Ingress",
    NGINX_INC: "the F5 NGINX Ingress Controller",
    HAPROXY: "HAProxy",
    ISTIO: "Istio",
    CONTOUR: "Contour",
    KONG: "Kong",
    INGRESS_NGINX: "ingress-nginx",
}


def check(ctx: Context) -> Iterator[Finding]:
    for service in ctx.inventory.of_kind("Service"):
        spec = service.get("spec")
        if service.api_version != "v1" or not isinstance(spec, YMap) or spec.get("sessionAffinity") != "ClientIP":
            continue
        timeout = _timeout(spec)
        routed = ingresses_routing_to(ctx.inventory, service)
        ingresses = _unique(ingress for ingress, _ in routed)
        backend_line: dict[Resource, int] = {}
        for ingress, backend in routed:
            span = ingress.span(*backend.field_path)
            backend_line.setdefault(ingress, span.key_line if span else ingress.start_line)
        routes = _routes_to(ctx, service)
        if not ingresses and not routes and _client_ips_preserved(spec):
            continue

        removal = remove_keys(service.source, spec, ["sessionAffinity", "sessionAffinityConfig"])
        edits: list[Edit] = list(removal)
        related: list[Related] = []
        advice: list[str] = []
        annotated: list[str] = []
        for ingress in ingresses:
            classes = ingress_classes(ctx.inventory, ctx.config, ingress)
            class_name = classes.class_of(ingress)
            controller = classes.controller_of(ingress)
            line = backend_line[ingress]
            related.append(Related(ingress.path, line, f"Ingress {ingress.name} routes to Service {service.name}"))
            if controller == INGRESS_NGINX or (controller is None and class_name is None):
                if ingress.annotations.get(AFFINITY):
                    advice.append(
                        f"Ingress {ingress.name} already sets cookie affinity ({AFFINITY}), "
                        f"so ClientIP only adds the imbalance"
                    )
                    continue
                added = _add_cookie_affinity(ingress, timeout)
                if added:
                    edits.extend(added)
                    annotated.append(ingress.name)
                else:
                    advice.append(
                        f'on Ingress {ingress.name}, set {AFFINITY}: "cookie" with '
                        f"session-cookie-name and session-cookie-max-age"
                    )
            elif controller in ADVICE:
                advice.append(
                    f"Ingress {ingress.name} is served by {CONTROLLER_NAMES[controller]}: "
                    + ADVICE[controller].format(timeout=timeout)
                )
            else:
                served = f"class {class_name}" if class_name else "its controller"
                advice.append(
                    f"Ingress {ingress.name} is served by {served}: use that controller's cookie-based session affinity"
                )
        for route in routes:
            related.append(
                Related(route.path, route.start_line, f"{route.kind} {route.name} routes to Service {service.name}")
            )
            advice.append(
                f"{route.kind} {route.name}: use the route rule's sessionPersistence "
                f"(type Cookie) where the Gateway implementation supports it"
            )

        message = _message(service, spec, ingresses, routes, annotated, advice)
        fix = None
        if removal:
            described = "Remove sessionAffinity: ClientIP" + (
                " and sessionAffinityConfig" if "sessionAffinityConfig" in spec else ""
            )
            if annotated:
                described += f"; add ingress-nginx cookie affinity to Ingress {', '.join(annotated)}"
            fix = Fix(described, tuple(sorted(edits, key=lambda e: (e.path, e.start_line))))
        lines = None
        if len(removal) == 1 and removal[0].start_line == service.key_line("spec", "sessionAffinity"):
            lines = (removal[0].start_line, removal[0].end_line)
        yield ctx.finding(
            service,
            ("spec", "sessionAffinity"),
            message,
            fix=fix,
            related=related,
            lines=lines,
            field="spec.sessionAffinity",
        )


def _client_ips_preserved(spec: Any) -> bool:
    """A LoadBalancer or NodePort Service with `externalTrafficPolicy: Local`: outside
    clients reach the pods with their own source addresses (no SNAT on the way), so
    ClientIP affinity pins each real client, as meant."""
    return spec.get("type") in ("LoadBalancer", "NodePort") and spec.get("externalTrafficPolicy") == "Local"


def _message(
    service: Resource,
    spec: Any,
    ingresses: list[Resource],
    routes: list[Resource],
    annotated: list[str],
    advice: list[str],
) -> str:
    head = f"sessionAffinity: ClientIP pins each client IP address to one pod of Service {service.name}"
    if spec.get("clusterIP") == "None":
        head += " (and does nothing on a headless Service, which kube-proxy does not balance)"
    proxies = [f"Ingress {i.name}" for i in ingresses] + [f"{r.kind} {r.name}" for r in routes]
    if proxies:
        message = (
            f"{head}, but {_join(proxies)} route{'s' if len(proxies) == 1 else ''} to it: every "
            f"request arrives from the proxy's few pods, so all users share a handful of source "
            f"IPs and land on the same one or few pods while the other replicas sit idle "
            f"(keep-alive connection pools make it worse). Use cookie-based affinity at the "
            f"ingress instead."
        )
    else:
        message = (
            f"{head}. Behind anything that proxies or NATs (an ingress controller, a service "
            f"mesh, a NAT gateway, a connection-pooling client) many users share one source IP "
            f"and are pinned to the same pod while the other replicas sit idle. If sessions must "
            f"stick, use cookie-based affinity at the ingress layer; otherwise drop it."
        )
    if annotated:
        message += (
            f" The fix removes it and turns on ingress-nginx cookie affinity on Ingress "
            f"{_join(annotated)} (it applies to every backend of that Ingress)."
        )
    if advice:
        message += " " + "; ".join(a[0].upper() + a[1:] for a in advice) + "."
    return message


def _add_cookie_affinity(ingress: Resource, timeout: int) -> list[Edit] | None:
    metadata = ingress.get("metadata")
    if not isinstance(metadata, YMap):
        return None
    wanted = {AFFINITY: "cookie", COOKIE_NAME_KEY: COOKIE_NAME, COOKIE_MAX_AGE: str(timeout)}
    present = ingress.annotations
    quote = _annotation_quote(ingress)
    missing = {k: _quoted(v, quote) for k, v in wanted.items() if k not in present}
    return merge_entries(ingress.source, metadata, {"annotations": missing})


def _annotation_quote(ingress: Resource) -> str | None:
    """The quote the Ingress's annotation values are written with, when they all
    use one; None when some are plain (then values are quoted only where needed)."""
    annotations = ingress.get("metadata", "annotations")
    if not isinstance(annotations, YMap) or annotations.flow or not annotations:
        return None
    quotes = set()
    for span in annotations.at.values():
        text = ingress.source.line(span.key_line)[span.col :]
        match = re.match(r"""^(?:"[^"]*"|'[^']*'|[^:]+):\s*(["'])?""", text)
        quotes.add(match.group(1) if match else None)
    return quotes.pop() if len(quotes) == 1 else None


def _quoted(value: str, quote: str | None) -> str:
    if quote == '"':
        return DoubleQuotedScalarString(value)
    if quote == "'":
        return SingleQuotedScalarString(value)
    return value


def _timeout(spec: Any) -> int:
    value = spec.get("sessionAffinityConfig")
    value = value.get("clientIP") if isinstance(value, dict) else None
    value = value.get("timeoutSeconds") if isinstance(value, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_TIMEOUT


def _unique(resources: Any) -> list[Resource]:
    return list(dict.fromkeys(resources))


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- Gateway API routes ----------------------------------------------------------


def _routes_to(ctx: Context, service: Resource) -> list[Resource]:
    """HTTPRoutes and GRPCRoutes with a backendRef to the Service (a backendRef
    without namespace means the route's own)."""
    index = ctx.inventory.memo("route-backends", lambda: _routes_by_service(ctx.inventory))
    found = [
        route
        for route, ns in index.get(service.name, ())
        if (ns is None or service.namespace is None or ns == service.namespace)
        and ctx.inventory.together(route, service)
    ]
    return _unique(found)


def _routes_by_service(inventory: Inventory) -> dict[str, list[tuple[Resource, str | None]]]:
    index: dict[str, list[tuple[Resource, str | None]]] = {}
    for route in inventory.of_kind("HTTPRoute", "GRPCRoute"):
        if is_gateway_api(route):
            for ref in backend_refs(route):
                if ref.is_service:
                    index.setdefault(ref.name, []).append((route, ref.namespace))
    return index
