"""A Gateway API route whose backend Service, Service port, Gateway or listener
does not exist.

`HTTPRoute`, `GRPCRoute`, `TLSRoute`, `TCPRoute` and `UDPRoute` send traffic to
the `backendRefs` of their rules and attach to the Gateways of their
`parentRefs`. The rule reports:
- a `backendRef` to a Service (no `kind`, or `kind: Service` of the core group)
  that is in none of the scanned files that could share its namespace (the
  reference's `namespace`, else the route's);
- a `backendRef` whose `port` is not one of that Service's `ports[].port`;
- a `parentRef` to a Gateway (no `kind`, or `kind: Gateway` of
  `gateway.networking.k8s.io`) that is not in the scanned files while a Gateway
  that could share the reference's namespace has nearly its name (a typo). A
  name unlike every scanned Gateway's is not judged: routes commonly attach to a
  shared Gateway that a platform team runs from another repository, even where
  the application defines Gateways of its own;
- a `parentRef` whose `sectionName` names no listener of that Gateway.

Not judged: whether a `ReferenceGrant` allows a reference into another namespace,
and whether a Gateway's `allowedRoutes` admits the route.

Left alone: references to other kinds (a `ServiceImport`, an implementation's own
backend kinds, a mesh parent of kind Service); a missing Service where the scan
shows no Service or workload of its namespace, or where a Helm release, an Argo
CD Application or an operator's custom resource could make it; the ports of an
`ExternalName` Service or of one without `ports`. Selector-less Services count
as existing.

## Why it matters
The route is accepted by the API server and the Gateway reports the problem
only in the route's status: a backendRef to a missing Service sets the
`ResolvedRefs` condition to False (`BackendNotFound`), and the implementation
answers 500 for the share of requests meant for that backend; a parentRef to a
missing Gateway or listener leaves the route unattached (`Accepted` False,
`NoMatchingParent`), so none of its traffic is served. Verify with
`kubectl get httproute <name> -n <namespace> -o yaml` (status.parents[].conditions).

kube-linter's `dangling-ingress` reads Ingresses only; routes are not checked there.

## How to fix
Name a Service (or Gateway, or listener) that exists. When one of the namespace
has nearly the name written (a typo, a word-wise prefix), the fix renames the
reference to it (for a Service, only when it exposes the port). When the Service
exists but not the port, the fix picks its only port.

## Example
Bad:
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: store
  namespace: store
spec:
  parentRefs:
    - name: public
      namespace: infra
  hostnames: [store.example.com]
  rules:
    - backendRefs:
        - name: store-v2
          port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: store
  namespace: store
spec:
  selector:
    app: store
  ports:
    - port: 8080
```
Good: `name: store`, the Service that exists:
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: store
  namespace: store
spec:
  parentRefs:
    - name: public
      namespace: infra
  hostnames: [store.example.com]
  rules:
    - backendRefs:
        - name: store
          port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: store
  namespace: store
spec:
  selector:
    app: store
  ports:
    - port: 8080
```

## Configuration
None.

## Sources
- https://gateway-api.sigs.k8s.io/reference/spec/#backendref (defaults: core
  group, kind Service, the route's namespace; `port` required for a Service)
- https://gateway-api.sigs.k8s.io/reference/spec/#parentreference
- https://gateway-api.sigs.k8s.io/api-types/httproute/#backendrefs
  (an invalid backendRef makes the implementation return 500 for its requests)
- https://gateway-api.sigs.k8s.io/reference/spec/#routeconditionreason
  (`BackendNotFound`, `NoMatchingParent`)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..backends import (
    core_services_deployed_with,
    describe_ports,
    made_elsewhere,
    nearest_name,
    placed_with,
    service_ports,
    services_named,
    shows_its_namespace,
)
from ..context import Context
from ..edits import set_scalar
from ..gateway import ROUTE_KINDS, Ref, backend_refs, gateways_named, is_gateway, is_gateway_api, listeners, parent_refs
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..yamltree import YMap

ID = "route-backend-missing"
SEVERITY = "error"
SUMMARY = "a Gateway API route naming a Service, port, Gateway or listener that does not exist"


def check(ctx: Context) -> Iterator[Finding]:
    for route in ctx.inventory.of_kind(*ROUTE_KINDS):
        if not is_gateway_api(route):
            continue
        for ref in parent_refs(route):
            if ref.is_gateway:
                found = _check_parent(ctx, route, ref)
                if found is not None:
                    yield found
        for ref in backend_refs(route):
            if ref.is_service:
                found = _check_backend(ctx, route, ref)
                if found is not None:
                    yield found


# --- parents -----------------------------------------------------------------------


def _gateways_near(ctx: Context, route: Resource, namespace: str | None) -> list[Resource]:
    return [g for g in ctx.inventory.deployed_with_in_namespace(route, namespace, "Gateway") if is_gateway(g)]


def _check_parent(ctx: Context, route: Resource, ref: Ref) -> Finding | None:
    named = gateways_named(ctx.inventory, route, ref.namespace, ref.name)
    if not named:
        nearest = nearest_name(ref.name, {g.name for g in _gateways_near(ctx, route, ref.namespace)})
        # only a near miss says the Gateway meant is one of these: a name unlike
        # them all is usually a shared Gateway run from another repository
        return _missing_gateway(ctx, route, ref, nearest) if nearest else None
    if ref.section is None:
        return None
    sections = {listener.name for gateway in named for listener in listeners(gateway)}
    if ref.section in sections:
        return None
    gateway = named[0]
    message = (
        f"{route.kind} {route.name} attaches to listener {ref.section} of Gateway {gateway.name}, "
        f"which has listeners {', '.join(sorted(sections)) or 'none'}: the route is not accepted "
        f"(NoMatchingParent) and none of its traffic is served."
    )
    nearest = nearest_name(ref.section, sections)
    fix = _rename(route, ref, "sectionName", nearest, f"Attach to listener {nearest}") if nearest else None
    message += _verify(route)
    return ctx.finding(
        route,
        ref.field_path + ("sectionName",),
        message,
        fix=fix,
        related=[Related(gateway.path, gateway.start_line, f"Gateway {gateway.name}")],
        field=f"spec.parentRefs.{ref.name}.sectionName",
    )


def _missing_gateway(ctx: Context, route: Resource, ref: Ref, nearest: str) -> Finding:
    where = f" in namespace {ref.namespace}" if ref.namespace else ""
    message = (
        f"{route.kind} {route.name} attaches to Gateway {ref.name}, but no Gateway of that name{where} "
        f"is in these manifests, while Gateway {nearest} has nearly that name: the route is not "
        f"accepted (NoMatchingParent) and none of its traffic is served."
    )
    fix = _rename(route, ref, "name", nearest, f"Attach to Gateway {nearest}")
    message += _verify(route) + ctx.caveat(route)
    return ctx.finding(route, ref.field_path + ("name",), message, fix=fix, field=f"spec.parentRefs.{ref.name}")


# --- backends ----------------------------------------------------------------------


def _check_backend(ctx: Context, route: Resource, ref: Ref) -> Finding | None:
    services = services_named(ctx, route, ref.namespace, ref.name)
    if not services:
        if not shows_its_namespace(ctx, route, ref.namespace) or made_elsewhere(ctx, route, ref.namespace):
            return None
        return _missing_service(ctx, route, ref)
    services = placed_with(services, ref.namespace)
    if not services or not _is_port(ref.port) or any(_accepts(s, ref.port) for s in services):
        return None
    service = services[0]
    ports = service_ports(service)
    message = (
        f"{route.kind} {route.name} sends traffic to port {ref.port} of Service {service.name}, which "
        f"exposes {describe_ports(ports)}: the backend cannot be resolved (ResolvedRefs False) and "
        f"{_failure(route)}."
    )
    if any(p.target == ref.port for p in ports):
        message += f" {ref.port} is the Service's targetPort (the pods' port); a backendRef names the Service's port."
    fix = None
    if len(ports) == 1 and ports[0].port is not None:
        fix = _rename(route, ref, "port", ports[0].port, f"Use port {ports[0].port} of Service {service.name}")
    message += _verify(route)
    return ctx.finding(
        route,
        ref.field_path + ("port",),
        message,
        fix=fix,
        related=[Related(service.path, service.start_line, f"Service {service.name}")],
        field=f"{_field(ref)}.port",
    )


def _missing_service(ctx: Context, route: Resource, ref: Ref) -> Finding:
    where = f" in namespace {ref.namespace}" if ref.namespace else ""
    message = (
        f"{route.kind} {route.name} sends traffic to Service {ref.name}, but no Service of that name"
        f"{where} is in these manifests: the backend cannot be resolved (ResolvedRefs False, "
        f"BackendNotFound) and {_failure(route)}."
    )
    candidates = [
        s.name
        for s in core_services_deployed_with(ctx, route, ref.namespace)
        if not _is_port(ref.port) or _accepts(s, ref.port)
    ]
    nearest = nearest_name(ref.name, candidates)
    fix = None
    if nearest is not None:
        fix = _rename(route, ref, "name", nearest, f"Send it to Service {nearest}")
        message += f" Service {nearest} has nearly that name and exposes the port: it is likely the one meant."
    message += _verify(route) + ctx.caveat(route)
    return ctx.finding(route, ref.field_path + ("name",), message, fix=fix, field=_field(ref))


def _accepts(service: Resource, port: int) -> bool:
    ports = service_ports(service)
    return service.get("spec", "type") == "ExternalName" or not ports or any(p.port == port for p in ports)


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- shared ------------------------------------------------------------------------


def _rename(route: Resource, ref: Ref, key: str, value: Any, description: str) -> Fix | None:
    mapping = route.get(*ref.field_path)
    if not isinstance(mapping, YMap) or key not in mapping:
        return None
    edit = set_scalar(route.source, mapping, key, value)
    return Fix(description, (edit,)) if edit else None


def _failure(route: Resource) -> str:
    if route.kind in ("HTTPRoute", "GRPCRoute"):
        return "its share of requests fails with 500"
    return "its share of connections is refused or dropped"


def _verify(route: Resource) -> str:
    return (
        f" Verify with `kubectl get {route.kind.lower()} {route.name} -n {route.namespace or '<namespace>'} "
        f"-o yaml` (status.parents[].conditions)."
    )


def _field(ref: Ref) -> str:
    return ".".join(str(p) for p in ref.field_path[:3]) + f".backendRefs.{ref.namespace or ''}/{ref.name}"
