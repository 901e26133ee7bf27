"""Gateway API resources: routes, their backend and parent references, Gateways and
their listeners, as the Gateway API specification defines them.

References default as the specification says: a `backendRef` without `group` and
`kind` is a core Service, one without `namespace` is in the route's namespace; a
`parentRef` without `group` and `kind` is a Gateway of
`gateway.networking.k8s.io`.
https://gateway-api.sigs.k8s.io/reference/spec/
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .manifests import Resource

GROUP = "gateway.networking.k8s.io"
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")


def is_gateway_api(resource: Resource) -> bool:
    return resource.api_version.startswith(GROUP + "/")


def is_gateway(resource: Resource) -> bool:
    return resource.kind == "Gateway" and is_gateway_api(resource)


@dataclass(frozen=True)
class Ref:
    """A backend or parent reference of a route, where it sits in the route."""

    group: str
    kind: str
    name: str
    namespace: str | None  # the route's when the reference names none
    port: Any
    section: str | None  # a parentRef's sectionName (a listener's name)
    field_path: tuple[Any, ...]

    @property
    def is_service(self) -> bool:
        return self.group in ("", "core") and self.kind == "Service"

    @property
    def is_gateway(self) -> bool:
        return self.group == GROUP and self.kind == "Gateway"


def backend_refs(route: Resource) -> Iterator[Ref]:
    """Each ``spec.rules[i].backendRefs[j]`` of a route."""
    rules = route.get("spec", "rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        refs = rule.get("backendRefs") if isinstance(rule, dict) else None
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            found = _ref(route, ref, ("spec", "rules", i, "backendRefs", j), "", "Service")
            if found is not None:
                yield found


def parent_refs(route: Resource) -> Iterator[Ref]:
    refs = route.get("spec", "parentRefs")
    for k, ref in enumerate(refs if isinstance(refs, list) else []):
        found = _ref(route, ref, ("spec", "parentRefs", k), GROUP, "Gateway")
        if found is not None:
            yield found


def _ref(route: Resource, ref: Any, path: tuple[Any, ...], group: str, kind: str) -> Ref | None:
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not ref["name"]:
        return None
    namespace = ref.get("namespace")
    section = ref.get("sectionName")
    return Ref(str(ref.get("group", group) or ""), str(ref.get("kind") or kind), ref["name"],
               namespace if isinstance(namespace, str) and namespace else route.namespace,
               ref.get("port"), section if isinstance(section, str) and section else None, path)


@dataclass(frozen=True)
class Listener:
    name: str
    protocol: str
    port: Any
    hostname: str | None


def listeners(gateway: Resource) -> list[Listener]:
    found = []
    entries = gateway.get("spec", "listeners")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            hostname = entry.get("hostname")
            found.append(Listener(entry["name"], str(entry.get("protocol") or ""), entry.get("port"),
                                  hostname if isinstance(hostname, str) and hostname else None))
    return found
