"""Hostile and malformed input: the engine reports what it can and skips the rest with
a reason that says where, never crashes, and stays linear."""

from __future__ import annotations

import os

import pytest

from footgun.rules.config import MAX_CONFIG_BYTES, MAX_GLOBS, Config, ConfigError, load_config, parse_config_text
from footgun.rules.engine import scan_paths
from footgun.rules.manifests import SourceFile
from footgun.rules.output import render
from footgun.rules.yamltree import parse_documents, split_lines
from tests.helpers import of_rule, scan_text, scan_texts

NO_TLS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: shop
                port:
                  number: 80
"""

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
fail-level: *g
"""


# --- the configuration is input too ---------------------------------------------------


def test_deeply_nested_config_is_a_config_error_naming_the_file(tmp_path):
    config = tmp_path / ".footgun.yml"
    config.write_text("exclude: " + "[" * 100_000)
    with pytest.raises(ConfigError, match=r"\.footgun\.yml"):
        load_config(config)


def test_alias_bomb_in_config_gives_a_short_error():
    with pytest.raises(ConfigError) as raised:
        parse_config_text(ALIAS_BOMB, ".footgun.yml")
    assert ".footgun.yml" in str(raised.value) and len(str(raised.value)) < 500


def test_aliased_value_in_a_config_error_message_is_bounded():
    small_bomb = "\n".join(ALIAS_BOMB.splitlines()[:4]) + "\nfail-level: *d\n"  # 9**4 items: under the node cap
    with pytest.raises(ConfigError) as raised:
        parse_config_text(small_bomb, ".footgun.yml")
    assert "fail-level" in str(raised.value) and len(str(raised.value)) < 500


def test_oversized_config_is_refused():
    with pytest.raises(ConfigError, match="bytes"):
        parse_config_text("# x\n" * (MAX_CONFIG_BYTES // 4 + 1), "big.yml")


def test_config_with_several_documents_or_duplicate_keys_is_refused():
    with pytest.raises(ConfigError, match="one YAML document"):
        parse_config_text("fail-level: error\n---\nfail-level: info\n", ".footgun.yml")
    with pytest.raises(ConfigError, match="fail-level.*line 2"):
        parse_config_text("fail-level: error\nfail-level: info\n", ".footgun.yml")


def test_config_text_accepts_bytes_and_keeps_its_meaning():
    config = parse_config_text(b"fail-level: error\nexclude: [vendor/**]\n", ".footgun.yml", root="/repo")
    assert (config.fail_level, config.exclude, config.path, config.root) == (
        "error",
        ["vendor/**"],
        ".footgun.yml",
        "/repo",
    )
    assert not config.is_included("vendor/a/b.yaml") and config.is_included("k8s/a.yaml")


def test_undecodable_config_names_the_file():
    with pytest.raises(ConfigError, match=r"cfg\.yml.*UTF-8"):
        parse_config_text(b"\xff\xfe", "cfg.yml")


def test_too_many_globs_are_refused():
    globs = "".join(f"  - d{i}/**\n" for i in range(MAX_GLOBS + 1))
    with pytest.raises(ConfigError, match=f"at most {MAX_GLOBS}"):
        parse_config_text("exclude:\n" + globs, ".footgun.yml")


def test_globs_keep_their_meaning_once_compiled():
    config = parse_config_text("include: ['k8s/*', '**/deploy']\nexclude: [k8s/secret.yaml, 'vendor/']\n", "c")
    assert config.is_included("k8s/a.yaml") and config.is_included("x/y/deploy/z.yaml")
    assert not config.is_included("k8s/secret.yaml") and not config.is_included("other/a.yaml")


# --- one bad resource never aborts the scan ---------------------------------------------

WRONG_TYPES = {
    "tls-mapping": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\nspec:\n  tls: {}\n"
    "  rules: [{host: a.com}]\n",
    "secret-mapping": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\nspec:\n"
    "  tls: [{hosts: [a.com], secretName: {a: b}}]\n  rules: [{host: a.com}]\n",
    "dns-options": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  dnsConfig: {options: 5}\n"
    "  containers: [{name: a, image: x}]\n",
    "env-int": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: a, image: x, env: 5}]\n",
    "match-expressions": "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\n"
    "spec:\n  podSelector: {matchExpressions: 5}\n  policyTypes: [Egress]\n",
    "explicit-key": "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ? selector\n"
    "  ? [a, b]\n  : c\n  ports: [{port: 80}]\n",
    "huge-hex": "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: NodePort\n"
    "  ports: [{port: 80, nodePort: 0x" + "f" * 5000 + "}]\n",
    "huge-decimal": "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: NodePort\n"
    "  ports: [{port: 80, nodePort: " + "9" * 5000 + "}]\n",
}


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_a_field_of_the_wrong_type_spoils_only_its_resource(name):
    result = scan_texts({"bad.yaml": WRONG_TYPES[name], "good.yaml": NO_TLS})
    assert of_rule(result, "ingress-without-tls") and any(f.path == "good.yaml" for f in result.findings)
    for skip in result.skipped:  # a resource a rule could not judge is named with its line
        assert skip.path == "bad.yaml" and skip.line and f"line {skip.line}" in skip.reason
    for fmt in ("text", "json", "sarif", "github"):
        render(result, fmt)


def test_a_rule_that_raises_skips_that_resource_for_that_rule_only():
    result = scan_texts({"bad.yaml": WRONG_TYPES["tls-mapping"], "good.yaml": NO_TLS})
    [skip] = result.skipped
    assert skip.line == 1 and "ingress-without-tls" in skip.reason and "Ingress a" in skip.reason
    assert [f.path for f in of_rule(result, "ingress-without-tls")] == ["good.yaml"]


def test_oversized_integers_are_kept_as_text():
    [doc] = parse_documents("a: 0x" + "f" * 5000 + "\nb: " + "9" * 5000 + "\nc: 0x10\nd: 12\n")
    assert isinstance(doc.root["a"], str) and isinstance(doc.root["b"], str)
    assert (doc.root["c"], doc.root["d"]) == (16, 12)


def test_duplicate_keys_are_reported_not_resolved():
    text = NO_TLS.replace("  name: shop\n", "  name: shop\n  name: other\n", 1)
    result = scan_texts({"dup.yaml": text, "good.yaml": NO_TLS.replace("shop", "cart")})
    [skip] = result.skipped
    assert skip.path == "dup.yaml" and skip.line == 5 and "duplicate key" in skip.reason and "'name'" in skip.reason
    assert [f.path for f in result.findings] == ["good.yaml"]


# --- no rule is quadratic ----------------------------------------------------------------------


def many_services(count: int, kind: str = "LoadBalancer") -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\nspec:\n  type: {kind}\n"
        f"  selector:\n    app: s{i}\n  ports:\n    - port: 80\n      nodePort: 30080\n"
        for i in range(count)
    )


def test_shared_node_port_findings_stay_small():
    result = scan_text(many_services(300))
    found = of_rule(result, "hardcoded-node-port")
    assert len(found) == 300
    for finding in found:
        assert len(finding.related) <= 10 and len(finding.message) < 1000
        assert "299" in finding.message  # how many others, even when not all are named


def test_load_balancer_findings_stay_small():
    found = of_rule(scan_text(many_services(300)), "load-balancer-per-service")
    assert found
    for finding in found:
        assert len(finding.related) <= 10 and len(finding.message) < 3000


# --- only regular files are read ------------------------------------------------------------


def test_fifo_and_devices_are_skipped_with_a_true_reason(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "svc.yaml").write_text(NO_TLS)
    result = scan_paths([str(tmp_path), "/dev/null"])
    reasons = {os.path.basename(s.path): s.reason for s in result.skipped}
    assert "FIFO" in reasons["pipe.yaml"] and "not a regular file" in reasons["pipe.yaml"]
    assert "character device" in reasons["null"]
    assert of_rule(result, "ingress-without-tls")


def test_unreadable_sub_folder_is_reported(tmp_path, monkeypatch):
    (tmp_path / "secret").mkdir()
    (tmp_path / "svc.yaml").write_text(NO_TLS)
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(path) == "secret":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = scan_paths([str(tmp_path)])
    [skip] = result.skipped
    assert skip.path.endswith("secret") and "cannot read folder" in skip.reason and "Permission denied" in skip.reason
    assert of_rule(result, "ingress-without-tls")


@pytest.mark.parametrize(
    "encoding, name", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32"), ("utf-32-le", "UTF-32")]
)
def test_utf16_and_utf32_say_so(tmp_path, encoding, name):
    (tmp_path / "svc.yaml").write_bytes(NO_TLS.encode(encoding))
    [skip] = scan_paths([str(tmp_path)]).skipped
    assert name in skip.reason and "binary" not in skip.reason


# --- lines are git's lines ------------------------------------------------------------------

ODD_BREAKS = ("\u2028", "\u2029", "\x85")


@pytest.mark.parametrize("odd", ODD_BREAKS)
def test_unicode_line_separators_are_not_line_breaks(odd):
    text = NO_TLS.replace("  name: shop\n", f'  name: shop\n  annotations:\n    note: "a{odd}b"\n', 1)
    [finding] = of_rule(scan_text(text), "ingress-without-tls")
    [plain] = of_rule(scan_text(text.replace(odd, "")), "ingress-without-tls")
    assert (finding.line, finding.end_line) == (plain.line, plain.end_line) == (10, 10)
    lines = text.split("\n")
    [doc] = parse_documents(text)
    assert doc.root["metadata"]["annotations"]["note"] == f"a{odd}b"
    assert doc.root["spec"].line == lines.index("  ingressClassName: nginx") + 1


def test_split_lines_is_gits():
    assert split_lines("a\u2028b\rc\r\nd\ne\x85f\x0cg") == ["a\u2028b", "c", "d", "e\x85f\x0cg"]
    assert split_lines("a\rb\n", keepends=True) == ["a\r", "b\n"]
    source = SourceFile("x", "a\u2028b\nc\rd")
    assert (source.lines, source.line(2), source.line(3)) == (["a\u2028b\n", "c\r", "d"], "c", "d")


def test_cr_only_files_are_read_and_keep_their_newline():
    text = NO_TLS.replace("\n", "\r")
    [finding] = of_rule(scan_text(text), "ingress-without-tls")
    assert finding.line == 8 and "\n" not in finding.fix.edits[0].replacement
    assert SourceFile("x", text).newline == "\r"


# --- output is safe to print -------------------------------------------------------------------


def test_text_output_never_writes_terminal_escapes():
    evil = NO_TLS.replace("name: shop\n", 'name: "shop\\e]0;pwned\\a\\e[2J\\x9b31m\\x7f"\n')
    out = render(scan_text(evil, path="a\x1b[31m.yaml"), "text")
    assert not any(ord(c) < 32 and c != "\n" or 0x7F <= ord(c) < 0xA0 for c in out), repr(out)
    assert "shop" in out and "pwned" in out


def test_colour_output_keeps_only_its_own_escapes():
    evil = NO_TLS.replace("name: shop\n", 'name: "shop\\e[2J"\n')
    out = render(scan_text(evil), "text", colour=True)
    assert "\x1b[2J" not in out and "\x1b[33m" in out


def test_a_resource_that_indexing_fails_on_is_left_out_alone(monkeypatch):
    from footgun.rules import inventory

    real = inventory.workload_of

    def fragile(resource, paths):
        if resource.name == "broken":
            raise TypeError("unexpected shape")
        return real(resource, paths)

    monkeypatch.setattr(inventory, "workload_of", fragile)
    result = scan_texts({"a.yaml": NO_TLS.replace("name: shop\n", "name: broken\n", 1), "b.yaml": NO_TLS})
    [skip] = result.skipped
    assert skip.path == "a.yaml" and "Ingress broken at line 1 was not scanned" in skip.reason
    assert [f.path for f in of_rule(result, "ingress-without-tls")] == ["b.yaml"]


def test_a_rule_run_again_without_a_resource_sees_the_configured_units(monkeypatch):
    from types import SimpleNamespace

    from footgun.rules import engine

    seen = []

    def check(ctx):
        for service in ctx.inventory.of_kind("Service"):
            if service.name == "broken":
                raise TypeError("unexpected shape")
        a, b = sorted(ctx.inventory.of_kind("Service"), key=lambda s: s.name)
        seen.append(ctx.inventory.together(a, b))
        return []

    monkeypatch.setitem(engine.RULES, "probe", SimpleNamespace(ID="probe", SEVERITY="info", check=check))
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {}\n"
    files = {"x/a.yaml": service.format("a"), "y/b.yaml": service.format("b"), "z/c.yaml": service.format("broken")}
    result = scan_texts(files, Config(deployment_unit="repository"))
    assert seen == [True]  # one repository, as configured, not one unit per folder
    assert [s.path for s in result.skipped if "was not checked by probe" in s.reason] == ["z/c.yaml"]
