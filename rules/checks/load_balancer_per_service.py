"""Several HTTP Services each get their own cloud load balancer where one ingress would do.

Every `type: LoadBalancer` Service provisions its own cloud load balancer and public
IP, billed by the hour (~$20-50/month each, depending on the provider). For HTTP, one
ingress controller behind a single LoadBalancer can route any number of Services by
host and path.

The rule counts the LoadBalancer Services that serve HTTP in one *deployment unit*
(what is applied together) and flags every one beyond the allowance (default 1), in
file order: the first is left alone, each later one gets a finding naming the count
and the others. Copies of one Service (same namespace and name: a kustomize base and
the overlay patch that sets its type) count once. Internal load balancers (the cloud
annotations that make one private, such as
`service.beta.kubernetes.io/aws-load-balancer-internal`,
`networking.gke.io/load-balancer-type: Internal`,
`service.beta.kubernetes.io/azure-load-balancer-internal`) are counted apart from
public ones, since one public ingress cannot stand in for a private entry point.

Left alone:
- the ingress controller's own Service (ingress-nginx, F5 NGINX, Traefik, Istio
  ingress gateway, Contour/Envoy, Kong, HAProxy, Emissary/Ambassador, Gloo, Skipper,
  APISIX, Envoy Gateway, NGINX Gateway Fabric, Cilium), recognised by its labels,
  selector, name or namespace: it neither counts nor is flagged;
- Services that are not plain HTTP: a UDP or SCTP port, or a TCP port that is clearly
  something else, by `appProtocol`, by port name (the `<protocol>[-<suffix>]`
  convention: `tcp-*`, `mysql`, `postgres`, `redis`, `mongo`, `amqp`, `mqtt`, `dns`,
  `smtp`, `ssh`, `kafka`, ...) or by a well-known port number (22, 25, 53, 1883, 3306,
  5432, 5672, 6379, 8883, 9042, 9092, 11211, 27017, ...). A name that says `http`,
  `https`, `grpc` or `web` wins over the number. An HTTP ingress cannot carry these,
  and a Service with even one such port stays as it is. gRPC counts as HTTP: it is
  HTTP/2, which ingress controllers route (ingress-nginx with
  `nginx.ingress.kubernetes.io/backend-protocol: GRPC`);
- Services whose address comes from a bare-metal load balancer, not a billed
  cloud one: MetalLB, kube-vip, Cilium LB IPAM or PureLB, told by the Service's
  annotations (`metallb.universe.tf/*`, `metallb.io/*`, `kube-vip.io/*`,
  `lbipam.cilium.io/*`, `purelb.io/*`) or `loadBalancerClass`, or by the
  implementation's address pools in the scanned files (a MetalLB `IPAddressPool`,
  a `CiliumLoadBalancerIPPool`, a PureLB `ServiceGroup`) deployed in the same unit,
  which make every LoadBalancer of that unit a local address.

Deployment units (`deployment-unit` in `.footgun.yml`, see "What is applied
together" in the README):
- `kustomization` (the default): the resources one kustomization builds (its
  `resources:`, `bases:` and `components:`, files and folders, followed within the
  scanned set, plus the Services its patches retype), joined where a Flux
  `Kustomization` or Argo CD `Application` applies several folders to one cluster;
  manifests nothing builds fall back to their folder. Not the whole repository,
  because repositories of alternative examples (one folder per cloud, per tutorial
  step, per packaging) are never applied together and must not add up.
- `folder`: the manifests of one folder.
- `file`: one file.
- `repository`: everything scanned is one cluster.

## Why it matters
Twenty HTTP services exposed this way are twenty load balancers, $400-1000 a month
before any traffic, and twenty public IPs and DNS records to manage, each with its
own TLS setup. Behind one ingress they share one load balancer, one IP, one place
for TLS and one set of access rules.

## How to fix
Make the Service `type: ClusterIP` and add a rule for it to an Ingress served by the
shared ingress controller (the finding shows one). The fix also drops the fields a
ClusterIP Service may not carry: Kubernetes rejects `nodePort`,
`externalTrafficPolicy`, `healthCheckNodePort`, `loadBalancerSourceRanges`,
`loadBalancerClass` and `allocateLoadBalancerNodePorts` outside LoadBalancer (or
NodePort) Services, and `loadBalancerIP` means nothing there. A source-range
allowlist moves to the ingress (for ingress-nginx,
`nginx.ingress.kubernetes.io/whitelist-source-range`). If each Service really needs
its own address, raise `max-load-balancers` or silence the rule on that Service.

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: blog
spec:
  type: LoadBalancer
  selector:
    app: blog
  ports:
    - port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: docs
spec:
  type: LoadBalancer
  selector:
    app: docs
  ports:
    - port: 80
```
Good:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: docs
spec:
  type: ClusterIP
  selector:
    app: docs
  ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
    - host: blog.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: blog
                port:
                  number: 80
    - host: docs.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: docs
                port:
                  number: 80
```

## Configuration
- `max-load-balancers`: HTTP LoadBalancer Services allowed per deployment unit
  (default 1).
- `deployment-unit`: `kustomization` (default), `folder`, `file` or `repository`.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/service/#loadbalancer
- https://kubernetes.io/docs/concepts/services-networking/ingress/
- Kubernetes API validation of Services (`pkg/apis/core/validation/validation.go`):
  `nodePort` "may not be used when `type` is 'ClusterIP'", `externalTrafficPolicy`
  "may only be set for externally-accessible services", `loadBalancerSourceRanges`,
  `loadBalancerClass` and `allocateLoadBalancerNodePorts` "may only be used when
  `type` is 'LoadBalancer'".
- https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
  (the `<protocol>[-<suffix>]` port naming convention)
- https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol
- https://metallb.universe.tf/usage/ (address pools, `allow-shared-ip`),
  https://kube-vip.io/docs/usage/kubernetes-services/,
  https://docs.cilium.io/en/stable/network/lb-ipam/
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from itertools import islice
from typing import Any

from ..context import Context
from ..edits import remove_key, remove_keys, render, set_scalar, style_of
from ..ingress import is_ingress_controller_service
from ..inventory import Inventory
from ..manifests import Resource
from ..model import Edit, Finding, Fix, Related
from ..units import Unit
from ..yamltree import YMap

ID = "load-balancer-per-service"
SEVERITY = "info"
SUMMARY = "More LoadBalancer Services serving HTTP than one ingress would need"

# Fields a ClusterIP Service may not carry (or that mean nothing on one).
LOAD_BALANCER_ONLY_FIELDS = (
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "loadBalancerClass",
    "allocateLoadBalancerNodePorts",
    "healthCheckNodePort",
)
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"

# --- what an ingress controller's own Service looks like ---------------------------
# (beyond what ``rules.ingress.is_ingress_controller_service`` tells by names, labels
# and the selected pods' images)

CONTROLLER_NAMESPACES = frozenset(
    {
        "ingress-nginx",
        "nginx-ingress",
        "traefik",
        "traefik-system",
        "istio-ingress",
        "projectcontour",
        "contour",
        "kong",
        "haproxy-controller",
        "haproxy-ingress",
        "emissary",
        "ambassador",
        "gloo-system",
        "envoy-gateway-system",
        "nginx-gateway",
        "apisix",
        "ingress",
        "ingress-system",
    }
)
_MORE_CONTROLLER_NAMES = re.compile(
    r"(^|[^a-z0-9])(gloo|gateway-proxy|apisix|nginx-gateway|cilium-ingress)"
    r"($|[^a-z])"
)

# --- which ports an HTTP ingress can carry ------------------------------------------

HTTP_WORDS = frozenset(
    {
        "http",
        "https",
        "http2",
        "h2c",
        "grpc",
        "grpc-web",
        "web",
        "websecure",
        "ws",
        "wss",
        "websocket",
        "kubernetes.io/h2c",
        "kubernetes.io/ws",
        "kubernetes.io/wss",
    }
)
NON_HTTP_WORDS = frozenset(
    {
        "tcp",
        "udp",
        "sctp",
        "mysql",
        "mariadb",
        "postgres",
        "postgresql",
        "pg",
        "psql",
        "redis",
        "mongo",
        "mongodb",
        "amqp",
        "amqps",
        "mqtt",
        "mqtts",
        "dns",
        "domain",
        "smtp",
        "smtps",
        "submission",
        "imap",
        "imaps",
        "pop3",
        "pop3s",
        "ssh",
        "sftp",
        "ftp",
        "ldap",
        "ldaps",
        "kafka",
        "zookeeper",
        "zk",
        "memcached",
        "memcache",
        "cql",
        "cassandra",
        "nats",
        "sip",
        "sips",
        "rtmp",
        "rtsp",
        "rtp",
        "stun",
        "turn",
        "syslog",
        "mssql",
        "sqlserver",
        "oracle",
        "tns",
        "db2",
        "epmd",
        "rabbitmq",
        "stomp",
        "bolt",
        "vnc",
        "rdp",
        "xmpp",
        "irc",
        "smb",
        "nfs",
        "minecraft",
        "pulsar",
        "beats",
        "forward",
        "gossip",
        "raft",
        "clickhouse",
    }
)
NON_HTTP_PORTS = frozenset(
    {
        21,
        22,
        23,
        25,
        53,
        110,
        143,
        389,
        445,
        465,
        514,
        587,
        636,
        993,
        995,
        1194,
        1433,
        1521,
        1883,
        2049,
        2181,
        3306,
        3389,
        4222,
        4369,
        5044,
        5060,
        5061,
        5222,
        5269,
        5432,
        5671,
        5672,
        6379,
        6380,
        6650,
        7000,
        7001,
        7687,
        8883,
        9042,
        9092,
        11211,
        24224,
        25565,
        25672,
        26257,
        27017,
        27018,
        27019,
        61613,
        61616,
    }
)

# Annotations that make a cloud load balancer private (key, values meaning "internal").
INTERNAL_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": None,  # any value but false
    "service.beta.kubernetes.io/aws-load-balancer-scheme": {"internal"},
    "networking.gke.io/load-balancer-type": {"internal"},
    "cloud.google.com/load-balancer-type": {"internal"},
    "service.beta.kubernetes.io/azure-load-balancer-internal": {"true"},
    "service.beta.kubernetes.io/oci-load-balancer-internal": {"true"},
    "service.beta.kubernetes.io/openstack-internal-load-balancer": {"true"},
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": {"intranet"},
}


# Bare-metal load balancer implementations (MetalLB, kube-vip, Cilium LB IPAM, PureLB):
# their LoadBalancer Services take an address from a local pool, not a billed cloud
# load balancer. Told by the Service's annotations or loadBalancerClass, or by the
# implementation's address pools in the scanned files.
BARE_METAL_ANNOTATIONS = (
    "metallb.universe.tf/",
    "metallb.io/",
    "kube-vip.io/",
    "lbipam.cilium.io/",
    "io.cilium/lb-ipam",
    "purelb.io/",
)
BARE_METAL_CLASSES = ("metallb", "kube-vip.io/", "io.cilium/", "purelb.io/")
BARE_METAL_POOLS = (
    ("IPAddressPool", "metallb.io/"),
    ("AddressPool", "metallb.io/"),
    ("CiliumLoadBalancerIPPool", "cilium.io/"),
    ("ServiceGroup", "purelb.io/"),
)


MAX_NAMED = 3  # other Services named in a message
MAX_RELATED = 10  # other Services listed as related locations


def check(ctx: Context) -> Iterator[Finding]:
    services = sorted(ctx.inventory.of_kind("Service"), key=lambda s: (s.path, s.start_line))
    units = _units(ctx, services)
    reported: set[Resource] = set()
    for unit, members in units:
        for pool in _pools(ctx.inventory, members):
            yield from _excess(ctx, unit, pool, reported)


def _excess(ctx: Context, unit: Unit, pool: list[list[Resource]], reported: set[Resource]) -> Iterator[Finding]:
    """Findings on every Service beyond the allowance in one unit; ``pool`` holds, in
    file order, the LoadBalancer copies of each distinct Service."""
    allowed = ctx.config.max_load_balancers
    if len(pool) <= allowed:
        return
    for copies in pool[allowed:]:
        for service in copies:
            if service in reported:
                continue
            reported.add(service)
            # the first few others only: listing every other one per finding is quadratic
            others = list(islice((c[0] for c in pool if c is not copies), MAX_RELATED))
            yield _finding(ctx, service, unit, len(pool), others)


def _finding(ctx: Context, service: Resource, unit: Unit, count: int, others: list[Resource]) -> Finding:
    allowed = ctx.config.max_load_balancers
    names = ", ".join(f"`{o.name}`" for o in others[:MAX_NAMED])
    if count - 1 > MAX_NAMED:
        names += f" and {count - 1 - MAX_NAMED} more"
    allowance = "one" if allowed == 1 else f"the {allowed} allowed"
    port = _ingress_port(service)
    message = (
        f"{count} LoadBalancer Services serve HTTP in {unit.label} ({names} and this one), "
        f"more than {allowance}: each is its own cloud load balancer and public IP "
        f"(~$20-50/month). Make `{service.name}` a ClusterIP Service and route it through "
        f"the shared ingress controller with an Ingress rule such as:\n\n"
        f"```yaml\n{_ingress_rule(service, port)}\n```"
    )
    if service.get("spec", "loadBalancerSourceRanges") or SOURCE_RANGES_ANNOTATION in service.annotations:
        message += (
            "\n\nIts source-range allowlist goes with the load balancer: set it on the "
            "Ingress instead (ingress-nginx: `nginx.ingress.kubernetes.io/whitelist-source-range`)."
        )
    related = [
        Related(
            o.path,
            o.key_line("spec", "type"),
            f"{o.ref} is another LoadBalancer serving HTTP in {unit.label}",
        )
        for o in others
    ]
    return ctx.finding(service, ("spec", "type"), message, fix=_fix(service), related=related)


def _ingress_rule(service: Resource, port: Any) -> str:
    style = style_of(service.source)
    if not _PLAIN_NAME.fullmatch(service.name) or not isinstance(port, (int, str)):
        return _rendered_rule(service.name, port, style)
    # Rendering YAML costs milliseconds: once per style and port, with the name put in
    # after (a DNS label needs no quoting), so thousands of findings stay fast. A pure
    # memo, bounded.
    key = (style, type(port), port)
    if key not in _RULE_TEMPLATES:
        if len(_RULE_TEMPLATES) > 256:
            _RULE_TEMPLATES.clear()
        _RULE_TEMPLATES[key] = _rendered_rule(_NAME_STAND_IN, port, style)
    return _RULE_TEMPLATES[key].replace(_NAME_STAND_IN, service.name)


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
_NAME_STAND_IN = "zzname"
_RULE_TEMPLATES: dict[tuple, str] = {}


def _rendered_rule(name: str, port: Any, style: Any) -> str:
    rule = [
        {
            "host": f"{name}.example.com",
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": name, "port": {"number": port}}},
                    }
                ]
            },
        }
    ]
    lines = textwrap.dedent("\n".join(render(rule, style, 0))).splitlines()
    lines[0] += "  # your host"
    return "\n".join(lines)


def _ingress_port(service: Resource) -> Any:
    ports = [p for p in service.get("spec", "ports") or [] if isinstance(p, dict) and "port" in p]
    for port in ports:
        if str(port.get("name", "")).startswith("http") and not str(port.get("name")).startswith("https"):
            return port["port"]
    for port in ports:
        if port["port"] == 80:
            return 80
    return ports[0]["port"] if ports else 80


def _fix(service: Resource) -> Fix | None:
    spec = service.get("spec")
    source = service.source
    if not isinstance(spec, YMap) or spec.flow:
        return None
    edit = set_scalar(source, spec, "type", "ClusterIP")
    if edit is None:
        return None
    edits: list[Edit] = [edit]
    drop = list(LOAD_BALANCER_ONLY_FIELDS)
    if not spec.get("externalIPs"):  # with externalIPs the policy stays valid
        drop.append("externalTrafficPolicy")
    edits += remove_keys(source, spec, drop)
    for port in spec.get("ports") or []:
        if isinstance(port, YMap) and "nodePort" in port:
            removed = remove_key(source, port, "nodePort")
            if removed is None:
                return None
            edits.append(removed)
    annotations = service.get("metadata", "annotations")
    if isinstance(annotations, YMap) and SOURCE_RANGES_ANNOTATION in annotations:
        removed = remove_key(source, annotations, SOURCE_RANGES_ANNOTATION)
        if removed is None:
            return None
        edits.append(removed)
    if any(a is not b and a.start_line <= b.end_line and b.start_line <= a.end_line for a in edits for b in edits):
        return None
    dropped = [f for f in drop if f in spec] + (
        ["nodePort"] if any(isinstance(p, dict) and "nodePort" in p for p in spec.get("ports") or []) else []
    )
    also = f" and drop {', '.join(f'`{f}`' for f in dropped)}" if dropped else ""
    return Fix(
        f"Make `{service.name}` a ClusterIP Service{also}; route it through the shared ingress",
        tuple(sorted(edits, key=lambda e: e.start_line)),
    )


# --- which Services count ------------------------------------------------------------


def is_load_balancer(service: Resource) -> bool:
    return service.get("spec", "type") == "LoadBalancer"


def is_ingress_controller(inventory: Inventory, service: Resource) -> bool:
    """Whether a Service fronts an ingress controller or gateway proxy, by its
    namespace, name, labels, selector or selected pods."""
    if service.namespace in CONTROLLER_NAMESPACES or is_ingress_controller_service(inventory, service):
        return True
    selector = service.get("spec", "selector")
    values = [service.name, *service.labels.values()]
    values += [str(v) for v in selector.values()] if isinstance(selector, dict) else []
    return any(_MORE_CONTROLLER_NAMES.search(v.lower()) for v in values)


def serves_http(service: Resource) -> bool:
    """At least one port, and every port one an HTTP ingress can carry."""
    ports = service.get("spec", "ports")
    if not isinstance(ports, list) or not ports:
        return False
    return all(isinstance(p, dict) and _http_port(p) for p in ports)


def _http_port(port: dict) -> bool:
    if str(port.get("protocol") or "TCP").upper() != "TCP":
        return False
    app_protocol = str(port.get("appProtocol") or "").lower()
    if app_protocol:
        if app_protocol in HTTP_WORDS:
            return True
        if app_protocol.rsplit("/", 1)[-1] in NON_HTTP_WORDS:
            return False
    for name in (port.get("name"), port.get("targetPort")):
        if not isinstance(name, str) or not name:
            continue
        words = name.lower().split("-")
        if words[0] in HTTP_WORDS or name.lower() in HTTP_WORDS:
            return True
        if words[0] in NON_HTTP_WORDS:
            return False
        if any(w in NON_HTTP_WORDS for w in words):
            return False
        if any(w in HTTP_WORDS for w in words):
            return True
    numbers = [port.get("port"), port.get("targetPort")]
    return not any(isinstance(n, int) and n in NON_HTTP_PORTS for n in numbers)


def _bare_metal(service: Resource) -> bool:
    lb_class = service.get("spec", "loadBalancerClass")
    return any(key.startswith(BARE_METAL_ANNOTATIONS) for key in service.annotations) or (
        isinstance(lb_class, str) and lb_class.startswith(BARE_METAL_CLASSES)
    )


def _bare_metal_pools(inventory: Inventory, members: list[Resource]) -> bool:
    """An address pool deployed with the unit's Services."""
    return any(
        r.api_version.startswith(group) and any(inventory.together(r, m) for m in members[:1])
        for kind, group in BARE_METAL_POOLS
        for r in inventory.of_kind(kind)
    )


def _is_internal(service: Resource) -> bool:
    for key, values in INTERNAL_ANNOTATIONS.items():
        value = service.annotations.get(key)
        if value is None:
            continue
        value = value.strip().lower()
        if (values is None and value not in ("false", "")) or (values is not None and value in values):
            return True
    return False


# --- deployment units ------------------------------------------------------------------


def _pools(inventory: Inventory, members: list[Resource]) -> Iterator[list[list[Resource]]]:
    """The unit's counted Services, as lists of copies per distinct Service, split into
    public and internal load balancers. Copies share a name and could share a
    namespace; the last copy that sets ``spec.type`` decides the type (an overlay
    patch after its base), the first with ports what it serves."""
    groups: list[list[Resource]] = []
    by_name: dict[str, list[list[Resource]]] = {}
    for service in members:
        for group in by_name.setdefault(service.name, []):
            if all(service.could_share_namespace(g) for g in group):
                group.append(service)
                break
        else:
            groups.append([service])
            by_name[service.name].append(groups[-1])
    pools: dict[bool, list[list[Resource]]] = {False: [], True: []}
    if _bare_metal_pools(inventory, members):
        return
    for group in groups:
        typed = [s for s in group if s.get("spec", "type") is not None]
        with_ports = [s for s in group if s.get("spec", "ports")]
        if (
            not typed
            or not is_load_balancer(typed[-1])
            or not with_ports
            or not serves_http(with_ports[0])
            or any(is_ingress_controller(inventory, s) for s in group)
            or any(_bare_metal(s) for s in group)
        ):
            continue
        balancers = [s for s in group if is_load_balancer(s)]
        pools[any(_is_internal(s) for s in group)].append(balancers)
    for pool in pools.values():
        if pool:
            yield pool


def _units(ctx: Context, services: list[Resource]) -> list[tuple[Unit, list[Resource]]]:
    return ctx.inventory.grouped_by_unit(services)
