"""YAML text to plain Python data that remembers where every field sits.

Parsing runs in libyaml through ruamel.yaml's C parser (``ruamel.yaml.clib``), which
composes nodes carrying their line marks; one Python pass turns those nodes into
`YMap`/`YSeq` (dict and list subclasses) whose ``at`` tables hold each key's and
item's line span. Rules read the data as ordinary dicts and lists and ask the tables
for lines only when they report something, so no round-trip loader is needed to
point at a field or to edit it (edits are made on the text, see `rules.edits`).

This is a scan's hot path (``python -m bench.engine`` measures it against a bare
libyaml load): plain-scalar tags are resolved once per distinct text, a file without
anchors is built without per-node alias bookkeeping, spans are plain named tuples,
and the cyclic garbage collector is paused while one file is built.

Hostile input is bounded before it reaches C code: the nesting depth is estimated
from the text (the C composer recurses and would overflow the stack on a 100,000-deep
document) and alias expansion is measured while building (a "billion laughs" file
costs linear time here, and is refused once its expanded size passes a limit).
"""

from __future__ import annotations

import gc
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from sys import intern
from typing import Any, NamedTuple

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver, VersionedResolver
from ruamel.yaml.tag import Tag

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"

# One shared Tag per resolved implicit tag, so the builder tells a plain string from
# the rest by identity instead of through Tag.__str__ (a Python call per node).
_T_STR = BaseResolver.DEFAULT_SCALAR_TAG
_T_MERGE = Tag(suffix=_MERGE)
_CANONICAL_TAGS = {str(t): t for t in (_T_STR, _T_MERGE, *(Tag(suffix=s) for s in (_INT, _FLOAT, _BOOL, _NULL)))}
_DEFAULT_TAGS = {
    ScalarNode: BaseResolver.DEFAULT_SCALAR_TAG,
    SequenceNode: BaseResolver.DEFAULT_SEQUENCE_TAG,
    MappingNode: BaseResolver.DEFAULT_MAPPING_TAG,
}
# Plain scalar text -> its resolved tag. The C composer calls back into the resolver
# for every node and ruamel's VersionedResolver looks its rule table up through three
# properties each time, which would be most of the parse. The answer depends on the
# text alone: the C parser never reports a %YAML directive to the resolver, so the
# version is always the default 1.2 (see test_yaml_1_1_directive_keeps_1_2_types).
_PLAIN_TAGS: dict[str, Tag] = {}
_PLAIN_TAGS_MAX = 50_000  # bounded: values that repeat (keys, small numbers) fill it first
_PLAIN_TAG_MAX_LEN = 64
_VERSION_TABLES: dict[Any, Any] = {}
# First characters that some implicit rule of YAML 1.2 looks at; a plain scalar
# starting with any other character is a string (the resolver finds no rule for it).
_RULE_TABLE = VersionedResolver().versioned_resolver
_RULE_FIRST_CHARS = None if None in _RULE_TABLE else frozenset(_RULE_TABLE)

try:  # libyaml-backed parser; the pure-Python one is a slow but correct fallback
    from ruamel.yaml.cyaml import CParser as _CParser

    class _CComposer(_CParser, VersionedResolver):
        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            # No loadumper: it would point the parser at itself, a reference cycle
            # that kept every parser and its text alive until the next full garbage
            # collection. The resolver then uses the default YAML version, 1.2, which
            # is what it used anyway (the C parser never reports %YAML to it).
            VersionedResolver.__init__(self)
            # the version's rule table is the same for every parser: build it once
            self._version_implicit_resolver = _VERSION_TABLES

        if not VersionedResolver.yaml_path_resolvers:  # none registered: skip the calls' work

            def descend_resolver(self, current_node: Any, current_index: Any) -> None:
                pass

            def ascend_resolver(self) -> None:
                pass

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode and implicit[0]:
                if value and _RULE_FIRST_CHARS is not None and value[0] not in _RULE_FIRST_CHARS:
                    return _T_STR
                tag = _PLAIN_TAGS.get(value)
                if tag is None:
                    tag = VersionedResolver.resolve(self, kind, value, implicit)
                    tag = _CANONICAL_TAGS.get(str(tag), tag)
                    if len(value) <= _PLAIN_TAG_MAX_LEN and len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                        _PLAIN_TAGS[value] = tag
                return tag
            if not self.yaml_path_resolvers:
                return _DEFAULT_TAGS[kind]
            return VersionedResolver.resolve(self, kind, value, implicit)  # pragma: no cover

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - exercised only where clib is missing
    HAVE_LIBYAML = False


# Line breaks as git and GitHub count them. libyaml (YAML 1.1) and ``str.splitlines``
# also break on U+0085, U+2028 and U+2029 (and splitlines on a few C0 controls):
# counted as lines, every finding below one would land on the wrong line.
_GIT_BREAK = re.compile(r"\r\n|\r|\n")
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# What libyaml breaks lines on besides CR and LF, each parsed as a stand-in character
# (printable for libyaml, of the same length) and put back in the values afterwards.
_YAML11_BREAKS = "\x85\u2028\u2029"
_STAND_INS = "\U000f0085\U000f2028\U000f2029"


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """``text``'s lines as git counts them: on ``\\n``, ``\\r\\n`` and ``\\r`` only."""
    if not _OTHER_BREAKS.search(text):
        return text.splitlines(keepends)  # the same lines, found in C
    if keepends:
        lines = [m.group(0) for m in re.finditer(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)]
        return lines
    lines = _GIT_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def count_lines_before(text: str, offset: int) -> int:
    """The 1-based git line number of character ``offset``."""
    head = text[:offset]
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


class YAMLLimitError(ValueError):
    """The document exceeds a configured safety limit (depth or expanded size)."""


class YAMLParseError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class Span(NamedTuple):
    """Where a value sits: ``key_line`` is the line of its key (or ``-`` for a
    sequence item), ``start``..``end`` the lines of the value itself, ``col`` the
    column of the key or item indicator (0-based). A tuple: there is one per key and
    item of every file, so it is made without a Python-level constructor call."""

    key_line: int
    start: int
    end: int
    col: int


_new_tuple = tuple.__new__  # _new_tuple(Span, (key_line, start, end, col))


# Where things sit is kept out of the tree's objects: there is one span per key and
# item of every file, while rules look at few of them. A builder appends to one
# `array` of machine ints per file (``_table``), for each collection, after its
# children: a header ``line, end_line, col, flow`` then, per entry in the
# collection's order, ``key_line, start, end, col`` (8 bytes an entry in a file
# under 64 KiB, against a dict entry and an int or tuple object each). `Span`s are
# made on first access to ``at``. A mapping whose entries do not line up with its
# keys (a key written twice, YAML merge keys) and the alias-aware builder's
# collections keep a raw ``_at`` table instead: a dict (or list) of ints
# ``line * _ONE_LINE + col`` for entries on one line, else tuples
# ``(key_line, start, end, col)`` or Spans.
_ONE_LINE = 1 << 20
_HEADER = 4  # line, end_line, col, flow
_ENTRY = 4  # key_line, start, end, col


def _span_of(raw: Any) -> Span:
    if raw.__class__ is int:
        line, col = divmod(raw, _ONE_LINE)
        return _new_tuple(Span, (line, line, line, col))
    return _new_tuple(Span, raw)


def _table_span(table: array, at: int) -> Span:
    return _new_tuple(Span, (table[at], table[at + 1], table[at + 2], table[at + 3]))


def span_at(collection: YMap | YSeq, key: Any) -> Span:
    """``collection.at[key]``, without making the Span of every other entry."""
    if collection._at is not None:
        return _span_of(collection._at[key])
    if isinstance(collection, YMap):
        if key not in collection:
            raise KeyError(key)
        index = list(collection).index(key)
    else:
        index = range(len(collection))[key]  # IndexError, negative indexes, as a list's
    return _table_span(collection._table, collection._base + _HEADER + _ENTRY * index)


def _end_of(raw: Any) -> int:
    """The end line of a raw entry."""
    return raw // _ONE_LINE if raw.__class__ is int else raw[2]


class _Placed:
    """Where a collection sits, read from its builder's table."""

    __slots__ = ()
    _table: array
    _base: int

    @property
    def line(self) -> int:
        return self._table[self._base]

    @property
    def end_line(self) -> int:
        return self._table[self._base + 1]

    @property
    def col(self) -> int:
        return self._table[self._base + 2]

    @property
    def flow(self) -> bool:
        return bool(self._table[self._base + 3])

    def _entry_spans(self) -> Iterator[Span]:
        table, at = self._table, self._base + _HEADER
        for index in range(len(self)):  # type: ignore[arg-type]
            yield _table_span(table, at + _ENTRY * index)


class _SpanDict(dict):
    """``YMap.at`` once made: the Spans themselves (one slot holds raw or made)."""

    __slots__ = ()


class _SpanList(list):
    """``YSeq.at`` once made."""

    __slots__ = ()


class YMap(_Placed, dict):
    """A mapping; ``at[key]`` is the `Span` of that key's entry."""

    __slots__ = ("_table", "_base", "_at")
    _at: dict[Any, Any] | None  # None: the entries are in the table; else raw entries, or the Spans made

    @property
    def at(self) -> dict[Any, Span]:
        raw = self._at
        if raw.__class__ is _SpanDict:
            return raw
        if raw is None:
            spans = _SpanDict(zip(self, self._entry_spans()))
        else:
            spans = _SpanDict((k, _span_of(v)) for k, v in raw.items())
        self._at = spans
        return spans

    @at.setter
    def at(self, spans: dict[Any, Span]) -> None:
        self._at = _SpanDict(spans)


class YSeq(_Placed, list):
    """A sequence; ``at[i]`` is the `Span` of item i."""

    __slots__ = ("_table", "_base", "_at")
    _at: list[Any] | None  # None: the entries are in the table; else raw entries, or the Spans made

    @property
    def at(self) -> list[Span]:
        raw = self._at
        if raw.__class__ is _SpanList:
            return raw
        spans = _SpanList(self._entry_spans() if raw is None else (_span_of(v) for v in raw))
        self._at = spans
        return spans

    @at.setter
    def at(self, spans: list[Span]) -> None:
        self._at = _SpanList(spans)


@dataclass(slots=True)  # one per document of a scan: no per-object dict
class YamlDoc:
    index: int  # position in the file, 0-based
    root: Any
    start_line: int
    end_line: int
    # (line, key) of every key written twice in one mapping: the data keeps the last
    # value, as libyaml does, while kubectl refuses the whole document (read only: a
    # document without any shares one empty tuple)
    duplicate_keys: Sequence[tuple[int, Any]] = ()


@dataclass(frozen=True)
class Limits:
    max_depth: int = 100
    max_nodes: int = 250_000  # after alias expansion, per file


def parse_documents(text: str, limits: Limits = Limits()) -> list[YamlDoc]:
    """Parse every document of a YAML stream. Raises `YAMLParseError` (with the
    1-based line where parsing failed) or `YAMLLimitError`."""
    if _may_be_too_deep(text, limits.max_depth):
        depth = _exact_depth(text, limits.max_depth)
        if depth > limits.max_depth:
            raise YAMLLimitError(f"nesting deeper than {limits.max_depth} levels")
    # Anchors need ``&``: a text without one has no aliases, and takes the builder
    # that needs no per-node bookkeeping for them.
    stood_in = any(c in text for c in _YAML11_BREAKS)
    if stood_in:
        text = text.translate(_TO_STAND_INS)
    builder = _Builder(limits.max_nodes, text) if "&" in text else _PlainBuilder(limits.max_nodes, text)
    docs = []
    # Building allocates several objects per node and frees none in cycles; the
    # cyclic garbage collector would traverse every live object again and again
    # meanwhile (a large share of a scan's parse time). Paused for this file only.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        for index, node in enumerate(_compose_all(text)):
            if node is None:
                continue
            root = builder.build(node)
            start, end = builder.lines_of(node, root)
            if stood_in:
                root = _restore_breaks(root, {})
            docs.append(YamlDoc(index, root, start, end, builder.duplicates or ()))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YAMLParseError(f"invalid YAML: {problem}", line) from None
    except YAMLError as exc:
        raise YAMLParseError(f"invalid YAML: {exc}", None) from None
    except RecursionError:
        raise YAMLLimitError("nesting too deep to parse") from None
    finally:
        if collecting:
            gc.enable()
    return docs


_TO_STAND_INS = str.maketrans(_YAML11_BREAKS, _STAND_INS)
_FROM_STAND_INS = str.maketrans(_STAND_INS, _YAML11_BREAKS)


def _restore_breaks(value: Any, done: dict[int, Any]) -> Any:
    """``value`` with the stand-ins of `parse_documents` turned back into the
    characters they stood for, in place (aliased collections once)."""
    if isinstance(value, str):
        return value.translate(_FROM_STAND_INS)
    if not isinstance(value, (YMap, YSeq)) or id(value) in done:
        return value
    done[id(value)] = value
    if isinstance(value, YSeq):
        value[:] = [_restore_breaks(item, done) for item in value]
        return value
    raw_at = value._at
    items = [(_restore_breaks(k, done), k, _restore_breaks(v, done)) for k, v in value.items()]
    value.clear()
    value.update((key, item) for key, _, item in items)  # same order: a table still lines up
    if raw_at is not None:
        value._at = {key: raw_at[old] for key, old, _ in items}
    return value


def _compose_all(text: str) -> Iterator[Any]:
    if HAVE_LIBYAML:
        composer = _CComposer(text)
        while composer.check_node():
            yield composer.get_node()
        return
    from ruamel.yaml import YAML  # pragma: no cover

    yield from YAML(typ="safe", pure=True).compose_all(text)  # pragma: no cover


def _may_be_too_deep(text: str, limit: int) -> bool:
    """Whether a cheap upper bound of the nesting depth exceeds ``limit``: every block
    level needs at least one more column of indentation or a compact ``- `` indicator,
    every flow level one bracket. The text is split in lines only when some run of
    spaces and dashes is long enough for it to."""
    brackets = text.count("[") + text.count("{")
    run = limit - brackets  # the block depth it takes, in leading spaces and dashes
    if run > 0 and not re.search(f"[ -]{{{run}}}", text):
        return False
    return brackets + _max_block_depth(text) > limit


def _max_block_depth(text: str) -> int:
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" -")
        depth = len(line) - len(stripped)
        if depth > deepest and stripped and not stripped.startswith("#"):
            deepest = depth
    return deepest + 1


def _exact_depth(text: str, limit: int) -> int:
    """Nesting depth from parser events (`parser_events` is safe on any input);
    stops counting once past the limit."""
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = deepest = 0
    try:
        for event in parser_events(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > limit:
                        return deepest
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        pass  # the real parse reports the error with its line
    return deepest


def parser_events(text: str) -> Iterator[Any]:
    """The parser events of ``text``, one at a time. libyaml's parser is a state
    machine, no recursion, so this is safe on any input; raises `YAMLError` where
    the text stops being YAML."""
    if HAVE_LIBYAML:
        parser = _CParser(text)
        while parser.check_event():
            yield parser.get_event()
    else:  # pragma: no cover - the pure-Python parser is iterative too, only slower
        from ruamel.yaml import YAML

        yield from YAML(typ="safe", pure=True).parse(text)


class _Builder:
    """Turns composed nodes into YMap/YSeq/scalars, sharing aliased nodes.

    The composer hands an alias over as the anchored node itself, whose marks are
    the anchor's; the line of an alias occurrence (``key: *ref``, ``- *ref``) is
    therefore found in the text, from where the previous entry ended."""

    def __init__(self, max_nodes: int, text: str) -> None:
        self.max_nodes = max_nodes
        self.text = text
        # machine ints as wide as the text's line and column numbers can get (bounded
        # by its length): 2 bytes for nearly every manifest file
        self.table = array("H" if len(text) < 2**16 - 1 else "i" if len(text) < 2**31 - 1 else "q")
        self._lines: list[str] | None = None
        self.built: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.total = 0  # per file: it accumulates over the documents
        self.duplicates: list[tuple[int, Any]] = []

    def build(self, node: Any) -> Any:
        self.duplicates = []
        # Anchors do not cross documents, and nodes of an earlier document are freed
        # once built: their ids can come back for new nodes, so the cache is per
        # document (keeping it returned an earlier document's values).
        self.built = {}
        self.sizes = {}
        value, size = self._build(node)
        return value

    @property
    def lines(self) -> list[str]:
        """The text's lines, split on first need (aliases, block scalars)."""
        if self._lines is None:
            self._lines = split_lines(self.text)
        return self._lines

    def _is_alias(self, node: Any) -> bool:
        return id(node) in self.built

    def _build(self, node: Any) -> tuple[Any, int]:
        key = id(node)
        if key in self.built:  # an alias: reuse, but count what it expands to
            size = self.sizes[key]
            self._count(size)
            return self.built[key], size
        if isinstance(node, ScalarNode):
            value, size = _scalar(node), 1
        elif isinstance(node, MappingNode):
            value, size = self._mapping(node)
        elif isinstance(node, SequenceNode):
            value, size = self._sequence(node)
        else:  # pragma: no cover - the composer yields only these three
            raise YAMLParseError(f"unexpected node {type(node).__name__}", None)
        self.built[key] = value
        self.sizes[key] = size
        self._count(1)
        return value, size

    def _count(self, size: int) -> None:
        self.total += size
        if self.total > self.max_nodes:
            raise YAMLLimitError(f"more than {self.max_nodes} nodes once aliases are expanded")

    def _alias_at(self, line: int, col: int) -> tuple[int, int]:
        """(1-based line, column) of the first ``*`` at or after ``line``/``col``,
        skipping comment lines; ``(line, col)`` when none is found nearby."""
        for number in range(line, min(line + 50, len(self.lines) + 1)):
            text = self.lines[number - 1]
            from_col = col if number == line else 0
            if text.lstrip().startswith("#"):
                continue
            found = text.find("*", from_col)
            if found >= 0:
                return number, found
        return line, col

    def _mapping(self, node: MappingNode) -> tuple[YMap, int]:
        result = YMap()
        at: dict[Any, Span] = {}
        merges = []
        size = 1
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key, _ = self._build(key_node)
            if isinstance(key, (YMap, YSeq)):
                key = str(key)  # complex keys never occur in manifests
            key_line, key_col = key_node.start_mark.line + 1, key_node.start_mark.column
            alias = self._is_alias(value_node)
            value, child_size = self._build(value_node)
            size += child_size
            if key in result:
                self.duplicates.append((key_line, key))
            result[key] = value
            if alias:
                start = end = self._alias_at(key_line, key_node.end_mark.column)[0]
            else:
                start, end = self.lines_of(value_node, value)
            at[key] = _new_tuple(Span, (key_line, start, end, key_col))
        for merge_node in merges:  # YAML merge keys: explicit keys win
            sources = merge_node.value if isinstance(merge_node, SequenceNode) else [merge_node]
            for source in sources:
                merged, child_size = self._build(source)
                size += child_size
                if isinstance(merged, YMap):
                    # a merged key's span is where it is written: in the anchored mapping
                    for k, v in merged.items():
                        if k not in result:
                            result[k] = v
                            at[k] = merged.at[k]
        result.at = at
        self._place(result, node)
        return result, size

    def _sequence(self, node: SequenceNode) -> tuple[YSeq, int]:
        result = YSeq()
        at: list[Span] = []
        size = 1
        flow = bool(node.flow_style)
        for item_node in node.value:
            alias = self._is_alias(item_node)
            value, child_size = self._build(item_node)
            size += child_size
            result.append(value)
            if alias:
                # a block item starts on the line after the previous one ends
                after = at[-1].end + (0 if flow else 1) if at else node.start_mark.line + 1
                start, found_col = self._alias_at(after, 0)
                start = end = start
                col = found_col if flow else found_col - 2
            else:
                start, end = self.lines_of(item_node, value)
                # Every "-" of a block sequence stands in the sequence's own column.
                col = item_node.start_mark.column if flow else node.start_mark.column
            at.append(_new_tuple(Span, (start, start, end, max(col, 0))))
        result.at = at
        self._place(result, node)
        return result, size

    def _place(self, value: YMap | YSeq, node: Any) -> None:
        value._table = table = self.table
        value._base = len(table)
        mark = node.start_mark
        table.extend((mark.line + 1, self.lines_of(node, value)[1], mark.column, 1 if node.flow_style else 0))

    def lines_of(self, node: Any, value: Any) -> tuple[int, int]:
        """First and last line (1-based) of a node's own text."""
        start = node.start_mark.line + 1
        if isinstance(node, ScalarNode) or node.flow_style:
            end_mark = node.end_mark
            end = end_mark.line + 1
            if end_mark.column == 0 and end_mark.line > node.start_mark.line:
                end -= 1  # block scalars end at the start of the next line
            if isinstance(node, ScalarNode) and node.style in ("|", ">"):
                # ...past their trailing blank lines, which belong to no value
                while end > start and end <= len(self.lines) and not self.lines[end - 1].strip():
                    end -= 1
            return start, end
        # A block collection's end mark lies past trailing comments and blank lines;
        # its real last line is its last child's.
        if value._at is None:
            return start, value.end_line  # placed from the table, where that is so
        spans = value._at.values() if isinstance(value, YMap) else value._at
        last = max((_end_of(s) for s in spans), default=start)
        return start, last


class _PlainBuilder(_Builder):
    """The builder for a text without anchors, hence without aliases: the same
    values, spans and node count as `_Builder`, in one pass with no per-node cache.
    This is the hot path of a scan: scalars are handled inline, plain strings are
    told by their tag's identity, a collection's last line is tracked on the way."""

    def build(self, node: Any, top: bool = True) -> Any:
        if top:
            self.duplicates = []
        cls = type(node)
        value: Any
        if cls is MappingNode:
            value = self._mapping(node)
        elif cls is SequenceNode:
            value = self._sequence(node)
        else:
            value = node.value if node.ctag is _T_STR else _scalar(node)
            self.total += 1
        self._check_total()
        return value

    def _check_total(self) -> None:
        if self.total > self.max_nodes:
            raise YAMLLimitError(f"more than {self.max_nodes} nodes once aliases are expanded")

    def _scalar_end(self, node: Any, start: int) -> int:
        """Last line of a scalar node starting on ``start`` (see `lines_of`)."""
        end_mark = node.end_mark
        end = end_mark.line + 1
        if end > start:
            if end_mark.column == 0:
                end -= 1  # block scalars end at the start of the next line
            if node.style in ("|", ">"):
                lines = self.lines
                while end > start and end <= len(lines) and not lines[end - 1].strip():
                    end -= 1
        return end

    def _mapping(self, node: Any) -> YMap:  # type: ignore[override]  # the value alone: the count is in self.total
        result = YMap()
        # the header (filled in last), then 4 ints an entry, appended to the table at once
        entries = [0, 0, 0, 0]
        merges = None
        mapping_node, sequence_node, str_tag = MappingNode, SequenceNode, _T_STR
        count = 1
        last = 0  # the last line of any entry
        value: Any
        for key_node, value_node in node.value:
            key_tag = key_node.ctag
            if key_tag is str_tag:
                # keys and most values (ports' names, protocols, kinds, labels) repeat in
                # every document: one copy each (interned strings die with their last use)
                key = intern(key_node.value)
                count += 1
            elif key_tag is _T_MERGE or key_node.tag == _MERGE:
                if merges is None:
                    merges = []
                merges.append(value_node)
                continue
            else:
                key = self._key(key_node)
            cls = type(value_node)
            if cls is mapping_node:
                value = self._mapping(value_node)
                start, end = value.line, value.end_line
            elif cls is sequence_node:
                value = self._sequence(value_node)
                start, end = value.line, value.end_line
            else:
                value = intern(value_node.value) if value_node.ctag is str_tag else _scalar(value_node)
                count += 1
                start = value_node.start_mark.line + 1
                end = start if value_node.end_mark.line + 1 == start else self._scalar_end(value_node, start)
            result[key] = value
            mark = key_node.start_mark
            entries += (mark.line + 1, start, end, mark.column)
            if end > last:
                last = end
        self.total += count
        if merges or 4 * len(result) + 4 != len(entries):  # entries no longer line up with keys
            last = self._raw_entries(result, node, entries, merges, last)
            entries = entries[:4]
        else:
            result._at = None
        self._place_at(result, node, entries, last)
        self._check_total()
        return result

    def _key(self, key_node: Any) -> Any:
        """A key that is not a plain string (counted as a node)."""
        key = self.build(key_node, False)
        return str(key) if isinstance(key, (YMap, YSeq)) else key  # complex keys never occur in manifests

    def _raw_entries(self, result: YMap, node: Any, entries: list[int], merges: list | None, last: int) -> int:
        """Give ``result`` a raw ``_at`` dict (a key written twice keeps its first place
        and its last span; merged keys, explicit keys winning, keep where they are
        written); returns the last line of any entry. Rare: not the hot path."""
        self._find_duplicates(node)
        keys = [
            key_node.value if key_node.ctag is _T_STR else self._uncounted_key(key_node)
            for key_node, _ in node.value
            if not (key_node.ctag is _T_MERGE or key_node.tag == _MERGE)
        ]
        at: dict[Any, Any] = {}
        for index, key in enumerate(keys):
            at[key] = tuple(entries[4 + 4 * index : 8 + 4 * index])
        for merge_node in merges or ():
            sources = merge_node.value if type(merge_node) is SequenceNode else [merge_node]
            for source in sources:
                merged = self.build(source, False)
                if isinstance(merged, YMap):
                    for k, v in merged.items():
                        if k not in result:
                            result[k] = v
                            at[k] = merged_span = span_at(merged, k)
                            if merged_span.end > last:
                                last = merged_span.end
        result._at = at
        return last

    def _uncounted_key(self, key_node: Any) -> Any:
        """A key built again (it was counted the first time)."""
        total, self.total = self.total, 0
        try:
            return self._key(key_node)
        finally:
            self.total = total

    def _find_duplicates(self, node: Any) -> None:
        """Record the keys of a mapping node written more than once (rare: the hot
        path only compares counts)."""
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE or type(key_node) is not ScalarNode:
                continue
            key = key_node.value if key_node.ctag is _T_STR else _scalar(key_node)
            if key in seen:
                self.duplicates.append((key_node.start_mark.line + 1, key))
            seen.add(key)

    def _sequence(self, node: Any) -> YSeq:  # type: ignore[override]  # the value alone: the count is in self.total
        items: list[Any] = []
        entries = [0, 0, 0, 0]
        mapping_node, sequence_node, str_tag = MappingNode, SequenceNode, _T_STR
        # Every "-" of a block sequence stands in the sequence's own column.
        block_col = None if node.flow_style else node.start_mark.column
        count = 1
        last = 0
        value: Any
        for item_node in node.value:
            cls = type(item_node)
            if cls is mapping_node:
                value = self._mapping(item_node)
                start, end = value.line, value.end_line
            elif cls is sequence_node:
                value = self._sequence(item_node)
                start, end = value.line, value.end_line
            else:
                value = intern(item_node.value) if item_node.ctag is str_tag else _scalar(item_node)
                count += 1
                start = item_node.start_mark.line + 1
                end = start if item_node.end_mark.line + 1 == start else self._scalar_end(item_node, start)
            items.append(value)
            entries += (start, start, end, item_node.start_mark.column if block_col is None else block_col)
            if end > last:
                last = end
        self.total += count
        result = YSeq(items)  # sized exactly, where appending leaves room to grow
        result._at = None
        self._place_at(result, node, entries, last)
        self._check_total()
        return result

    def _place_at(self, value: YMap | YSeq, node: Any, entries: list[int], last: int) -> None:
        """Append ``value``'s header and ``entries`` (whose first 4 are the header's
        room) to the table, given the last line of the entries (0: no entries)."""
        mark = node.start_mark
        entries[0] = start = mark.line + 1
        entries[2] = mark.column
        if node.flow_style:
            entries[3] = 1
            end_mark = node.end_mark
            end = end_mark.line + 1
            if end_mark.column == 0 and end > start:
                end -= 1
            entries[1] = end
        else:
            entries[1] = last if last else start
        value._table = table = self.table
        value._base = len(table)
        table.extend(entries)


_MAX_INT_DIGITS = 40  # past int64 in any base YAML 1.2 writes integers in


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == _STR or node.style in ("'", '"', "|", ">"):
        return text
    try:
        if tag == _INT:
            digits = text.replace("_", "")
            if len(digits) > _MAX_INT_DIGITS:
                return text  # no Kubernetes field holds it; as an int, printing it would raise

            if digits[:2] in ("0x", "0X"):
                return int(digits, 16)
            if digits[:2] in ("0o", "0O"):
                return int(digits[2:], 8)
            return int(digits)
        if tag == _FLOAT:
            lowered = text.lower()
            if lowered.endswith(".inf"):
                return float("-inf") if lowered.startswith("-") else float("inf")
            if lowered == ".nan":
                return float("nan")
            return float(text.replace("_", ""))
    except ValueError:
        return text
    if tag == _BOOL:
        return text.lower() in ("true", "yes", "on", "y")
    if tag == _NULL:
        return None
    return text
