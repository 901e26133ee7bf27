"""Workloads and their pod templates: where each kind keeps the pods it makes.

Custom resources whose operators make pods can be taught through the config
(``custom-workloads``), so their pods stop looking absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .edits import merge_entries
from .manifests import Resource
from .model import Edit
from .selectors import label_value
from .yamltree import YMap

# kind -> path of the pod template inside the resource (() means: the resource is the pod)
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Rollout": ("spec", "template"),  # Argo Rollouts
    "Pod": (),
}
# Kinds that run replicas behind a Service and can be spread across nodes.
REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout")


@dataclass(eq=False, slots=True)  # one per workload of a scan: no per-object dict
class Workload:
    resource: Resource
    template_path: tuple[str, ...]  # path of the pod template within the resource
    labels: dict[str, str]  # the pod template's labels

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def pod_spec_path(self) -> tuple[str, ...]:
        return self.template_path + ("spec",)

    @property
    def pod_spec(self) -> Any:
        return self.resource.get(*self.pod_spec_path)

    def containers(self) -> Iterable[dict]:
        spec = self.pod_spec
        if not isinstance(spec, dict):
            return
        for key in ("initContainers", "containers"):
            for container in spec.get(key) or []:
                if isinstance(container, dict):
                    yield container


def pod_template_paths(custom: Iterable[tuple[str, tuple[str, ...]]] = ()) -> dict[str, tuple[str, ...]]:
    paths = dict(POD_TEMPLATE_PATHS)
    paths.update(custom)
    return paths


def workload_of(resource: Resource, paths: dict[str, tuple[str, ...]]) -> Workload | None:
    """The workload view of a resource, when its kind makes pods from a template."""
    if resource.kind not in paths:
        return None
    if resource.kind == "Rollout" and not resource.api_version.startswith("argoproj.io"):
        return None
    path = paths[resource.kind]
    template = resource.get(*path) if path else resource.data
    if not isinstance(template, dict):
        return None
    metadata = template.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    if not isinstance(labels, dict):
        labels = {}
    if all(k.__class__ is str and v.__class__ is str for k, v in labels.items()):
        return Workload(resource, path, labels)  # already strings (most): shared, not copied; read only
    return Workload(resource, path, {str(k): label_value(v) for k, v in labels.items()})


def insert_into_pod_spec(workload: Workload, entries: dict[str, Any]) -> list[Edit] | None:
    """Edits that add ``entries`` to the workload's pod spec at its own indentation
    (merged into keys already there: items appended to an existing list, missing
    keys added to an existing mapping). None when no safe line edit exists."""
    spec = workload.pod_spec
    if not isinstance(spec, YMap):
        return None
    return merge_entries(workload.resource.source, spec, entries)
