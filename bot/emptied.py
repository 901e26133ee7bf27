"""Services a pull request leaves without pods: the merge base's view against the head's.

`service-selector-mismatch` judges one commit, and is silent about a Service whose
namespace holds no workload in the scanned files (the pods may come from another
repository, a chart, an operator). A pull request that deletes the only workload a
Service selected at its merge base turns that Service into exactly such a case, and
passes: yet here the pods did come from this repository, and after the merge the
Service has no endpoints (https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors
describes what a Service without matching pods serves: nothing).

`emptied_services` compares the two commits and reports, as a finding of
`service-selector-mismatch` on the Service, each one that selected a workload at the
merge base and whose namespace holds none at the head. A relabelled workload needs no
help: it still exists at the head, so the rule itself reports the Service, and the
App attributes that finding to the pull request (it is absent at the merge base).

It runs in the engine's sandbox (`bot.sandbox.call`): it parses the manifests.
"""

from __future__ import annotations

from collections.abc import Mapping

from footgun.rules.checks import RULES
from footgun.rules.checks import service_selector_mismatch as rule
from footgun.rules.config import Config
from footgun.rules.context import Context
from footgun.rules.engine import collector_paused, is_suppressed
from footgun.rules.inventory import Inventory
from footgun.rules.manifests import Resource, load_file
from footgun.rules.model import Finding, Related
from footgun.rules.selectors import Selector, from_map

RULE_ID = rule.ID


def emptied_services(
    head: Mapping[str, bytes], base: Mapping[str, bytes], config: Config, removed: frozenset[str] = frozenset()
) -> list[Finding]:
    """Findings on the head's Services that selected a workload in ``base`` and whose
    namespace holds no workload in ``head`` (``removed``: the paths the pull request
    deletes, named in the message)."""
    setting = config.rule(RULE_ID)
    if not setting.enabled or RULE_ID not in RULES:
        return []
    before, after = _inventory(base, config), _inventory(head, config)
    context = Context(after, config, rule)
    found = []
    for service in after.of_kind("Service"):
        selector = _selector(service)
        if selector is None or after.workloads_deployed_with(service):
            continue  # the rule itself judges a unit that still holds workloads
        was = _same(before, service)
        chosen = before.workloads_selected(selector, was) if was is not None else []
        if not chosen:
            continue
        finding = context.finding(
            service,
            ("spec", "selector"),
            _message(service, selector, chosen, removed),
            related=[
                Related(w.resource.path, w.resource.start_line, f"{w.kind} {w.name} at the merge base")
                for w in chosen[:3]
            ],
            severity=setting.severity,
        )
        if not is_suppressed(finding, service):
            found.append(finding)
    return found


def _inventory(files: Mapping[str, bytes], config: Config) -> Inventory:
    with collector_paused():
        loaded = [load_file(path, raw, config.limits, config.max_file_bytes) for path, raw in files.items()]
    return Inventory(loaded, config.custom_workloads, config.deployment_unit)


def _selector(service: Resource) -> Selector | None:
    if service.api_version != "v1":
        return None
    spec = service.get("spec")
    if not isinstance(spec, dict) or spec.get("type") == "ExternalName" or not spec.get("selector"):
        return None
    selector = from_map(spec.get("selector")).without_keys(rule.is_runtime_key)
    return None if selector.is_empty else selector


def _same(inventory: Inventory, service: Resource) -> Resource | None:
    for other in inventory.of_kind("Service"):
        if other.name == service.name and other.namespace == service.namespace:
            return other
    return None


def _message(service: Resource, selector: Selector, chosen: list, removed: frozenset[str]) -> str:
    names = ", ".join(f"{w.kind} {w.name}" for w in chosen[:3]) + (" and others" if len(chosen) > 3 else "")
    gone = sorted({w.resource.path for w in chosen} & removed)
    how = f"this pull request deletes {', '.join(gone)}" if gone else "this pull request takes them away"
    pairs = ", ".join(f"{k}={v}" for k, v in sorted(selector.labels))
    return (
        f"Service {service.name} selected {names} at the merge base; {how}, and no workload left in its "
        f"namespace has pod labels {pairs}: after the merge the Service has no endpoints and every "
        f"connection to it fails. Keep a workload with these labels, or delete the Service too."
    )
