"""Fixes as text edits on the original file, in the file's own style.

A fix never re-dumps parsed YAML: it replaces whole lines, so everything it does not
touch (comments, quoting, key order, blank lines) stays byte for byte. New lines are
rendered by ruamel.yaml with the file's indentation width and sequence style, quoted
the way the file quotes, and joined with the file's line ending (CRLF stays CRLF).
Every helper returns an `Edit`, or None where a line edit cannot do it safely (a flow
mapping, say); a rule then offers no fix rather than a wrong one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from .filestyle import FileStyle
from .manifests import SourceFile, line_ending
from .model import Edit
from .yamltree import YMap, YSeq, split_lines

_YAML11_BOOLEANS = {"y", "yes", "n", "no", "on", "off", "true", "false"}
_RESOLVER = VersionedResolver()
_STR_TAG = "tag:yaml.org,2002:str"


def style_of(source: SourceFile) -> FileStyle:
    """The file's indentation width, sequence style and preferred quote."""
    return source.style


# --- rendering -------------------------------------------------------------------


# Many findings get the same snippet (one dnsConfig per workload, say) and ruamel's
# emitter is pure Python: each value is rendered once per style. Bounded; the key
# tells apart every value that renders differently (types included, not just ==).
_RENDERED: dict[tuple[Any, FileStyle], tuple[str, ...]] = {}
_RENDERED_MAX = 1024


class _NotPlain(Exception):
    """A value holding something other than plain data: rendered, not remembered."""


def _plain_key(value: Any) -> Any:
    cls = value.__class__
    if cls in (str, int, bool) or value is None:
        return (cls, value)
    if cls is float:
        return (cls, repr(value))  # -0.0 == 0.0 and nan != nan, but not as text
    if isinstance(value, dict):
        return (dict, tuple((_plain_key(k), _plain_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(_plain_key(v) for v in value))
    raise _NotPlain


def render(value: Any, style: FileStyle, col: int) -> list[str]:
    """``value`` (a dict or list) as block YAML lines, each starting at ``col``."""
    try:
        key: Any = (_plain_key(value), style)
    except _NotPlain:
        key = None
    lines = _RENDERED.get(key) if key is not None else None
    if lines is None:
        lines = _render(value, style)
        if key is not None:
            if len(_RENDERED) >= _RENDERED_MAX:
                _RENDERED.clear()
            _RENDERED[key] = lines
    return [" " * col + line if line else line for line in lines]


def _render(value: Any, style: FileStyle) -> tuple[str, ...]:
    yaml = YAML()
    yaml.indent(mapping=style.indent, sequence=style.seq_offset + 2, offset=style.seq_offset)
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(_quoted(value, style.quote), buffer)
    return tuple(buffer.getvalue().splitlines())


def render_scalar(value: Any, quote: str = '"') -> str:
    """One scalar as it would appear after ``key: ``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return _in_quotes(text, quote) if _needs_quotes(text) else text


def _in_quotes(text: str, quote: str) -> str:
    """``text`` as a quoted scalar in the given quote style, escaped as YAML wants
    (a single-quoted scalar cannot hold a line break: those get double quotes)."""
    if quote == "'" and not any(c in text for c in "\n\r\t"):
        return "'" + text.replace("'", "''") + "'"
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _needs_quotes(text: str) -> bool:
    if text == "" or text.lower() in _YAML11_BOOLEANS or any(c in text for c in "\n\r\t"):
        return True
    if _RESOLVER.resolve(ScalarNode, text, (True, False)) != _STR_TAG:
        return True
    return bool(re.search(r"^[\s\-?:,\[\]{}#&*!|>'\"%@`]|: | #|\s$", text))


def _quoted(value: Any, quote: str) -> Any:
    if isinstance(value, dict):
        return {k: _quoted(v, quote) for k, v in value.items()}
    if isinstance(value, list):
        return [_quoted(v, quote) for v in value]
    if isinstance(value, str) and _needs_quotes(value):
        return DoubleQuotedScalarString(value) if quote == '"' else SingleQuotedScalarString(value)
    return value


# --- line edits --------------------------------------------------------------------


def replace_lines(source: SourceFile, start: int, end: int, new_lines: Iterable[str]) -> Edit:
    """Replace lines ``start..end`` with ``new_lines`` (given without line endings)."""
    new_lines = list(new_lines)
    ends_with_newline = source.lines[end - 1].endswith(("\n", "\r"))
    text = source.newline.join(new_lines)
    if new_lines and ends_with_newline:
        text += source.newline
    return Edit(source.path, start, end, text)


def delete_lines(source: SourceFile, start: int, end: int) -> Edit:
    return Edit(source.path, start, end, "")


def insert_after(source: SourceFile, line: int, new_lines: Iterable[str]) -> Edit:
    """Insert lines after ``line`` (as a suggestion: that line, then the new ones)."""
    return replace_lines(source, line, line, [source.line(line), *new_lines])


def line_prefix(source: SourceFile, line: int, col: int) -> str:
    """What stands before column ``col`` on ``line`` (indentation, ``- `` indicators)."""
    return source.line(line)[:col]


def remove_key(source: SourceFile, mapping: YMap, key: Any) -> Edit | None:
    """Delete ``key`` and its value from a block mapping. When the key carries the
    ``- `` of a sequence item, the item's next key takes the indicator over."""
    if mapping.flow or key not in mapping:
        return None
    span = mapping.at[key]
    prefix = line_prefix(source, span.key_line, span.col)
    if "-" not in prefix:
        return delete_lines(source, span.key_line, span.end)
    later = sorted((s for k, s in mapping.at.items() if s.key_line > span.end), key=lambda s: s.key_line)
    if not later:
        return None  # the item would vanish: the caller decides what that means
    successor = later[0]
    moved = prefix + source.line(successor.key_line)[successor.col :]
    return replace_lines(source, span.key_line, successor.key_line, [moved])


def remove_keys(source: SourceFile, mapping: YMap, keys: Iterable[Any]) -> list[Edit]:
    """Delete several keys of one mapping; adjacent ones become one edit."""
    present = sorted((k for k in keys if k in mapping), key=lambda k: mapping.at[k].key_line)
    if not present or mapping.flow:
        return []
    if "-" in line_prefix(source, mapping.at[present[0]].key_line, mapping.at[present[0]].col):
        removals = [remove_key(source, mapping, k) for k in present]
        return [e for e in removals if e]
    edits: list[Edit] = []
    for key in present:
        span = mapping.at[key]
        if edits and edits[-1].end_line + 1 == span.key_line:
            edits[-1] = Edit(source.path, edits[-1].start_line, span.end, "")
        else:
            edits.append(delete_lines(source, span.key_line, span.end))
    return edits


def set_scalar(source: SourceFile, mapping: YMap, key: Any, value: Any) -> Edit | None:
    """Change a one-line scalar value in place, keeping its quoting and any comment."""
    span = mapping.at.get(key)
    if span is None or span.start != span.end or span.start != span.key_line:
        return None
    text = source.line(span.key_line)
    match = re.match(r"^(.*?:[ \t]*)(\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^#]*?)([ \t]*(?:#.*)?)$", text[span.col :])
    if not match:
        return None
    head, old, tail = match.groups()
    quote = old[0] if old[:1] in ("'", '"') else None
    new = (
        _in_quotes(render_scalar(value) if isinstance(value, bool) else str(value), quote)
        if quote
        else render_scalar(value, style_of(source).quote)
    )
    return replace_lines(source, span.key_line, span.key_line, [text[: span.col] + head + new + tail])


def insert_entries(source: SourceFile, mapping: YMap, entries: dict[str, Any], after: Any = None) -> Edit | None:
    """Add keys to a block mapping, after key ``after`` or at the mapping's end."""
    if mapping.flow or not mapping:
        return None
    col = mapping.at[next(iter(mapping))].col
    anchor = mapping.at[after].end if after is not None else mapping.end_line
    return insert_after(source, anchor, render(entries, style_of(source), col))


def set_block(source: SourceFile, mapping: YMap, key: Any, value: Any) -> Edit | None:
    """Replace ``key``'s whole value (scalar or block) with ``value``, in block style."""
    span = mapping.at.get(key)
    if span is None or mapping.flow:
        return None
    style = style_of(source)
    lines = render({key: value}, style, span.col)
    first = line_prefix(source, span.key_line, span.col) + lines[0][span.col :]
    return replace_lines(
        source, span.key_line, span.end, [first, *_comment_lines(source, mapping[key], span), *lines[1:]]
    )


def _comment_lines(source: SourceFile, old: Any, span: Any) -> list[str]:
    """The whole-line comments inside a block value about to be replaced: kept, right
    under its key (a comment line is valid at any indentation there). Inside a block
    scalar such lines are text, not comments, and go with it."""
    if not isinstance(old, (YMap, YSeq)) or old.flow:
        return []
    return [text for text in map(source.line, range(span.key_line + 1, span.end + 1)) if text.lstrip().startswith("#")]


def append_document(source: SourceFile, after_line: int, document: dict[str, Any]) -> Edit:
    """A new YAML document after line ``after_line`` (the end of another one)."""
    return insert_after(source, after_line, ["---", *render(document, style_of(source), 0)])


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits of one file (lines as git counts them in ``text``),
    in one pass over its lines."""
    lines = split_lines(text, keepends=True)
    out: list[str] = []
    done = 0  # lines[:done] are settled
    for edit in sorted(edits, key=lambda e: e.start_line):
        out.extend(lines[done : edit.start_line - 1])
        done = max(done, edit.end_line)
        if out and not out[-1].endswith(("\n", "\r")) and edit.replacement:
            out[-1] += line_ending(text)
        if not edit.replacement and done >= len(lines) and out and lines and not lines[-1].endswith(("\n", "\r")):
            # the file's last lines deleted from a file without a final newline: it still has none
            out[-1] = out[-1].rstrip("\r\n")
        if edit.replacement:
            out.append(edit.replacement)
    out.extend(lines[done:])
    return "".join(out)


def overlaps(a: Edit, b: Edit) -> bool:
    return a.path == b.path and a.start_line <= b.end_line and b.start_line <= a.end_line


def append_items(source: SourceFile, sequence: Any, items: Iterable[Any]) -> Edit | None:
    """Add items at the end of a block sequence, in its own column."""
    lines = _item_lines(source, sequence, items)
    return insert_after(source, sequence.end_line, lines) if lines is not None else None


def _item_lines(source: SourceFile, sequence: Any, items: Iterable[Any]) -> list[str] | None:
    if getattr(sequence, "flow", True) or not sequence:
        return None
    # The items' own layout: where the "-" stands and where the content starts
    # (``- port`` or ``-   port``).
    dash = sequence.at[0].col
    after_dash = source.line(sequence.at[0].start)[dash + 1 :]
    gap = len(after_dash) - len(after_dash.lstrip(" "))
    content = dash + 1 + gap if after_dash.strip() and gap else dash + 2
    indicator = " " * dash + "-" + " " * (content - dash - 1)
    style = style_of(source)
    lines: list[str] = []
    for item in items:
        if isinstance(item, (dict, list)):
            body = render(item, style, content)
            lines.append(indicator + body[0][content:])
            lines.extend(body[1:])
        else:
            lines.append(indicator + render_scalar(item, style.quote))
    return lines


def merge_entries(source: SourceFile, mapping: YMap, entries: dict[str, Any]) -> list[Edit] | None:
    """Add ``entries`` to a block mapping without disturbing what is there: keys it
    lacks go at its end; into a key it has, a mapping's missing keys go in
    (recursively) and a sequence's items are appended; a key with an empty value
    gets the value. None when a line edit cannot do it (flow style, a scalar in the
    way): the caller then offers no fix. Inserts are grouped per anchor line, so the
    edits never overlap."""
    inserts: dict[int, list[str]] = {}
    replaced: list[Edit] = []
    if not _merge(source, mapping, entries, inserts, replaced):
        return None
    edits = [insert_after(source, anchor, lines) for anchor, lines in sorted(inserts.items())]
    edits.extend(replaced)
    if any(overlaps(a, b) for i, a in enumerate(edits) for b in edits[i + 1 :]):
        return None
    return sorted(edits, key=lambda e: e.start_line)


def _merge(
    source: SourceFile, mapping: Any, entries: dict[str, Any], inserts: dict[int, list[str]], replaced: list[Edit]
) -> bool:
    if not isinstance(mapping, YMap) or mapping.flow or not mapping:
        return False
    new = {}
    for key, value in entries.items():
        if key not in mapping:
            new[key] = value
            continue
        current = mapping[key]
        if current is None:
            edit = set_block(source, mapping, key, value)
            if edit is None:
                return False
            replaced.append(edit)
        elif isinstance(value, dict) and isinstance(current, dict):
            if not _merge(source, current, value, inserts, replaced):
                return False
        elif isinstance(value, list) and isinstance(current, YSeq):
            lines = _item_lines(source, current, value)
            if lines is None:
                return False
            inserts.setdefault(current.end_line, []).extend(lines)
        elif value != current:
            return False
    if new:
        col = mapping.at[next(iter(mapping))].col
        inserts.setdefault(mapping.end_line, []).extend(render(new, style_of(source), col))
    return True
