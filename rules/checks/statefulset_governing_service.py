"""A StatefulSet whose governing Service is missing, not headless, or selects
other pods.

A StatefulSet's `spec.serviceName` names the Service that gives its pods their
stable DNS names (`<pod>.<serviceName>.<namespace>.svc.cluster.local`). Those
names exist only when that Service is **headless** (`clusterIP: None`) and
selects the StatefulSet's pods. The rule reports a `serviceName` that names:
- no Service in the scanned files that could share the StatefulSet's namespace;
- a Service that is not headless;
- a headless Service whose selector does not match the StatefulSet's pod labels.

A Service that exists but is not headless, or selects other pods, is a warning
when the pods' configuration uses the per-pod names (`.<serviceName>` in a
container's command, args or environment, or in a ConfigMap they read, as in
`$(POD_NAME).kafka-headless`), and an info note otherwise: a StatefulSet whose
pods never resolve each other (a sharded controller that points `serviceName` at
its metrics Service, as Argo CD's application controller does) loses nothing.

Left alone: a StatefulSet without `serviceName`; a missing Service when a Helm
release, an Argo CD Application or an operator's custom resource could make it
in the namespace; a governing Service without a selector (its endpoints are
managed by hand or by a controller).

## Why it matters
The StatefulSet starts and its pods run, but `web-0.web` does not resolve: peers
that find each other by those names (databases, Kafka, ZooKeeper, Elasticsearch,
etcd) never form a cluster, and clients of a particular replica fail with
NXDOMAIN. Nothing reports an error: the API server accepts a `serviceName` that
names nothing, and `kubectl get statefulset` looks healthy. Check with
`kubectl run -it --rm dns --image=busybox:1.36 --restart=Never -- nslookup
<pod>.<serviceName>.<namespace>.svc.cluster.local`.

## How to fix
Create the governing Service: headless, with the StatefulSet's pod selector and
its container ports. The fix appends that Service as a new document after the
StatefulSet (when its `spec.selector` is a plain `matchLabels`). A Service that
exists but is not headless cannot be changed in place (`clusterIP` is immutable)
and a StatefulSet's `serviceName` cannot be changed either: create a separate
headless Service and recreate the StatefulSet with `serviceName` naming it (or
recreate the Service as headless). No fix is offered for those.

## Example
Bad:
```yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: redis
spec:
  serviceName: redis-headless
  replicas: 3
  selector:
    matchLabels:
      app: redis
  template:
    metadata:
      labels:
        app: redis
    spec:
      containers:
        - name: redis
          image: redis:7.2
          ports:
            - name: redis
              containerPort: 6379
```
Good: the same, and
```yaml
apiVersion: v1
kind: Service
metadata:
  name: redis-headless
spec:
  clusterIP: None
  selector:
    app: redis
  ports:
    - name: redis
      port: 6379
```

## Configuration
None.

## Sources
- https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#limitations
  ("StatefulSets currently require a Headless Service to be responsible for the
  network identity of the Pods")
- https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-network-id
- https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pods
- https://kubernetes.io/docs/concepts/services-networking/service/#headless-services
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..backends import declared_ports, made_elsewhere, placed_with, pod_mentions, services_named, serving_containers
from ..context import Context
from ..edits import append_document
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..selectors import from_map
from ..workloads import Workload

ID = "statefulset-governing-service"
SEVERITY = "warning"
SUMMARY = "a StatefulSet whose `serviceName` names no headless Service selecting its pods (info when nothing uses the pod names)"


def check(ctx: Context) -> Iterator[Finding]:
    for workload in ctx.inventory.workloads:
        name = workload.resource.get("spec", "serviceName")
        if workload.kind != "StatefulSet" or not isinstance(name, str) or not name:
            continue
        found = _check(ctx, workload, name)
        if found is not None:
            yield found


def _check(ctx: Context, workload: Workload, name: str) -> Finding | None:
    statefulset = workload.resource
    services = services_named(ctx, statefulset, statefulset.namespace, name)
    if not services:
        return None if made_elsewhere(ctx, statefulset, statefulset.namespace) else _missing(ctx, workload, name)
    services = placed_with(services, statefulset.namespace)
    if not services:
        return None  # only Services of that name in other namespaces: nothing known of its own
    headless = [s for s in services if s.get("spec", "clusterIP") == "None"]
    if not headless:
        service = services[0]
        return _finding(
            ctx,
            workload,
            service,
            f"serviceName {name} names Service {service.name}, which is not headless (no "
            f"`clusterIP: None`): the per-pod DNS names <pod>.{name} are never created. clusterIP "
            f"cannot be changed in place: recreate the Service as headless, or create a headless "
            f"one and recreate the StatefulSet naming it.",
        )
    if any(_selects(s, workload) for s in headless):
        return None
    service = headless[0]
    return _finding(
        ctx,
        workload,
        service,
        f"serviceName {name} names headless Service {service.name}, whose selector does not match "
        f"the StatefulSet's pod labels: the per-pod DNS names <pod>.{name} are never created. "
        f"Make its selector match the pod template's labels.",
    )


def _selects(service: Resource, workload: Workload) -> bool:
    """A selector-less Service counts: its endpoints are someone else's business."""
    raw = service.get("spec", "selector")
    return not raw or from_map(raw).matches(workload.labels)


def _finding(ctx: Context, workload: Workload, service: Resource, message: str) -> Finding:
    """A warning when the pods use the per-pod names; else an info note: many
    StatefulSets (a sharded controller, say) never resolve them."""
    statefulset = workload.resource
    name = statefulset.get("spec", "serviceName")
    used = pod_mentions(ctx, workload, re.compile(rf"\.{re.escape(name)}(?![a-z0-9-])"))
    if not used:
        message += (
            " Nothing in the pods' configuration names <pod>.{name}, so this matters only if "
            "something resolves those names."
        ).replace("{name}", name)
    return ctx.finding(
        statefulset,
        ("spec", "serviceName"),
        f"StatefulSet {statefulset.name}: {message}" + _verify(statefulset, service.name),
        severity=None if used else "info",
        related=[Related(service.path, service.start_line, f"Service {service.name}")],
    )


def _missing(ctx: Context, workload: Workload, name: str) -> Finding:
    statefulset = workload.resource
    where = f" in namespace {statefulset.namespace}" if statefulset.namespace else ""
    message = (
        f"StatefulSet {statefulset.name} names serviceName {name}, but no Service {name}{where} is in "
        f"these manifests: the per-pod DNS names <pod>.{name} are never created, so peers and clients "
        f"addressing a replica by name fail with NXDOMAIN."
    )
    document = _headless_service(workload, name)
    fix = None
    if document is not None:
        edit = append_document(statefulset.source, statefulset.end_line, document)
        fix = Fix(f"Add the headless Service {name}", (edit,))
    else:
        message += " Add a headless Service (`clusterIP: None`) selecting the StatefulSet's pods."
    message += _verify(statefulset, name) + ctx.caveat(statefulset)
    return ctx.finding(statefulset, ("spec", "serviceName"), message, fix=fix)


def _verify(statefulset: Resource, service: str) -> str:
    ns = statefulset.namespace or "<namespace>"
    return (
        f" Verify with `kubectl get service {service} -n {ns} -o jsonpath='{{.spec.clusterIP}}'` "
        f"(None) and `nslookup {statefulset.name}-0.{service}.{ns}.svc.cluster.local` from a pod."
    )


def _headless_service(workload: Workload, name: str) -> dict[str, Any] | None:
    """The governing Service, when the StatefulSet's selector is a plain
    ``matchLabels`` (a Service selects by equality only)."""
    selector = workload.resource.get("spec", "selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    if not isinstance(labels, dict) or not labels or selector.get("matchExpressions"):
        return None
    metadata: dict[str, Any] = {"name": name}
    if workload.resource.namespace:
        metadata["namespace"] = workload.resource.namespace
    spec: dict[str, Any] = {"clusterIP": "None", "selector": {str(k): v for k, v in labels.items()}}
    ports = _ports(workload)
    if ports:
        spec["ports"] = ports
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def _ports(workload: Workload) -> list[dict[str, Any]]:
    """The containers' declared ports as Service ports (each named: a Service with
    several ports must name them all, and SRV records need names)."""
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for _, container in serving_containers(workload):
        for port in declared_ports(container):
            if port.number is None or (port.number, port.protocol) in found:
                continue
            entry: dict[str, Any] = {"name": port.name or f"{port.protocol.lower()}-{port.number}", "port": port.number}
            if port.protocol != "TCP":
                entry["protocol"] = port.protocol
            found[(port.number, port.protocol)] = entry
    names = [e["name"] for e in found.values()]
    return list(found.values()) if len(names) == len(set(names)) else []
