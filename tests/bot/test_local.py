"""``footgun review`` offline: a temporary git repository, a base and a change."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from footgun.bot.evaluation import select_findings, select_skipped
from footgun.bot.local import LocalReviewError, local_review, review_markdown
from footgun.rules.checks import RULES
from footgun.rules.edits import apply_edits
from footgun.rules.model import Finding, ResourceRef, Skip
from tests.bot.test_review import apply_suggestion

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  type: NodePort
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
"""
DEPLOYMENT = """apiVersion: apps/v1
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
          image: example/api:1.0
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    for path, text in files.items():
        target = repo / path
        if text is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    git(tmp_path, "config", "commit.gpgsign", "false")
    commit(tmp_path, {"k8s/service.yaml": SERVICE, "k8s/deployment.yaml": DEPLOYMENT, "README.md": "demo\n"}, "base")
    git(tmp_path, "checkout", "-qb", "feature")
    return tmp_path


def test_pinned_node_port_becomes_an_inline_suggestion(repo: Path):
    head_text = SERVICE + "      nodePort: 30080\n"
    commit(repo, {"k8s/service.yaml": head_text}, "pin the port")
    review = local_review(str(repo))
    assert review.plan is not None
    [comment] = [c for c in review.plan.comments if "hardcoded-node-port" in c["body"]]
    assert comment["path"] == "k8s/service.yaml" and comment["line"] == 12
    [found] = [f for f in review.findings if f.rule == "hardcoded-node-port"]
    assert apply_suggestion(head_text, comment) == apply_edits(head_text, found.fix.edits) == SERVICE
    text = review_markdown(str(repo))
    assert text == review.plan.to_markdown()
    assert "### `k8s/service.yaml:12`" in text and "```suggestion" in text and "<!--" not in text


@pytest.mark.skipif("service-selector-mismatch" not in RULES, reason="rule not in the catalogue yet")
def test_selector_typo_in_the_change(repo: Path):
    typo = SERVICE.replace("    app: api\n", "    app: apj\n")
    commit(repo, {"k8s/service.yaml": typo}, "typo")
    review = local_review(str(repo), base="main")
    [found] = [f for f in review.findings if f.rule == "service-selector-mismatch"]
    assert found.path == "k8s/service.yaml"
    comments = [c for c in review.plan.comments if "service-selector-mismatch" in c["body"]]
    assert len(comments) == 1 and comments[0]["line"] >= 8
    if len(found.fix.edits) == 1 and "```suggestion" in comments[0]["body"]:
        assert apply_suggestion(typo, comments[0]) == apply_edits(typo, found.fix.edits)


@pytest.mark.skipif("service-selector-mismatch" not in RULES, reason="rule not in the catalogue yet")
def test_finding_caused_in_an_unchanged_file_is_kept(repo: Path):
    relabelled = DEPLOYMENT.replace("        app: api\n", "        app: api-v2\n")
    commit(repo, {"k8s/deployment.yaml": relabelled}, "relabel the pods")
    review = local_review(str(repo))
    [found] = [f for f in review.findings if f.rule == "service-selector-mismatch"]
    assert found.path == "k8s/service.yaml"  # not changed, but broken by the change
    assert review.plan.comments == [] or all(c["path"] != "k8s/service.yaml" for c in review.plan.comments)
    assert "k8s/service.yaml" in review.plan.body


def test_clean_change_has_no_findings(repo: Path):
    commit(repo, {"README.md": "demo, updated\n"}, "docs")
    assert review_markdown(str(repo)) == "No findings."
    assert review_markdown(str(repo), base="HEAD") == "No findings."  # empty diff


def test_old_findings_in_unchanged_files_are_not_the_changes(tmp_path: Path):
    git(tmp_path, "init", "-q", "-b", "master")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    commit(tmp_path, {"old.yaml": SERVICE + "      nodePort: 30080\n"}, "base")  # an old finding
    git(tmp_path, "checkout", "-qb", "topic")
    commit(tmp_path, {"other.yaml": DEPLOYMENT}, "add a deployment")
    assert review_markdown(str(tmp_path)) == "No findings."  # default base: master


def test_the_base_branch_configuration_judges_as_on_the_app(repo: Path):
    """A change cannot switch off the rule that flags it: the base's ``.footgun.yml``
    judges, and the review says what the proposed one would hide (as the App does)."""
    commit(
        repo,
        {
            "k8s/service.yaml": SERVICE + "      nodePort: 30080\n",
            ".footgun.yml": "rules:\n  hardcoded-node-port: false\n",
        },
        "pin, silence",
    )
    text = review_markdown(str(repo))
    assert "hardcoded-node-port" in text
    assert "### Configuration change" in text and "1 finding would be hidden" in text
    git(repo, "checkout", "-q", "main")
    commit(repo, {".footgun.yml": "rules:\n  hardcoded-node-port: false\n"}, "silence on main")
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "-q", "main")
    assert review_markdown(str(repo)) == "No findings."  # the base's configuration, unchanged by the change


def test_explicit_config_judges_instead(repo: Path):
    git(repo, "checkout", "-q", "main")
    commit(repo, {".footgun.yml": "rules:\n  hardcoded-node-port: false\n"}, "silence on main")
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "-q", "main")
    commit(repo, {"k8s/service.yaml": SERVICE + "      nodePort: 30080\n"}, "pin")
    assert review_markdown(str(repo)) == "No findings."
    from footgun.rules.config import Config

    assert "hardcoded-node-port" in review_markdown(str(repo), config=Config())


def test_changed_file_that_cannot_be_scanned_is_named(repo: Path):
    commit(repo, {"chart/svc.yaml": "kind: Service\nname: {{ .Values.name }}\n", "ci.yml": "jobs: {}\n"}, "template")
    text = review_markdown(str(repo))
    assert text.startswith("No findings.") and "chart/svc.yaml" in text and "ci.yml" not in text


def test_head_and_base_refs(repo: Path):
    first = commit(repo, {"k8s/service.yaml": SERVICE + "      nodePort: 30080\n"}, "pin")
    commit(repo, {"README.md": "later\n"}, "later")
    assert "hardcoded-node-port" in review_markdown(str(repo), head=first)
    assert review_markdown(str(repo), base=first) == "No findings."


def test_errors_are_clear(repo: Path, tmp_path_factory):
    with pytest.raises(LocalReviewError, match="unknown revision: 'nope'"):
        review_markdown(str(repo), base="nope")
    with pytest.raises(LocalReviewError, match="unknown revision"):
        review_markdown(str(repo), head="--output=/tmp/x")
    plain = tmp_path_factory.mktemp("plain")
    with pytest.raises(LocalReviewError, match="not a git repository"):
        review_markdown(str(plain))
    with pytest.raises(LocalReviewError, match="no such directory"):
        review_markdown(str(plain / "missing"))


def test_no_default_branch(tmp_path: Path):
    git(tmp_path, "init", "-q", "-b", "trunk")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    commit(tmp_path, {"a.yaml": SERVICE}, "one")
    with pytest.raises(LocalReviewError, match="pass --base"):
        review_markdown(str(tmp_path))


def _finding(path: str, name: str) -> Finding:
    return Finding("service-selector-mismatch", "error", "m", path, 1, 1, ResourceRef("Service", name, None))


def test_select_findings_keeps_changed_files_and_caused_findings():
    in_changed = _finding("changed.yaml", "a")
    caused = _finding("same.yaml", "b")
    old = _finding("same.yaml", "c")
    kept = select_findings([in_changed, caused, old], {in_changed.fingerprint, old.fingerprint}, {"changed.yaml"})
    assert kept == [in_changed, caused]
    skips = [
        Skip("changed.yaml", "parse error at line 3"),
        Skip("other.yaml", "parse error"),
        Skip("changed.yaml", "not a Kubernetes manifest (no document has apiVersion and kind)"),
    ]
    assert select_skipped(skips, {"changed.yaml"}) == skips[:1]


@pytest.mark.skipif("service-selector-mismatch" not in RULES, reason="rule not in the catalogue yet")
def test_deleting_the_only_workload_a_service_selected_is_reported(repo: Path):
    """The same review core as the App: a Service the change leaves without pods."""
    commit(repo, {"k8s/deployment.yaml": None}, "drop the deployment")
    review = local_review(str(repo))
    [found] = [f for f in review.findings if f.rule == "service-selector-mismatch"]
    assert found.path == "k8s/service.yaml"
    assert "k8s/service.yaml" in review_markdown(str(repo))


@pytest.mark.skipif(
    not (shutil.which("kustomize") or shutil.which("kubectl")),
    reason="needs kustomize or kubectl (.ci/run installs it)",
)
def test_a_build_reads_the_json_patch_and_env_files_its_kustomization_names(repo: Path):
    """As the App does, ``footgun review`` gives kustomize the files an overlay reads
    besides manifests, so the build is judged, not skipped for a missing file."""
    overlay = (
        "resources:\n  - ../../k8s\nconfigMapGenerator:\n  - name: api-settings\n    envs:\n      - settings.env\n"
    )
    commit(
        repo,
        {
            "k8s/kustomization.yaml": "resources:\n  - service.yaml\n  - deployment.yaml\n",
            "overlays/prod/kustomization.yaml": overlay,
            "overlays/prod/settings.env": "GREETING=hello\n",
        },
        "an overlay",
    )
    git(repo, "branch", "-f", "main", "HEAD")
    patched = overlay + "patches:\n  - path: node-port.json\n    target:\n      kind: Service\n      name: api\n"
    operations = '[\n  {"op": "add", "path": "/spec/ports/0/nodePort", "value": 30080}\n]\n'
    commit(
        repo,
        {"overlays/prod/kustomization.yaml": patched, "overlays/prod/node-port.json": operations},
        "pin the port in prod",
    )
    review = local_review(str(repo))
    assert review.plan is not None
    assert [(f.rule, f.path, f.line) for f in review.findings] == [
        ("hardcoded-node-port", "overlays/prod/node-port.json", 2)
    ]
    assert not [s for s in review.skipped if "build" in s.reason or "kustomiz" in s.reason]
