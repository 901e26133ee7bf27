"""The rule catalogue: one module per rule, in the order of footguns.md.

Each module's docstring is the rule's user documentation (what, why, how to fix,
examples, config keys, sources); then come ``ID``, ``SEVERITY`` and ``SUMMARY``, and
one function, ``check(ctx)``, that yields findings. ``docs/rules.md`` is generated
from these modules.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

ORDER = (
    "service-selector-mismatch",
    "local-traffic-without-spread",
    "ingress-without-tls",
    "default-deny-blocks-dns",
    "headless-service-load-balancing",
    "hardcoded-node-port",
    "load-balancer-per-service",
    "ndots-external-lookups",
    "ingress-path-overmatch",
    "missing-ingress-class",
    "client-ip-session-affinity",
    "ingress-backend-missing",
    "route-backend-missing",
    "networkpolicy-selects-nothing",
    "service-target-port-not-declared",
    "probe-port-not-declared",
    "statefulset-governing-service",
)


def _discover() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "ID") and hasattr(module, "check"):
            if module.ID not in ORDER:
                raise RuntimeError(f"rule module {info.name} has an id not in the catalogue: {module.ID}")
            found[module.ID] = module
    return {rule_id: found[rule_id] for rule_id in ORDER if rule_id in found}


RULES: dict[str, ModuleType] = _discover()

DOCS_URL = "https://github.com/footgun-dev/footgun/blob/main/docs/rules.md"


def doc_url(rule_id: str, base: str = DOCS_URL) -> str:
    """Link to the rule's section of the generated reference page."""
    return f"{base}#{rule_id}"
