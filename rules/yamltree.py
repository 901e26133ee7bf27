"""YAML text to plain Python data that remembers where every field sits.

Parsing runs in libyaml through ruamel.yaml's C parser (``ruamel.yaml.clib``), which
composes nodes carrying their line marks; one Python pass turns those nodes into
`YMap`/`YSeq` (dict and list subclasses) whose ``at`` tables hold each key's and
item's line span. Rules read the data as ordinary dicts and lists and ask the tables
for lines only when they report something, so no round-trip loader is needed to
point at a field or to edit it (edits are made on the text, see `rules.edits`).

Hostile input is bounded before it reaches C code: the nesting depth is estimated
from the text (the C composer recurses and would overflow the stack on a 100,000-deep
document) and alias expansion is measured while building (a "billion laughs" file
costs linear time here, and is refused once its expanded size passes a limit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

try:  # libyaml-backed parser; the pure-Python one is a slow but correct fallback
    from ruamel.yaml.cyaml import CParser as _CParser

    class _CComposer(_CParser, VersionedResolver):
        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            VersionedResolver.__init__(self, loadumper=self)

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - exercised only where clib is missing
    HAVE_LIBYAML = False

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


class YAMLLimitError(ValueError):
    """The document exceeds a configured safety limit (depth or expanded size)."""


class YAMLParseError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Span:
    """Where a value sits: ``key_line`` is the line of its key (or ``-`` for a
    sequence item), ``start``..``end`` the lines of the value itself, ``col`` the
    column of the key or item indicator (0-based)."""

    key_line: int
    start: int
    end: int
    col: int


class YMap(dict):
    """A mapping; ``at[key]`` is the `Span` of that key's entry."""

    __slots__ = ("at", "line", "end_line", "col", "flow")


class YSeq(list):
    """A sequence; ``at[i]`` is the `Span` of item i."""

    __slots__ = ("at", "line", "end_line", "col", "flow")


@dataclass
class YamlDoc:
    index: int  # position in the file, 0-based
    root: Any
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Limits:
    max_depth: int = 100
    max_nodes: int = 250_000  # after alias expansion, per file


def parse_documents(text: str, limits: Limits = Limits()) -> list[YamlDoc]:
    """Parse every document of a YAML stream. Raises `YAMLParseError` (with the
    1-based line where parsing failed) or `YAMLLimitError`."""
    if _estimated_depth(text) > limits.max_depth:
        depth = _exact_depth(text, limits.max_depth)
        if depth > limits.max_depth:
            raise YAMLLimitError(f"nesting deeper than {limits.max_depth} levels")
    builder = _Builder(limits.max_nodes, text.splitlines())
    docs = []
    try:
        for index, node in enumerate(_compose_all(text)):
            if node is None:
                continue
            root = builder.build(node)
            start, end = builder.lines_of(node, root)
            docs.append(YamlDoc(index, root, start, end))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YAMLParseError(f"invalid YAML: {problem}", line) from None
    except YAMLError as exc:
        raise YAMLParseError(f"invalid YAML: {exc}", None) from None
    except RecursionError:
        raise YAMLLimitError("nesting too deep to parse") from None
    return docs


def _compose_all(text: str) -> Iterator[Any]:
    if HAVE_LIBYAML:
        composer = _CComposer(text)
        while composer.check_node():
            yield composer.get_node()
        return
    from ruamel.yaml import YAML  # pragma: no cover

    yield from YAML(typ="safe", pure=True).compose_all(text)  # pragma: no cover


def _estimated_depth(text: str) -> int:
    """A cheap upper bound of the nesting depth: every block level needs at least one
    more column of indentation or a compact ``- `` indicator, every flow level one
    bracket."""
    return text.count("[") + text.count("{") + _max_block_depth(text)


def _max_block_depth(text: str) -> int:
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" -")
        depth = len(line) - len(stripped)
        if depth > deepest and stripped and not stripped.startswith("#"):
            deepest = depth
    return deepest + 1


def _exact_depth(text: str, limit: int) -> int:
    """Nesting depth from parser events (libyaml's parser is a state machine, no
    recursion, so it is safe on any input); stops counting once past the limit."""
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    if HAVE_LIBYAML:
        from ruamel.yaml.cyaml import CParser

        parser: Any = CParser(text)
    else:  # pragma: no cover - the pure-Python parser is iterative too, only slower
        from ruamel.yaml import YAML

        parser = YAML(typ="safe", pure=True).parse(text)
    depth = deepest = 0
    try:
        for event in _events(parser):
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


def _events(parser: Any) -> Iterator[Any]:
    if hasattr(parser, "check_event"):
        while parser.check_event():
            yield parser.get_event()
    else:  # pragma: no cover
        yield from parser


class _Builder:
    """Turns composed nodes into YMap/YSeq/scalars, sharing aliased nodes.

    The composer hands an alias over as the anchored node itself, whose marks are
    the anchor's; the line of an alias occurrence (``key: *ref``, ``- *ref``) is
    therefore found in the text, from where the previous entry ended."""

    def __init__(self, max_nodes: int, lines: list[str]) -> None:
        self.max_nodes = max_nodes
        self.lines = lines
        self.built: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.total = 0  # per file: it accumulates over the documents

    def build(self, node: Any) -> Any:
        # Anchors do not cross documents, and nodes of an earlier document are freed
        # once built: their ids can come back for new nodes, so the cache is per
        # document (keeping it returned an earlier document's values).
        self.built = {}
        self.sizes = {}
        value, size = self._build(node)
        return value

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
            raise YAMLLimitError(
                f"more than {self.max_nodes} nodes once aliases are expanded")

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
            result[key] = value
            if alias:
                start = end = self._alias_at(key_line, key_node.end_mark.column)[0]
            else:
                start, end = self.lines_of(value_node, value)
            at[key] = Span(key_line, start, end, key_col)
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
        at = []
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
                # A block item's indicator sits two columns before its content.
                col = item_node.start_mark.column if flow else item_node.start_mark.column - 2
            at.append(Span(start, start, end, max(col, 0)))
        result.at = at
        self._place(result, node)
        return result, size

    def _place(self, value: YMap | YSeq, node: Any) -> None:
        value.flow = bool(node.flow_style)
        value.line = node.start_mark.line + 1
        value.col = node.start_mark.column
        value.end_line = self.lines_of(node, value)[1]

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
        spans = value.at.values() if isinstance(value, YMap) else value.at
        last = max((s.end for s in spans), default=start)
        return start, last


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == _STR or node.style in ("'", '"', "|", ">"):
        return text
    try:
        if tag == _INT:
            digits = text.replace("_", "")
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
