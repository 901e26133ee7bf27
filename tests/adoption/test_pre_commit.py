""".pre-commit-hooks.yaml, through ``pre-commit try-repo`` in a temporary git
repository: the hooks install footgun from this repository and run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PINNED = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  ports:\n    - port: 80\n      nodePort: 30080\n"
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"

pytestmark = [
    pytest.mark.slow,  # installs footgun in pre-commit's environments
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """One hook environment for the module's tests (pre-commit builds it once)."""
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True, capture_output=True
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / "k8s").mkdir()
    return tmp_path


def try_repo(repo: Path, hook: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )


def test_footgun_hook_fails_on_a_footgun(repo, pre_commit_home):
    (repo / "k8s" / "svc.yaml").write_text(PINNED)
    _git(repo, "add", ".")
    run = try_repo(repo, "footgun", pre_commit_home)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "k8s/svc.yaml:9: warning hardcoded-node-port" in run.stdout


def test_footgun_hook_passes_clean_manifests(repo, pre_commit_home):
    (repo / "k8s" / "settings.yaml").write_text(CLEAN)
    _git(repo, "add", ".")
    run = try_repo(repo, "footgun", pre_commit_home)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "footgun scan" in run.stdout and "Passed" in run.stdout


def test_footgun_fix_hook_rewrites_the_file(repo, pre_commit_home):
    (repo / "k8s" / "svc.yaml").write_text(PINNED)
    _git(repo, "add", ".")
    run = try_repo(repo, "footgun-fix", pre_commit_home)
    assert run.returncode == 1  # pre-commit fails a hook that changed files, so they can be reviewed
    assert "nodePort" not in (repo / "k8s" / "svc.yaml").read_text()
    assert "files were modified by this hook" in run.stdout
