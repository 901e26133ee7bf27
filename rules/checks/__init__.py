"""The rule catalogue: one module per rule.

Each module's docstring is the rule's user documentation (what, why, how to fix,
examples, config keys, sources); then come ``ID``, ``SEVERITY`` and ``SUMMARY``, and
one function, ``check(ctx)``, that yields findings. ``docs/rules.md`` is generated
from these modules.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import pkgutil
import re
from types import ModuleType

# The catalogue's numbering (docs, README): a new rule module is found without being
# listed, numbered after these by id; list it here to give it a lasting number.
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
    """Every rule module, in catalogue order: those of ``ORDER`` first (their numbers
    never change), then any other by id (a new rule needs no edit here)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "ID") and hasattr(module, "check"):
            found[module.ID] = module
    return {rule_id: found[rule_id] for rule_id in [*ORDER, *sorted(set(found) - set(ORDER))] if rule_id in found}


RULES: dict[str, ModuleType] = _discover()


def package_version() -> str:
    """The installed footgun's version (``0+unknown`` when run from a bare source tree)."""
    try:
        return importlib.metadata.version("footgun")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


_GITHUB_REPOSITORY = re.compile(r"https://github\.com/[^/]+/[^/]+/?")


@functools.cache
def project_urls() -> dict[str, str]:
    """The installed package's declared project URLs (``[project.urls]`` in
    pyproject.toml), by lower-cased label; empty when none are declared."""
    try:
        metadata = importlib.metadata.metadata("footgun")
    except importlib.metadata.PackageNotFoundError:
        return {}
    urls = {}
    for entry in metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if url.strip():
            urls[label.strip().lower()] = url.strip()
    home = (metadata.get_all("Home-page") or [None])[0]
    if home and "homepage" not in urls:
        urls["homepage"] = home
    return urls


def default_docs_url() -> str | None:
    """The rule reference's address from the package's declared URLs: its
    ``Documentation`` URL, else its ``Homepage`` (a GitHub repository's homepage:
    ``docs/rules.md`` in it). None when the package declares neither: links are then
    left out rather than pointed at a page that may not exist."""
    urls = project_urls()
    if "documentation" in urls:
        return urls["documentation"]
    home = urls.get("homepage")
    if home and _GITHUB_REPOSITORY.fullmatch(home):
        return home.rstrip("/") + "/blob/HEAD/docs/rules.md"
    return home


def doc_url(rule_id: str, base: str | None = None) -> str | None:
    """Link to the rule's section of the reference page at ``base`` (``docs-url``,
    ``FOOTGUN_DOCS_URL``), else at `default_docs_url`; None when there is none."""
    base = base or default_docs_url()
    return f"{base.rstrip('#')}#{rule_id}" if base else None


def offline_hint(rule_id: str) -> str:
    """Where to read a rule's documentation without a link: the command line."""
    return f"footgun explain {rule_id}"
