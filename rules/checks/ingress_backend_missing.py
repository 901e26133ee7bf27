"""An Ingress backend names a Service, or a Service port, that does not exist.

Each Ingress path (and `spec.defaultBackend`) sends traffic to a Service of the
Ingress's own namespace, on a port given by number (`port.number`, which must be
one of the Service's `ports[].port`, not a `targetPort`) or by name (`port.name`,
one of the Service's `ports[].name`). The rule reports a backend whose Service is
in none of the scanned files that could share the namespace, and a backend whose
port the Service does not expose. The old `extensions/v1beta1` form
(`serviceName`, `servicePort`) is read too.

Left alone:
- backends of kind Resource (`backend.resource`, a custom resource a controller
  serves, such as a storage bucket);
- a missing Service in a namespace of which the scan shows no Service and no
  workload (the Ingress is routed from a repository that does not hold the
  application);
- a missing Service when a Flux `HelmRelease`, an Argo CD `Application` or a k3s
  `HelmChart` installs into the namespace, or when an operator's custom resource
  could share it (the chart or the operator makes Services the manifests cannot
  show);
- the ports of an `ExternalName` Service, and of a Service without `ports`.

Selector-less Services count as existing: their endpoints are managed by hand or
by a controller, and the Ingress reaches them all the same.

## Why it matters
The Ingress is accepted and the controller programs the route, but there is
nothing behind it: ingress-nginx answers `503 Service Temporarily Unavailable`,
other controllers 404 or 503, and the controller's log says the Service or its
port was not found. `kubectl describe ingress <name>` shows the backend as
`<error: endpoints "<service>" not found>`, or no endpoints for the port.

kube-linter's `dangling-ingress` compares Service names only, so a wrong port
passes, and it compares namespaces literally, so an Ingress without a namespace
and a Service with one (both applied into the same namespace) look unrelated;
it also fires when a chart or an operator makes the Service. This rule checks the
port, treats an unset namespace as any, and stays silent where the Service is
made by something the manifests only name.

## How to fix
Name a Service that exists, and one of its ports. When a scanned Service of the
namespace has nearly the same name (a typo, a word-wise prefix) and exposes the
port, the fix renames the backend's Service to it. When the Service exists but
has no such port, the fix picks its only port, or the port whose name is nearly
the one written. Verify with `kubectl get service <service> -n <namespace>`
(the PORT(S) column) and `kubectl describe ingress <name> -n <namespace>`.

## Example
Bad:
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: storefront
                port:
                  number: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: storefront
  namespace: shop
spec:
  selector:
    app: storefront
  ports:
    - port: 80
      targetPort: 8080
```
Good: the backend's `port.number` is `80`, the Service's port (8080 is the pods'
`targetPort`, which an Ingress never names):
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: storefront
                port:
                  number: 80
---
apiVersion: v1
kind: Service
metadata:
  name: storefront
  namespace: shop
spec:
  selector:
    app: storefront
  ports:
    - port: 80
      targetPort: 8080
```

## Configuration
None.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource
  (a backend is a Service name and a port name or number)
- https://kubernetes.io/docs/reference/kubernetes-api/service-resources/ingress-v1/#IngressSpec
  (`IngressServiceBackend`: the Service must be in the same namespace)
- https://kubernetes.io/docs/concepts/services-networking/ingress/#resource-backend
- https://docs.kubelinter.io/#/generated/checks?id=dangling-ingress
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..backends import (
    ServicePort,
    core_services_deployed_with,
    describe_ports,
    is_port_name,
    made_elsewhere,
    nearest_name,
    placed_with,
    service_ports,
    services_named,
    shows_its_namespace,
)
from ..context import Context
from ..edits import set_scalar
from ..ingress import Backend, ingress_backends, is_ingress
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..yamltree import YMap

ID = "ingress-backend-missing"
SEVERITY = "error"
SUMMARY = "an Ingress backend naming a Service or Service port that does not exist"


def check(ctx: Context) -> Iterator[Finding]:
    for ingress in ctx.inventory.of_kind("Ingress"):
        if not is_ingress(ingress):
            continue
        for backend in ingress_backends(ingress):
            found = _check_backend(ctx, ingress, backend)
            if found is not None:
                yield found


def _check_backend(ctx: Context, ingress: Resource, backend: Backend) -> Finding | None:
    namespace = ingress.namespace
    services = services_named(ctx, ingress, namespace, backend.service)
    if not services:
        return _missing_service(ctx, ingress, backend)
    services = placed_with(services, namespace)
    if not services or backend.port is None or any(_unported(s) or _exposes(s, backend.port) for s in services):
        return None
    return _missing_port(ctx, ingress, backend, services[0])


def _unported(service: Resource) -> bool:
    """Nothing to check the port against."""
    return service.get("spec", "type") == "ExternalName" or not service_ports(service)


def _exposes(service: Resource, port: Any) -> bool:
    if is_port_name(port):
        return any(p.name == port for p in service_ports(service))
    number = _number(port)
    return number is None or any(p.port == number for p in service_ports(service))


def _number(port: Any) -> int | None:
    if isinstance(port, bool):
        return None
    if isinstance(port, int):
        return port
    return int(port) if isinstance(port, str) and port.isdigit() else None


# --- a Service that is not there ---------------------------------------------------


def _missing_service(ctx: Context, ingress: Resource, backend: Backend) -> Finding | None:
    namespace = ingress.namespace
    if not shows_its_namespace(ctx, ingress, namespace) or made_elsewhere(ctx, ingress, namespace):
        return None
    where = f" in namespace {namespace}" if namespace else ""
    message = (
        f"Ingress {ingress.name} sends {_route(backend)} to Service {backend.service}, but no "
        f"Service of that name{where} is in these manifests: the controller has no endpoints "
        f"for it and answers 503 or 404."
    )
    candidates = {
        s.name: s
        for s in core_services_deployed_with(ctx, ingress, namespace)
        if backend.port is None or _unported(s) or _exposes(s, backend.port)
    }
    nearest = nearest_name(backend.service, candidates)
    fix = None
    related = []
    if nearest is not None:
        target = candidates[nearest]
        fix = _set(ingress, backend, _name_key(ingress, backend), nearest, f"Send it to Service {nearest}")
        message += f" Service {nearest} has nearly that name and exposes the port: it is likely the one meant."
        related.append(Related(target.path, target.start_line, f"Service {nearest}"))
    message += (
        f" Verify with `kubectl get service {backend.service} -n {namespace or '<namespace>'}` "
        f"and `kubectl describe ingress {ingress.name} -n {namespace or '<namespace>'}`."
    )
    message += ctx.caveat(ingress)
    return ctx.finding(
        ingress,
        backend.field_path + _name_key(ingress, backend),
        message,
        fix=fix,
        related=related,
        field=_field(backend, "service"),
    )


# --- a port the Service does not expose --------------------------------------------


def _missing_port(ctx: Context, ingress: Resource, backend: Backend, service: Resource) -> Finding:
    ports = service_ports(service)
    namespace = ingress.namespace
    given = f"port {backend.port!r}" if is_port_name(backend.port) else f"port {backend.port}"
    message = (
        f"Ingress {ingress.name} sends {_route(backend)} to {given} of Service {service.name}, "
        f"which exposes {describe_ports(ports)}: the controller finds no such port and answers 503."
    )
    if _number(backend.port) is not None and any(p.target == _number(backend.port) for p in ports):
        message += (
            f" {backend.port} is the Service's targetPort (the pods' port); an Ingress names the Service's own port."
        )
    replacement = _port_replacement(backend.port, ports)
    fix = None
    if replacement is not None:
        key, value = replacement
        fix = _set(
            ingress, backend, _port_path(ingress, backend, key), value, f"Use port {value} of Service {service.name}"
        )
    message += (
        f" Verify with `kubectl get service {service.name} -n {namespace or '<namespace>'}` "
        f"(PORT(S)) and `kubectl describe ingress {ingress.name} -n {namespace or '<namespace>'}`."
    )
    related = [Related(service.path, service.key_line("spec", "ports"), f"ports of Service {service.name}")]
    path = backend.field_path + _port_path(ingress, backend, _port_key(backend))
    return ctx.finding(ingress, path, message, fix=fix, related=related, field=_field(backend, "port"))


def _port_replacement(port: Any, ports: list[ServicePort]) -> tuple[str, Any] | None:
    """The key (``number`` or ``name``) and value to write, when certain."""
    if is_port_name(port):
        nearest = nearest_name(port, [p.name for p in ports if p.name])
        if nearest is not None:
            return "name", nearest
        only = ports[0] if len(ports) == 1 else None
        return ("name", only.name) if only is not None and only.name else None
    if len(ports) == 1 and ports[0].port is not None:
        return "number", ports[0].port
    return None


# --- where things are in the backend -----------------------------------------------


def _is_v1(ingress: Resource, backend: Backend) -> bool:
    return isinstance(ingress.get(*backend.field_path, "service"), dict)


def _name_key(ingress: Resource, backend: Backend) -> tuple[str, ...]:
    return ("service", "name") if _is_v1(ingress, backend) else ("serviceName",)


def _port_path(ingress: Resource, backend: Backend, key: str) -> tuple[str, ...]:
    """The port field (``key``: its ``number`` or ``name``, in the v1 form)."""
    return ("service", "port", key) if _is_v1(ingress, backend) else ("servicePort",)


def _port_key(backend: Backend) -> str:
    return "name" if is_port_name(backend.port) else "number"


def _set(ingress: Resource, backend: Backend, path: tuple[str, ...], value: Any, description: str) -> Fix | None:
    mapping = ingress.get(*backend.field_path, *path[:-1])
    if not isinstance(mapping, YMap) or path[-1] not in mapping:
        return None
    edit = set_scalar(ingress.source, mapping, path[-1], value)
    return Fix(description, (edit,)) if edit else None


def _route(backend: Backend) -> str:
    if backend.host is None:
        return "its default backend"
    return f"host {backend.host}" if backend.host else "requests for any host"


def _field(backend: Backend, what: str) -> str:
    return ".".join(str(p) for p in backend.field_path) + f".{what}:{backend.service}"
