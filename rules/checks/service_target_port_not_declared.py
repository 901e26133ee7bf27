"""A Service's `targetPort` that the pods it selects do not declare.

A Service port forwards to `targetPort` on each selected pod: a number, or the
name of a container port. A name is resolved on each pod, among the `ports` its
containers declare with the same protocol; a pod that declares no such port gets
no endpoint for that Service port. The rule reports:
- **error**: a `targetPort` given by name that no container of any selected pod
  template declares (with the Service port's protocol): the port has no endpoints
  at all;
- **warning**: a numeric `targetPort` (or none, which means the same number as
  `port`) when every container of every selected pod template declares its ports,
  none of them is that number, and none is the number of another port of the
  Service either: traffic is sent to a port nothing is known to listen on. (When
  the containers declare some of the Service's numbers, the others are more
  likely ports left undeclared, such as a metrics port, than wrong numbers.)

The selected pod templates are the workloads whose pod labels the Service's
selector matches (see `service-selector-mismatch` for a selector matching none).
Sidecars declared as init containers with `restartPolicy: Always` count as
containers of the pod.

Left alone: Services without a selector or of `type: ExternalName`; a selector
naming a label of pods a controller makes from its own template
(`leaderworkerset.sigs.k8s.io/*`); a Service
whose selector matches no scanned workload (the pods come from elsewhere, or the
selector is wrong, which `service-selector-mismatch` reports); a numeric port when
some container declares no ports (declaring ports is optional, and a container
such as an injected proxy may listen unannounced), or is probed on a port it does
not declare (it listens on more than it says), or when the number appears in a
container's command, args or environment, or in a ConfigMap the pod mounts or
reads (`--port 18080`, `endpoint: 0.0.0.0:5317`): the app is configured to
listen there; a numeric port a container declares under another protocol (a UDP
Service port whose container lists the number without `protocol: UDP`: traffic to
a number reaches the pod whatever the declaration says, only the declaration is
short of its protocol); a port that a same-named copy of the workload applied with
it declares (a kustomize patch merged into it adds a sidecar and its ports); a
numeric port of pods an Istio `Gateway` selects (their Envoy listens on the ports
the Gateways configure, not on declared ones).

## Why it matters
With a named `targetPort` nobody declares, the Service exists, its selector
matches running pods, and still `kubectl get endpoints <service>` shows no
address for that port: connections are refused. A numeric `targetPort` that the
container does not listen on gives endpoints that refuse connections, the
classic "Service port 80 forwards to 80, the app listens on 8080".

kube-linter's `dangling-service` only asks whether the selector matches a
workload, not whether the ports line up, and it fires on every Service without a
selector ("service has no selector specified"), although those are the Services
whose endpoints are managed by hand or by a controller. This rule leaves them
alone and checks the ports.

## How to fix
Use a port the containers declare: the fix sets `targetPort` to the declared
port whose name is nearly the one written (a typo), or to the only port the
selected containers declare (by its name when it has one). When the containers
declare several ports and none is close, no fix is offered: name the right one,
or declare the port in the container's `ports`. Verify with `kubectl get
endpoints <service> -n <namespace>` (each port lists the pod addresses) and
`kubectl port-forward service/<service> <port>`.

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: checkout
spec:
  selector:
    app: checkout
  ports:
    - port: 80
      targetPort: http-web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:2.0.1
          ports:
            - name: http
              containerPort: 8080
```
Good: `targetPort: http`, the name the container declares:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: checkout
spec:
  selector:
    app: checkout
  ports:
    - port: 80
      targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:2.0.1
          ports:
            - name: http
              containerPort: 8080
```

## Configuration
- `custom-workloads`: custom resources whose pod templates count as selected pods.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports
  (named `targetPort`: "a port name in the Pod's containers")
- https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceSpec
- https://github.com/kubernetes/kubernetes/blob/master/pkg/api/v1/pod/util.go
  (`FindPort`: a name is matched with the Service port's protocol)
- https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
- https://docs.kubelinter.io/#/generated/checks?id=dangling-service and
  https://github.com/stackrox/kube-linter/blob/main/pkg/templates/danglingservice/template.go
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..backends import (
    ContainerPort,
    ServicePort,
    declared_ports,
    is_port_name,
    nearest_name,
    pod_mentions,
    probe_ports,
    service_ports,
    serving_containers,
)
from ..context import Context
from ..edits import insert_entries, set_scalar
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..selectors import RUNTIME_PREFIXES, from_map, is_runtime_key
from ..workloads import Workload
from ..yamltree import YMap

ID = "service-target-port-not-declared"
SEVERITY = "error"
SUMMARY = "a Service `targetPort` that no container of the selected pods declares (warning when numeric)"


def check(ctx: Context) -> Iterator[Finding]:
    for service in ctx.inventory.of_kind("Service"):
        workloads = _selected(ctx, service)
        if not workloads:
            continue
        ports = service_ports(service)
        # a Service some of whose numeric ports the containers declare has the
        # containers' numbers right: its other ports are more likely undeclared
        # (a metrics port) than wrong
        agrees = any(_declared(port, workloads) for port in ports if not is_port_name(_target(port)))
        for port in ports:
            found = _check_port(ctx, service, port, workloads, agrees)
            if found is not None:
                yield found


def _target(port: ServicePort) -> Any:
    return port.target if port.target is not None else port.port


def _declared(port: ServicePort, workloads: list[Workload]) -> bool:
    target = _target(port)
    return any(
        p.protocol == port.protocol and (p.name == target or p.number == target)
        for w in workloads
        for p in _ports_of(w)
    )


def _selected(ctx: Context, service: Resource) -> list[Workload]:
    if service.api_version != "v1" or service.get("spec", "type") == "ExternalName":
        return []
    raw = service.get("spec", "selector")
    if not isinstance(raw, YMap) or not raw:
        return []
    if any(str(key).startswith(RUNTIME_PREFIXES) for key in raw):
        return []  # pods a controller makes from its own template (a LeaderWorkerSet's)
    selector = from_map(raw).without_keys(is_runtime_key)
    return [] if selector.is_empty else ctx.inventory.workloads_selected(selector, service)


def _check_port(
    ctx: Context, service: Resource, port: ServicePort, workloads: list[Workload], agrees: bool
) -> Finding | None:
    target = _target(port)
    declared = [(w, p) for w in workloads for p in _ports_of(w) if p.protocol == port.protocol]
    if is_port_name(target):
        if any(p.name == target for _, p in declared) or any(
            p.name == target for p in _patched_ports(ctx, workloads, port.protocol)
        ):
            return None
        return _finding(
            ctx,
            service,
            port,
            workloads,
            declared,
            "error",
            f"targetPort {target!r} is a port name that no container of the selected pods "
            f"declares{_protocol(port)}: the Service port has no endpoints and connections to it "
            f"are refused.",
        )
    if agrees or not isinstance(target, int) or isinstance(target, bool) or not _all_declare(workloads):
        return None
    if (
        any(_mentioned(ctx, w, target) for w in workloads)
        or _declared_as_other_protocol(target, workloads)
        or any(p.number == target for p in _patched_ports(ctx, workloads, port.protocol))
        or _istio_gateway(ctx, workloads)
    ):
        return None
    what = f"targetPort {target}" if port.target is not None else f"port {target} (no targetPort: the same number)"
    return _finding(
        ctx,
        service,
        port,
        workloads,
        declared,
        "warning",
        f"{what} is not a port the selected containers declare{_protocol(port)}: traffic goes to a "
        f"port nothing is known to listen on, and connections are likely refused.",
    )


def _ports_of(workload: Workload) -> list[ContainerPort]:
    return [p for _, container in serving_containers(workload) for p in declared_ports(container)]


def _patched_ports(ctx: Context, workloads: list[Workload], protocol: str) -> list[ContainerPort]:
    """Ports that same-named copies of the selected workloads, applied with them,
    declare: a patch the build merges into the workload (a kustomize patch adding a
    `kube-rbac-proxy` sidecar) brings its containers' ports to the same pods."""
    ports: list[ContainerPort] = []
    for workload in workloads:
        for copy in ctx.inventory.named(workload.resource, workload.kind, workload.name, workload.resource.namespace):
            containers = copy.get(*workload.pod_spec_path, "containers")
            for container in containers if isinstance(containers, list) else []:
                if isinstance(container, dict):
                    ports.extend(p for p in declared_ports(container) if p.protocol == protocol)
    return ports


def _istio_gateway(ctx: Context, workloads: list[Workload]) -> bool:
    """Whether an Istio `Gateway` selects the pods: their Envoy listens on the ports
    the Gateways' servers configure at run time, whatever the containers declare."""
    for gateway in ctx.inventory.of_kind("Gateway"):
        selector = gateway.get("spec", "selector")
        if (
            gateway.api_version.startswith("networking.istio.io/")
            and isinstance(selector, dict)
            and selector
            and any(from_map(selector).matches(w.labels) for w in workloads)
        ):
            return True
    return False


def _declared_as_other_protocol(number: int, workloads: list[Workload]) -> bool:
    """A numeric targetPort reaches the pod whatever protocol the container's
    declaration names: a container declaring the number without `protocol: UDP`
    most likely serves it and only its declaration is short of the protocol."""
    return any(p.number == number for w in workloads for p in _ports_of(w))


def _all_declare(workloads: list[Workload]) -> bool:
    """Every container of every selected pod declares its ports, as far as the
    manifests tell: a container probed on a port it does not declare listens on
    more than it says."""
    containers = [c for w in workloads for _, c in serving_containers(w)]
    return bool(containers) and all(_declares_all(c) for c in containers)


def _declares_all(container: dict) -> bool:
    numbers = {p.number for p in declared_ports(container)}
    return bool(numbers) and all(port in numbers for port in _probed_numbers(container))


def _probed_numbers(container: dict) -> Iterator[int]:
    for _, _, port in probe_ports(container):
        if isinstance(port, int) and not isinstance(port, bool):
            yield port


def _mentioned(ctx: Context, workload: Workload, number: int) -> bool:
    """Whether the pod's configuration names the port (``--port 18080``, or
    ``endpoint: 0.0.0.0:5317`` in a ConfigMap it reads): the app likely listens
    there, declared or not."""
    return pod_mentions(ctx, workload, re.compile(rf"(?<![0-9]){number}(?![0-9])"))


def _protocol(port: ServicePort) -> str:
    return f" with protocol {port.protocol}" if port.protocol != "TCP" else ""


def _finding(
    ctx: Context,
    service: Resource,
    port: ServicePort,
    workloads: list[Workload],
    declared: list[tuple[Workload, ContainerPort]],
    severity: str,
    message: str,
) -> Finding:
    distinct = list(dict.fromkeys(f"{w.kind} {w.name}" for w in workloads))
    names = ", ".join(distinct[:3]) + (" and others" if len(distinct) > 3 else "")
    offered = sorted({_describe(p) for w in workloads for p in _ports_of(w)})
    message = (
        f"Service {service.name}: {message} It selects {names}, whose containers declare "
        f"{', '.join(offered) if offered else 'no ports'}."
    )
    replacement = _replacement(port, workloads, declared)
    fix = _fix(service, port, replacement) if replacement is not None else None
    ns = service.namespace or "<namespace>"
    message += (
        f" Verify with `kubectl get endpoints {service.name} -n {ns}` and "
        f"`kubectl port-forward -n {ns} service/{service.name} {port.port}`."
    )
    related = [
        Related(w.resource.path, w.resource.key_line(*w.pod_spec_path), f"pod template of {w.kind} {w.name}")
        for w in workloads[:3]
        if w.resource.span(*w.pod_spec_path)
    ]
    has_target = port.target is not None
    path = ("spec", "ports", port.index, "targetPort" if has_target else "port")
    field = f"spec.ports.{port.name or port.port}.targetPort"
    return ctx.finding(service, path, message, fix=fix, related=related, severity=severity, field=field)


def _describe(port: ContainerPort) -> str:
    protocol = f"/{port.protocol}" if port.protocol != "TCP" else ""
    return f"{port.number}{protocol} ({port.name})" if port.name else f"{port.number}{protocol}"


def _replacement(port: ServicePort, workloads: list[Workload], declared: list[tuple[Workload, ContainerPort]]) -> Any:
    """The targetPort to write, when every selected workload declares it and it is
    clearly the one meant: the name nearly written, or the only port declared."""
    per_workload = [{(p.name, p.number) for v, p in declared if v is w} for w in workloads]
    common = set.intersection(*per_workload)
    if is_port_name(port.target):
        nearest = nearest_name(port.target, [name for name, _ in common if name])
        if nearest is not None:
            return nearest
    if len(common) == 1 and len(set.union(*per_workload)) == 1:
        name, number = common.pop()
        return name or number
    return None


def _fix(service: Resource, port: ServicePort, value: Any) -> Fix | None:
    entry = service.get("spec", "ports", port.index)
    if not isinstance(entry, YMap):
        return None
    if port.target is not None:
        edit = set_scalar(service.source, entry, "targetPort", value)
    else:
        edit = insert_entries(service.source, entry, {"targetPort": value}, after="port")
    return Fix(f"Forward to the containers' port {value}", (edit,)) if edit else None
