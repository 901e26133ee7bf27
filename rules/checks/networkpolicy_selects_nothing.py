"""A NetworkPolicy whose pod selector matches no pods.

A NetworkPolicy applies to the pods of its namespace that its `spec.podSelector`
matches, and its `from` / `to` peers with a `podSelector` (and no
`namespaceSelector`) name pods of the same namespace. The rule reports, as
warnings:
- a non-empty `spec.podSelector` that matches no pod template in the scanned
  files that could share the policy's namespace: the policy applies to nothing;
- a peer `podSelector` (same namespace) that matches no such pod template: the
  rule allows traffic from or to nobody.

An empty selector (`{}`) selects every pod and is not judged. Labels that
controllers add to pods at run time (`statefulset.kubernetes.io/pod-name`,
`job-name`, `pod-template-hash`, ...) are left out of the comparison, as in
`service-selector-mismatch`.

Left alone: a policy in a namespace of which the scan holds no workload (the
pods are deployed from elsewhere); a policy whose namespace a Helm release or an
Argo CD Application installs into, or where an operator's custom resource could
make the pods (declare such kinds under `custom-workloads` to have them judged);
a policy applied with a CustomResourceDefinition (it installs an operator, whose
custom resources, and so pods, usually come in a later step);
peers with a `namespaceSelector` or an `ipBlock`; Calico, Cilium and other
plugins' own policy kinds.

## Why it matters
A policy that selects nothing is accepted and silently does nothing: the pods it
was meant to isolate stay open (or, for a default-deny meant to close a
namespace's app, stay reachable). A peer that matches no pod allows nothing: once
the target pods are isolated by any policy, the traffic meant to be allowed is
dropped, and the application times out. A label renamed in the Deployment but not
in the policy is the usual cause. `kubectl get pods -n <namespace> -l
<selector>` lists no pod.

kube-linter's `dangling-networkpolicy` and `dangling-networkpolicypeer-podselector`
compare namespaces literally (a policy without `metadata.namespace` and a
Deployment with one never match) and fire when the pods come from a chart or an
operator the manifests only name; this rule treats an unset namespace as any and
stays silent there.

## How to fix
Make the selector match the pods' labels (`spec.template.metadata.labels`). When
the selector is a plain `matchLabels` and exactly one of its values is nearly
the value that pods matching its other labels carry (a typo, a word-wise
prefix), the fix sets that value. Verify with `kubectl get pods -n <namespace>
-l <key>=<value>` and `kubectl describe networkpolicy <name> -n <namespace>`.

## Example
Bad:
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: payments-ingress
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: payment
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: checkout
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
  namespace: payments
spec:
  selector:
    matchLabels:
      app: payments
  template:
    metadata:
      labels:
        app: payments
    spec:
      containers:
        - name: payments
          image: registry.example.com/payments:5.1.0
```
Good: `app: payments`, the label the pods carry (and a `checkout` workload in the
namespace, or a `namespaceSelector` for the namespace it runs in):
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: payments-ingress
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: payments
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: checkout
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
  namespace: payments
spec:
  selector:
    matchLabels:
      app: payments
  template:
    metadata:
      labels:
        app: payments
    spec:
      containers:
        - name: payments
          image: registry.example.com/payments:5.1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: payments
spec:
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:2.0.1
```

## Configuration
- `custom-workloads`: custom resources whose pod templates count as pods.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
- https://kubernetes.io/docs/concepts/services-networking/network-policies/#behavior-of-to-and-from-selectors
- https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
- https://docs.kubelinter.io/#/generated/checks?id=dangling-networkpolicy
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..backends import made_elsewhere, nearest_name, shows_its_namespace
from ..context import Context
from ..edits import set_scalar
from ..manifests import Resource
from ..model import Finding, Fix
from ..selectors import Selector, from_label_selector, is_runtime_key
from ..workloads import Workload
from ..yamltree import YMap

ID = "networkpolicy-selects-nothing"
SEVERITY = "warning"
SUMMARY = "a NetworkPolicy whose pod selector, or a peer's, matches no pods"

PEERS = (("ingress", "from"), ("egress", "to"))


def check(ctx: Context) -> Iterator[Finding]:
    judged: dict[tuple, bool] = {}  # per namespace and unit: are its pods all in the scan?
    for policy in ctx.inventory.of_kind("NetworkPolicy"):
        if not policy.api_version.startswith("networking.k8s.io/"):
            continue
        namespace = policy.namespace
        key = (namespace, ctx.inventory.units.roots(policy.path))
        if key not in judged:
            judged[key] = (
                shows_its_namespace(ctx, policy, namespace, services=False)
                and not made_elsewhere(ctx, policy, namespace)
                and not _installs_operator(ctx, policy)
            )
        if not judged[key]:
            continue
        for path in _selector_paths(policy):
            found = _check_selector(ctx, policy, path)
            if found is not None:
                yield found


def _installs_operator(ctx: Context, policy: Resource) -> bool:
    """Whether a CustomResourceDefinition is applied with the policy: the operator
    installed there makes pods from custom resources that are usually applied in a
    later step or from another folder, so the policy's pods need not be in the scan."""
    return any(ctx.inventory.together(policy, crd) for crd in ctx.inventory.of_kind("CustomResourceDefinition"))


def _selector_paths(policy: Resource) -> Iterator[tuple[Any, ...]]:
    """``spec.podSelector``, then each same-namespace peer's ``podSelector``."""
    yield ("spec", "podSelector")
    for direction, key in PEERS:
        rules = policy.get("spec", direction)
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            peers = rule.get(key) if isinstance(rule, dict) else None
            for j, peer in enumerate(peers if isinstance(peers, list) else []):
                if isinstance(peer, dict) and "podSelector" in peer and "namespaceSelector" not in peer:
                    yield ("spec", direction, i, key, j, "podSelector")


def _check_selector(ctx: Context, policy: Resource, path: tuple[Any, ...]) -> Finding | None:
    raw = policy.get(*path)
    parsed = from_label_selector(raw)
    if parsed is None:
        return None
    selector = parsed.without_keys(is_runtime_key)
    if selector.is_empty or ctx.inventory.workloads_selected(selector, policy):
        return None
    ns = policy.namespace
    described = _as_kubectl(selector)
    if len(path) == 2:
        message = (
            f"NetworkPolicy {policy.name} applies to pods matching {described}, and no workload"
            f"{f' in namespace {ns}' if ns else ''} has such pods: the policy isolates nothing, and "
            f"the pods it was meant for accept and send whatever other policies allow."
        )
    else:
        direction = "from" if path[1] == "ingress" else "to"
        message = (
            f"NetworkPolicy {policy.name} allows traffic {direction} pods matching {described}, and "
            f"no workload{f' in namespace {ns}' if ns else ''} has such pods: this peer allows nothing, "
            f"and the traffic meant to be allowed is dropped."
        )
    fix = _fix(ctx, policy, path, raw, selector)
    message += (
        f" Verify with `kubectl get pods -n {ns or '<namespace>'} -l {_as_kubectl(selector)}` (no pods)."
    ) + ctx.caveat(policy)
    return ctx.finding(policy, path, message, fix=fix)


def _fix(ctx: Context, policy: Resource, path: tuple[Any, ...], raw: Any, selector: Selector) -> Fix | None:
    """A plain ``matchLabels`` one of whose values is nearly the one the pods
    matching its other labels carry."""
    labels = raw.get("matchLabels") if isinstance(raw, dict) else None
    if not isinstance(labels, YMap) or raw.get("matchExpressions") or selector.expressions:
        return None
    choices = {}
    for key, value in selector.labels:
        rest = Selector(tuple(pair for pair in selector.labels if pair[0] != key))
        nearest = nearest_name(value, _values(ctx, policy, rest, key))
        if nearest is not None:
            choices[key] = nearest
    if len(choices) != 1:
        return None
    key, value = choices.popitem()
    edit = set_scalar(policy.source, labels, key, value)
    return Fix(f"Select {key}={value}, the label the pods carry", (edit,)) if edit else None


def _values(ctx: Context, policy: Resource, rest: Selector, key: str) -> set[str]:
    candidates: list[Workload] = (
        ctx.inventory.workloads_selected(rest, policy)
        if not rest.is_empty
        else ctx.inventory.workloads_deployed_with(policy)
    )
    return {w.labels[key] for w in candidates if key in w.labels}


def _as_kubectl(selector: Selector) -> str:
    parts = [f"{k}={v}" for k, v in selector.labels]
    for requirement in selector.expressions:
        values = ",".join(sorted(requirement.values))
        parts.append(
            {
                "In": f"{requirement.key} in ({values})",
                "NotIn": f"{requirement.key} notin ({values})",
                "Exists": requirement.key,
                "DoesNotExist": f"!{requirement.key}",
            }[requirement.operator]
        )
    return "'" + ",".join(parts) + "'"
