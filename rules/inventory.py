"""Every scanned resource, indexed so cross-resource rules stay linear.

Resources are bucketed by kind and namespace, and workloads by each of their pod
template's labels, so "which workloads does this selector pick?" looks at one label
bucket instead of every workload. Namespaces follow RULES.md: an unset namespace is
decided at apply time, so it may be the same as any other.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

from .manifests import LoadedFile, Resource
from .model import Skip
from .selectors import Selector
from .workloads import Workload, pod_template_paths, workload_of

_NAMESPACE_LINE = re.compile(r"^\s*namespace:\s*[\"']?([A-Za-z0-9.-]+)", re.MULTILINE)
ANY = None  # a namespace bucket key: resources whose namespace is unset
SCALER_KINDS = ("HorizontalPodAutoscaler", "ScaledObject")  # what sets a workload's replicas


@dataclass(frozen=True)
class Unscanned:
    """A file that could hold resources but was skipped; ``namespaces`` is None when
    any namespace is possible."""

    skip: Skip
    namespaces: frozenset[str] | None

    def could_hold(self, namespace: str | None) -> bool:
        return self.namespaces is None or namespace is None or namespace in self.namespaces


class Inventory:
    def __init__(self, files: Iterable[LoadedFile], custom_workloads=()) -> None:
        self.files = list(files)
        self.resources: list[Resource] = [r for f in self.files for r in f.resources]
        self.kustomizations = {f.source.path: f.kustomization for f in self.files
                               if f.is_kustomization and f.source}
        self.unscanned = [_unscanned(f) for f in self.files if f.skip and _could_hold_resources(f.skip)]
        self._by_kind: dict[str, dict[str | None, list[Resource]]] = defaultdict(lambda: defaultdict(list))
        self._by_name: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for resource in self.resources:
            self._by_kind[resource.kind][resource.namespace].append(resource)
            self._by_name[(resource.kind, resource.name)].append(resource)
        paths = pod_template_paths(custom_workloads)
        self.workloads = [w for r in self.resources if (w := workload_of(r, paths))]
        self._workloads_by_label: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        self._workloads_by_namespace: dict[str | None, list[Workload]] = defaultdict(list)
        for workload in self.workloads:
            self._workloads_by_namespace[workload.resource.namespace].append(workload)
            for pair in workload.labels.items():
                self._workloads_by_label[pair].append(workload)

    @cached_property
    def api_versions(self) -> frozenset[str]:
        """Every ``apiVersion`` the scanned resources use (what platform they are for)."""
        return frozenset(r.api_version for r in self.resources)

    def of_kind(self, *kinds: str) -> list[Resource]:
        return [r for kind in kinds for bucket in self._by_kind.get(kind, {}).values() for r in bucket]

    def near(self, namespace: str | None, *kinds: str) -> list[Resource]:
        """Resources of these kinds that could be in ``namespace``."""
        found = []
        for kind in kinds:
            buckets = self._by_kind.get(kind, {})
            if namespace is None:
                found.extend(r for bucket in buckets.values() for r in bucket)
            else:
                found.extend(buckets.get(namespace, ()))
                found.extend(buckets.get(ANY, ()))
        return found

    def named(self, namespace: str | None, kind: str, name: str) -> list[Resource]:
        """The resources of ``kind`` called ``name`` that could be in ``namespace``
        (what another resource's reference by name may mean)."""
        return [r for r in self._by_name.get((kind, name), ())
                if namespace is None or r.namespace in (None, namespace)]

    def workloads_near(self, namespace: str | None) -> list[Workload]:
        if namespace is None:
            return self.workloads
        return self._workloads_by_namespace.get(namespace, []) + self._workloads_by_namespace.get(ANY, [])

    def workloads_in(self, namespace: str | None) -> list[Workload]:
        """The workloads of exactly ``namespace`` (None: those whose namespace is
        unset); `workloads_near` is ``namespace``'s followed by the unset ones."""
        return self._workloads_by_namespace.get(namespace, [])

    def namespaces_of_workloads(self) -> list[str | None]:
        """The namespaces holding a workload (None: some workload's is unset)."""
        return list(self._workloads_by_namespace)

    def workloads_selected(self, selector: Selector, namespace: str | None) -> list[Workload]:
        """Workloads whose pod template ``selector`` matches and that could share
        ``namespace``. An empty selector selects nothing here (a Service's rule)."""
        if selector.is_empty:
            return []
        if selector.labels:
            candidates = min((self._workloads_by_label.get(pair, []) for pair in selector.labels), key=len)
        else:
            candidates = self.workloads_near(namespace)
        return [w for w in candidates
                if (namespace is None or w.resource.namespace in (None, namespace)) and selector.matches(w.labels)]

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
        for scaler in self.near(workload.resource.namespace, *SCALER_KINDS):
            target = scaler.get("spec", "scaleTargetRef")
            if isinstance(target, dict) and target.get("name") == workload.name \
                    and target.get("kind", "Deployment") == workload.kind:
                return True
        return False

    def unscanned_near(self, namespace: str | None) -> list[Skip]:
        """Skipped files that might hold resources in ``namespace``."""
        return [u.skip for u in self.unscanned if u.could_hold(namespace)]


def _recreates(workload: Workload) -> bool:
    strategy = workload.resource.get("spec", "strategy")
    return workload.kind == "Deployment" and isinstance(strategy, dict) and strategy.get("type") == "Recreate"


def _could_hold_resources(skip: Skip) -> bool:
    return not skip.reason.startswith(("not a Kubernetes manifest", "binary file"))


def _unscanned(loaded: LoadedFile) -> Unscanned:
    if loaded.source is None:
        return Unscanned(loaded.skip, None)
    names = frozenset(_NAMESPACE_LINE.findall(loaded.source.text))
    return Unscanned(loaded.skip, names or None)
