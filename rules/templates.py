"""Whether a file is a Helm/Go/Jinja template, decided after trying to parse it.

`{{` and `{%` are common inside plain YAML data: Vault agent-inject template
annotations, Alertmanager and Prometheus templates in ConfigMaps, `sed`
placeholders in quoted image tags, comments. Such a file is a valid manifest and is
scanned. A file is a template only when it does not parse, or when a marker stands
where YAML structure is: in a key or plain (unquoted) scalar such as
`replicas: {{ .Values.replicas }}`, or on a line of its own such as
`{{- if .Values.enabled }}` (which YAML reads as a flow mapping). Markers inside
quoted (`'...'`, `"..."`) or block (`|`, `>`) scalars, or in comments, are data.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import ScalarEvent

from .yamltree import count_lines_before, parser_events

TEMPLATE_MARK = re.compile(r"\{\{|\{%")
_DATA_STYLES = ("'", '"', "|", ">")


def structural_marker_line(text: str) -> int | None:
    """The 1-based line of the first template marker that stands where YAML
    structure is, or None when every marker is data (or there is none)."""
    markers = [m.start() for m in TEMPLATE_MARK.finditer(text)]
    if not markers:
        return None
    data_ranges = _quoted_scalar_ranges(text)
    if data_ranges is None:  # does not parse: the markers are what breaks it
        return _line_at(text, markers[0])
    for offset in markers:
        if not _inside(data_ranges, offset) and not _in_comment(text, offset, data_ranges):
            return _line_at(text, offset)
    return None


def _quoted_scalar_ranges(text: str) -> list[tuple[int, int]] | None:
    """The character ranges of quoted and block scalars, in text order; None when
    the text is not YAML. A parse of its own: it runs before the main one, which
    is not tried on a template, and only on a text that holds a marker."""
    try:
        return [
            (e.start_mark.index, e.end_mark.index)
            for e in parser_events(text)
            if isinstance(e, ScalarEvent) and e.style in _DATA_STYLES
        ]
    except YAMLError:
        return None


def _inside(ranges: list[tuple[int, int]], offset: int) -> bool:
    """``ranges`` are in text order and do not overlap: one bisection."""
    index = bisect_right(ranges, (offset, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= offset < ranges[index][1]


def _in_comment(text: str, offset: int, data_ranges: list[tuple[int, int]]) -> bool:
    """Whether a ``#`` that starts a comment precedes ``offset`` on its line."""
    line_start = text.rfind("\n", 0, offset) + 1
    position = text.find("#", line_start, offset)
    while position != -1:
        if (position == line_start or text[position - 1] in " \t") and not _inside(data_ranges, position):
            return True
        position = text.find("#", position + 1, offset)
    return False


def _line_at(text: str, offset: int) -> int:
    return count_lines_before(text, offset)
