"""Each rule's documented examples hold: its Bad example fires the rule, its Good
example leaves it silent (the docstring is the rule's documentation, so a wrong
example would teach a user the wrong thing)."""

from __future__ import annotations

import re

import pytest

from footgun.rules.checks import RULES
from footgun.rules.docs import rule_doc
from tests.helpers import of_rule, scan_text

# "Bad:" or "Good:" at the start of a line, any words after it, then a YAML block.
_EXAMPLE = re.compile(
    r"^(Bad|Good):(?P<words>[^\n]*(?:\n(?!```|\s*\n)[^\n]*)*?)\n```yaml\n(?P<yaml>.*?)^```", re.M | re.S
)


def examples(rule_id: str) -> dict[str, tuple[str, str]]:
    """{"Bad": (words, yaml), "Good": (words, yaml)} of the rule's docstring."""
    found: dict[str, tuple[str, str]] = {}
    for match in _EXAMPLE.finditer(rule_doc(RULES[rule_id]).body):
        found.setdefault(match.group(1), (match.group("words").strip(), match.group("yaml")))
    missing = {"Bad", "Good"} - set(found)
    assert not missing, f"{rule_id}: no {' or '.join(sorted(missing))} example as a yaml block"
    return found


@pytest.mark.parametrize("rule_id", list(RULES))
def test_the_bad_example_fires_the_rule(rule_id):
    _, bad = examples(rule_id)["Bad"]
    assert of_rule(scan_text(bad), rule_id), f"{rule_id}: its Bad example raises no finding"


@pytest.mark.parametrize("rule_id", list(RULES))
def test_the_good_example_is_silent(rule_id):
    words, good = examples(rule_id)["Good"]
    if words.startswith("the same, and"):  # the Bad example's manifests, with these added
        good = examples(rule_id)["Bad"][1] + "---\n" + good
    assert not of_rule(scan_text(good), rule_id), f"{rule_id}: its Good example raises a finding"
