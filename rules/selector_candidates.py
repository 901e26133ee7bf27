"""The workloads a Service whose selector matches nothing may have meant, indexed.

`service-selector-mismatch` asks, for each such Service, which workloads it could
share pods with (`candidate_workloads`), which of them carry its selector on their
own ``metadata.labels`` (`Candidates.metadata_matches`), and which are close enough
in names and label values to be scored (`plausible`). Each namespace's (and unit's)
workloads are indexed once per scan, on the rule's context, and only when a Service
of it selects nothing: the search stays linear in namespace size (guarded by
tests/rules/test_selector_mismatch_scaling.py), and what it returns is in the order
of `Inventory.workloads_deployed_with`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from .context import Context
from .manifests import Resource
from .selectors import Selector, is_runtime_key
from .similarity import Text, TextIndex, prepare, ratio_bound, similar_bound
from .workloads import Workload

# How alike two label values (or names) must be to count as the same one misspelt.
NEAR = 0.75
# The same, for a value the pods carry under another key: the key already differs,
# so the value must be the same one, give or take a typo.
RENAMED = 0.9
# How alike a workload's name and the Service's name (or a selector value) must be
# for the names to say which workload was meant, whatever the labels.
NAMED = 0.9


def plausible(ctx: Context, service: Resource, selector: Selector, candidates: Candidates) -> list[Workload]:
    """The workloads of ``candidates`` that pass `plausibility_test`, in their order.
    Only those the namespace's indexes can find passing it are tested, so the cost
    follows the few near names, not the namespace's size."""
    values = [prepare(v) for v in dict.fromkeys([service.name] + [v for _, v in selector.labels])]
    pairs = [(key, prepare(value)) for key, value in selector.labels]
    test = plausibility_test(ctx, values, pairs)
    return [w for w in candidates.may_pass(values, pairs) if test(w)]


def plausibility_test(ctx: Context, values: list[Text], pairs: list[tuple[str, Text]]) -> Callable[[Workload], bool]:
    """False only for workloads the rule's score would find implausible: the same
    test with `similarity`'s cheap upper bounds in place of difflib, given the
    Service's name and selector values (``values``) and its selector pairs, prepared."""

    def test(workload: Workload) -> bool:
        texts = texts_of(ctx, workload)
        if any(ratio_bound(value, texts.name) >= NAMED for value in values):
            return True  # the names may say it outright
        agree = False
        for key, value in pairs:
            pod_value = texts.labels.get(key)
            if pod_value is not None:
                if similar_bound(value, pod_value) < NEAR:
                    return False  # a sure conflict
                agree = True
            elif not agree:  # `typo` gives no word-prefix credit
                agree = any(ratio_bound(value, other) >= RENAMED for other in texts.other_values)
        return agree

    return test


class WorkloadTexts(NamedTuple):
    name: Text
    labels: dict[str, Text]
    other_values: list[Text]  # label values less the run-time keys'


def texts_of(ctx: Context, workload: Workload) -> WorkloadTexts:
    """The workload's strings prepared, once per scan (each workload is tested, and
    indexed, for many Services)."""
    prepared: dict[Workload, WorkloadTexts] = ctx.memo("workload-texts", dict)
    texts = prepared.get(workload)
    if texts is None:
        texts = prepared[workload] = WorkloadTexts(
            prepare(workload.name),
            {k: prepare(v) for k, v in workload.labels.items()},
            [prepare(v) for k, v in workload.labels.items() if not is_runtime_key(k)],
        )
    return texts


def resource_labels(workload: Workload) -> dict[str, str]:
    # `Resource.labels` holds label values already (strings, as `label_value` makes
    # them); not copied, as this runs for every candidate of an unmatched Service.
    return workload.resource.labels


class _Group:
    """The workloads with pod labels of one namespace bucket, indexed once per scan
    for the questions the rule asks of them: whose own metadata carries a label
    pair, and which may pass `plausibility_test`."""

    def __init__(self, ctx: Context, workloads: list[Workload]) -> None:
        self.ctx = ctx
        self.workloads = [w for w in workloads if w.labels]
        self._texts: TextIndex[tuple[str | None, int]] | None = None
        self._by_metadata: dict[tuple[str, str], list[int]] | None = None

    @property
    def texts(self) -> TextIndex[tuple[str | None, int]]:
        """Names and pod label values in one index, built when first asked (most
        Services selecting nothing are left alone before): they are mostly the same
        strings (`app: api` on Deployment `api`). Items: (None for the name, else
        the label key; position in self.workloads)."""
        if self._texts is None:
            self._texts = TextIndex()
            for position, workload in enumerate(self.workloads):
                texts = texts_of(self.ctx, workload)
                self._texts.add(texts.name, (None, position))
                for key, text in texts.labels.items():
                    self._texts.add(text, (key, position))
        return self._texts

    @property
    def by_metadata(self) -> dict[tuple[str, str], list[int]]:
        """Positions of the workloads with a pod template by their own metadata's
        label pairs (a bare Pod has no template to add labels to)."""
        if self._by_metadata is None:
            self._by_metadata = defaultdict(list)
            for position, workload in enumerate(self.workloads):
                if workload.template_path:
                    for pair in resource_labels(workload).items():
                        self._by_metadata[pair].append(position)
        return self._by_metadata

    def metadata_matches(self, selector: Selector) -> list[Workload]:
        """Workloads with a pod template whose own ``metadata.labels`` the selector
        matches, in order."""
        if not selector.labels:
            return [w for w in self.workloads if w.template_path and selector.matches(resource_labels(w))]
        found = (self.workloads[i] for i in self.by_metadata.get(selector.labels[0], ()))
        return [w for w in found if selector.matches(resource_labels(w))]

    def may_pass(self, values: list[Text], pairs: list[tuple[str, Text]]) -> list[Workload]:
        """A superset of the workloads `plausibility_test` passes, in order: those
        with a name near one of ``values``, or for some pair a pod value near its
        value under its key, or under any key but a run-time one."""
        asked: dict[tuple[str, float], list[tuple[str | None, int]]] = {}

        def near(value: Text, threshold: float) -> list[tuple[str | None, int]]:
            # a selector value is asked about at NAMED and at RENAMED, both 0.9
            found = asked.get((value.lowered, threshold))
            if found is None:
                found = asked[(value.lowered, threshold)] = self.texts.near(value, threshold)
            return found

        found: set[int] = set()
        for value in values:
            found.update(i for key, i in near(value, NAMED) if key is None)
        for key, value in pairs:
            found.update(i for k, i in self.texts.similar_near(value, NEAR) if k == key)
            found.update(i for k, i in near(value, RENAMED) if k is not None and not is_runtime_key(k))
        return [self.workloads[i] for i in sorted(found)]


class Candidates:
    """The workloads with pod labels that could share a namespace, in the order of
    `Inventory.workloads_deployed_with`: those of the namespace then those of no
    namespace, or every workload for a Service of no namespace."""

    def __init__(self, ctx: Context, groups: list[_Group], everywhere: bool, wider: bool) -> None:
        self.ctx = ctx
        self.groups = groups
        self.everywhere = everywhere  # the groups of every namespace: order as the inventory's
        self.wider = wider  # the repository's workloads, the unit holding none
        self.count = sum(len(g.workloads) for g in groups)

    def __iter__(self) -> Iterator[Workload]:
        if self.everywhere or len(self.groups) > 2:
            mine = {w for g in self.groups for w in g.workloads}
            return (w for w in self.ctx.inventory.workloads if w in mine)
        return (w for g in self.groups for w in g.workloads)

    def first(self, count: int) -> list[Workload]:
        return [w for _, w in zip(range(count), self)]

    def metadata_matches(self, selector: Selector) -> list[Workload]:
        return self._ordered([w for g in self.groups for w in g.metadata_matches(selector)])

    def may_pass(self, values: list[Text], pairs: list[tuple[str, Text]]) -> list[Workload]:
        return self._ordered([w for g in self.groups for w in g.may_pass(values, pairs)])

    def _ordered(self, workloads: list[Workload]) -> list[Workload]:
        if len(workloads) < 2:
            return workloads
        if len(self.groups) > 2:  # a base in several units: listed once each
            workloads = list(dict.fromkeys(workloads))
        if not self.everywhere:
            return workloads
        position = _positions(self.ctx)
        return sorted(workloads, key=position.__getitem__)


def candidate_workloads(ctx: Context, service: Resource, wider: bool = False) -> Candidates:
    """The workloads deployed with ``service`` that could share its namespace (with
    ``wider``, the repository's), from groups built once per scan, each namespace's
    (and unit's) when a Service of it (or of no namespace) selects nothing."""
    inventory = ctx.inventory
    namespace = service.namespace
    groups: dict[tuple[str | None, tuple[str, str] | None], _Group] = ctx.memo("workload-groups", dict)
    # (a namespace with no workload has no bucket: `workloads_deployed_with` lists the rest)
    keys = inventory.namespaces_of_workloads() if namespace is None else [namespace] if wider else [namespace, None]
    units: Sequence[tuple[str, str] | None] = [None] if wider else sorted(inventory.units.roots(service.path))
    for unit in units:
        for key in keys:
            if (key, unit) not in groups:
                groups[(key, unit)] = _Group(ctx, inventory.workloads_in(key, unit))
    return Candidates(ctx, [groups[(key, unit)] for unit in units for key in keys], namespace is None, wider)


def _positions(ctx: Context) -> dict[Workload, int]:
    """Each workload's position in the inventory's list."""
    return ctx.memo("workload-positions", lambda: {w: i for i, w in enumerate(ctx.inventory.workloads)})
