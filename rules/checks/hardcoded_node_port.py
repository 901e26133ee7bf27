"""A Service port pins its `nodePort`.

A `nodePort:` fixes the port every node opens for the Service. Node ports are one
pool for the whole cluster, so two Services that pin the same number cannot both
exist, and a number outside the API server's `--service-node-port-range`
(30000-32767 unless configured) is refused outright.

Pinned once, it is a warning; the same nodePort on two different Services of the
scanned set, or one outside the range, is an error naming both. Copies of one
Service (same namespace and name: a kustomize base and its overlay, alternative
packagings of the same app) are not a conflict.

A Service exported from a cluster (`kubectl get -o yaml`, recognised by the
`metadata.uid` and `metadata.resourceVersion` that only the API server sets) is
judged like any manifest, but its nodePort is most likely the one the API server
picked (it allocates a free port from the range when none is given), so the finding
is an `info` note that says so, without a fix, never asking to change it.

Left alone: a nodePort that a local cluster's config in the scanned files forwards a
host port to (a kind `Cluster` with `extraPortMappings[].containerPort`, a k3d config
with `ports: [{port: "8080:30080"}]`): the mapping needs exactly that port, so the
pin is deliberate (a duplicate is still reported).

## Why it matters
The second Service to claim a port fails to create with "provided port is already
allocated", typically on deployment day, in whichever team applies last. A pinned
port can also collide with something listening on the host.

## How to fix
Delete the `nodePort:` line and let Kubernetes assign a free port; read it back with
`kubectl get svc`. Better yet, expose HTTP through an Ingress. If a port must be
pinned (an external load balancer points at it), keep a registry of allocated ports
and silence this rule on that line.

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
      nodePort: 30080
```
Good:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
```

## Configuration
- `node-port-range`: the cluster's node port range (default `30000-32767`).

## Sources
- https://kubernetes.io/docs/concepts/services-networking/service/#nodeport-custom-port
- https://kind.sigs.k8s.io/docs/user/configuration/#nodeport-with-port-mappings
- https://k3d.io/stable/usage/exposing_services/
- https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/
  (`uid` and `resourceVersion`: populated by the system, read-only)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..context import Context
from ..edits import remove_key
from ..manifests import Resource, exported_from_cluster
from ..model import Finding, Fix, Related

ID = "hardcoded-node-port"
SEVERITY = "warning"
SUMMARY = "Service port pins a nodePort (error when duplicated or out of range)"


MAX_NAMED = 3  # rivals named in a message
MAX_RELATED = 10  # rivals listed as related locations; the message gives the count


def check(ctx: Context) -> Iterator[Finding]:
    pinned = list(_pinned_ports(ctx.inventory.of_kind("Service")))
    # (node port, unit) -> Service identity -> its claims: grouped once, so that
    # thousands of Services sharing one port cost linear time, not a list of the
    # others each; only Services applied together can collide
    claims: dict[tuple[int, tuple[str, str]], dict[tuple[str | None, str], list[tuple[Resource, int]]]] = defaultdict(
        dict
    )
    for service, index, node_port in pinned:
        for root in ctx.inventory.units.roots(service.path):
            claims[node_port, root].setdefault(_identity(service), []).append((service, index))
    low, high = ctx.config.node_port_range
    mapped = _mapped_node_ports(ctx)
    for service, index, node_port in pinned:
        rival_count, rivals = _rivals(
            [claims[node_port, root] for root in ctx.inventory.units.roots(service.path)], _identity(service)
        )
        if node_port in mapped and not rivals and low <= node_port <= high:
            continue  # a local cluster's config forwards a host port to exactly this node port
        path = ("spec", "ports", index, "nodePort")
        port = service.get("spec", "ports", index)
        field = f"spec.ports.{port.get('name') or port.get('port') or index}.nodePort"
        if not low <= node_port <= high:
            message = (
                f"nodePort {node_port} is outside the node port range {low}-{high}: "
                f"the API server will refuse this Service."
            )
            severity = "error"
        elif rivals:
            names = ", ".join(f"{other.ref} ({other.path})" for other, _ in rivals[:MAX_NAMED])
            if rival_count > MAX_NAMED:
                names = f"{rival_count} other Service ports, among them {names},"
            message = (
                f"nodePort {node_port} is also pinned by {names}: only one Service can hold "
                f'it, the other fails with "provided port is already allocated".'
            )
            severity = "error"
        else:
            message = (
                f"nodePort {node_port} is pinned: another Service pinning the same port "
                f"cannot be created. Let Kubernetes assign one."
            )
            severity = None
        related = [
            Related(
                other.path,
                other.key_line("spec", "ports", i, "nodePort"),
                f"{other.ref} also pins nodePort {node_port}",
            )
            for other, i in rivals
        ]
        if exported_from_cluster(service):
            yield ctx.finding(
                service, path, _exported_message(node_port, rivals), related=related, severity="info", field=field
            )
            continue
        yield ctx.finding(
            service, path, message, fix=_fix(service, index, node_port), related=related, severity=severity, field=field
        )


def _rivals(groups: list[dict], own: tuple[str | None, str]) -> tuple[int, list[tuple[Resource, int]]]:
    """How many claims on a node port come from other Services than ``own`` in the
    units ``groups`` stand for (one group per unit), and the first `MAX_RELATED`."""
    first: list[tuple[Resource, int]] = []
    seen: set[Resource] = set()
    count = 0
    for by_identity in groups:
        for identity, group in by_identity.items():
            if identity == own:
                continue
            if len(groups) == 1:  # the common case: counted without visiting each claim
                count += len(group)
                first.extend(group[: MAX_RELATED - len(first)])
                continue
            for claim in group:
                if claim[0] not in seen:
                    seen.add(claim[0])
                    count += 1
                    if len(first) < MAX_RELATED:
                        first.append(claim)
    return count, first


def _exported_message(node_port: int, rivals: list[tuple[Resource, int]]) -> str:
    """For a Service read back from a cluster: the port is most likely one the API
    server picked, which is nothing to change there."""
    also = (
        f" It is also pinned by {', '.join(str(other.ref) for other, _ in rivals)}; exports of "
        f"different clusters may share a port."
        if rivals
        else ""
    )
    return (
        f"nodePort {node_port} looks assigned by the API server: this Service was exported from a "
        f"cluster (`kubectl get -o yaml`: it carries metadata.uid and resourceVersion), where a "
        f"NodePort Service left without one gets a free port. If this file is applied to another "
        f"cluster as it is, the port must be free and in range there.{also}"
    )


def _pinned_ports(services: list[Resource]) -> Iterator[tuple[Resource, int, int]]:
    for service in services:
        ports = service.get("spec", "ports")
        if not isinstance(ports, list):
            continue
        for index, port in enumerate(ports):
            if isinstance(port, dict) and isinstance(port.get("nodePort"), int) and port["nodePort"] != 0:
                yield service, index, port["nodePort"]


def _mapped_node_ports(ctx: Context) -> set[int]:
    """Node ports that a kind or k3d cluster config in the scanned files maps a host
    port to: the Service must pin them for the mapping to reach it."""
    ports: set[int] = set()
    for cluster in ctx.inventory.of_kind("Cluster"):
        if not cluster.api_version.startswith("kind.x-k8s.io/"):
            continue
        for node in _list(cluster.get("nodes")):
            for mapping in _list(node.get("extraPortMappings")) if isinstance(node, dict) else []:
                if isinstance(mapping, dict) and isinstance(mapping.get("containerPort"), int):
                    ports.add(mapping["containerPort"])
    for config in ctx.inventory.of_kind("Simple", "Cluster"):
        if not config.api_version.startswith("k3d.io/"):
            continue
        for entry in _list(config.get("ports")):
            spec = str(entry.get("port", "")) if isinstance(entry, dict) else ""
            inner = spec.split("@")[0].rsplit(":", 1)[-1].split("/")[0]  # [ip:]host:node[/proto]
            first, _, last = inner.partition("-")
            if first.isdigit():
                ports.update(range(int(first), int(last if last.isdigit() else first) + 1))
    return ports


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _identity(service: Resource) -> tuple[str | None, str]:
    return service.namespace, service.name


def _fix(service: Resource, index: int, node_port: int) -> Fix | None:
    edit = remove_key(service.source, service.get("spec", "ports", index), "nodePort")
    if edit is None:
        return None
    return Fix(f"Delete `nodePort: {node_port}` and let Kubernetes assign a free port", (edit,))
