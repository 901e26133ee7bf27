"""A Service whose selector matches no workload's pod labels.

A Service sends traffic to the pods whose labels contain every pair of its
`spec.selector`. The rule reports a Service with a selector that picks none of the
pod templates in the scanned files (Deployments, StatefulSets, DaemonSets,
ReplicaSets, ReplicationControllers, Jobs, CronJobs, Pods, Argo Rollouts, and the
custom workloads the config declares) while some workload could share its
namespace. The usual causes: a one-character typo (`api-server` vs `api`), labels
put on the Deployment's own `metadata.labels` but not on its pod template
(`spec.template.metadata.labels`, which is what a Service matches), and a key that
differs (`app` vs `app.kubernetes.io/name`).

Left alone:
- Services without a selector (their Endpoints or EndpointSlices are managed by
  hand or by a controller) and `type: ExternalName` Services;
- Services whose Endpoints or EndpointSlice (labelled
  `kubernetes.io/service-name`) is in the scanned files: their addresses are
  listed by hand, whatever the selector matches;
- Services whose namespace holds no scanned workload at all: the pods come from
  elsewhere (an operator, another repository, a chart);
- selector keys that controllers add to pods at run time: `job-name`,
  `batch.kubernetes.io/job-name`, `controller-uid`,
  `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-completion-index`,
  `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
  `pod-template-hash`, `controller-revision-hash`, `pod-template-generation`,
  Argo Rollouts' `rollouts-pod-template-hash` and `leaderworkerset.sigs.k8s.io/*`.
  The selector is matched on its other keys only (none left: nothing to check);
- the apex Service of an SMI `TrafficSplit` (`spec.service`), which selects no pods
  by design: the mesh sends its traffic to the split's backends;
- a Service of `kube-system` (or of no namespace) that selects pods the cluster runs
  itself: kubeadm's static control-plane pods (`component: kube-apiserver`,
  `kube-controller-manager`, `kube-scheduler`, `etcd`; `tier: control-plane`) and
  the add-ons kubeadm or the cloud provider installs (`k8s-app: kube-dns`,
  `kube-proxy`, `node-local-dns`, `metrics-server`, ...), typically to scrape their
  metrics;
- a Service that no scanned workload resembles while custom resources that may
  make pods (an operator's `Prometheus`, `Kafka`, `LeaderWorkerSet`, ...) could share
  its namespace: the pods are likely the operator's. Declare such kinds under
  `custom-workloads` to have their pods checked. Whatever the scanned workloads look
  like, a Service whose labels such a custom resource carries (on itself, or in a
  labels map of its spec such as a Prometheus's `spec.podMetadata.labels`) is left
  alone: it selects the operator's pods. So is a Service one of whose selector
  values is such a custom resource's `metadata.name`, or holds it as a run of
  words (`my-cluster` in `my-cluster-kafka`, not `db` in `mongodb`): operators
  label their pods after the resource (`app.kubernetes.io/instance: <name>`,
  Strimzi's `strimzi.io/cluster: <name>` and `strimzi.io/name: <name>-kafka`,
  OT-CONTAINER-KIT's `app: <name>-leader`, Zalando's `cluster-name: <name>`,
  CloudNativePG's `cnpg.io/cluster: <name>`), so a look-alike workload of another
  example is not what it means. Configs of tools that are never applied to a
  cluster (kind's `kind.x-k8s.io` `Cluster`, k3d's `Simple`, ctlptl's, k0sctl's,
  eksctl's, kpt's, Tilt's) make no pods and count for nothing here. Likewise when a
  Flux `HelmRelease`,
  an Argo CD `Application` or a k3s `HelmChart` installs into its namespace
  (`targetNamespace`, `destination.namespace`, else the release's own): the pods
  are likely the chart's.

A namespace left unset is decided at apply time, so such a Service is compared
with the workloads of every namespace, and such a workload with every Service.

Manifests exported from a cluster (`kubectl get -o yaml`, with `status`, `uid` and
`resourceVersion`) are judged like any other: the selector is what someone wrote.

## Why it matters
The Service is created, looks fine, and has no endpoints: every connection to it
is refused or times out. `kubectl get endpoints <service>` shows `<none>`, but
nothing else complains. It is the most common Kubernetes networking bug.

## How to fix
Make the selector equal to labels the pods really carry. The fix rewrites the
selector to the pod labels of the most likely intended workload, chosen in this
order: a workload whose own `metadata.labels` match the selector (the labels were
put on the Deployment instead of its pods); else the workload whose pod labels are
closest to the selector (same keys with nearly the same values, or the same values
under another key), or whose name is closest to the Service's. The selector keeps
its keys where the pods have them. When the workloads are too different to tell
which one was meant, no fix is offered.

When the labels sit on the Deployment's metadata only, the better fix is usually
on the pod template: the missing labels are added there, as long as the
workload's own `spec.selector` still matches the template afterwards (Kubernetes
rejects a Deployment whose selector does not match its template labels, and the
selector cannot be changed after creation). Adding pod labels rolls the pods.
Otherwise the Service selector is changed.

Verify after applying: `kubectl get endpoints <service> -n <namespace>` lists pod
addresses. `kubectl expose deployment <name>` writes a Service whose selector is
the Deployment's own.

## Example
Bad:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: api-server
  namespace: production
spec:
  selector:
    app: api-server
  ports:
    - port: 80
      targetPort: 8000
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: production
spec:
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
          image: registry.example.com/api:1.4.2
```
Good:
```yaml
apiVersion: v1
kind: Service
metadata:
  name: api-server
  namespace: production
spec:
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8000
```

## Configuration
- `custom-workloads`: custom resources whose operators make pods (kind and the
  path of the pod template), so a Service selecting those pods is not reported.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors
- https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#selector
- https://kubernetes.io/docs/reference/labels-annotations-taints/ (labels set by controllers)
- https://github.com/servicemeshinterface/smi-spec/blob/main/apis/traffic-split/v1alpha4/traffic-split.md
- https://kubernetes.io/docs/reference/setup-tools/kubeadm/implementation-details/
  (static Pod manifests of the control plane, labelled `component` and `tier`)
- https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
  (`app.kubernetes.io/instance`: the name of the instance)
- https://github.com/OT-CONTAINER-KIT/redis-operator/tree/main/example/v1beta2/external_service
  (Services selecting `app: <RedisCluster name>-leader`, the labels the operator
  puts on its pods)
- https://github.com/zalando/postgres-operator/blob/master/docs/reference/operator_parameters.md
  (`cluster_name_label`, default `cluster-name`, set to the postgresql's name)
- https://kind.sigs.k8s.io/docs/user/configuration/, https://k3d.io/stable/usage/configfile/,
  https://github.com/tilt-dev/ctlptl (configs read by the tools' commands)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import operators
from ..context import Context
from ..edits import merge_entries, render_scalar, replace_lines, set_scalar, style_of
from ..manifests import Resource
from ..model import Edit, Finding, Fix, Related
from ..selector_candidates import (
    NAMED,
    NEAR,
    RENAMED,
    Candidates,
    candidate_workloads,
    plausible,
    texts_of,
)
from ..selectors import Selector, from_label_selector, from_map, is_runtime_key, label_value
from ..similarity import Text, prepare, ratio_bound, similar, similar_bound, typo
from ..workloads import Workload
from ..yamltree import YMap

ID = "service-selector-mismatch"
SEVERITY = "error"
SUMMARY = "a Service selector that matches no workload's pod labels"

# Scores of two workloads closer than this: either may be the one meant.
CLOSE = 0.05


# Pods the cluster runs itself in kube-system, never in a repository's manifests:
# kubeadm's static control-plane pods (from /etc/kubernetes/manifests) and the
# add-ons kubeadm or the cloud provider installs.
CLUSTER_COMPONENTS = {
    "component": frozenset({"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"}),
    "tier": frozenset({"control-plane"}),
    "k8s-app": frozenset(
        {
            "kube-dns",
            "kube-proxy",
            "node-local-dns",
            "metrics-server",
            "konnectivity-agent",
            "kube-controller-manager",
            "kube-scheduler",
        }
    ),
}


def _cluster_component(service: Resource, selector: Selector) -> bool:
    """A kube-system Service selecting control-plane or add-on pods (typically to
    scrape their metrics)."""
    if service.namespace not in (None, "kube-system"):
        return False
    return any(value in CLUSTER_COMPONENTS.get(key, ()) for key, value in selector.labels)


def check(ctx: Context) -> Iterator[Finding]:
    apexes = _trafficsplit_apexes(ctx)
    for service in ctx.inventory.of_kind("Service"):
        if service.api_version != "v1":
            continue  # e.g. a Knative serving.knative.dev Service
        spec = service.get("spec")
        if not isinstance(spec, dict) or spec.get("type") == "ExternalName":
            continue
        raw = spec.get("selector")
        if not isinstance(raw, YMap) or not raw:
            continue
        selector = from_map(raw).without_keys(is_runtime_key)
        if selector.is_empty:
            continue  # only run-time keys: nothing the manifests can tell
        # The label index answers for most Services without listing the namespace's
        # workloads: the rule stays linear in namespace size (guarded by
        # tests/rules/test_selector_mismatch_scaling.py).
        if (
            ctx.inventory.workloads_selected(selector, service)
            or ctx.inventory.workloads_selected_in_subtree(selector, service)
            or _endpoints_by_hand(ctx, service)
        ):
            continue
        candidates = candidate_workloads(ctx, service)
        if not candidates.count:
            # nothing deployed with the Service makes pods of its namespace: look
            # through the repository, where a namespace the Service names must be
            # named by the workloads too (pods of a managed system namespace, or of
            # another repository, are made elsewhere)
            if not ctx.inventory.units.only_folder(service.path) or ctx.inventory.workloads_selected_anywhere(
                selector, service
            ):
                continue  # a build without workloads: they are applied by another one
            candidates = candidate_workloads(ctx, service, wider=True)
            if not candidates.count:
                continue  # no workload here at all: the pods come from elsewhere
        if (
            _is_apex(service, apexes)
            or _cluster_component(service, selector)
            or _operator_labels(ctx, service, selector, candidates.wider)
            or _operator_named(ctx, service, selector, candidates.wider)
            or ctx.inventory.unscanned_holding(
                service, *(f"{k}: " for k, _ in selector.labels), *(v for _, v in selector.labels)
            )
        ):
            continue
        found = _finding(ctx, service, raw, selector, candidates)
        if found is not None:
            yield found


# --- the finding -------------------------------------------------------------------


def _finding(ctx: Context, service: Resource, raw: YMap, selector: Selector, candidates: Candidates) -> Finding | None:
    ns = service.namespace
    wanted = _pairs(selector.labels)
    where = f" in namespace {ns}" if ns else ""
    dropped = [str(k) for k in raw if is_runtime_key(str(k))]
    scope = (
        "elsewhere in the repository (nothing deployed with it makes pods)" if candidates.wider else "deployed with it"
    )
    message = f"Service {service.name} selects no pods: no workload{where} {scope} has pod labels {wanted}"
    message += f" (run-time label {', '.join(dropped)} left out of the comparison)." if dropped else "."
    related: list[Related] = []
    fix = None

    # (workloads with these labels have pod labels: not candidates only by namespace)
    elsewhere = [
        w
        for w in ctx.inventory.workloads_selected_anywhere(selector, None)
        if not _may_share(ns, w) and (candidates.wider or ctx.inventory.together(service, w.resource))
    ]
    choice = None if elsewhere else _choose(ctx, service, selector, candidates)
    if elsewhere:
        other = elsewhere[0]
        message += (
            f" Pods with these labels come from {other.kind} {other.name} in namespace "
            f"{other.resource.namespace} ({other.resource.path}), but a Service selects pods "
            f"of its own namespace only: move one of them."
        )
        related.append(
            Related(
                other.resource.path,
                _labels_line(other),
                f"{other.kind} {other.name} in namespace {other.resource.namespace} has these pod labels",
            )
        )
    elif choice is None:
        if _pod_makers_in_unit(ctx, service, candidates.wider) or operators.releases_into(ctx.inventory, ns):
            return None  # no workload here looks meant, and an operator or a chart may make the pods
        message += _no_target_hint(candidates.first(3), candidates.count)
    else:
        target, by_metadata = choice
        fix, explanation = _fix(ctx, service, raw, selector, target, by_metadata)
        message += " " + explanation
        related.append(
            Related(
                target.resource.path,
                _labels_line(target),
                f"pod labels of {target.kind} {target.name}: {_pairs(target.labels.items())}",
            )
        )
    message += (
        f" Verify with `kubectl get endpoints {service.name} -n {ns or '<namespace>'}` "
        f"(it shows <none> while the selector matches no pod)."
    )
    message += ctx.caveat(service)
    return ctx.finding(service, ("spec", "selector"), message, fix=fix, related=related)


def _no_target_hint(first: list[Workload], count: int) -> str:
    listed = "; ".join(f"{w.kind} {w.name} ({_pairs(w.labels.items())})" for w in first)
    more = f" and {count - 3} more" if count > 3 else ""
    return (
        f" None of the workloads that could share its namespace looks like the one meant: "
        f"{listed}{more}. If an operator makes its pods, declare that kind under `custom-workloads` "
        f"in .footgun.yml."
    )


# --- which workload was meant --------------------------------------------------------


@dataclass
class _Score:
    workload: Workload
    plausible: bool
    labels: float
    name: float

    @property
    def total(self) -> float:
        return self.labels + 0.5 * self.name


def _choose(
    ctx: Context, service: Resource, selector: Selector, candidates: Candidates
) -> tuple[Workload, bool] | None:
    """The workload the Service most likely means, and whether it was found by its
    own ``metadata.labels``; None when nothing is close enough or two tie."""
    by_metadata = candidates.metadata_matches(selector)
    if by_metadata:
        ranked = sorted(by_metadata, key=lambda w: -_name_score(service, selector, w))
        if len(ranked) == 1 or _name_score(service, selector, ranked[0]) > _name_score(service, selector, ranked[1]):
            return ranked[0], True
        return None
    # Only workloads that can be plausible are scored (`plausible`): difflib for every
    # workload of the namespace would be quadratic in namespace size.
    scores = _contenders(ctx, service, selector, plausible(ctx, service, selector, candidates))
    if not scores:
        return None
    scores.sort(key=lambda s: -s.total)
    if len(scores) > 1 and scores[0].total - scores[1].total < CLOSE:
        return None  # two equally likely workloads: do not guess
    return scores[0].workload, False


def _contenders(ctx: Context, service: Resource, selector: Selector, workloads: list[Workload]) -> list[_Score]:
    """The plausible scores of ``workloads`` (in their order) less those that can
    neither be the highest nor come within CLOSE of it: scored by difflib in order
    of `_score_bound`, highest first, until no bound comes within CLOSE of the best
    score found. In a large namespace many workloads pass the bounds (`api-12`,
    `api-21`, ... for `api-12x`), and difflib for each of them would grow with its size."""
    values = [prepare(v) for v in [service.name] + [v for _, v in selector.labels]]
    pairs = [(key, prepare(value)) for key, value in selector.labels]
    bounds = sorted((-_score_bound(ctx, values, pairs, w), i) for i, w in enumerate(workloads))
    found: list[tuple[int, _Score]] = []
    best = None
    for bound, i in bounds:
        if best is not None and -bound < best - CLOSE - _SLACK:
            break  # this and every later workload score below best - CLOSE
        score = _score(service, selector, workloads[i])
        if score.plausible:
            found.append((i, score))
            best = score.total if best is None else max(best, score.total)
    return [score for _, score in sorted(found, key=lambda pair: pair[0])]


# A bound and the score it bounds round alike, their difference with another score
# need not: the margin keeps a rounding from ending the scoring early.
_SLACK = 1e-9


def _score_bound(ctx: Context, values: list[Text], pairs: list[tuple[str, Text]], workload: Workload) -> float:
    """At least `_score`'s total: the same sums with `similarity`'s bounds in place
    of difflib (``values``: the Service's name and selector values, prepared)."""
    texts = texts_of(ctx, workload)
    total = 0.0
    for key, value in pairs:
        pod_value = texts.labels.get(key)
        if pod_value is not None:
            total += similar_bound(value, pod_value)
        else:
            renamed = max((ratio_bound(value, other) for other in texts.other_values), default=0.0)
            if renamed >= RENAMED:
                total += 0.9 * renamed
    name = max(similar_bound(value, texts.name) for value in values)
    return total / max(len(pairs), 1) + 0.5 * name


def _score(service: Resource, selector: Selector, workload: Workload) -> _Score:
    pods = workload.labels
    total = 0.0
    agree = conflict = 0
    for key, value in selector.labels:
        if key in pods:
            similarity = similar(value, pods[key])
            total += similarity
            if similarity >= NEAR:
                agree += 1
            else:
                conflict += 1
        else:
            # The same value under another key (`app` vs `app.kubernetes.io/name`), or
            # a typo of it. Not a word-wise prefix: `release: argocd` under another key
            # says nothing about `name: argocd-server`.
            renamed = max((typo(value, v) for k, v in pods.items() if not is_runtime_key(k)), default=0.0)
            if renamed >= RENAMED:
                total += 0.9 * renamed
                agree += 1
    name = _name_score(service, selector, workload)
    labels = total / max(len(selector.labels), 1)
    # Plausible: every pair the pods have is at most a typo away and some pair
    # agrees, or the names say it outright.
    plausible = (agree > 0 and conflict == 0) or name >= NAMED
    return _Score(workload, plausible, labels, name)


def _may_share(namespace: str | None, workload: Workload) -> bool:
    return namespace is None or workload.resource.namespace in (None, namespace)


def _name_score(service: Resource, selector: Selector, workload: Workload) -> float:
    values = [service.name] + [v for _, v in selector.labels]
    return max(similar(v, workload.name) for v in values)


# --- the fix ------------------------------------------------------------------------


def _fix(
    ctx: Context, service: Resource, raw: YMap, selector: Selector, target: Workload, by_metadata: bool
) -> tuple[Fix | None, str]:
    kind_name = f"{target.kind} {target.name} ({target.resource.path})"
    own = _own_selector(target)
    if by_metadata:
        missing = {k: v for k, v in selector.labels if k not in target.labels}
        conflicting = [k for k, v in selector.labels if k in target.labels and target.labels[k] != v]
        added = {**target.labels, **missing}
        keeps_own = own is not None and (own.is_empty or own.matches(added))
        template = ".".join(target.template_path + ("metadata", "labels"))
        head = (
            f"Most likely meant: {kind_name}, whose own metadata.labels carry {_pairs(selector.labels)}; "
            f"but a Service selects pods, and its pod template ({template}) "
            f"has {_pairs(target.labels.items())}."
        )
        if missing and not conflicting and keeps_own:
            edits = _add_template_labels(target, missing)
            if edits:
                return Fix(
                    f"Add {_pairs(missing.items())} to the pod template of {target.kind} {target.name}", tuple(edits)
                ), (
                    f"{head} The fix adds {_pairs(missing.items())} to the pod template: its spec.selector "
                    f"{_describe(own)} still matches it, so the {target.kind} stays valid (this rolls its pods). "
                    f"Alternatively drop {', '.join(missing)} from the Service selector."
                )
        relabelled = {**target.labels, **dict(selector.labels)}
        if missing and not conflicting and keeps_own:
            reason = "its labels cannot be extended with a line edit (flow style)"
        elif own is None or not (own.is_empty or own.matches(relabelled)):
            reason = (
                f"the {target.kind}'s spec.selector {_describe(own)} would no longer match its "
                f"template: Kubernetes rejects that, and the selector cannot be changed after creation"
            )
        else:
            reason = (
                f"{', '.join(conflicting)} already has another value on the pods, and whatever "
                f"selects them by it would lose them"
            )
        fix = _selector_fix(ctx, service, raw, target, own)
        return fix, (
            f"{head} Adding the labels to the pod template is not safe here ({reason}), so the fix "
            f"points the Service at the pods' labels instead."
            if fix
            else f"{head} Point the selector at the pods' labels, or add the labels to the pod template."
        )
    fix = _selector_fix(ctx, service, raw, target, own)
    return fix, (
        f"Most likely meant: {kind_name}, whose pods are labelled {_pairs(target.labels.items())}; "
        + ("the fix points the selector at those labels." if fix else "point the selector at those labels.")
    )


def _new_selector(
    ctx: Context, service: Resource, raw: YMap, target: Workload, own: Selector | None
) -> dict[str, str] | None:
    """The selector, key by key, rewritten to the target's pod labels: a key the
    pods have takes their value, a key they lack becomes the pod label holding its
    value (or is dropped), run-time keys stay as they are."""
    pods = target.labels
    new: dict[str, str] = {}
    used: set[str] = set(k for k in map(str, raw) if k in pods)
    for key, value in raw.items():
        key, value = str(key), label_value(value)
        if is_runtime_key(key):
            new[key] = value
        elif key in pods:
            new[key] = pods[key]
        else:
            renamed = [
                (k, similar(value, v))
                for k, v in pods.items()
                if k not in used and k not in new and not is_runtime_key(k)
            ]
            renamed = [(k, s) for k, s in renamed if s >= NEAR]
            if renamed:
                best = max(renamed, key=lambda pair: pair[1])[0]
                new[best] = pods[best]
                used.add(best)
    checked = Selector(tuple((k, v) for k, v in new.items() if not is_runtime_key(k)))
    identity = _identity_pairs(target, own)
    if checked.is_empty or any(w is not target for w in ctx.inventory.workloads_selected(checked, service)):
        # too little left to tell the target's pods apart: add its own selector's pairs
        for key, value in identity:
            new.setdefault(key, value)
    checked = Selector(tuple((k, v) for k, v in new.items() if not is_runtime_key(k)))
    if checked.is_empty or not checked.matches(pods):
        return None
    return new


def _selector_fix(ctx: Context, service: Resource, raw: YMap, target: Workload, own: Selector | None) -> Fix | None:
    new = _new_selector(ctx, service, raw, target, own)
    if new is None:
        return None
    edit = _rewrite_selector(service, raw, new)
    if edit is None:
        return None
    return Fix(f"Select the pods of {target.kind} {target.name}: {_pairs(new.items())}", (edit,))


def _rewrite_selector(service: Resource, raw: YMap, new: dict[str, str]) -> Edit | None:
    """One edit over the ``selector:`` block (key line through its last line) that
    keeps unchanged entries and comments byte for byte."""
    source = service.source
    span = service.span("spec", "selector")
    if span is None:
        return None
    quote = style_of(source).quote
    if raw.flow:
        line = source.line(span.key_line)
        if span.start != span.end or line.count("{") != 1 or line.count("}") != 1:
            return None
        body = ", ".join(f"{render_scalar(k, quote)}: {render_scalar(v, quote)}" for k, v in new.items())
        return replace_lines(
            source,
            span.key_line,
            span.key_line,
            [line[: line.index("{")] + "{" + body + "}" + line[line.index("}") + 1 :]],
        )
    entries = {str(k): s for k, s in raw.at.items()}
    col = min(s.col for s in entries.values())
    owner: dict[int, str] = {}
    for entry_key, s in entries.items():
        for number in range(s.key_line, s.end + 1):
            owner[number] = entry_key
    out = [source.line(span.key_line)]
    pending = {k: v for k, v in new.items() if k not in entries}
    replacement_for = _replacements(raw, new)
    for number in range(span.start, span.end + 1):
        key = owner.get(number)
        if key is None:
            out.append(source.line(number))  # a comment or blank line inside the block
            continue
        if number != entries[key].key_line:
            if key in new and new[key] == label_value(raw[key]):
                out.append(source.line(number))
            continue
        if key in new and new[key] == label_value(raw[key]):
            out.append(source.line(number))
        elif key in new:
            edit = set_scalar(source, raw, key, new[key])
            out.append(
                edit.replacement.rstrip("\r\n")
                if edit
                else " " * col + f"{render_scalar(key, quote)}: {render_scalar(new[key], quote)}"
            )
        elif key in replacement_for:
            other = replacement_for[key]
            pending.pop(other, None)
            out.append(" " * col + f"{render_scalar(other, quote)}: {render_scalar(new[other], quote)}")
        # else: the key is dropped
    out.extend(" " * col + f"{render_scalar(k, quote)}: {render_scalar(v, quote)}" for k, v in pending.items())
    return replace_lines(source, span.key_line, span.end, out)


def _replacements(raw: YMap, new: dict[str, str]) -> dict[str, str]:
    """Old key -> the new key written in its place (in order of appearance)."""
    old_gone = [str(k) for k in raw if str(k) not in new]
    added = [k for k in new if k not in {str(k) for k in raw}]
    return dict(zip(old_gone, added))


def _add_template_labels(target: Workload, labels: dict[str, str]) -> list[Edit] | None:
    metadata = target.resource.get(*target.template_path, "metadata")
    if not isinstance(metadata, YMap):
        return None
    return merge_entries(target.resource.source, metadata, {"labels": dict(labels)})


# --- helpers -----------------------------------------------------------------------


def _own_selector(workload: Workload) -> Selector | None:
    """The workload's own pod selector; an empty Selector when it has none (a
    Pod, a Job without manualSelector); None when it cannot be read."""
    if not workload.template_path:
        return Selector()
    path = workload.template_path[:-1] + ("selector",)
    value = workload.resource.get(*path)
    if value is None:
        return Selector()
    if workload.kind == "ReplicationController":
        return from_map(value)
    return from_label_selector(value)


def _identity_pairs(workload: Workload, own: Selector | None) -> list[tuple[str, str]]:
    """Pod label pairs that single out the workload's pods: its own selector's
    matchLabels and single-valued ``In`` expressions, or all its pod labels."""
    pods = workload.labels
    pairs: list[tuple[str, str]] = []
    if own is not None:
        pairs = [(k, v) for k, v in own.labels if pods.get(k) == v]
        for requirement in own.expressions:
            key = requirement.key
            if requirement.operator in ("In", "Exists") and key in pods and not is_runtime_key(key):
                pairs.append((key, pods[key]))
    return pairs or [(k, v) for k, v in pods.items() if not is_runtime_key(k)]


def _labels_line(workload: Workload) -> int:
    span = workload.resource.span(*workload.template_path, "metadata", "labels")
    return span.key_line if span else workload.resource.start_line


def _describe(selector: Selector | None) -> str:
    if selector is None or selector.is_empty:
        return "(none)"
    parts = [f"{k}={v}" for k, v in selector.labels]
    for r in selector.expressions:
        values = ",".join(sorted(r.values))
        parts.append(f"{r.key} {r.operator}" + (f" ({values})" if values else ""))
    return ", ".join(parts)


def _pairs(pairs: Any) -> str:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return ", ".join(f"{k}={v}" for k, v in items) or "(none)"


def _trafficsplit_apexes(ctx: Context) -> dict[str, list[str | None]]:
    """Apex Service name -> namespaces of the TrafficSplits naming it."""
    apexes: dict[str, list[str | None]] = {}
    for split in ctx.inventory.of_kind("TrafficSplit"):
        if not split.api_version.startswith("split.smi-spec.io/"):
            continue
        apex = split.get("spec", "service")
        if not isinstance(apex, str) or not apex:
            continue
        # spec.service may be a bare name or a DNS name (name.namespace.svc...)
        parts = apex.split(".")
        namespace = parts[1] if len(parts) > 1 and parts[1] != "svc" else split.namespace
        apexes.setdefault(parts[0], []).append(namespace)
    return apexes


def _is_apex(service: Resource, apexes: dict[str, list[str | None]]) -> bool:
    return any(
        ns is None or service.namespace is None or ns == service.namespace for ns in apexes.get(service.name, ())
    )


def _operator_labels(ctx: Context, service: Resource, selector: Selector, wider: bool = False) -> bool:
    """Whether a custom resource that may make pods, applied with the Service
    (``wider``: anywhere it could share the namespace),
    carries the selector's labels: on itself, or in a labels map of its spec (the
    pod metadata an operator puts on its pods, such as a Prometheus's
    `spec.podMetadata.labels`). Those pods are the operator's."""
    wanted = dict(selector.labels)
    if not wanted:
        return False
    for resource in _pod_makers_in_unit(ctx, service, wider):
        if _has_labels(resource.labels, wanted) or _has_labels_within(resource.get("spec"), wanted, 8):
            return True
    return False


def _operator_named(ctx: Context, service: Resource, selector: Selector, wider: bool = False) -> bool:
    """Whether a custom resource that may make pods, applied with the Service, is
    named by one of the selector's values: equal to it, or a part of it between
    separators. Operators label their pods after the resource they make them for
    (`app.kubernetes.io/instance: <name>`, `strimzi.io/cluster: <name>`,
    `strimzi.io/name: <name>-kafka`, `cluster-name: <name>`, `app: <name>-leader`):
    those pods are the operator's, whatever workload elsewhere looks alike."""
    values = [value.lower() for _, value in selector.labels]
    return any(
        _names_in(str(resource.get("metadata", "name") or "").lower(), values)
        for resource in _pod_makers_in_unit(ctx, service, wider)
    )


def _names_in(name: str, values: list[str]) -> bool:
    """Whether ``name`` is one of ``values`` or a run of their words (split at
    `-`, `.`, `_`): `my-cluster` is in `my-cluster-kafka`, `db` is not in `mongodb`."""
    if not name:
        return False
    words = f"-{name.translate(_SEPARATORS)}-"
    return any(words in f"-{value.translate(_SEPARATORS)}-" for value in values)


_SEPARATORS = str.maketrans("._", "--")


def _endpoints_by_hand(ctx: Context, service: Resource) -> bool:
    """Whether an Endpoints or EndpointSlice applied with the Service lists its
    addresses: the slice controller leaves a slice it does not manage alone and
    kube-proxy routes to it, so the Service has endpoints whatever its selector."""
    if ctx.inventory.named(service, "Endpoints", service.name, service.namespace):
        return True
    return any(
        r.get("metadata", "labels", "kubernetes.io/service-name") == service.name
        for r in ctx.inventory.deployed_with(service, "EndpointSlice")
    )


def _pod_makers_in_unit(ctx: Context, service: Resource, wider: bool = False) -> list[Resource]:
    """The resources that may make pods and are applied with ``service`` (``wider``:
    anywhere they could share its namespace): the one place that says where a
    Service's operator resources may be."""
    return [
        r for r in operators.pod_makers(ctx.inventory, service.namespace) if wider or ctx.inventory.together(service, r)
    ]


def _has_labels(labels: Any, wanted: dict[str, str]) -> bool:
    return isinstance(labels, dict) and all(k in labels and label_value(labels[k]) == v for k, v in wanted.items())


def _has_labels_within(node: Any, wanted: dict[str, str], depth: int) -> bool:
    if depth <= 0:
        return False
    if isinstance(node, dict):
        if _has_labels(node, wanted):
            return True
        return any(_has_labels_within(v, wanted, depth - 1) for v in node.values())
    if isinstance(node, list):
        return any(_has_labels_within(v, wanted, depth - 1) for v in node)
    return False
