"""A probe on a named port that its container does not declare.

A liveness, readiness or startup probe (`httpGet` or `tcpSocket`) may give its
port by name. The kubelet resolves the name among the `ports` of the probed
container only (not of the pod's other containers); a name it does not find
fails the probe, every time. The API server accepts the manifest: only the pod's
events tell.

The rule reports such a probe in every pod template of the scan (Deployments,
StatefulSets, DaemonSets, Jobs, CronJobs, Pods, Argo Rollouts, and the custom
workloads of the config), including sidecars declared as init containers with
`restartPolicy: Always`. A port given as a number, or a quoted number, is not
judged: nothing says what the container listens on.

## Why it matters
- a **readiness** probe that always fails keeps the pod out of every Service's
  endpoints: the rollout hangs and the Service has nothing to send traffic to;
- a **liveness** probe that always fails restarts the container over and over
  (CrashLoopBackOff);
- a **startup** probe that always fails kills the container before it ever
  counts as started.

`kubectl describe pod <pod>` shows events such as `Readiness probe failed: ...
couldn't find port` (or a probe error naming the port).

## How to fix
Name a port the container declares, or declare it. The fix sets the probe's
port to the container's declared port whose name is nearly the one written (a
typo), or to the container's only declared port (by name when it has one). When
the container declares several ports and none is close, or none at all, no fix
is offered: add `ports: [{name: <name>, containerPort: <number>}]` to the
container. Verify with `kubectl describe pod -l <labels> -n <namespace>` (no
probe failures in the events) and `kubectl get pods` (READY).

## Example
Bad:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels:
      app: billing
  template:
    metadata:
      labels:
        app: billing
    spec:
      containers:
        - name: billing
          image: registry.example.com/billing:3.2.0
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /healthz
              port: web
```
Good: `port: http`, the name the container declares:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels:
      app: billing
  template:
    metadata:
      labels:
        app: billing
    spec:
      containers:
        - name: billing
          image: registry.example.com/billing:3.2.0
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
```

## Configuration
- `custom-workloads`: custom resources whose pod templates are checked too.

## Sources
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#use-a-named-port
- https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#Probe
- https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/prober/prober.go
  (the named port is looked up among the probed container's ports)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..backends import declared_ports, is_port_name, nearest_name, probe_ports, serving_containers
from ..context import Context
from ..edits import set_scalar
from ..model import Finding, Fix
from ..workloads import Workload

ID = "probe-port-not-declared"
SEVERITY = "error"
SUMMARY = "a probe on a named port that its container does not declare"

PROBES = {
    "readinessProbe": "the pod never becomes Ready, so no Service sends it traffic and rollouts hang",
    "livenessProbe": "the kubelet restarts the container again and again (CrashLoopBackOff)",
    "startupProbe": "the container is killed before it ever counts as started",
}


def check(ctx: Context) -> Iterator[Finding]:
    for workload in ctx.inventory.workloads:
        for path, container in serving_containers(workload):
            for probe, handler, port in _named_probes(container):
                names = [p.name for p in declared_ports(container) if p.name]
                if port not in names:
                    yield _finding(ctx, workload, path, container, (probe, handler), port)


def _named_probes(container: dict) -> Iterator[tuple[str, str, str]]:
    for probe, handler, port in probe_ports(container):
        if is_port_name(port):
            yield probe, handler, port


def _finding(
    ctx: Context, workload: Workload, path: tuple[Any, ...], container: dict, where: tuple[str, str], port: str
) -> Finding:
    probe, handler = where
    name = str(container.get("name") or "?")
    ports = declared_ports(container)
    listed = ", ".join(f"{p.number} ({p.name})" if p.name else str(p.number) for p in ports) or "none"
    message = (
        f"The {probe} of container {name} in {workload.kind} {workload.name} probes port {port!r}, "
        f"which the container does not declare (its ports: {listed}): the kubelet cannot resolve "
        f"the name and the probe always fails: {PROBES[probe]}."
    )
    replacement: str | int | None = nearest_name(port, [p.name for p in ports if p.name])
    if replacement is None and len(ports) == 1:
        replacement = ports[0].name or ports[0].number
    fix = None
    if replacement is not None:
        edit = set_scalar(workload.resource.source, container[probe][handler], "port", replacement)
        fix = Fix(f"Probe the declared port {replacement}", (edit,)) if edit else None
    else:
        message += f" Declare it: `ports: [{{name: {port}, containerPort: <number>}}]`."
    ns = workload.resource.namespace or "<namespace>"
    message += (
        f" Verify with `kubectl describe pods -n {ns}` for the {workload.kind}'s pods "
        f"(events: probe failed) and `kubectl get pods -n {ns}` (READY)."
    )
    return ctx.finding(
        workload.resource,
        path + (probe, handler, "port"),
        message,
        fix=fix,
        field=f"{'.'.join(map(str, workload.pod_spec_path))}.{name}.{probe}.port",
    )
