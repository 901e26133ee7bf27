"""A headless Service (`clusterIP: None`) in front of replicas that clients expect to be balanced.

A headless Service has no virtual IP: its DNS name resolves to every ready pod's
address. The rule reports a headless Service whose selector picks a Deployment,
ReplicaSet, ReplicationController or Argo Rollout that may run more than one pod,
or picks a StatefulSet without being the Service that StatefulSet names in
`spec.serviceName` (its governing Service).

Left alone: the governing headless Service of a StatefulSet (it gives each pod its
stable name, `web-0.web`), selector-less headless Services (endpoints managed by
hand or by an operator), Services whose pods take per-pod DNS names through
`spec.subdomain`, Services with `publishNotReadyAddresses: true` (peer discovery
for clustered software, which must see every member), Services whose every port is
a metrics port by name (`metrics`, `http-metrics`, `https-metrics`, `telemetry`,
`*-metrics`, `metrics*` such as `metricshttps`, ...: Prometheus lists their endpoints and scrapes each pod, so nothing
balances through them), and workloads pinned to one replica that nothing
autoscales (a Deployment with `strategy: Recreate` and no replica count is one:
Recreate is how a single-instance database keeps two pods off its volume).

## Why it matters
Clients resolve the name, get all pod IPs, and most of them connect to the first
address and keep using it (connection pools, cached lookups), so one replica takes
the load while the others sit idle; when that pod goes away, clients holding its
address fail until they resolve again. A regular ClusterIP Service gives one stable
virtual IP and kube-proxy spreads connections over the ready pods.

Headless is right when clients balance across all addresses themselves (gRPC's
`round_robin` policy over a `dns:///` target, database drivers that take a host
list): silence the rule on that Service if so.

## How to fix
Delete the `clusterIP: None` line so the Service gets a cluster IP. Kubernetes does
not convert a headless Service in place (an apply that drops the field reports
success and leaves it headless), so delete the Service and apply it again, or
give the regular Service a new name.

For a StatefulSet, keep its governing headless Service (the one `serviceName`
names) for per-pod addresses, and point load-balanced clients at a separate regular
Service. The fix is offered only when that governing Service is in the scanned
files; otherwise the headless Service may be the intended governing Service whose
name the StatefulSet misspells, and removing `clusterIP: None` would take the pods'
stable names away for good (a StatefulSet's `serviceName` cannot be changed in
place either).

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  clusterIP: None
  selector:
    app: api
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: example/api:1.0
```
Good:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: api
  ports:
    - port: 80
```

## Configuration
No options of its own; `custom-workloads` teaches it pods made by operators.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/service/#headless-services
- https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-network-id
  (the governing Service and per-pod DNS names)
- https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-hostname-and-subdomain-fields
- https://github.com/kubernetes/kubernetes/issues/120937 (removing `clusterIP: None`
  does not make an existing Service non-headless)
- https://github.com/grpc/grpc/blob/master/doc/load-balancing.md (client-side
  balancing over DNS)
- https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config
  (the `endpoints` role scrapes every endpoint of a Service)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context
from ..edits import remove_keys
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..selectors import from_map
from ..workloads import REPLICATED_KINDS, Workload

ID = "headless-service-load-balancing"
SEVERITY = "warning"
SUMMARY = "headless Service in front of replicas clients expect to be load balanced"


def check(ctx: Context) -> Iterator[Finding]:
    for service in ctx.inventory.of_kind("Service"):
        spec = service.get("spec")
        if (
            not isinstance(spec, dict)
            or not _headless(spec)
            or spec.get("type") == "ExternalName"
            or spec.get("publishNotReadyAddresses") is True
            or _metrics_only(spec)
        ):
            continue
        selected, wider = ctx.inventory.workloads_selected_or_wider(from_map(spec.get("selector")), service)
        if (
            not selected
            or _governs(ctx, service, selected)
            or ctx.inventory.unscanned_holding(service, "serviceName", service.name)
        ):
            continue  # (a skipped file of the unit may hold the StatefulSet it governs)
        targets = [w for w in selected if w.kind in REPLICATED_KINDS and ctx.inventory.may_run_several(w)]
        targets += ctx.inventory.replicated_pods(selected)
        if targets:
            yield _finding(ctx, service, targets, wider)


# Port names of metrics endpoints: a Service exposing nothing else is there for
# Prometheus, whose service discovery lists the endpoints and scrapes each one.
METRICS_PORT_NAMES = frozenset(
    {"metrics", "http-metrics", "https-metrics", "prometheus", "prom", "telemetry", "monitoring", "exporter"}
)


def _metrics_only(spec: dict) -> bool:
    ports = spec.get("ports")
    if not isinstance(ports, list) or not ports:
        return False
    return all(isinstance(p, dict) and _metrics_port(p) for p in ports)


def _metrics_port(port: dict) -> bool:
    for name in (port.get("name"), port.get("targetPort")):
        if isinstance(name, str) and (
            name.lower() in METRICS_PORT_NAMES
            or name.lower().startswith("metrics")
            or name.lower().endswith(("-metrics", "-prometheus"))
        ):
            return True
    return False


def _headless(spec: dict) -> bool:
    ips = spec.get("clusterIPs")
    return spec.get("clusterIP") == "None" or (isinstance(ips, list) and ips[:1] == ["None"])


def _governs(ctx: Context, service: Resource, selected: list[Workload]) -> bool:
    """Whether the Service gives pods their own DNS names: it is some StatefulSet's
    ``serviceName``, or the ``subdomain`` of pods it selects."""
    for statefulset in ctx.inventory.deployed_with(service, "StatefulSet"):
        if statefulset.get("spec", "serviceName") == service.name:
            return True
    return any(isinstance(w.pod_spec, dict) and w.pod_spec.get("subdomain") == service.name for w in selected)


def _finding(ctx: Context, service: Resource, targets: list[Workload], wider: bool) -> Finding:
    # alternative bundles of one unit may each hold the same workload: name it once
    names = ", ".join(dict.fromkeys(f"{w.kind} {w.name}" for w in targets))
    if wider:  # nothing deployed with the Service makes pods: these come from elsewhere
        names = f"{names} (elsewhere in the repository, if that is what is deployed with it)"
    message = (
        f"Service {service.name} is headless (clusterIP: None) and selects {names}: its DNS name "
        f"returns every pod IP, most clients connect to the first one and keep it, so one pod "
        f"takes the traffic while the others idle."
    )
    statefulsets = [w for w in targets if w.kind == "StatefulSet"]
    missing = [s for s in statefulsets if not _governing_service(ctx, s)]
    if statefulsets:
        governing = ", ".join(f"{_service_name(s)} (of StatefulSet {s.name})" for s in statefulsets)
        message += (
            f" Keep the headless governing Service {governing} for per-pod names, and make this "
            f"one a regular ClusterIP Service for load-balanced access."
        )
    if missing:
        names_missing = ", ".join(f"{_service_name(s)!r}" for s in missing)
        message += (
            f" The governing Service {names_missing} is not in the scanned files: if this Service is "
            f"meant to govern the StatefulSet, the StatefulSet's serviceName must name it instead "
            f"(serviceName cannot be changed in place), so no automatic fix is offered."
        )
        fix = None
    else:
        message += (
            " Remove clusterIP: None unless every client balances over all addresses itself; "
            "Kubernetes will not convert it in place, so delete the Service and apply it again."
        )
        fix = _fix(service)
    related = [
        Related(w.resource.path, w.resource.start_line, f"{w.kind} {w.name}, selected by this headless Service")
        for w in targets
    ]
    field = ("spec", "clusterIP") if "clusterIP" in service.get("spec") else ("spec", "clusterIPs")
    return ctx.finding(service, field, message + ctx.caveat(service), fix=fix, related=related, field="spec.clusterIP")


def _service_name(statefulset: Workload) -> str:
    return str(statefulset.resource.get("spec", "serviceName") or "")


def _governing_service(ctx: Context, statefulset: Workload) -> Resource | None:
    name = _service_name(statefulset)
    for service in ctx.inventory.deployed_with(statefulset.resource, "Service"):
        if service.name == name:
            return service
    return None


def _fix(service: Resource) -> Fix | None:
    spec = service.get("spec")
    edits = remove_keys(service.source, spec, ("clusterIP", "clusterIPs"))
    if not edits:
        return None
    return Fix(
        f"Remove clusterIP: None: Service {service.name} becomes a regular ClusterIP Service "
        f"(delete and re-create it when applying)",
        tuple(edits),
    )
