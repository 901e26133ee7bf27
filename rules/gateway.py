"""Gateway API resources: routes, their backend and parent references, Gateways and
their listeners, as the Gateway API specification defines them.

References default as the specification says: a `backendRef` without `group` and
`kind` is a core Service, one without `namespace` is in the route's namespace; a
`parentRef` without `group` and `kind` is a Gateway of
`gateway.networking.k8s.io`.
https://gateway-api.sigs.k8s.io/reference/spec/
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .inventory import Inventory
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
    return Ref(
        str(ref.get("group", group) or ""),
        str(ref.get("kind") or kind),
        ref["name"],
        namespace if isinstance(namespace, str) and namespace else route.namespace,
        ref.get("port"),
        section if isinstance(section, str) and section else None,
        path,
    )


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
            found.append(
                Listener(
                    entry["name"],
                    str(entry.get("protocol") or ""),
                    entry.get("port"),
                    hostname if isinstance(hostname, str) and hostname else None,
                )
            )
    return found


# --- which listeners serve a route's hosts ------------------------------------------

SECURE_PROTOCOLS = ("HTTPS", "TLS")  # TLS: passthrough or terminated at the Gateway


def gateways_named(inventory: Inventory, route: Resource, namespace: str | None, name: str) -> list[Resource]:
    """The Gateway API Gateways called ``name``, deployed with ``route``, that could
    be in ``namespace``."""
    return [g for g in inventory.named(route, "Gateway", name, namespace) if is_gateway(g)]


def hostname_matches(pattern: str | None, host: str) -> bool:
    """Whether a listener hostname admits a route hostname: none admits all; a
    leading ``*.`` is a suffix match of one label or more (``*.example.com``
    admits ``a.example.com`` and ``a.b.example.com``, not ``example.com``)."""
    if not pattern:
        return True
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) or host.startswith("*.") and host.endswith(pattern[1:])
    return pattern == host


@dataclass(frozen=True)
class Exposure:
    """A route host that a Gateway serves on a plain-HTTP listener, and whether
    the same Gateway has a listener that serves it over TLS."""

    gateway: Resource
    listener: Listener
    secured: bool


def http_exposures(inventory: Inventory, route: Resource, host: str) -> list[Exposure]:
    """The plain-HTTP listeners of the scanned Gateways that the route attaches to
    for ``host`` (its parentRefs' sectionName and port narrow them down)."""
    found = []
    for ref in parent_refs(route):
        if not ref.is_gateway:
            continue
        gateways = gateways_named(inventory, route, ref.namespace, ref.name)
        admitting = {g: [lis for lis in listeners(g) if hostname_matches(lis.hostname, host)] for g in gateways}
        # several Gateways of that name (unplaced copies): any of them may be the one applied
        secured = any(lis.protocol in SECURE_PROTOCOLS for own in admitting.values() for lis in own)
        for gateway in gateways:
            for listener in admitting[gateway]:
                if (
                    listener.protocol == "HTTP"
                    and (ref.section in (None, listener.name))
                    and (ref.port is None or ref.port == listener.port)
                ):
                    found.append(Exposure(gateway, listener, secured))
    return found


def redirects_to_https(route: Resource) -> bool:
    """Every rule of the route answers with a redirect to ``https``: the plain
    listener only sends clients to the secure one."""
    rules = route.get("spec", "rules")
    if not isinstance(rules, list) or not rules:
        return False
    return all(
        isinstance(rule, dict)
        and any(
            isinstance(f, dict)
            and f.get("type") == "RequestRedirect"
            and isinstance(f.get("requestRedirect"), dict)
            and f["requestRedirect"].get("scheme") == "https"
            for f in rule.get("filters") or []
        )
        for rule in rules
    )


def route_hostnames(route: Resource) -> list[tuple[int, str]]:
    hosts = route.get("spec", "hostnames")
    return [(i, h) for i, h in enumerate(hosts if isinstance(hosts, list) else []) if isinstance(h, str) and h]


# --- path matches ------------------------------------------------------------------

_REGEX_META = r"\\^$.*+?()[\]{}|"
# A regular expression that is a literal path followed by `.*`: it matches every
# path beginning with those characters, segment boundary or not.
_CHARACTER_PREFIX = re.compile(rf"\^?(/[^{_REGEX_META}]*[^/{_REGEX_META}])\.\*\$?")


def path_matches(route: Resource) -> Iterator[tuple[tuple[Any, ...], dict]]:
    """(field path, ``path`` mapping) of every ``spec.rules[i].matches[j].path``."""
    rules = route.get("spec", "rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        matches = rule.get("matches") if isinstance(rule, dict) else None
        for j, match in enumerate(matches if isinstance(matches, list) else []):
            path = match.get("path") if isinstance(match, dict) else None
            if isinstance(path, dict):
                yield ("spec", "rules", i, "matches", j, "path"), path


def regex_character_prefix(path: dict) -> str | None:
    """The literal prefix of a ``RegularExpression`` path of the form
    ``/literal.*``, which every implementation matches as a character prefix."""
    if path.get("type") != "RegularExpression" or not isinstance(path.get("value"), str):
        return None
    match = _CHARACTER_PREFIX.fullmatch(path["value"])
    return match.group(1) if match else None
