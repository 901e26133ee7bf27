"""The benchmark corpora: exact size, deterministic, every document a manifest the
engine loads, with footguns in them."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.corpus import generate
from bench.engine import yaml_files
from footgun.rules.config import Config
from footgun.rules.engine import scan_paths


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in yaml_files(str(root)):
        digest.update(path[len(str(root)) :].encode() + Path(path).read_bytes())
    return digest.hexdigest()


def test_corpus_has_exactly_the_documents_asked_and_is_deterministic(tmp_path):
    first = generate(tmp_path / "a", 300, seed=9)
    second = generate(tmp_path / "b", 300, seed=9)
    assert first.documents == second.documents == 300
    assert sum(first.kinds.values()) == 300
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(generate(tmp_path / "c", 300, seed=10).root)


def test_every_document_loads_and_footguns_are_found(tmp_path):
    corpus = generate(tmp_path, 400, seed=2)
    as_written = scan_paths([str(tmp_path)], Config(kustomize_build=False))
    assert as_written.skipped == []
    kustomizations = corpus.kinds["Kustomization"]  # documents, but no resources
    assert kustomizations == corpus.bases + corpus.overlays > 0
    assert len(as_written.inventory.resources) == corpus.documents - kustomizations
    result = scan_paths([str(tmp_path)])
    assert result.skipped == [] and result.notes == []
    built = {r.path for r in result.inventory.resources if r.path.endswith("#build")}
    assert len(built) == corpus.overlays  # every overlay built, judged as applied
    assert corpus.documents == 400
    assert {"Deployment", "Service", "Ingress", "NetworkPolicy", "IngressClass"} <= set(corpus.kinds)
    rules = {f.rule for f in result.findings}
    assert {"ingress-without-tls", "ndots-external-lookups", "hardcoded-node-port"} <= rules
    assert 0.05 < len(result.findings) / corpus.documents < 0.5


def test_overlays_build_with_kustomize(tmp_path):
    if shutil.which("kustomize"):
        command = ["kustomize", "build"]
    elif shutil.which("kubectl"):
        command = ["kubectl", "kustomize"]
    else:
        pytest.skip("neither kustomize nor kubectl is installed")
    corpus = generate(tmp_path, 400, seed=2)
    overlays = sorted(tmp_path.glob("*/*/overlays/*/kustomization.yaml"))
    assert len(overlays) == corpus.overlays > 0
    for overlay in overlays[:3]:
        built = subprocess.run([*command, str(overlay.parent)], capture_output=True, text=True, check=True).stdout
        namespace = overlay.read_text().split("namespace: ", 1)[1].split()[0]
        assert f"namespace: {namespace}" in built and "environment: " in built
