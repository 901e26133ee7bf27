"""An egress-restricting NetworkPolicy leaves its pods without DNS.

Once a NetworkPolicy with `Egress` among its policy types selects a pod, that pod
may only send what some egress rule of some policy selecting it allows. The rule
takes each policy that restricts egress and asks whether the policies of its
namespace, together, let the pods it selects reach DNS on port 53 over UDP and TCP.
It reports an error when they do not, and a warning on the policy that allows UDP 53
when TCP 53 is missing.

How Kubernetes reads the policies (and so this rule):
- `policyTypes` left out means `Ingress`, plus `Egress` only when the policy has at
  least one egress rule; a policy meant to deny all egress must list `Egress`.
- Policies add up: a pod may send what any egress rule of any policy selecting it
  allows, so an allow-DNS policy in another file of the same namespace counts.
- An egress rule without `ports` allows every port; one without `to` allows every
  destination. A port entry's protocol defaults to TCP.

DNS counts as allowed when a rule reaches port 53 (or the CoreDNS port names `dns`
and `dns-tcp`, or OpenShift's DNS port 5353) of the cluster DNS: any destination,
pods labelled for DNS (`k8s-app: kube-dns`) in `kube-system` or any namespace, a
namespace such as `kube-system` or `openshift-dns`, or a NodeLocal DNSCache address
by `ipBlock` (link-local, 169.254.20.10 by default). Where a rule allows port 53 to
a destination the manifests cannot place (another `ipBlock`, a namespace picked by a
custom label), or every port to an address block that may hold the DNS pods (a
private range: whether `ipBlock` matches pod IPs depends on the network plugin), the
rule assumes it reaches the DNS server and stays silent. A rule that
names the DNS pods by `podSelector` alone is the exception: without a
`namespaceSelector` it only matches pods in the policy's own namespace, so it does
not reach `kube-system`.

An allow policy covers the restricted pods when its `podSelector` is empty, equal
to the restricting policy's, or requires only some of the labels that one requires.
When it selects some other group, the rule judges the scanned workloads one by one:
a workload the deny isolates and no allowance reaches is named in an error. Beyond
that, a deny that selects a label group stays silent (whether other pods carry those
labels is not in the manifests), while a namespace-wide deny (`podSelector: {}`)
whose only DNS allowances select narrower groups is reported on the deny, naming the
pods that keep DNS: it isolates every pod of the namespace, whoever deploys it, so
every other pod has none. That is a warning when no scanned workload falls under the
deny, an `info` note when every one of them keeps DNS (only pods deployed from
elsewhere are hit).

The network plugin's own policies count too: a Calico `GlobalNetworkPolicy` or
`NetworkPolicy` (`projectcalico.org`), a Cilium `CiliumClusterwideNetworkPolicy` or
`CiliumNetworkPolicy`, an Antrea `ClusterNetworkPolicy`, or an `AdminNetworkPolicy`
(which takes precedence over NetworkPolicies) with an egress rule that allows port
53, or every port, lets DNS through. Their selector languages are not read: when
such a policy is cluster-wide or could share the namespace, the rule stays silent.
Calico's `NetworkPolicy` shares the kind name with Kubernetes' and is never read as
one.

## Why it matters
Every pod in the namespace loses name resolution the moment the policy lands:
`http://api-server:80` fails before a packet is sent, with errors that read like an
outage of the called service rather than a policy. DNS falls back to TCP when an
answer does not fit in a UDP message (long CNAME chains, many A records, DNSSEC), so
UDP-only policies fail on exactly the large answers.

## How to fix
Allow egress to the cluster DNS on port 53 over UDP and TCP for the same pods. The
fix appends an `allow-dns` NetworkPolicy after the restricting one, in the same
namespace and with the same `podSelector` (an allow policy with a broader selector
would put pods under egress isolation that were free before). It allows the
`k8s-app: kube-dns` pods of `kube-system` (the label CoreDNS keeps on kubeadm, EKS,
GKE and AKS; `kubernetes.io/metadata.name` is set on every namespace since
Kubernetes 1.22) and the NodeLocal DNSCache address 169.254.20.10. That is tighter
than the common `namespaceSelector: {}`, which opens port 53 to every pod of the
cluster (a way to tunnel data out through a rogue resolver). When the manifests show
OpenShift (`*.openshift.io` APIs), the fix allows the `openshift-dns` namespace on
port 5353 instead, where OpenShift's DNS pods listen. A UDP-only allowance gets the
matching TCP entry next to its UDP one.

## Example
Bad:
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: production
spec:
  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
```
Good:
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: production
spec:
  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
  namespace: production
spec:
  podSelector: {}
  policyTypes:
    - Egress
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
        - ipBlock:
            cidr: 169.254.20.10/32
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
```

## Configuration
No options of its own.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/network-policies/
  (isolation, policies are additive, `policyTypes`, default policies)
- https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
  (`ports` and `to` left empty match all; protocol defaults to TCP)
- https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/networking/v1/defaults.go
  (`policyTypes` defaulting: Egress only when `len(spec.egress) != 0`)
- https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name
- https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/ (169.254.20.10)
- https://docs.openshift.com/container-platform/latest/networking/dns-operator.html
  (CoreDNS pods of `openshift-dns` serve on port 5353)
- RFC 7766, "DNS Transport over TCP" (TCP is required, used for truncated answers)
- https://docs.tigera.io/calico/latest/network-policy/get-started/kubernetes-default-deny
  (a GlobalNetworkPolicy allowing kube-dns next to default deny; policy order and tiers)
- https://docs.cilium.io/en/stable/security/policy/language/ (policies are additive
  allow lists; DNS rules under `toPorts`)
- https://network-policy-api.sigs.k8s.io/api-overview/ (AdminNetworkPolicy is
  evaluated before NetworkPolicy)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..context import Context
from ..edits import append_document, append_items
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..selectors import Selector, from_label_selector

ID = "default-deny-blocks-dns"
SEVERITY = "error"
SUMMARY = "egress-restricting NetworkPolicy without DNS egress for its pods"

PROTOCOLS = ("UDP", "TCP")
DNS_PORTS = (53, 5353)  # 5353: OpenShift's DNS pods
DNS_NAMESPACES = ("kube-system", "openshift-dns")
NODELOCAL = ipaddress.IPv4Network("169.254.0.0/16")
NODELOCAL_DEFAULT = ipaddress.ip_address("169.254.20.10")
# Where pod and Service addresses live: private, shared (CGNAT) and unique-local ranges.
CLUSTER_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
NAMESPACE_NAME_LABELS = ("kubernetes.io/metadata.name", "name")
YES, MAYBE, NO = 2, 1, 0


@dataclass
class Reach:
    """How far one policy's egress rules reach the cluster DNS, per protocol."""

    certain: set[str] = field(default_factory=set)
    possible: set[str] = field(default_factory=set)  # depends on the cluster
    udp_ports: Any = None  # the ports list of a rule certainly allowing UDP 53 (for the TCP fix)
    udp_entry: Any = None  # that list's UDP entry
    notes: list[str] = field(default_factory=list)

    @property
    def any(self) -> set[str]:
        return self.certain | self.possible


@dataclass
class Policy:
    resource: Resource
    selector: Selector
    reach: Reach


def check(ctx: Context) -> Iterator[Finding]:
    policies = [
        p
        for r in ctx.inventory.of_kind("NetworkPolicy")
        if r.api_version.startswith(K8S_POLICY_GROUP) and (p := _policy(r))
    ]
    plugin_dns = [
        r
        for kind in PLUGIN_POLICY_KINDS
        for r in ctx.inventory.of_kind(kind)
        if r.api_version.startswith(PLUGIN_POLICY_GROUPS) and _plugin_allows_dns(r)
    ]
    reported_udp: set[Resource] = set()
    fixed_groups: dict[tuple[str | None, Selector, tuple], Resource] = {}
    for restricting in policies:
        if any(
            _plugin_covers(r, restricting.resource) and ctx.inventory.together(r, restricting.resource)
            for r in plugin_dns
        ):
            continue  # the network plugin's own policies let DNS through
        peers = [
            p
            for p in policies
            if p.resource.could_share_namespace(restricting.resource)
            and ctx.inventory.together(p.resource, restricting.resource)
        ]
        verdict = _verdict(ctx, restricting, peers)
        if verdict is None:
            continue
        kind, detail = verdict
        if kind == "udp-only":
            allowing: Policy = detail
            if allowing.resource not in reported_udp:
                reported_udp.add(allowing.resource)
                yield _udp_only_finding(ctx, allowing, restricting)
            continue
        if ctx.inventory.unscanned_holding(restricting.resource, "NetworkPolicy", "53"):
            continue  # a skipped file of the unit may allow DNS
        group = (restricting.resource.namespace, restricting.selector, ctx.inventory.unit_of(restricting.resource).key)
        first = fixed_groups.setdefault(group, restricting.resource)
        if kind == "narrow":
            yield _narrow_finding(ctx, restricting, detail, policies, first)
            continue
        yield _blocked_finding(ctx, restricting, detail, policies, first)


# --- the network plugin's own policies -----------------------------------------------

K8S_POLICY_GROUP = "networking.k8s.io/"
# Policies of network plugins (and the cluster-wide AdminNetworkPolicy, which takes
# precedence over NetworkPolicies) that can allow DNS to pods a NetworkPolicy isolates.
PLUGIN_POLICY_KINDS = (
    "GlobalNetworkPolicy",
    "NetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "CiliumNetworkPolicy",
    "ClusterNetworkPolicy",
    "AdminNetworkPolicy",
)
PLUGIN_POLICY_GROUPS = (
    "projectcalico.org/",
    "crd.projectcalico.org/",
    "cilium.io/",
    "crd.antrea.io/",
    "policy.networking.k8s.io/",
)
CLUSTER_WIDE_KINDS = frozenset(
    {"GlobalNetworkPolicy", "CiliumClusterwideNetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy"}
)


def _plugin_allows_dns(policy: Resource) -> bool:
    """Whether some egress rule of a Calico, Cilium, Antrea or AdminNetworkPolicy policy
    allows port 53 (or every port). Selectors in these languages are not read: when
    such a policy could apply, the rule cannot tell, and stays silent."""
    rules = policy.get("spec", "egress")
    for rule in rules if isinstance(rules, list) else ():
        if not isinstance(rule, dict):
            continue
        action = rule.get("action")
        if isinstance(action, str) and action.lower() != "allow":
            continue  # Deny, Pass, Log
        found = _port_values(rule)
        if not found or any(str(v).strip().lower() in ("53", "dns", "dns-tcp") for v in found):
            return True
    return False


def _port_values(node: Any) -> list:
    """Every value under a key that names ports, anywhere in an egress rule."""
    found: list = []
    if isinstance(node, dict):
        for key, value in node.items():
            if "port" in str(key).lower() and not isinstance(value, (dict, list)):
                found.append(value)
            elif (
                isinstance(value, list)
                and "port" in str(key).lower()
                and all(not isinstance(v, (dict, list)) for v in value)
            ):
                found.extend(value)
            else:
                found.extend(_port_values(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_port_values(item))
    return found


def _plugin_covers(plugin: Resource, restricting: Resource) -> bool:
    return plugin.kind in CLUSTER_WIDE_KINDS or plugin.could_share_namespace(restricting)


# --- reading policies -------------------------------------------------------------


def _policy(resource: Resource) -> Policy | None:
    spec = resource.get("spec")
    if not isinstance(spec, dict) or not _restricts_egress(spec):
        return None
    selector = from_label_selector(spec.get("podSelector"))
    if selector is None:
        return None  # unreadable selector: nothing to judge
    return Policy(resource, selector, _reach(resource))


def _restricts_egress(spec: dict) -> bool:
    types = spec.get("policyTypes")
    if isinstance(types, list) and types:
        return "Egress" in types
    egress = spec.get("egress")
    return isinstance(egress, list) and len(egress) > 0


def _reach(policy: Resource) -> Reach:
    reach = Reach()
    rules = policy.get("spec", "egress")
    for rule in rules if isinstance(rules, list) else ():
        if not isinstance(rule, dict):
            continue
        for protocol in PROTOCOLS:
            level, ports_entry = _rule_reach(rule, policy.namespace, protocol, reach.notes)
            if level == YES:
                reach.certain.add(protocol)
                if protocol == "UDP" and reach.udp_ports is None and ports_entry is not None:
                    reach.udp_ports, reach.udp_entry = rule.get("ports"), ports_entry
            elif level == MAYBE:
                reach.possible.add(protocol)
    return reach


def _rule_reach(rule: dict, namespace: str | None, protocol: str, notes: list[str]) -> tuple[int, Any]:
    """How surely one egress rule lets ``protocol`` reach DNS, and the port entry that
    names the DNS port (None when the rule allows every port)."""
    ports = rule.get("ports")
    entry = None
    if isinstance(ports, list) and ports:
        hits = [(p, _port_hit(p, protocol)) for p in ports if isinstance(p, dict)]
        specific = [p for p, hit in hits if hit == "dns"]
        if specific:
            entry = specific[0]
        elif not any(hit == "all" for _, hit in hits):
            return NO, None
    targeted = entry is not None  # port 53 named explicitly: a DNS rule, whatever the peer
    to = rule.get("to")
    if not isinstance(to, list) or not to:
        return YES, entry
    best = max((_peer_reach(peer, namespace, targeted, notes) for peer in to), default=NO)
    return best, entry


def _port_hit(entry: dict, protocol: str) -> str | None:
    """'dns' when the entry names a DNS port of ``protocol``, 'all' when it allows
    every port of it, else None."""
    if str(entry.get("protocol") or "TCP").upper() != protocol:
        return None
    port = entry.get("port")
    if port is None:
        return "all"
    end = entry.get("endPort")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, int) and not isinstance(port, bool):
        if port in DNS_PORTS or (isinstance(end, int) and port <= DNS_PORTS[0] <= end):
            return "dns"
        return None
    return "dns" if "dns" in str(port).lower() else None  # CoreDNS names its ports dns, dns-tcp


def _peer_reach(peer: Any, namespace: str | None, targeted: bool, notes: list[str]) -> int:
    unplaced = MAYBE if targeted else NO  # a destination the manifests cannot place
    if not isinstance(peer, dict):
        return unplaced
    if "ipBlock" in peer:
        return _ip_block_reach(peer["ipBlock"], unplaced)
    pods = peer.get("podSelector")
    namespaces = peer.get("namespaceSelector")
    if "namespaceSelector" not in peer:  # pods of the policy's own namespace
        if namespace in DNS_NAMESPACES:
            return YES if _empty(pods) or _names_dns(pods) else unplaced
        if _names_dns(pods):
            notes.append(
                f"its rule to the DNS pods ({_describe(pods)}) has no namespaceSelector, "
                f"so it only matches pods in the policy's own namespace"
            )
            return NO
        return unplaced
    namespace_level = YES if _empty(namespaces) or _names_dns_namespace(namespaces) else unplaced
    pod_level = YES if pods is None or _empty(pods) or _names_dns(pods) else unplaced
    return min(namespace_level, pod_level)


def _ip_block_reach(block: Any, unplaced: int) -> int:
    cidr = block.get("cidr") if isinstance(block, dict) else None
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return unplaced
    if isinstance(network, ipaddress.IPv4Network) and network.subnet_of(NODELOCAL):
        return YES  # a NodeLocal DNSCache address
    if any(network.version == r.version and network.overlaps(r) for r in CLUSTER_RANGES):
        return MAYBE  # may hold the DNS pods; whether ipBlock matches pod IPs depends on the CNI
    return unplaced


def _empty(selector: Any) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def _selector_words(selector: Any) -> list[str]:
    if not isinstance(selector, dict):
        return []
    words = []
    labels = selector.get("matchLabels")
    if isinstance(labels, dict):
        words += [f"{k}={v}" for k, v in labels.items()]
    for expr in selector.get("matchExpressions") or []:
        if isinstance(expr, dict):
            words += [str(expr.get("key", ""))] + [str(v) for v in expr.get("values") or []]
    return words


def _names_dns(selector: Any) -> bool:
    """A pod selector aimed at DNS pods (k8s-app: kube-dns, coredns, node-local-dns)."""
    return any("dns" in word.lower() for word in _selector_words(selector))


def _names_dns_namespace(selector: Any) -> bool:
    if not isinstance(selector, dict):
        return False
    labels = selector.get("matchLabels")
    if not isinstance(labels, dict):
        labels = {}
    names = [str(labels[k]) for k in NAMESPACE_NAME_LABELS if k in labels]
    for expr in selector.get("matchExpressions") or []:
        if isinstance(expr, dict) and expr.get("key") in NAMESPACE_NAME_LABELS and expr.get("operator") == "In":
            names += [str(v) for v in expr.get("values") or []]
    return any(name in DNS_NAMESPACES or "dns" in name for name in names)


def _describe(selector: Any) -> str:
    return ", ".join(_selector_words(selector)) or "{}"


# --- coverage ---------------------------------------------------------------------

COVERS, DISJOINT, PARTIAL = "covers", "disjoint", "partial"


def _relation(allow: Selector, restricted: Selector) -> str:
    """Whether the pods ``allow`` selects include every pod ``restricted`` selects."""
    if allow.is_empty or (
        set(allow.labels) <= set(restricted.labels) and set(allow.expressions) <= set(restricted.expressions)
    ):
        return COVERS
    required = dict(restricted.labels)
    for key, value in allow.labels:
        if key in required and required[key] != value:
            return DISJOINT
    for requirement in allow.expressions:
        if requirement.key in required and not requirement.matches({requirement.key: required[requirement.key]}):
            return DISJOINT
    return PARTIAL


def _verdict(ctx: Context, restricting: Policy, peers: list[Policy]) -> tuple[str, Any] | None:
    """None when DNS is (or may be) allowed; ('udp-only', the allowing policy) or
    ('blocked', the workloads left without DNS, or None for all the pods)."""
    certain: set[str] = set()
    possible: set[str] = set()
    partial: list[Policy] = []
    for peer in peers:
        relation = COVERS if peer is restricting else _relation(peer.selector, restricting.selector)
        if relation == COVERS:
            certain |= peer.reach.certain
            possible |= peer.reach.possible
        elif relation == PARTIAL and peer.reach.any:
            partial.append(peer)
    reachable = certain | possible
    if set(PROTOCOLS) <= reachable:
        return None
    if partial:
        blocked = _blocked_workloads(ctx, restricting, certain | possible, partial)
        if blocked:
            return "blocked", blocked
        if restricting.selector.is_empty and "UDP" not in reachable:
            return "narrow", partial  # every other pod of the namespace: no workload needed to tell
        return None
    if "UDP" in reachable:
        if "UDP" not in certain:
            return None
        allowing = next(
            p
            for p in peers
            if "UDP" in p.reach.certain and (p is restricting or _relation(p.selector, restricting.selector) == COVERS)
        )
        return "udp-only", allowing
    return "blocked", None


def _isolated_workloads(ctx: Context, restricting: Policy) -> list:
    """The scanned workloads whose pods the restricting policy selects: those that
    could share its namespace (the one place this rule asks which workloads are
    applied with a policy)."""
    return [
        w for w in ctx.inventory.workloads_deployed_with(restricting.resource) if restricting.selector.matches(w.labels)
    ]


def _blocked_workloads(ctx: Context, restricting: Policy, reachable: set[str], partial: list[Policy]) -> list:
    """Scanned workloads the restricting policy isolates and no DNS allowance
    reaches; empty when there are none to judge."""
    blocked = []
    for workload in _isolated_workloads(ctx, restricting):
        allowed = set(reachable)
        for peer in partial:
            if (
                peer.resource.could_share_namespace(workload.resource)
                and peer.selector.matches(workload.labels)
                and ctx.inventory.together(peer.resource, workload.resource)
            ):
                allowed |= peer.reach.any
        if "UDP" not in allowed:
            blocked.append(workload)
    return blocked


# --- findings ---------------------------------------------------------------------


def _pods(policy: Policy) -> str:
    where = f" in namespace {policy.resource.namespace}" if policy.resource.namespace else ""
    if policy.selector.is_empty:
        return f"every pod{where}"
    return f"the pods with {_describe(policy.resource.get('spec', 'podSelector'))}{where}"


def _field_path(policy: Resource) -> tuple[str | int, ...]:
    types = policy.get("spec", "policyTypes")
    if isinstance(types, list) and "Egress" in types:
        return ("spec", "policyTypes", types.index("Egress"))
    return ("spec", "egress")


def _blocked_finding(
    ctx: Context, restricting: Policy, blocked: list | None, policies: list[Policy], first: Resource
) -> Finding:
    resource = restricting.resource
    if blocked:
        subject = "the pods of " + ", ".join(f"{w.kind} {w.name}" for w in blocked)
    else:
        subject = _pods(restricting)
    message = (
        f"NetworkPolicy {resource.name} isolates {subject} for egress, and no NetworkPolicy "
        f"selecting them allows DNS (UDP and TCP port 53 to the cluster DNS): every name lookup "
        f"times out, so even `my-service:80` cannot be resolved."
    )
    notes = [
        n
        for p in policies
        if p.resource.could_share_namespace(resource) and ctx.inventory.together(p.resource, resource)
        for n in p.reach.notes
    ]
    if notes:
        message += f" Note: {notes[0]}."
    fix = None
    if first is resource:
        fix = _allow_dns_fix(ctx, restricting, policies)
    else:
        message += f" The fix offered on NetworkPolicy {first.name} ({first.path}) covers these pods too."
    related = [
        Related(w.resource.path, w.resource.start_line, f"{w.kind} {w.name}: no DNS egress") for w in blocked or ()
    ]
    return ctx.finding(
        resource,
        _field_path(resource),
        message + ctx.caveat(resource),
        fix=fix,
        related=related,
        field="spec.egress.dns",
    )


def _narrow_finding(
    ctx: Context, restricting: Policy, allowing: list[Policy], policies: list[Policy], first: Resource
) -> Finding:
    """A namespace-wide egress deny whose DNS allowances select narrower groups of
    pods: every other pod of the namespace, whoever deploys it, has no DNS. An
    `info` note when every scanned workload under the deny keeps DNS (the pods left
    out are none the files show), a warning when the files show none at all."""
    resource = restricting.resource
    kept = "; ".join(f"{_pods(p)} (NetworkPolicy {p.resource.name})" for p in allowing[:3])
    scanned = _isolated_workloads(ctx, restricting)
    message = (
        f"NetworkPolicy {resource.name} isolates {_pods(restricting)} for egress, but DNS is allowed "
        f"only for {kept}: every other pod of the namespace, including any the manifests here do "
        f"not show (a Job, a debug pod, another team's app), cannot resolve names. Allow DNS for "
        f"every pod the deny selects."
    )
    if scanned:
        message += " Every workload in these files keeps DNS, so only pods deployed from elsewhere are hit."
    fix = _allow_dns_fix(ctx, restricting, policies) if first is resource else None
    if first is not resource:
        message += f" The fix offered on NetworkPolicy {first.name} ({first.path}) covers these pods too."
    related = [
        Related(p.resource.path, p.resource.start_line, f"NetworkPolicy {p.resource.name}: DNS for {_pods(p)} only")
        for p in allowing
    ]
    return ctx.finding(
        resource,
        _field_path(resource),
        message + ctx.caveat(resource),
        fix=fix,
        related=related,
        severity="info" if scanned else "warning",
        field="spec.egress.dns",
    )


def _udp_only_finding(ctx: Context, allowing: Policy, restricting: Policy) -> Finding:
    resource = allowing.resource
    via = "" if allowing is restricting else f" (for the pods NetworkPolicy {restricting.resource.name} isolates)"
    message = (
        f"NetworkPolicy {resource.name} allows DNS over UDP but not over TCP{via}: answers too "
        f"large for one UDP message (many records, long CNAME chains, DNSSEC) are retried over "
        f"TCP port 53, and those lookups will fail. Allow TCP on the same port."
    )
    path: tuple[Any, ...] = ("spec", "egress")
    entry = allowing.reach.udp_entry
    ports = allowing.reach.udp_ports
    lines = None
    if entry is not None and hasattr(ports, "at"):
        span = ports.at[ports.index(entry)]
        lines = (span.key_line, span.end)
    return ctx.finding(
        resource,
        path,
        message + ctx.caveat(resource),
        severity="warning",
        fix=_tcp_fix(allowing),
        lines=lines,
        field="spec.egress.dns-tcp",
    )


# --- fixes ------------------------------------------------------------------------


def _tcp_fix(policy: Policy) -> Fix | None:
    ports, entry = policy.reach.udp_ports, policy.reach.udp_entry
    if entry is None:
        return None
    tcp: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "protocol":
            value = "TCP"
        elif key == "port" and isinstance(value, str) and not value.isdigit():
            value = "dns-tcp" if value.lower() in ("dns", "dns-udp") else value
        tcp[key] = value
    tcp.setdefault("protocol", "TCP")
    edit = append_items(policy.resource.source, ports, [tcp])
    if edit is None:
        return None
    return Fix(f"Allow TCP port {tcp.get('port', 53)} next to UDP in NetworkPolicy {policy.resource.name}", (edit,))


def _allow_dns_fix(ctx: Context, restricting: Policy, policies: list[Policy]) -> Fix:
    resource = restricting.resource
    name = _free_name(ctx, restricting)
    metadata: dict[str, Any] = {"name": name}
    if resource.get("metadata", "namespace"):  # as written: a kustomization sets the rest
        metadata["namespace"] = resource.namespace
    to: list[dict[str, Any]]
    if _openshift(ctx):
        to = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "openshift-dns"}}}]
        port = 5353
    else:
        to = [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            },
            {"ipBlock": {"cidr": f"{NODELOCAL_DEFAULT}/32"}},
        ]
        port = 53
    document = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {
            "podSelector": resource.get("spec", "podSelector") or {},
            "policyTypes": ["Egress"],
            "egress": [{"to": to, "ports": [{"protocol": "UDP", "port": port}, {"protocol": "TCP", "port": port}]}],
        },
    }
    edit = append_document(resource.source, resource.doc.end_line, document)
    return Fix(f"Add NetworkPolicy {name} allowing DNS (UDP and TCP {port}) for the same pods", (edit,))


def _free_name(ctx: Context, restricting: Policy) -> str:
    resource = restricting.resource
    base = "allow-dns" if restricting.selector.is_empty else f"allow-dns-{resource.name}"
    taken = {resource.name} | {r.name for r in ctx.inventory.deployed_with(resource, "NetworkPolicy")}
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def _openshift(ctx: Context) -> bool:
    return any(".openshift.io/" in version for version in ctx.inventory.api_versions)
