"""Links from the App's reviews and check runs to the rule reference.

The base is ``FOOTGUN_DOCS_URL`` when set (read at each use, like the repository's
own ``docs-url`` on the command line), else the package's declared documentation
(`rules.checks.default_docs_url`); with neither, the text names the offline command
``footgun explain RULE`` instead of linking a page that may not exist.
"""

from __future__ import annotations

import os

from footgun.rules.checks import doc_url, offline_hint

DOCS_URL_VARIABLE = "FOOTGUN_DOCS_URL"


def rule_url(rule_id: str) -> str | None:
    return doc_url(rule_id, os.environ.get(DOCS_URL_VARIABLE) or None)


def rule_link(rule_id: str, label: str | None = None) -> str:
    """Markdown: the label (default: the rule id in code) linked to the rule's docs."""
    label = label or f"`{rule_id}`"
    url = rule_url(rule_id)
    return f"[{label}]({url})" if url else f"{label} (`{offline_hint(rule_id)}`)"
