"""Kubernetes label selectors: a Service's plain map, and ``matchLabels`` plus
``matchExpressions`` (In, NotIn, Exists, DoesNotExist) as in
https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return labels.get(self.key) in self.values
        if self.operator == "NotIn":
            return labels.get(self.key) not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist


@dataclass(frozen=True)
class Selector:
    labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        """An empty LabelSelector selects everything (a NetworkPolicy's ``{}``)."""
        return not self.labels and not self.expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.labels) and all(r.matches(labels) for r in self.expressions)

    def without_keys(self, ignored: Any) -> Selector:
        """The selector less the keys for which ``ignored(key)`` is true."""
        return Selector(
            tuple((k, v) for k, v in self.labels if not ignored(k)),
            tuple(r for r in self.expressions if not ignored(r.key)),
        )


def label_value(value: Any) -> str:
    """A label value as Kubernetes stores it (YAML ``true`` is the string "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def from_map(value: Any) -> Selector:
    """A Service ``spec.selector`` (a plain label map)."""
    if not isinstance(value, dict):
        return Selector()
    return Selector(tuple((str(k), label_value(v)) for k, v in value.items()))


def from_label_selector(value: Any) -> Selector | None:
    """A LabelSelector (``matchLabels``/``matchExpressions``); None when malformed,
    so callers can stay silent rather than guess."""
    if value is None:
        return Selector()
    if not isinstance(value, dict):
        return None
    match_labels = value.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return None
    expressions = value.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return None
    requirements = []
    for expr in expressions:
        if not isinstance(expr, dict) or expr.get("operator") not in OPERATORS or "key" not in expr:
            return None
        raw_values = expr.get("values") or []
        if not isinstance(raw_values, list):
            return None
        # As the API validates: In and NotIn need values, Exists and DoesNotExist take none.
        if bool(raw_values) != (expr["operator"] in ("In", "NotIn")):
            return None
        values = frozenset(label_value(v) for v in raw_values)
        requirements.append(Requirement(str(expr["key"]), expr["operator"], values))
    return Selector(tuple((str(k), label_value(v)) for k, v in match_labels.items()), tuple(requirements))


# Labels controllers put on pods at run time: a selector may name them, the pod
# templates in the manifests never carry them.
RUNTIME_KEYS = frozenset(
    {
        "job-name",
        "batch.kubernetes.io/job-name",
        "controller-uid",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-completion-index",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "pod-template-hash",
        "controller-revision-hash",
        "pod-template-generation",
        "rollouts-pod-template-hash",
    }
)
RUNTIME_PREFIXES = ("leaderworkerset.sigs.k8s.io/",)


def is_runtime_key(key: str) -> bool:
    return key in RUNTIME_KEYS or key.startswith(RUNTIME_PREFIXES)
