"""The command line as a user runs it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from footgun.rules.checks import doc_url

ROOT = Path(__file__).resolve().parents[2]

PINNED = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  ports:
    - port: 80
      nodePort: 30080
"""


def footgun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "svc.yaml").write_text(PINNED)
    return tmp_path


def test_json_output_has_the_documented_shape(repo):
    run = footgun("scan", "k8s", "--format", "json", cwd=repo)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["version"] == 1 and report["skipped"] == []
    [finding] = report["findings"]
    assert finding["rule"] == "hardcoded-node-port"
    assert (finding["path"], finding["line"], finding["end_line"]) == ("k8s/svc.yaml", 9, 9)
    assert finding["resource"] == {"kind": "Service", "name": "web", "namespace": "default"}
    assert finding["fix"]["edits"] == [{"path": "k8s/svc.yaml", "start_line": 9, "end_line": 9, "replacement": ""}]


def test_exit_code_follows_the_fail_level(repo):
    assert footgun("scan", "k8s", "--fail-level", "error", cwd=repo).returncode == 0
    (repo / ".footgun.yml").write_text("fail-level: never\n")
    assert footgun("scan", "k8s", cwd=repo).returncode == 0
    (repo / ".footgun.yml").write_text("fail-level: warning\n")
    assert footgun("scan", "k8s", cwd=repo).returncode == 1


def test_clean_folder_exits_zero_and_says_so(tmp_path):
    (tmp_path / "ok.yaml").write_text(PINNED.replace("      nodePort: 30080\n", ""))
    run = footgun("scan", ".", cwd=tmp_path)
    assert run.returncode == 0
    assert "No findings in 1 file." in run.stdout


def test_text_output_shows_location_rule_and_fix_as_diff(repo):
    out = footgun("scan", "k8s", cwd=repo).stdout
    assert "k8s/svc.yaml:9: warning hardcoded-node-port:" in out
    assert "-      nodePort: 30080" in out
    assert f"docs: {doc_url('hardcoded-node-port') or 'footgun explain hardcoded-node-port'}" in out
    assert "\033[" not in out  # no colour when not on a terminal


def test_bad_config_is_a_usage_error_naming_the_key(repo):
    (repo / ".footgun.yml").write_text("rulez: {}\n")
    run = footgun("scan", "k8s", cwd=repo)
    assert run.returncode == 2
    assert "rulez" in run.stderr


def test_missing_path_is_a_usage_error(tmp_path):
    run = footgun("scan", "nope", cwd=tmp_path)
    assert run.returncode == 2 and "nope" in run.stderr


def test_unknown_format_is_a_usage_error(repo):
    assert footgun("scan", "--format", "xml", cwd=repo).returncode == 2


def test_sarif_has_rules_regions_and_fixes(repo):
    sarif = json.loads(footgun("scan", "k8s", "--format", "sarif", cwd=repo).stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    [result] = run["results"]
    assert rule_ids[result["ruleIndex"]] == "hardcoded-node-port"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 9, "endLine": 9}
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "k8s/svc.yaml"
    [change] = result["fixes"][0]["artifactChanges"]
    deleted = change["replacements"][0]["deletedRegion"]
    text = PINNED
    assert text[deleted["charOffset"] : deleted["charOffset"] + deleted["charLength"]] == "      nodePort: 30080\n"


def test_github_format_is_workflow_commands(repo):
    out = footgun("scan", "k8s", "--format", "github", cwd=repo).stdout
    assert out.startswith("::warning file=k8s/svc.yaml,line=9,endLine=9,title=hardcoded-node-port::")


def test_fix_rewrites_in_place_keeping_crlf_and_reports(repo):
    path = repo / "k8s" / "svc.yaml"
    path.write_bytes(PINNED.replace("\n", "\r\n").encode())
    run = footgun("fix", "k8s", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fixed 1 finding in k8s/svc.yaml" in run.stdout
    assert path.read_bytes() == PINNED.replace("      nodePort: 30080\n", "").replace("\n", "\r\n").encode()
    assert footgun("scan", "k8s", cwd=repo).returncode == 0


def test_skipped_files_are_reported_not_fatal(repo):
    (repo / "k8s" / "broken.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: [\n")
    report = json.loads(footgun("scan", "k8s", "--format", "json", cwd=repo).stdout)
    [skip] = report["skipped"]
    assert skip["path"] == "k8s/broken.yaml" and "line" in skip["reason"]
