"""The fast paths of `rules.yamltree` give the same answers as the general ones."""

from __future__ import annotations

import gc
import math

import pytest

from footgun.rules import yamltree
from footgun.rules.yamltree import Limits, Span, YAMLLimitError, YAMLParseError, YMap, YSeq, parse_documents

SNIPPETS = [
    "a: |\n  x\n\n\nb: 1\n",
    "a: >\n  x\n  y\n\n",
    "a: |-\n  x\n\n# c\nb: 2",
    "a: plain\n  multi\n  line\nb: c\n",
    "a: 'q\n  r'\nb: \"x\"\n",
    "{a: 1, b: [1, 2, {c: d}]}\n",
    "x: [1,\n  2]\ny: {a: 1,\n  b: 2}\n",
    "a:\n  <<: {x: 1, y: 2}\n  y: 3\n",
    "a:\n  <<: [{x: 1}, {x: 2, z: 3}]\n",
    "? [a, b]\n: c\n",
    "80: http\ntrue: 1\nnull: 2\n",
    "a:\nb: ~\nc: null\nd:\n",
    "- - a\n  - b\n- c\n-\n- [x,\n  y]\n",
    "a: 0x1F\nb: 0o17\nc: 1_000\nd: .inf\ne: -.Inf\nf: .nan\ng: 1e3\nh: 01.5\n",
    "a: yes\nb: on\nc: True\nd: FALSE\n",
    "a: !!str 1\nb: !!int '3'\nc: !custom x\nd: !!float 1\n",
    "a:\r\n  b: 1\r\n  c: |\r\n    x\r\n\r\n",
    "key: value # comment\n# trailing\n\n",
    "- a: 1\n  b: 2\n\n# x\n- c\n",
    "a:\n- 1\n- 2\nb:\n  - x\n",
    "a: 1\n---\n- x\n---\nplain\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n      nodePort: 30080\n",
    "a: 1\nb: 2\na:\n  x: 3\n  y: 4\nc: 5\n",
    "a:\n  <<: {x: 1}\n  y: 2\n  y: 3\n  z:\n    - 4\n",
    "1: a\n1: b\n? [k]\n: c\n",
]


def _shape(value):
    """Values, spans and placement of a parsed tree, comparable with ==."""
    if isinstance(value, YMap):
        return (
            "map",
            [(k, _shape(v), tuple(value.at[k])) for k, v in value.items()],
            value.line,
            value.end_line,
            value.col,
            value.flow,
        )
    if isinstance(value, YSeq):
        return (
            "seq",
            [(_shape(v), tuple(s)) for v, s in zip(value, value.at)],
            value.line,
            value.end_line,
            value.col,
            value.flow,
        )
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return (type(value).__name__, value)


def _parse_with(builder_class, text, limits=Limits()):
    builder = builder_class(limits.max_nodes, text)
    out = []
    for node in yamltree._compose_all(text):
        if node is not None:
            root = builder.build(node)
            out.append((_shape(root), builder.lines_of(node, root)))
    return out


@pytest.mark.parametrize("text", SNIPPETS)
def test_plain_builder_matches_the_alias_aware_builder(text):
    assert "&" not in text
    assert _parse_with(yamltree._PlainBuilder, text) == _parse_with(yamltree._Builder, text)


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 13, 1000])
def test_plain_builder_counts_nodes_like_the_alias_aware_builder(limit):
    for text in SNIPPETS:
        outcomes = []
        for builder_class in (yamltree._PlainBuilder, yamltree._Builder):
            try:
                outcomes.append(len(_parse_with(builder_class, text, Limits(max_nodes=limit))))
            except YAMLLimitError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], text


def test_spans_are_tuples_with_named_fields():
    root = parse_documents("spec:\n  ports:\n    - port: 80\n")[0].root
    span = root["spec"]["ports"].at[0]
    assert isinstance(span, Span)
    assert (span.key_line, span.start, span.end, span.col) == (3, 3, 3, 4)
    assert root["spec"].at["ports"] == Span(2, 3, 3, 2)


def test_plain_scalar_types_do_not_depend_on_what_was_parsed_before():
    first = parse_documents("a: yes\nb: '1'\nc: 1\nd: null\ne: 1.5\n")[0].root
    again = parse_documents("a: yes\nb: '1'\nc: 1\nd: null\ne: 1.5\n")[0].root
    assert first == again == {"a": "yes", "b": "1", "c": 1, "d": None, "e": 1.5}


def test_yaml_1_1_directive_keeps_1_2_types():
    # libyaml never tells the resolver about %YAML, so 1.2 rules apply throughout;
    # the resolver's cache relies on it.
    root = parse_documents("%YAML 1.1\n---\na: yes\nb: 0777\nc: on\n")[0].root
    assert root == {"a": "yes", "b": 777, "c": "on"}


def test_garbage_collection_is_restored_after_parsing():
    assert gc.isenabled()
    parse_documents("a: 1\n")
    assert gc.isenabled()
    with pytest.raises(YAMLParseError):
        parse_documents("a: [1, 2\n")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_documents("a: 1\n")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",
        "- " * 60 + "x\n",
        " " * 120 + "a: 1\n",
        "a:\r" + " " * 99 + "b: 1\n",
        "[" * 40 + "\n" + "  " * 40 + "x\n",
        "#" + " " * 200 + "\n",
        "- - - - -\n" * 3,
    ],
)
@pytest.mark.parametrize("limit", [1, 5, 50, 100])
def test_depth_prefilter_agrees_with_the_estimate(text, limit):
    estimated_depth = text.count("[") + text.count("{") + yamltree._max_block_depth(text)
    assert yamltree._may_be_too_deep(text, limit) == (estimated_depth > limit)


def test_spans_are_made_on_first_access_and_stay_the_same_objects():
    root = parse_documents("a:\n  b: 1\n  c: [x, y]\n")[0].root
    inner = root["a"]
    assert inner.at is inner.at
    assert inner.at["b"] == Span(2, 2, 2, 2) and isinstance(inner.at["b"], Span)
    assert [tuple(s) for s in inner["c"].at] == [(3, 3, 3, 6), (3, 3, 3, 9)]
    assert all(isinstance(s, Span) for s in inner["c"].at)


def test_merged_keys_keep_the_span_where_they_are_written():
    root = parse_documents("a:\n  <<: {x: 1, y: 2}\n  y: 3\n")[0].root["a"]
    assert root == {"y": 3, "x": 1}
    assert root.at["x"] == Span(2, 2, 2, 7)
    assert root.at["y"] == Span(3, 3, 3, 2)


def test_spans_can_be_assigned():
    root = parse_documents("a: 1\n")[0].root
    root.at = {"a": Span(9, 9, 9, 0)}
    assert root.at["a"].key_line == 9


def test_spans_past_a_very_long_line_keep_their_column():
    text = "[" + "x" * 1_100_000 + ", y]\n"
    root = parse_documents(text)[0].root
    assert root.at[1] == Span(1, 1, 1, 1_100_003)
    assert root.at[0] == Span(1, 1, 1, 1)


def test_multi_line_entries_keep_all_four_lines():
    root = parse_documents("a: |\n  x\n  y\nb:\n  - 1\n")[0].root
    assert root.at["a"] == Span(1, 1, 3, 0)
    assert root.at["b"] == Span(4, 5, 5, 0)


def test_a_scan_leaves_the_garbage_collector_as_it_was(tmp_path):
    from footgun.rules.engine import scan_files, scan_paths

    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n")
    assert gc.isenabled() and gc.get_freeze_count() == 0
    scan_paths([str(tmp_path)])
    scan_files({"b.yaml": b"a: [1,\n"})
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        scan_paths([str(tmp_path)])
        assert not gc.isenabled()
    finally:
        gc.enable()
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        scan_paths([str(tmp_path)])
        # someone else's freeze is left alone: not undone (frozen objects that die
        # while the scan runs leave the count, so it may only shrink a little)
        assert frozen // 2 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
    assert frozen_before == 0


def test_resource_span_equals_walking_the_at_tables(tmp_path):
    from bench.corpus import generate
    from footgun.rules.engine import scan_paths

    generate(tmp_path, 150, seed=3)
    result = scan_paths([str(tmp_path)])

    def walk(node, path):
        if isinstance(node, YMap):
            items = list(node.items())
        elif isinstance(node, YSeq):
            items = list(enumerate(node)) + [(-1, node[-1])] if node else []
        else:
            return
        for key, value in items:
            yield path + (key,), node.at[key]
            yield from walk(value, path + (key,))

    checked = 0
    for resource in result.inventory.resources:
        fresh = parse_documents(resource.source.text)[resource.doc.index].root
        for path, span in walk(fresh, ()):
            assert resource.span(*path) == span, (resource, path)
            checked += 1
        assert resource.span("no", "such", "path") is None and resource.span() is None
    assert checked > 10_000


@pytest.mark.parametrize("text", SNIPPETS)
def test_one_span_is_the_same_as_in_the_whole_table(text):
    for doc in parse_documents(text):
        for collection in _collections(doc.root):
            keys = list(collection) if isinstance(collection, YMap) else [*range(len(collection)), -1]
            for key in keys if collection else []:
                assert yamltree.span_at(collection, key) == collection.at[key]


def _collections(value):
    if isinstance(value, (YMap, YSeq)):
        yield value
        for item in value.values() if isinstance(value, YMap) else value:
            yield from _collections(item)


def test_a_missing_entry_is_reported_as_a_dict_or_a_list_would():
    root = parse_documents("a:\n  - 1\n")[0].root
    with pytest.raises(KeyError):
        yamltree.span_at(root, "b")
    with pytest.raises(IndexError):
        yamltree.span_at(root["a"], 1)
