"""The command line details people expect: --version, standard input, rule docs
offline, links to a configurable docs base, progress on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from footgun.rules import checks
from footgun.rules.checks import RULES, default_docs_url

from .test_main import PINNED, ROOT, footgun

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  rules:
    - host: web.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: web, port: {number: 80}}}
"""


def footgun_stdin(stdin: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", "scan", "-", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_version_names_the_installed_package(tmp_path):
    run = footgun("--version", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == f"footgun {checks.package_version()}"
    assert checks.package_version() != "0+unknown"  # the test extras install the package


def test_rules_lists_every_rule_with_severity_and_summary(tmp_path):
    run = footgun("rules", cwd=tmp_path)
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, module in zip(lines, RULES.values()):
        assert line.split()[1] == module.SEVERITY and line.endswith(module.SUMMARY)


def test_explain_prints_the_rules_documentation_offline(tmp_path):
    run = footgun("explain", "hardcoded-node-port", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout.startswith("hardcoded-node-port (warning)\n")
    assert RULES["hardcoded-node-port"].__doc__.strip().splitlines()[0] in run.stdout


def test_explain_an_unknown_rule_suggests_the_nearest(tmp_path):
    run = footgun("explain", "hardcoded-nodeport", cwd=tmp_path)
    assert run.returncode == 2 and "Did you mean hardcoded-node-port?" in run.stderr


def test_stdin_is_one_yaml_stream_reported_under_a_pseudo_path(tmp_path):
    stream = PINNED + "---\n" + INGRESS
    run = footgun_stdin(stream, "--format", "json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    findings = json.loads(run.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"hardcoded-node-port", "ingress-without-tls"}
    assert {f["path"] for f in findings} == {"<stdin>"}
    assert all(f["fix"] is None for f in findings)  # nothing on disk to fix
    ingress = next(f for f in findings if f["rule"] == "ingress-without-tls")
    assert ingress["line"] > PINNED.count("\n")  # lines count through the whole stream


def test_stdin_name_is_the_stated_path(tmp_path):
    run = footgun_stdin(PINNED, "--stdin-name", "rendered/chart.yaml", cwd=tmp_path)
    assert run.returncode == 1 and run.stdout.startswith("rendered/chart.yaml:")


def test_stdin_cannot_be_mixed_with_paths(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "cli", "scan", "-", "."],
        cwd=tmp_path,
        input="",
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 2 and "cannot be combined" in run.stderr


def test_links_follow_the_configured_docs_url(tmp_path):
    (tmp_path / ".footgun.yml").write_text("docs-url: https://docs.example.org/footgun/rules.html\n")
    (tmp_path / "svc.yaml").write_text(PINNED)
    text = footgun("scan", "svc.yaml", cwd=tmp_path)
    assert "docs: https://docs.example.org/footgun/rules.html#hardcoded-node-port" in text.stdout
    sarif = json.loads(footgun("scan", "svc.yaml", "--format", "sarif", cwd=tmp_path).stdout)
    uris = {rule["id"]: rule["helpUri"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert uris["ingress-without-tls"] == "https://docs.example.org/footgun/rules.html#ingress-without-tls"


def test_a_bad_docs_url_names_the_key(tmp_path):
    (tmp_path / ".footgun.yml").write_text("docs-url: docs/rules.md\n")
    run = footgun("scan", ".", cwd=tmp_path)
    assert run.returncode == 2 and "docs-url" in run.stderr


def test_without_any_declared_docs_the_text_points_at_explain(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "project_urls", lambda: {})
    assert checks.doc_url("hardcoded-node-port") is None
    from footgun.rules.engine import scan_files
    from footgun.rules.output.text import render

    output = render(scan_files({"svc.yaml": PINNED.encode()}))
    assert "docs: footgun explain hardcoded-node-port" in output


@pytest.mark.parametrize(
    "urls, expected",
    [
        ({"documentation": "https://footgun.example.org/rules"}, "https://footgun.example.org/rules"),
        (
            {"homepage": "https://github.com/someone/footgun"},
            "https://github.com/someone/footgun/blob/HEAD/docs/rules.md",
        ),
        ({"homepage": "https://footgun.example.org/"}, "https://footgun.example.org/"),
        ({}, None),
    ],
)
def test_default_docs_url_comes_from_the_declared_project_urls(monkeypatch, urls, expected):
    monkeypatch.setattr(checks, "project_urls", lambda: urls)
    assert default_docs_url() == expected


def test_project_urls_are_read_from_the_package_metadata(monkeypatch):
    class Metadata(dict):
        def get_all(self, name):
            return ["Homepage, https://github.com/someone/footgun", "Issues, https://github.com/someone/footgun/issues"]

    monkeypatch.setattr(checks.importlib.metadata, "metadata", lambda name: Metadata())
    checks.project_urls.cache_clear()
    try:
        assert checks.project_urls() == {
            "homepage": "https://github.com/someone/footgun",
            "issues": "https://github.com/someone/footgun/issues",
        }
    finally:
        checks.project_urls.cache_clear()


def _scan_with_stderr(stderr_fd: int, cwd: Path) -> tuple[int, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "scan", str(ROOT / "examples")],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=stderr_fd,
        env={"PYTHONPATH": str(ROOT)},
    )
    out, _ = process.communicate()
    return process.wait(), out.decode()


def test_progress_shows_on_a_terminal(tmp_path):
    leader, follower = pty.openpty()
    try:
        code, stdout = _scan_with_stderr(follower, tmp_path)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert code == 1 and "\x1b" not in stdout  # results on the pipe stay plain
    text = shown.decode()
    assert "footgun: reading files 0/" in text and "footgun: running rules 0/" in text
    assert text.endswith("\r\x1b[K")  # erased before the results


def test_progress_never_goes_to_a_pipe(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "cli", "scan", str(ROOT / "examples")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 1 and run.stderr == ""
