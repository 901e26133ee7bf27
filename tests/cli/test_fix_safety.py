"""`footgun fix` never loses a byte: atomic writes, one pass per real file, no edit of
shared YAML nodes, every edit validated before it is written."""

from __future__ import annotations

import os
import stat

import pytest

from footgun.cli.main import main
from footgun.rules.config import Config
from footgun.rules.edits import apply_edits, set_block
from footgun.rules.engine import scan_files
from footgun.rules.fixer import fix_paths
from footgun.rules.model import Edit, Fix
from footgun.rules.yamltree import parse_documents
from tests.cli.test_main import PINNED
from tests.helpers import of_rule, scan_text

UNPINNED = PINNED.replace("      nodePort: 30080\n", "")

MISMATCH = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {anchor}
    app: api-server
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: api:1
"""
# anchors do not cross documents: the alias is in a List with the anchored Service
ALIASED = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: api
    spec:
      selector: &sel
        app: api-server
  - apiVersion: v1
    kind: Service
    metadata:
      name: api-internal
    spec:
      selector: *sel
---
"""


def test_fix_writes_through_a_temporary_file_and_keeps_the_mode(tmp_path):
    target = tmp_path / "svc.yaml"
    target.write_text(PINNED)
    os.chmod(target, 0o640)
    inode = os.stat(target).st_ino
    fix_paths([str(target)], Config())
    assert target.read_text() == UNPINNED
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert os.stat(target).st_ino != inode  # replaced, not truncated and rewritten
    assert os.listdir(tmp_path) == ["svc.yaml"]


def test_a_failed_write_leaves_the_file_whole(tmp_path, monkeypatch, capsys):
    target = tmp_path / "svc.yaml"
    target.write_text(PINNED)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    assert main(["fix", str(target)]) == 2
    assert target.read_text() == PINNED and os.listdir(tmp_path) == ["svc.yaml"]
    assert "No space left on device" in capsys.readouterr().err


def test_a_file_named_twice_or_through_a_symlink_is_edited_once(tmp_path):
    target = tmp_path / "svc.yaml"
    two = PINNED + "---\n" + PINNED.replace("name: web", "name: api").replace("30080", "30081")
    target.write_text(two)
    os.symlink(target, tmp_path / "link.yaml")
    fix_paths([str(target), str(tmp_path / "link.yaml"), str(target), str(tmp_path)], Config())
    text = target.read_text()
    assert text == UNPINNED + "---\n" + UNPINNED.replace("name: web", "name: api")
    assert os.path.islink(tmp_path / "link.yaml")


@pytest.mark.parametrize("anchor, alias", [("&sel", "*sel"), ("!!map", ""), ("", "")])
def test_selector_with_anchor_tag_or_alias_is_never_duplicated(tmp_path, anchor, alias):
    text = (ALIASED if alias else "") + MISMATCH.format(anchor="" if alias else anchor)
    target = tmp_path / "app.yaml"
    target.write_text(text)
    found = of_rule(scan_text(text), "service-selector-mismatch")
    shared = [f for f in found if f.line < len(ALIASED.splitlines())] if alias else found if anchor else []
    assert len(shared) == (2 if alias else 1 if anchor else 0) and len(found) - len(shared) == (
        0 if anchor and not alias else 1
    )
    assert all(f.fix is None and "anchor, alias or tag" in f.fix_withheld for f in shared)
    fix_paths([str(target)], Config())
    after = target.read_text()
    assert after.startswith(ALIASED) if alias else (after == text) if anchor else True
    if not anchor or alias:  # the Service that shares nothing is fixed
        assert parse_documents(after)[1 if alias else 0].root["spec"]["selector"] == {"app": "api"}


def test_every_fix_is_validated_before_it_is_written(tmp_path, monkeypatch):
    """A fix whose result does not parse is dropped and said so; the file is left as
    it was."""
    from footgun.rules.checks import hardcoded_node_port

    target = tmp_path / "svc.yaml"
    target.write_text(PINNED)

    def breaking_fix(service, index, node_port):
        line = service.span("spec", "ports", index, "nodePort").key_line
        edit = Edit(service.path, line, line, "  : [\n")
        return Fix("breaks the file", (edit,))

    monkeypatch.setattr(hardcoded_node_port, "_fix", breaking_fix)
    report = fix_paths([str(target)], Config())
    assert target.read_text() == PINNED and not report.changed
    [finding] = report.remaining.findings
    assert finding.fix is None and "does not parse" in finding.fix_withheld


def test_scan_withholds_a_fix_that_would_not_silence_its_finding():
    from footgun.rules.engine import validate_fixes

    result = scan_text(PINNED)
    [finding] = result.findings
    finding.fix = Fix("does nothing", (Edit("manifest.yaml", 1, 1, "apiVersion: v1\n"),))
    validate_fixes(result, Config())
    assert finding.fix is None and "finding remains" in finding.fix_withheld


def test_validation_can_be_limited_to_the_files_suggestions_are_made_for():
    """The App checks in full only the fixes of a pull request's own files (those
    it suggests); the others keep theirs unchecked beyond the parse."""
    from footgun.rules.engine import validate_fixes
    from tests.helpers import scan_texts

    result = scan_texts({"a/svc.yaml": PINNED, "b/svc.yaml": PINNED})
    for finding in result.findings:
        finding.fix = Fix("does nothing", (Edit(finding.path, 1, 1, "apiVersion: v1\n"),))
    validate_fixes(result, Config(), paths={"a/svc.yaml"})
    by_path = {f.path: f for f in result.findings}
    assert by_path["a/svc.yaml"].fix is None and "finding remains" in by_path["a/svc.yaml"].fix_withheld
    assert by_path["b/svc.yaml"].fix is not None


def test_the_engine_sandbox_validates_the_fixes_it_is_asked_to():
    from footgun.bot.sandbox import scan as sandboxed_scan

    findings, _ = sandboxed_scan({"svc.yaml": PINNED.encode()}, Config(), 60, 2048, frozenset({"svc.yaml"}))
    [finding] = findings
    assert finding.fix is not None and finding.fix_withheld is None  # a good fix survives the full check


def test_comment_lines_inside_a_replaced_block_survive():
    text = "spec:\n  tls:\n    # keep me\n    - hosts: [a]\n      # and me\n      secretName: x\n"
    [doc] = parse_documents(text)
    source = scan_files({"a.yaml": text.encode()}).sources.get("a.yaml")
    from footgun.rules.manifests import SourceFile

    source = source or SourceFile("a.yaml", text)
    edit = set_block(source, doc.root["spec"], "tls", [{"hosts": ["a"], "secretName": "y"}])
    new = apply_edits(text, [edit])
    assert "# keep me" in new and "# and me" in new
    assert parse_documents(new)[0].root["spec"]["tls"] == [{"hosts": ["a"], "secretName": "y"}]


def test_cr_only_file_stays_cr_only(tmp_path):
    target = tmp_path / "svc.yaml"
    target.write_bytes(PINNED.replace("\n", "\r").encode())
    fix_paths([str(target)], Config())
    assert target.read_bytes() == UNPINNED.replace("\n", "\r").encode()


def test_fix_on_a_missing_path_exits_2(tmp_path, capsys):
    assert main(["fix", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_fix_lands_on_gits_lines_despite_unicode_separators(tmp_path):
    target = tmp_path / "svc.yaml"
    text = PINNED.replace("  name: web\n", '  name: web\n  annotations:\n    a: "x\u2028y\u2029z\x85w"\n')
    target.write_text(text)
    fix_paths([str(target)], Config())
    assert target.read_text() == text.replace("      nodePort: 30080\n", "")


@pytest.mark.parametrize(
    "config",
    [
        "exclude: " + "[" * 100_000,
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh"))
        + "fail-level: *h\n",
    ],
)
def test_hostile_config_is_a_config_error_naming_the_file(tmp_path, capsys, config):
    (tmp_path / ".footgun.yml").write_text(config)
    (tmp_path / "svc.yaml").write_text(PINNED)
    for command in ("scan", "fix"):
        assert main([command, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "configuration error" in err and ".footgun.yml" in err and len(err) < 1000
    assert (tmp_path / "svc.yaml").read_text() == PINNED
