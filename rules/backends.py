"""What the backend rules share: Services by name, the ports they expose, the ports
containers declare, the nearest of several names, and when the manifests cannot
show what a name refers to.

A Service, Gateway or pod named by another resource may be made by something the
scanned files only hint at: a Helm release or an Argo CD Application installing
into the namespace, or an operator's custom resource. Rules then stay silent
rather than call the name dangling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import operators
from .context import Context
from .manifests import Resource
from .similarity import similar
from .workloads import Workload

# How alike a name must be to the one written to count as that one misspelt, and
# by how much the best candidate must beat the next for a fix to name it.
NEAR = 0.75
CLOSE = 0.05
_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")


def services_named(ctx: Context, origin: Resource, namespace: str | None, name: str) -> list[Resource]:
    """The core Services called ``name``, deployed with ``origin``, that could be in
    ``namespace``."""
    return [s for s in ctx.inventory.named(origin, "Service", name, namespace) if s.api_version == "v1"]


def placed_with(resources: list[Resource], namespace: str | None) -> list[Resource]:
    """Those of ``resources`` known to land in ``namespace``. For an unset
    namespace, only those whose namespace is unset too: one named elsewhere may be
    a different object of the same name, so its fields say nothing."""
    return resources if namespace is not None else [r for r in resources if r.namespace is None]


def core_services_deployed_with(ctx: Context, origin: Resource, namespace: str | None) -> list[Resource]:
    """The core ``v1`` Services deployed with ``origin`` that could be in
    ``namespace`` (not, say, a Knative ``serving.knative.dev`` Service)."""
    return [s for s in ctx.inventory.deployed_with_in_namespace(origin, namespace, "Service") if s.api_version == "v1"]


def nearest_name(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (a typo, a word-wise prefix), when it is
    alike enough and clearly ahead of the next one."""
    scored = sorted(((similar(name, c), c) for c in set(candidates) if c != name), reverse=True)
    if not scored or scored[0][0] < NEAR:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < CLOSE:
        return None
    return scored[0][1]


@dataclass(frozen=True)
class ServicePort:
    index: int
    port: int | None
    name: str | None
    protocol: str
    target: Any  # targetPort as written; None when unset (it then equals ``port``)


def service_ports(service: Resource) -> list[ServicePort]:
    ports = service.get("spec", "ports")
    found = []
    for index, entry in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(entry, dict):
            continue
        port = entry.get("port")
        name = entry.get("name")
        found.append(
            ServicePort(
                index,
                port if _is_int(port) else None,
                name if isinstance(name, str) and name else None,
                str(entry.get("protocol") or "TCP"),
                entry.get("targetPort"),
            )
        )
    return found


def describe_ports(ports: Iterable[ServicePort]) -> str:
    return ", ".join(f"{p.port} ({p.name})" if p.name else str(p.port) for p in ports) or "none"


@dataclass(frozen=True)
class ContainerPort:
    container: str
    number: int | None
    name: str | None
    protocol: str


def serving_containers(workload: Workload) -> Iterator[tuple[tuple[Any, ...], dict]]:
    """(path within the resource, container) of each container that runs beside the
    others and can serve: the app containers, and the init containers with
    ``restartPolicy: Always`` (sidecars, which may declare ports and be probed)."""
    spec = workload.pod_spec
    if not isinstance(spec, dict):
        return
    for key in ("initContainers", "containers"):
        containers = spec.get(key)
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            if not isinstance(container, dict):
                continue
            if key == "initContainers" and container.get("restartPolicy") != "Always":
                continue
            yield workload.pod_spec_path + (key, index), container


def declared_ports(container: dict) -> list[ContainerPort]:
    ports = container.get("ports")
    name = str(container.get("name") or "?")
    found = []
    for entry in ports if isinstance(ports, list) else []:
        if isinstance(entry, dict):
            number, port_name = entry.get("containerPort"), entry.get("name")
            found.append(
                ContainerPort(
                    name,
                    number if _is_int(number) else None,
                    port_name if isinstance(port_name, str) and port_name else None,
                    str(entry.get("protocol") or "TCP"),
                )
            )
    return found


PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
PROBE_HANDLERS = ("httpGet", "tcpSocket", "grpc")


def probe_ports(container: dict) -> Iterator[tuple[str, str, Any]]:
    """(probe, handler, port as written) of each probe of the container that
    connects to a port."""
    for probe in PROBES:
        spec = container.get(probe)
        for handler in PROBE_HANDLERS:
            action = spec.get(handler) if isinstance(spec, dict) else None
            if isinstance(action, dict) and "port" in action:
                yield probe, handler, action["port"]


def is_port_name(value: Any) -> bool:
    """A port given by name: an IANA service name (lower-case letters, digits and
    inner dashes, at least one letter). ``"8080"`` in quotes is not one, nor a
    placeholder such as ``${GRPC_PORT}`` that a template fills in later."""
    return isinstance(value, str) and bool(_PORT_NAME.fullmatch(value)) and any(c.isalpha() for c in value)


def pod_mentions(ctx: Context, workload: Workload, pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` occurs in the pod's own configuration: a container's
    command, args or environment values, or the data of a ConfigMap the pod mounts
    or reads its environment from."""
    for _, container in serving_containers(workload):
        texts = [
            container.get("command"),
            container.get("args"),
            [e.get("value") for e in container.get("env") or [] if isinstance(e, dict)],
        ]
        if any(pattern.search(text) for text in _strings(texts)):
            return True
    namespace = workload.resource.namespace
    return any(
        pattern.search(text)
        for name in _config_maps(workload.pod_spec)
        for config in ctx.inventory.named(workload.resource, "ConfigMap", name, namespace)
        for text in _strings(config.get("data"))
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _config_maps(node: Any) -> set[str]:
    """The names of the ConfigMaps a pod spec mounts (volumes, projected sources)
    or reads its environment from (``envFrom``, ``valueFrom``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key in ("configMap", "configMapRef", "configMapKeyRef"):
            ref = node.get(key)
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                found.add(ref["name"])
        for item in node.values():
            found |= _config_maps(item)
    elif isinstance(node, list):
        for item in node:
            found |= _config_maps(item)
    return found


def made_elsewhere(ctx: Context, origin: Resource, namespace: str | None) -> str | None:
    """Why the scanned files may not show every Service and pod of ``namespace``
    deployed with ``origin``: a chart installed into it, or an operator's custom
    resource in it. None when the manifests are the whole story (files that could
    not be scanned are the caveat's concern: `Context.caveat`)."""
    if operators.releases_into(ctx.inventory, namespace):
        return "a Helm release or Argo CD Application installs into its namespace"
    makers = [r for r in operators.pod_makers(ctx.inventory, namespace) if ctx.inventory.together(origin, r)]
    if makers:
        return f"{makers[0].kind} {makers[0].name} may make them"
    return None


def shows_its_namespace(ctx: Context, origin: Resource, namespace: str | None, *, services: bool = True) -> bool:
    """Whether the scan holds the workloads (and, with ``services``, the Services)
    of ``namespace``: without them, what a name refers to lives in another
    repository. A resource without a namespace counts only resources without one
    too: any namespace may be its own, but a scan whose other resources all name
    theirs says nothing about where it lands."""
    if namespace is None:
        mates = ctx.inventory.unit_mates(origin)
        return bool(
            any(
                w.resource in mates and ctx.inventory.together(origin, w.resource)
                for w in ctx.inventory.workloads_in(None)
            )
            or services
            and any(s.namespace is None for s in core_services_deployed_with(ctx, origin, None))
        )
    return bool(
        ctx.inventory.workloads_deployed_with_in_namespace(origin, namespace)
        or services
        and core_services_deployed_with(ctx, origin, namespace)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
