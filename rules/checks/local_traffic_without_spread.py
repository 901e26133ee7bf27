"""`externalTrafficPolicy: Local` on pods that are not spread one per node.

With `externalTrafficPolicy: Local` a node hands external traffic only to the
Service's pods on that same node (that is how the client's source IP survives). The
rule looks at LoadBalancer and NodePort Services with that policy, finds the
Deployments, StatefulSets, ReplicaSets, ReplicationControllers and Argo Rollouts they
select, and reports each one that neither spreads its pods over nodes with a
`topologySpreadConstraints` entry on `kubernetes.io/hostname` with
`whenUnsatisfiable: DoNotSchedule`, nor keeps them apart with a required pod
anti-affinity on that key. A spread or anti-affinity term counts only when its
`labelSelector` picks the workload's own pods (without one, it counts no pods and
spreads nothing).

Left alone: DaemonSets (one pod per node already), Services whose pods come from
workloads outside the scanned files, and workloads pinned to `replicas: 0` or `1`
that no HorizontalPodAutoscaler or KEDA ScaledObject in the scan scales (a
Deployment with `strategy: Recreate` and no replica count runs one pod).

## Why it matters
kube-proxy does not forward Local traffic to another node: a node without a ready
pod of the Service drops it. For a LoadBalancer Service, kube-proxy answers the load
balancer's health checks on the Service's `healthCheckNodePort`, failing on nodes
that hold no local endpoint, so the load balancer stops sending there, but only
after its health check notices (during a rollout or a reschedule that is a window of
dropped connections). And since many cloud load balancers weigh every healthy node
the same, a node running three pods gets no more traffic than a node running one:
the pods on crowded nodes sit idle while a lone pod elsewhere takes a full node's
share. A NodePort Service has no health check port at all: whatever sends traffic
to the node ports must itself avoid nodes without a pod.

With MetalLB in layer 2 mode all traffic for the Service's IP enters through one
node anyway (with `Local`, MetalLB announces the IP from a node that runs one of the
Service's pods), so spreading the pods spreads no load and nothing is dropped:
silence the rule on such a Service with
`# footgun:ignore local-traffic-without-spread`.

## How to fix
Add a topology spread constraint on `kubernetes.io/hostname` with
`whenUnsatisfiable: DoNotSchedule` and `maxSkew: 1`, selecting the workload's own
pods, so the scheduler keeps the pods evenly over the nodes. The fix inserts one
into the pod template, in the workload's file; an existing hostname entry that is
only `ScheduleAnyway` is made `DoNotSchedule` instead, and one whose `labelSelector`
misses the pods gets the pods' labels. A required pod anti-affinity on the hostname
key (at most one pod per node) works too. If some nodes carry taints these pods do
not tolerate, also set `nodeTaintsPolicy: Honor` on the constraint: by default
tainted nodes count as empty domains and can hold new pods Pending.
Alternatively, run the pods as a DaemonSet, or go back to
`externalTrafficPolicy: Cluster` if the client IP is not needed.

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: api-server
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector:
    app: api-server
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-server
spec:
  replicas: 5
  selector:
    matchLabels:
      app: api-server
  template:
    metadata:
      labels:
        app: api-server
    spec:
      containers:
        - name: api
          image: example/api:1.0
```
Good:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-server
spec:
  replicas: 5
  selector:
    matchLabels:
      app: api-server
  template:
    metadata:
      labels:
        app: api-server
    spec:
      containers:
        - name: api
          image: example/api:1.0
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels:
              app: api-server
```

## Configuration
No options of its own; `custom-workloads` teaches it pods made by operators.

## Sources
- https://kubernetes.io/docs/reference/networking/virtual-ips/#external-traffic-policy
  ("If the traffic policy is Local and there are no node-local endpoints, the
  kube-proxy does not forward any traffic for the relevant Service")
- https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip
  (`healthCheckNodePort`; equal weights per node and the resulting imbalance)
- https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/
  (`healthCheckNodePort` exists only for `type: LoadBalancer` with `Local`)
- https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
  (`labelSelector`, `nodeTaintsPolicy` defaulting to Ignore)
- https://metallb.universe.tf/concepts/layer2/ ("all traffic for a service IP goes
  to one node"), https://github.com/metallb/metallb/issues/322 (with `Local`, layer 2
  announces only from nodes running a pod of the Service)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..context import Context
from ..edits import insert_entries, set_block, set_scalar
from ..manifests import Resource
from ..model import Edit, Finding, Fix, Related
from ..selectors import from_label_selector, from_map
from ..workloads import REPLICATED_KINDS, Workload, insert_into_pod_spec

ID = "local-traffic-without-spread"
SEVERITY = "warning"
SUMMARY = "externalTrafficPolicy: Local on pods not spread one per node"

HOSTNAME = "kubernetes.io/hostname"
EXTERNAL_TYPES = ("LoadBalancer", "NodePort")


def check(ctx: Context) -> Iterator[Finding]:
    for service in ctx.inventory.of_kind("Service"):
        spec = service.get("spec")
        if (
            not isinstance(spec, dict)
            or spec.get("externalTrafficPolicy") != "Local"
            or spec.get("type") not in EXTERNAL_TYPES
        ):
            continue
        selector = from_map(spec.get("selector"))
        selected, wider = ctx.inventory.workloads_selected_or_wider(selector, service)
        if any(w.kind == "DaemonSet" for w in selected) or ctx.inventory.unscanned_holding(
            service, "DaemonSet", *(v for _, v in selector.labels)
        ):
            continue  # a pod on every node already (or maybe, in a skipped file of the unit)
        unspread = [
            w for w in selected if w.kind in REPLICATED_KINDS and not _spread(w) and ctx.inventory.may_run_several(w)
        ]
        unspread += [w for w in ctx.inventory.replicated_pods(selected) if not _spread(w)]
        if unspread:
            yield _finding(ctx, service, unspread, wider)


def _finding(ctx: Context, service: Resource, unspread: list[Workload], wider: bool) -> Finding:
    names = ", ".join(f"{w.kind} {w.name} ({w.resource.path})" for w in unspread)
    if wider:  # nothing deployed with the Service makes pods: these come from elsewhere
        names = f"if the pods come from elsewhere in the repository, {names}"
    verb, its = ("does", "its") if len(unspread) == 1 else ("do", "their")
    if service.get("spec", "type") == "LoadBalancer":
        effect = (
            "nodes without one of its pods drop the traffic until the load balancer's "
            "health check (the Service's healthCheckNodePort) takes them out, and a node "
            "running several pods gets no more traffic than a node running one"
        )
    else:
        effect = (
            "nodes without one of its pods drop the traffic sent to their node port "
            "(a NodePort Service has no health check port to steer clients away)"
        )
    message = (
        f"externalTrafficPolicy: Local only delivers to pods on the receiving node, but "
        f"{names} {verb} not keep {its} pods one per node: {effect}. Spread the pods with a "
        f"topologySpreadConstraints entry on {HOSTNAME} (whenUnsatisfiable: DoNotSchedule) "
        f"or a required pod anti-affinity on that key."
    ) + ctx.caveat(service)
    related = [
        Related(w.resource.path, _template_line(w), f"{w.kind} {w.name}: pods not spread over nodes") for w in unspread
    ]
    # a fix edits the workloads: only those deployed with the Service, and never bare
    # Pods (a Pod's spec cannot be changed in place)
    editable = not wider and all(w.kind != "Pod" for w in unspread)
    return ctx.finding(
        service, ("spec", "externalTrafficPolicy"), message, fix=_fix(unspread) if editable else None, related=related
    )


def _template_line(workload: Workload) -> int:
    span = workload.resource.span(*workload.pod_spec_path)
    return span.key_line if span else workload.resource.start_line


# --- what counts as spread --------------------------------------------------------


def _spread(workload: Workload) -> bool:
    spec = workload.pod_spec
    if not isinstance(spec, dict):
        return True  # nothing to judge: stay silent
    for constraint in _hostname_constraints(spec):
        if constraint.get("whenUnsatisfiable") == "DoNotSchedule" and _counts_own_pods(
            constraint.get("labelSelector"), workload.labels
        ):
            return True
    anti = workload.resource.get(
        *workload.pod_spec_path, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"
    )
    for term in anti if isinstance(anti, list) else ():
        if (
            isinstance(term, dict)
            and term.get("topologyKey") == HOSTNAME
            and _counts_own_pods(term.get("labelSelector"), workload.labels)
        ):
            return True
    return False


def _hostname_constraints(spec: dict) -> list[Any]:
    constraints = spec.get("topologySpreadConstraints")
    if not isinstance(constraints, list):
        return []
    return [c for c in constraints if isinstance(c, dict) and c.get("topologyKey") == HOSTNAME]


def _counts_own_pods(selector: Any, labels: dict[str, str]) -> bool:
    """Whether a spread or anti-affinity term's labelSelector counts the workload's
    own pods. A missing selector counts none; one that cannot be read is given the
    benefit of the doubt."""
    if selector is None:
        return False
    parsed = from_label_selector(selector)
    return parsed is None or parsed.matches(labels)


# --- the fix --------------------------------------------------------------------


def _fix(workloads: list[Workload]) -> Fix | None:
    edits: list[Edit] = []
    for workload in workloads:
        workload_edits = _spread_edits(workload)
        if not workload_edits:
            return None
        edits.extend(workload_edits)
    names = ", ".join(f"{w.kind} {w.name}" for w in workloads)
    return Fix(
        f"Spread the pods of {names} one per node: topologySpreadConstraints on "
        f"{HOSTNAME} with whenUnsatisfiable: DoNotSchedule",
        tuple(edits),
    )


def _spread_edits(workload: Workload) -> list[Edit] | None:
    source = workload.resource.source
    selector = {"matchLabels": _pod_labels_for_selector(workload)}
    constraints = _hostname_constraints(workload.pod_spec)
    hard = [c for c in constraints if c.get("whenUnsatisfiable") == "DoNotSchedule"]
    soft = [
        c
        for c in constraints
        if c.get("whenUnsatisfiable") == "ScheduleAnyway" and _counts_own_pods(c.get("labelSelector"), workload.labels)
    ]
    if hard:  # there, but counting other pods: point it at this workload's pods
        constraint = hard[0]
        if "labelSelector" in constraint:
            edit = set_block(source, constraint, "labelSelector", selector)
        else:
            edit = insert_entries(source, constraint, {"labelSelector": selector})
        return [edit] if edit else None
    if soft:  # a preference only: make it a requirement
        edit = set_scalar(source, soft[0], "whenUnsatisfiable", "DoNotSchedule")
        return [edit] if edit else None
    entry = {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector}
    return insert_into_pod_spec(workload, {"topologySpreadConstraints": [entry]})


def _pod_labels_for_selector(workload: Workload) -> dict[str, str]:
    """The pod labels that identify this workload's pods: the keys of its own
    selector where it has one, else all of the template's labels."""
    own = workload.resource.get("spec", "selector")
    if isinstance(own, dict) and isinstance(own.get("matchLabels"), dict):
        own = own["matchLabels"]
    elif workload.kind != "ReplicationController":
        own = None  # matchExpressions only: fall back to the template labels
    keys = [str(k) for k in own] if isinstance(own, dict) else []
    chosen = {k: workload.labels[k] for k in keys if k in workload.labels}
    return chosen or dict(workload.labels)
