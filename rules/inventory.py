"""Every scanned resource, indexed so cross-resource rules stay linear, and placed in
the deployment unit it is applied with (`rules.units`).

Resources are bucketed by kind and namespace, and workloads by each of their pod
template's labels, so "which workloads does this selector pick?" looks at one label
bucket instead of every workload. An unset namespace is decided at apply time, so
it may be the same as any other; a kustomization's (or a GitOps descriptor's)
namespace is filled in where the manifest sets none.

Relations are asked on behalf of a resource, and resolve inside its unit: what they
return is deployed with it, never the resource itself nor an alternative of it (the
same API group, kind, namespace and name: one replaces the other).

Four relations of place, each with its own name:

- *deployed with*: in ``resource``'s unit and able to share its namespace.
  ``deployed_with(resource, *kinds)``, ``workloads_deployed_with(resource)``,
  ``has_workloads_deployed_with(resource)`` (whether there is any such workload);
- *deployed with, in a namespace*: in ``origin``'s unit and able to be in the
  ``namespace`` a reference from ``origin`` names.
  ``deployed_with_in_namespace(origin, namespace, *kinds)``,
  ``workloads_deployed_with_in_namespace(origin, namespace)``, and ``named(origin,
  kind, name, namespace)``: what a reference by name may mean;
- *in the subtree*: ``workloads_selected_in_subtree(selector, resource)``, in the
  subtree of the folder (or its parent) of a resource only its folder places, which
  a recursive apply may deploy with it: only ever to stay silent;
- *by distance*: ``unscanned_by_distance(resource)``, the skipped files of the unit
  that could hold resources of its namespace, those of its folder first, then by the
  folders shared (``unscanned_holding(resource, *texts)``: those whose raw text holds
  every one of ``texts``, what a rule found missing may be there).

``workloads_selected(selector, resource)`` is the workloads ``selector`` picks
among those deployed with ``resource``; ``workloads_selected_or_wider`` falls back
to the whole repository when only its folder places ``resource`` and that holds no
workload (and says so: a finding drawn from it uses weaker words and edits no other
unit's file); ``workloads_selected_anywhere(selector, resource)`` is the same over
the whole repository, units ignored. ``together(a, b)``, ``unit_of(resource)``,
``grouped_by_unit(resources)``: the units themselves, for rules that compare
resources across a unit.

Unit-free look-ups: ``of_kind(*kinds)``, ``workloads_in(namespace, unit)`` (exactly
one namespace, optionally one unit), ``namespaces_of_workloads()``, ``api_versions``.
``may_run_several(workload)`` and ``replicated_pods(selected)`` judge workloads
already found (a scaler counts only from the workload's unit). ``memo(key, build)``
keeps an index several rules derive from the resources for the rest of the scan
(the scan's state lives here or on a rule's context, never in module globals).

Evidence that silences a finding must come from the unit: a neighbour that is never
deployed beside the resource neither covers nor accompanies it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from .manifests import LoadedFile, Resource
from .model import Skip
from .selectors import Selector
from .units import Unit, Units, folder_of, identity
from .workloads import Workload, pod_template_paths, workload_of

T = TypeVar("T")

_NAMESPACE_LINE = re.compile(r"^\s*namespace:\s*[\"']?([A-Za-z0-9.-]+)", re.MULTILINE)
ANY = None  # a namespace bucket key: resources whose namespace is unset
SCALER_KINDS = ("HorizontalPodAutoscaler", "ScaledObject")  # what sets a workload's replicas
# Kinds a namespace transformer leaves alone (kustomize's cluster-scoped list, and the
# cluster-wide kinds rules look at).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "IngressClass",
        "GatewayClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "RuntimeClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "CSIDriver",
        "GlobalNetworkPolicy",
        "GlobalNetworkSet",
        "CiliumClusterwideNetworkPolicy",
        "ClusterIssuer",
        "ClusterPolicy",
        "Node",
    }
)


@dataclass(frozen=True)
class Unscanned:
    """A file that could hold resources but was skipped; ``namespaces`` is None when
    any namespace is possible."""

    skip: Skip
    namespaces: frozenset[str] | None
    text: str = ""

    def could_hold(self, namespace: str | None) -> bool:
        return self.namespaces is None or namespace is None or namespace in self.namespaces


class Inventory:
    def __init__(
        self, files: Iterable[LoadedFile], custom_workloads=(), deployment_unit: str = "kustomization"
    ) -> None:
        self.files = list(files)
        self.resources: list[Resource] = [r for f in self.files for r in f.resources]
        self.units = Units(self.files, deployment_unit)
        for resource in self.resources:
            if resource.namespace is None and resource.kind not in CLUSTER_SCOPED:
                resource.namespace = self.units.namespace(resource.path)
        self.unscanned = [_unscanned(f, f.skip) for f in self.files if f.skip and _could_hold_resources(f.skip)]
        self._by_kind: dict[str, dict[str | None, list[Resource]]] = defaultdict(lambda: defaultdict(list))
        self._by_name: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for resource in self.resources:
            self._by_kind[resource.kind][resource.namespace].append(resource)
            self._by_name[(resource.kind, resource.name)].append(resource)
        paths = pod_template_paths(custom_workloads)
        self.custom_kinds = frozenset(kind for kind, _ in custom_workloads)  # declared pod makers
        self._memos: dict[str, Any] = {}
        self.workloads = [w for r in self.resources if (w := workload_of(r, paths))]
        self._workloads_by_label: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        self._workloads_by_namespace: dict[str | None, list[Workload]] = defaultdict(list)
        self._workloads_by_unit: dict[str | None, dict[tuple[str, str], list[Workload]]] = {}
        self._unscanned_by_unit: dict[tuple[str, str], list[Unscanned]] | None = None
        for workload in self.workloads:
            self._workloads_by_namespace[workload.resource.namespace].append(workload)
            for pair in workload.labels.items():
                self._workloads_by_label[pair].append(workload)

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``'s value, built once per scan: an index a rule derives from
        the resources for its many look-ups lives as long as the scan does."""
        if key not in self._memos:
            self._memos[key] = build()
        return self._memos[key]

    @cached_property
    def api_versions(self) -> frozenset[str]:
        """Every ``apiVersion`` the scanned resources use (what platform they are for)."""
        return frozenset(r.api_version for r in self.resources)

    def of_kind(self, *kinds: str) -> list[Resource]:
        return [r for kind in kinds for bucket in self._by_kind.get(kind, {}).values() for r in bucket]

    def _could_be_in(self, namespace: str | None, *kinds: str) -> list[Resource]:
        """Resources of these kinds anywhere that could be in ``namespace``."""
        found: list[Resource] = []
        for kind in kinds:
            buckets = self._by_kind.get(kind, {})
            if namespace is None:
                found.extend(r for bucket in buckets.values() for r in bucket)
            else:
                found.extend(buckets.get(namespace, ()))
                found.extend(buckets.get(ANY, ()))
        return found

    def deployed_with(self, resource: Resource, *kinds: str) -> list[Resource]:
        """Resources of these kinds deployed with ``resource`` that could share its
        namespace (not ``resource`` itself, nor an alternative of it)."""
        return self.deployed_with_in_namespace(resource, resource.namespace, *kinds)

    def named(self, origin: Resource, kind: str, name: str, namespace: str | None) -> list[Resource]:
        """The resources of ``kind`` called ``name``, deployed with ``origin``, that
        could be in ``namespace`` (what ``origin``'s reference by name may mean)."""
        return [
            r
            for r in self._by_name.get((kind, name), ())
            if (namespace is None or r.namespace in (None, namespace))
            and r is not origin
            and self.units.together(origin, r)
        ]

    def deployed_with_in_namespace(self, origin: Resource, namespace: str | None, *kinds: str) -> list[Resource]:
        """`deployed_with` for a reference into another namespace: resources of these kinds
        deployed with ``origin`` that could be in ``namespace``."""
        mates = self.unit_mates(origin)
        return [
            r
            for r in self._could_be_in(namespace, *kinds)
            if r in mates and r is not origin and self.units.together(origin, r)
        ]

    def unit_mates(self, origin: Resource) -> set[Resource]:
        """The resources that share a unit with ``origin`` (`Units.roots`):
        only they can be deployed with it. Looking them up first spares a rule that
        asks for every resource of a namespace weighing each through `Units.together`
        (a namespace's resources grow with the repository)."""
        mates = set(self.unit_members(origin))
        mates.add(origin)  # `Units.together` holds a resource together with itself
        return mates

    def unit_members(self, origin: Resource) -> list[Resource]:
        """The resources of ``origin``'s units (each once, in no particular order)."""
        by_root = self.memo("resources by unit", self._resources_by_root)
        roots = self.units.roots(origin.path)
        if len(roots) == 1:
            return by_root.get(next(iter(roots)), [])
        return list({r: None for root in roots for r in by_root.get(root, ())})

    def _resources_by_root(self) -> dict[tuple[str, str], list[Resource]]:
        by_root: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for resource in self.resources:
            for root in self.units.roots(resource.path):
                by_root[root].append(resource)
        return by_root

    def workloads_deployed_with_in_namespace(self, origin: Resource, namespace: str | None) -> list[Workload]:
        """`workloads_deployed_with` for ``namespace`` instead of ``origin``'s own."""
        # The workloads of origin's units, in the order of `_workloads_could_be_in`
        # (its namespace's, then those whose namespace is unset; every workload for
        # an unset ``namespace``), without walking that list: it grows with the scan.
        placed = self.memo("workloads placed", self._workloads_placed)
        found: list[tuple[int, int, Workload]] = []
        for resource in self.unit_members(origin):
            place = placed.get(resource)
            if place is None or resource is origin:
                continue
            workload, bucket, index = place
            if namespace is None:
                found.append((0, index, workload))
            elif bucket == namespace or bucket is ANY:
                found.append((0 if bucket == namespace else 1, index, workload))
        found.sort(key=lambda entry: entry[:2])
        return [w for _, _, w in found if self.units.together(origin, w.resource)]

    def _workloads_placed(self) -> dict[Resource, tuple[Workload, str | None, int]]:
        """Each workload by its resource: the workload, the namespace bucket it is in,
        its place in the scan."""
        bucket_of = {w: key for key, bucket in self._workloads_by_namespace.items() for w in bucket}
        return {w.resource: (w, bucket_of[w], index) for index, w in enumerate(self.workloads)}

    def together(self, a: Resource, b: Resource) -> bool:
        """Whether two resources are applied to one cluster together."""
        return self.units.together(a, b)

    def unit_of(self, resource: Resource) -> Unit:
        """The deployment unit a message names for ``resource``."""
        return self.units.unit(resource.path)

    def grouped_by_unit(self, resources: Iterable[Resource]) -> list[tuple[Unit, list[Resource]]]:
        """``resources`` grouped by the units they belong to (one resource may be in
        several: a base that two overlays build), each group in the given order."""
        groups: dict[tuple[str, str], list[Resource]] = {}
        for resource in resources:
            for root in sorted(self.units.roots(resource.path)):
                groups.setdefault(root, []).append(resource)
        return [(Unit(root, self.units.label(root)), members) for root, members in groups.items()]

    def workloads_deployed_with(self, resource: Resource) -> list[Workload]:
        """The workloads deployed with ``resource`` that could share its namespace."""
        return self.workloads_deployed_with_in_namespace(resource, resource.namespace)

    def _workloads_could_be_in(self, namespace: str | None) -> list[Workload]:
        """Workloads anywhere that could be in ``namespace``: its own, then those
        whose namespace is unset (every workload for an unset ``namespace``)."""
        if namespace is None:
            return self.workloads
        return self._workloads_by_namespace.get(namespace, []) + self._workloads_by_namespace.get(ANY, [])

    def workloads_in(self, namespace: str | None, unit: tuple[str, str] | None = None) -> list[Workload]:
        """The workloads of exactly ``namespace`` (None: those whose namespace is
        unset), anywhere in the scan or, given a ``unit`` (a key of
        `Units.roots`), in that unit."""
        workloads = self._workloads_by_namespace.get(namespace, [])
        if unit is None:
            return workloads
        by_unit = self._workloads_by_unit.get(namespace)
        if by_unit is None:
            by_unit = self._workloads_by_unit[namespace] = defaultdict(list)
            for workload in workloads:
                for root in self.units.roots(workload.resource.path):
                    by_unit[root].append(workload)
        return by_unit.get(unit, [])

    def namespaces_of_workloads(self) -> list[str | None]:
        """The namespaces holding a workload (None: some workload's is unset)."""
        return list(self._workloads_by_namespace)

    def workloads_selected(self, selector: Selector, resource: Resource) -> list[Workload]:
        """Workloads deployed with ``resource`` whose pod template ``selector``
        matches. An empty selector selects nothing here (a Service's rule)."""
        return [
            w for w in self.workloads_selected_anywhere(selector, resource) if self.units.together(resource, w.resource)
        ]

    def workloads_selected_or_wider(self, selector: Selector, resource: Resource) -> tuple[list[Workload], bool]:
        """`workloads_selected`; when only its folder places ``resource`` and that
        holds no workload that could share its namespace at all,
        `workloads_selected_anywhere` instead, and True with it (the finding says
        the pods were found elsewhere, and edits none). A kustomization or GitOps
        build says exactly what is applied: no fallback from it."""
        selected = self.workloads_selected(selector, resource)
        if selected or not self.units.only_folder(resource.path) or self.has_workloads_deployed_with(resource):
            return selected, False
        wider = self.workloads_selected_anywhere(selector, resource)
        return wider, bool(wider)

    def workloads_selected_in_subtree(self, selector: Selector, resource: Resource) -> list[Workload]:
        """For a resource that only its folder places: workloads ``selector``
        matches in the subtree of its folder (or of its folder's parent), which a
        recursive apply may deploy with it. Only to decide that pods are *not*
        missing: such a neighbour never makes a finding."""
        if not self.units.only_folder(resource.path):
            return []
        prefix = self.units.neighbourhood(resource.path)
        return [
            w
            for w in self.workloads_selected_anywhere(selector, resource)
            if folder_of(w.resource.path) == prefix or folder_of(w.resource.path).startswith(prefix + "/")
        ]

    def has_workloads_deployed_with(self, resource: Resource) -> bool:
        """Whether ``resource``'s unit holds any workload that could share its namespace."""
        namespace = resource.namespace
        keys = list(self._workloads_by_namespace) if namespace is None else [namespace, ANY]
        return any(
            w.resource is not resource and self.units.together(resource, w.resource)
            for root in self.units.roots(resource.path)
            for key in keys
            for w in self.workloads_in(key, root)
        )

    @staticmethod
    def replicated_pods(selected: list[Workload]) -> list[Workload]:
        """Bare Pods among ``selected`` that share their labels with another selected
        Pod (not an alternative of it): replicas in effect, made by hand."""
        groups: dict[frozenset, list[Workload]] = defaultdict(list)
        for workload in selected:
            if workload.kind == "Pod":
                groups[frozenset(workload.labels.items())].append(workload)
        return [w for group in groups.values() if len({identity(p.resource) for p in group}) > 1 for w in group]

    def workloads_selected_anywhere(self, selector: Selector, resource: Resource | None) -> list[Workload]:
        """Workloads anywhere in the scan that ``selector`` matches and that could
        share ``resource``'s namespace (any namespace without ``resource``): the
        repository-wide fallback."""
        if selector.is_empty:
            return []
        namespace = resource.namespace if resource is not None else None
        if selector.labels:
            candidates = min((self._workloads_by_label.get(pair, []) for pair in selector.labels), key=len)
        else:
            candidates = self._workloads_could_be_in(namespace)
        return [
            w
            for w in candidates
            if w.resource is not resource
            and (namespace is None or w.resource.namespace in (None, namespace))
            and selector.matches(w.labels)
        ]

    def may_run_several(self, workload: Workload) -> bool:
        """False for a workload pinned to ``replicas: 0`` or ``1`` that no
        HorizontalPodAutoscaler or KEDA ScaledObject in the scan scales; an unset
        count is unknown (kustomize or an autoscaler may set it), so True, except
        on a Deployment with ``strategy: Recreate``: that strategy exists so that two
        pods never run at once (a single-writer database on its own volume), and the
        unset count keeps Kubernetes' default of one."""
        replicas = workload.resource.get("spec", "replicas")
        if replicas is None and _recreates(workload):
            replicas = 1
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas > 1:
            return True
        for scaler in self.deployed_with(workload.resource, *SCALER_KINDS):
            target = scaler.get("spec", "scaleTargetRef")
            if (
                isinstance(target, dict)
                and target.get("name") == workload.name
                and target.get("kind", "Deployment") == workload.kind
            ):
                return True
        return False

    def unscanned_by_distance(self, resource: Resource) -> list[Skip]:
        """Skipped files of ``resource``'s unit that might hold resources of its
        namespace, nearest first."""
        found = [u.skip for u in self._unscanned_in_unit(resource)]
        return sorted(found, key=lambda s: self.units.distance_key(resource.path, s.path))

    def unscanned_holding(self, resource: Resource, *texts: str) -> list[Skip]:
        """Skipped files of ``resource``'s unit whose raw text holds every one of
        ``texts``: they could hold what a rule found missing."""
        return [u.skip for u in self._unscanned_in_unit(resource) if all(t in u.text for t in texts)]

    def _unscanned_in_unit(self, resource: Resource) -> list[Unscanned]:
        if not self.unscanned:
            return []
        if self._unscanned_by_unit is None:
            self._unscanned_by_unit = defaultdict(list)
            for unscanned in self.unscanned:
                for root in self.units.roots(unscanned.skip.path):
                    self._unscanned_by_unit[root].append(unscanned)
        found = {id(u): u for root in self.units.roots(resource.path) for u in self._unscanned_by_unit.get(root, ())}
        return [u for u in found.values() if u.could_hold(resource.namespace)]


def _recreates(workload: Workload) -> bool:
    strategy = workload.resource.get("spec", "strategy")
    return workload.kind == "Deployment" and isinstance(strategy, dict) and strategy.get("type") == "Recreate"


def _could_hold_resources(skip: Skip) -> bool:
    return not skip.reason.startswith(("not a Kubernetes manifest", "binary file"))


def _unscanned(loaded: LoadedFile, skip: Skip) -> Unscanned:
    if loaded.source is None:
        return Unscanned(skip, None)
    names = frozenset(_NAMESPACE_LINE.findall(loaded.source.text))
    return Unscanned(skip, names or None, loaded.source.text)
