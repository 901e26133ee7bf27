"""Position-aware YAML loading: every key, item and document knows its lines."""

from __future__ import annotations

import pytest

from footgun.rules.yamltree import Limits, Span, YAMLLimitError, YAMLParseError, YMap, YSeq, parse_documents


def root(text: str):
    docs = parse_documents(text)
    assert len(docs) == 1
    return docs[0].root


def test_keys_carry_their_key_line_value_lines_and_column():
    data = root("apiVersion: v1\nkind: Service\nspec:\n  selector:\n    app: web\n  type: ClusterIP\n")
    assert isinstance(data, YMap)
    assert data.at["kind"] == Span(2, 2, 2, 0)
    assert data.at["spec"] == Span(3, 4, 6, 0)  # a block value starts on the next line
    assert data["spec"].at["selector"] == Span(4, 5, 5, 2)
    assert data["spec"]["selector"].at["app"] == Span(5, 5, 5, 4)
    assert (data.line, data.end_line, data["spec"].line, data["spec"].end_line) == (1, 6, 4, 6)


def test_sequence_items_point_at_their_dash_indented_or_not():
    data = root("indented:\n  - name: a\n    port: 1\n  - name: b\nindentless:\n- x\n- y\n")
    assert isinstance(data["indented"], YSeq)
    assert data["indented"].at == [Span(2, 2, 3, 2), Span(4, 4, 4, 2)]
    assert data["indented"][0].at["port"] == Span(3, 3, 3, 4)
    assert data["indentless"].at == [Span(6, 6, 6, 0), Span(7, 7, 7, 0)]


def test_items_written_with_wide_gaps_after_the_dash_still_point_at_the_dash():
    text = "ports:\n  -   port: 80\n      name: web\n  -   port: 81\n"
    ports = parse_documents(text)[0].root["ports"]
    assert [span.col for span in ports.at] == [2, 2]
    assert ports[0].at["port"].col == 6


def test_block_scalars_end_on_their_last_text_line():
    data = root(
        "literal: |\n"
        "  one\n"
        "\n"
        "  two\n"
        "\n"
        "\n"
        "folded: >-\n"
        "  three\n"
        "  # not a comment: inside the scalar\n"
        "# a real comment\n"
        "keep: |+\n"
        "  four\n"
        "last: 1\n"
    )
    assert data["literal"] == "one\n\ntwo\n"
    assert data.at["literal"] == Span(1, 1, 4, 0)  # trailing blank lines belong to no value
    assert data.at["folded"] == Span(7, 7, 9, 0)  # the comment after it is not part of it
    assert data.at["keep"] == Span(11, 11, 12, 0)
    assert data.at["last"] == Span(13, 13, 13, 0)


def test_block_scalar_at_end_of_file_without_newline():
    data = root("a: |\n  x")
    assert data.at["a"] == Span(1, 1, 2, 0)


def test_flow_collections_span_their_brackets():
    data = root("selector: {app: web, tier: front}\nports: [80,\n  443]\nempty: {}\n")
    assert data["selector"].flow and data.at["selector"] == Span(1, 1, 1, 0)
    assert data["selector"].at["tier"] == Span(1, 1, 1, 21)
    assert data["ports"].flow and data.at["ports"] == Span(2, 2, 3, 0)
    assert data["ports"].at[1] == Span(3, 3, 3, 2)
    assert data["empty"] == {} and data.at["empty"] == Span(4, 4, 4, 0)


def test_trailing_comments_and_blank_lines_are_not_part_of_a_value():
    docs = parse_documents(
        "spec:\n"
        "  ports:\n"
        "    - port: 80  # http\n"
        "    # - port: 443\n"
        "\n"
        "  # trailing comment of spec\n"
        "other: 1\n"
        "# end of document\n"
        "\n"
    )
    data = docs[0].root
    assert data["spec"].at["ports"] == Span(2, 3, 3, 2)
    assert data.at["spec"] == Span(1, 2, 3, 0)
    assert data["spec"]["ports"].at[0] == Span(3, 3, 3, 4)
    assert (docs[0].start_line, docs[0].end_line) == (1, 7)


def test_quoted_and_multiline_scalars():
    data = root("a: 'it''s'\nb: \"two\n  lines\"\nc: plain\n  continued\n")
    assert (data["a"], data["b"], data["c"]) == ("it's", "two lines", "plain continued")
    assert data.at["b"] == Span(2, 2, 3, 0)
    assert data.at["c"] == Span(4, 4, 5, 0)


def test_scalar_types_follow_yaml_1_2_core_and_quotes_keep_strings():
    data = root("int: 8080\nhex: 0x1F\nfloat: 1.5\nbool: true\nnothing: ~\nstr: '80'\nblock: |\n  80\n")
    assert data == {"int": 8080, "hex": 31, "float": 1.5, "bool": True, "nothing": None, "str": "80", "block": "80\n"}


def test_alias_occurrences_point_at_their_own_line():
    data = root(
        "base: &labels\n"
        "  app: web\n"
        "  tier: front\n"
        "copy: *labels\n"
        "items:\n"
        "  - &first one\n"
        "  # a comment between items\n"
        "  - *first\n"
        "  - *labels\n"
        "flow: [*first, two]\n"
    )
    assert data["copy"] is data["base"]  # shared, not copied
    assert data.at["copy"] == Span(4, 4, 4, 0)
    assert data["items"] == ["one", "one", {"app": "web", "tier": "front"}]
    assert data["items"].at[1] == Span(8, 8, 8, 2)
    assert data["items"].at[2] == Span(9, 9, 9, 2)
    assert data["flow"].at[0].start == 10


def test_merge_keys_merge_with_explicit_keys_winning():
    data = root(
        "defaults: &defaults\n  port: 80\n  protocol: TCP\nports:\n  - <<: *defaults\n    port: 8080\n    name: http\n"
    )
    port = data["ports"][0]
    assert port == {"port": 8080, "name": "http", "protocol": "TCP"}
    assert port.at["port"] == Span(6, 6, 6, 4)
    # a merged key is written in the anchored mapping: that is where it points
    assert port.at["protocol"] == Span(3, 3, 3, 2)
    assert "<<" not in port


def test_merge_of_a_list_of_mappings_takes_the_first_definition():
    data = root("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n")
    assert data["c"] == {"x": 1, "y": 1, "z": 3}


def test_documents_of_a_stream_are_independent():
    # Built values were once cached by node id across documents; ids of freed
    # nodes come back, and a later document got an earlier document's values.
    text = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  labels: {{}}\ndata: {{a: '1', b: [x, y]}}\n"
        for i in range(300)
    )
    docs = parse_documents(text)
    assert [d.root["metadata"]["name"] for d in docs] == [f"c{i}" for i in range(300)]
    assert all(d.root["data"] == {"a": "1", "b": ["x", "y"]} for d in docs)
    assert docs[-1].start_line == 299 * 7 + 2


def test_document_lines_and_indexes_in_a_stream():
    docs = parse_documents("# leading comment\n---\na: 1\n---\nb: |+\n  keep\n\n...\n")
    assert [(d.index, d.start_line, d.end_line) for d in docs] == [(0, 3, 3), (1, 5, 6)]
    assert docs[1].root == {"b": "keep\n\n"}


def test_anchors_do_not_leak_across_documents():
    with pytest.raises(YAMLParseError):
        parse_documents("a: &x 1\n---\nb: *x\n")


def test_parse_errors_say_the_line():
    with pytest.raises(YAMLParseError) as caught:
        parse_documents("a: 1\nb: [1, 2\nc: 3\n")
    assert caught.value.line is not None and caught.value.line >= 2
    with pytest.raises(YAMLParseError) as caught:
        parse_documents("a: 1\n  b: 2\n")
    assert caught.value.line == 2


def test_depth_limit_counts_real_nesting_only():
    # many sibling flow collections are not deep
    text = "".join(f"k{i}: {{a: [1, {{b: 2}}]}}\n" for i in range(500))
    assert len(parse_documents(text, Limits(max_depth=5))[0].root) == 500
    with pytest.raises(YAMLLimitError):
        parse_documents("a: " + "[" * 6 + "]" * 6, Limits(max_depth=5))


def test_alias_expansion_is_bounded():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
    )
    with pytest.raises(YAMLLimitError):
        parse_documents(bomb)
    # the same document under a generous limit is built without expanding copies
    small = "a: &a [x, x]\nb: [*a, *a]\n"
    data = parse_documents(small, Limits(max_nodes=20))[0].root
    assert data["b"][0] is data["a"]


def test_node_limit_counts_the_whole_file():
    text = "".join(f"---\nk: [{', '.join(['1'] * 50)}]\n" for _ in range(10))
    parse_documents(text, Limits(max_nodes=600))
    with pytest.raises(YAMLLimitError):
        parse_documents(text, Limits(max_nodes=400))
