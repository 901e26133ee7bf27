"""Fixes are line edits in the file's own style: indentation width, sequence
style, quoting, comments, line endings and the (missing) final newline."""

from __future__ import annotations

from ruamel.yaml import YAML

from footgun.rules.edits import (
    FileStyle,
    append_items,
    apply_edits,
    delete_lines,
    insert_after,
    insert_entries,
    merge_entries,
    overlaps,
    remove_key,
    remove_keys,
    render,
    render_scalar,
    replace_lines,
    set_block,
    set_scalar,
    style_of,
)
from footgun.rules.manifests import load_text
from footgun.rules.model import Edit


def resource(text: str, index: int = 0):
    return load_text("f.yaml", text).resources[index]


def applied(text: str, *edits) -> str:
    edits = [e for group in edits for e in (group if isinstance(group, list) else [group])]
    assert all(e is not None for e in edits)
    result = apply_edits(text, edits)
    list(YAML(typ="safe").load_all(result))  # still YAML
    return result


FOUR = """apiVersion: v1
kind: Service
metadata:
    name: web
    labels:
        app: web   # the app
spec:
    ports:
        -   name: http
            port: 80
            nodePort: 30080
    selector:
        app: web
"""

INDENTLESS = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - name: http
    port: 80
  selector:
    app: 'web'
    tier: "front"
"""


def test_style_is_detected():
    assert style_of(resource(FOUR).source) == FileStyle(indent=4, seq_offset=4, quote='"')
    assert style_of(resource(INDENTLESS).source) == FileStyle(indent=2, seq_offset=0, quote="'")


def test_four_space_indentation_is_kept_when_adding_keys_and_items():
    r = resource(FOUR)
    result = applied(
        FOUR,
        insert_entries(r.source, r.get("metadata", "labels"), {"tier": "front"}),
        append_items(r.source, r.get("spec", "ports"), [{"name": "https", "port": 443}]),
    )
    assert "        app: web   # the app\n        tier: front\n" in result
    assert "            nodePort: 30080\n        -   name: https\n            port: 443\n" in result


def test_four_space_nested_blocks_render_four_wide():
    r = resource(FOUR)
    result = applied(
        FOUR,
        merge_entries(
            r.source,
            r.get("spec"),
            {"externalTrafficPolicy": "Local", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
        ),
    )
    assert (
        "    externalTrafficPolicy: Local\n    sessionAffinityConfig:\n        clientIP:\n"
        "            timeoutSeconds: 60\n"
    ) in result


def test_indentless_sequences_stay_indentless():
    r = resource(INDENTLESS)
    result = applied(
        INDENTLESS,
        append_items(r.source, r.get("spec", "ports"), [{"name": "https", "port": 443}]),
        merge_entries(r.source, r.get("spec"), {"externalIPs": ["10.0.0.1"]}),
    )
    assert "  - name: http\n    port: 80\n  - name: https\n    port: 443\n" in result
    assert "  externalIPs:\n  - 10.0.0.1\n" in result


def test_item_removal_moves_the_dash_to_the_next_key():
    r = resource(FOUR)
    result = applied(FOUR, remove_key(r.source, r.get("spec", "ports", 0), "name"))
    assert "        -   port: 80\n            nodePort: 30080\n" in result
    lonely = resource("apiVersion: v1\nkind: A\na:\n- x: 1\n- y: 2\n")
    assert remove_key(lonely.source, lonely.get("a", 0), "x") is None  # the item would vanish


def test_comments_are_kept():
    text = (
        "apiVersion: v1\nkind: Service   # a service\nmetadata:\n  name: web\n"
        "spec:\n  # the ports\n  ports:\n    - port: 80      # http\n      nodePort: 30080  # pinned\n"
        "  # selector below\n  selector:\n    app: web  # keep me\n"
    )
    r = resource(text)
    result = applied(
        text,
        remove_key(r.source, r.get("spec", "ports", 0), "nodePort"),
        set_scalar(r.source, r.get("spec", "selector"), "app", "api"),
    )
    assert result == text.replace("      nodePort: 30080  # pinned\n", "").replace(
        "app: web  # keep me", "app: api  # keep me"
    )


def test_quoted_values_keep_their_quotes():
    r = resource(INDENTLESS)
    selector = r.get("spec", "selector")
    result = applied(
        INDENTLESS, set_scalar(r.source, selector, "app", "api"), set_scalar(r.source, selector, "tier", "back")
    )
    assert "    app: 'api'\n    tier: \"back\"\n" in result
    tricky = applied(INDENTLESS, set_scalar(r.source, selector, "app", "it's"))
    assert "    app: 'it''s'\n" in tricky
    escaped = applied(INDENTLESS, set_scalar(r.source, selector, "tier", 'say "hi"'))
    assert '    tier: "say \\"hi\\""\n' in escaped
    assert resource(escaped).get("spec", "selector", "tier") == 'say "hi"'
    plain = "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n"
    p = resource(plain)
    assert applied(plain, set_scalar(p.source, p.get("metadata"), "name", "two\nlines")).endswith(
        '  name: "two\\nlines"\n'
    )


def test_new_values_are_quoted_only_when_yaml_would_change_them():
    assert render_scalar("web") == "web"
    assert render_scalar("80") == '"80"' and render_scalar("true") == '"true"' and render_scalar("yes") == '"yes"'
    assert render_scalar("a: b", "'") == "'a: b'" and render_scalar("") == '""'
    assert render_scalar(80) == "80" and render_scalar(False) == "false"
    lines = render({"annotations": {"a": "3600", "b": "cookie"}}, FileStyle(quote="'"), 2)
    assert lines == ["  annotations:", "    a: '3600'", "    b: cookie"]


def test_crlf_line_endings_stay_crlf():
    text = INDENTLESS.replace("\n", "\r\n")
    r = resource(text)
    assert r.source.newline == "\r\n"
    result = applied(
        text,
        set_scalar(r.source, r.get("spec", "selector"), "app", "api"),
        append_items(r.source, r.get("spec", "ports"), [{"port": 443}]),
        insert_entries(r.source, r.get("metadata"), {"namespace": "prod"}),
    )
    assert "\n" not in result.replace("\r\n", "")
    assert "  name: web\r\n  namespace: prod\r\n" in result
    assert "    port: 80\r\n  - port: 443\r\n" in result
    deleted = applied(text, remove_key(r.source, r.get("spec", "selector"), "tier"))
    assert deleted.endswith("    app: 'web'\r\n")


def test_a_file_without_final_newline():
    text = INDENTLESS.rstrip("\n")
    r = resource(text)
    selector = r.get("spec", "selector")
    appended = applied(text, insert_entries(r.source, selector, {"zone": "a"}))
    assert appended.endswith('    tier: "front"\n    zone: a')
    changed = applied(text, set_scalar(r.source, selector, "tier", "back"))
    assert changed.endswith('    tier: "back"')
    removed = applied(text, remove_key(r.source, selector, "tier"))
    assert removed.endswith("    app: 'web'")
    replaced = applied(text, replace_lines(r.source, 1, 1, ["apiVersion: v1", "# added"]))
    assert replaced.startswith("apiVersion: v1\n# added\nkind: Service\n")


def test_adjacent_key_removals_become_one_edit():
    text = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  sessionAffinity: ClientIP\n"
        "  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 60\n  type: ClusterIP\n"
    )
    r = resource(text)
    (edit,) = remove_keys(r.source, r.get("spec"), ["sessionAffinity", "sessionAffinityConfig"])
    assert (edit.start_line, edit.end_line, edit.replacement) == (6, 9, "")
    assert applied(text, edit).endswith("spec:\n  type: ClusterIP\n")


def test_set_block_replaces_a_value_in_block_style():
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\nspec: {}\n"
    r = resource(text)
    result = applied(text, set_block(r.source, r.get("metadata"), "annotations", {"a": "1"}))
    assert '  annotations:\n    a: "1"\nspec: {}\n' in result


def test_flow_collections_are_not_edited_line_wise():
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {app: web}}\n"
    r = resource(text)
    assert insert_entries(r.source, r.get("metadata"), {"namespace": "x"}) is None
    assert remove_key(r.source, r.get("metadata", "labels"), "app") is None
    assert merge_entries(r.source, r.get("metadata"), {"namespace": "x"}) is None


def test_merge_entries_refuses_to_overwrite_a_different_scalar():
    r = resource(INDENTLESS)
    assert merge_entries(r.source, r.get("metadata"), {"name": "other"}) is None
    assert merge_entries(r.source, r.get("metadata"), {"name": "web"}) == []


def test_insert_after_and_delete_lines_are_suggestion_shaped():
    r = resource(INDENTLESS)
    edit = insert_after(r.source, 4, ["  namespace: prod"])
    assert edit == Edit("f.yaml", 4, 4, "  name: web\n  namespace: prod\n")
    assert delete_lines(r.source, 2, 3) == Edit("f.yaml", 2, 3, "")


def test_apply_edits_applies_several_from_the_bottom_and_overlaps_are_detected():
    text = "a: 1\nb: 2\nc: 3\n"
    edits = [Edit("f.yaml", 1, 1, "a: 10\n"), Edit("f.yaml", 3, 3, "c: 30\nd: 4\n"), Edit("f.yaml", 2, 2, "")]
    assert apply_edits(text, edits) == "a: 10\nc: 30\nd: 4\n"
    assert overlaps(Edit("f", 1, 3, ""), Edit("f", 3, 4, "")) and not overlaps(Edit("f", 1, 2, ""), Edit("f", 3, 4, ""))
    assert not overlaps(Edit("f", 1, 3, ""), Edit("g", 1, 3, ""))
