"""Kustomize builds, with the real kustomize (``kubectl kustomize`` on these machines):
what is built, what is skipped and why, where findings land, and the fallback when
no kustomize is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from footgun.rules.builds import NOT_RENDERED, Builder
from footgun.rules.config import Config
from footgun.rules.engine import scan_paths
from footgun.rules.manifests import load_text
from footgun.rules.sources import Placer
from footgun.rules.units import norm
from tests.helpers import of_rule, scan_texts

pytestmark = pytest.mark.skipif(
    not (shutil.which("kustomize") or shutil.which("kubectl")),
    reason="needs kustomize or kubectl (.ci/run installs it)",
)

NODE_PORT_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
      nodePort: 30080
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""

OVERLAY = """\
namespace: prod
namePrefix: prod-
resources:
  - ../base
replicas:
  - name: web
    count: 3
images:
  - name: nginx
    newTag: "1.28"
"""


def base(**more: str) -> dict[str, str]:
    return {
        "base/kustomization.yaml": "resources:\n  - service.yaml\n  - deployment.yaml\n",
        "base/service.yaml": NODE_PORT_SERVICE,
        "base/deployment.yaml": DEPLOYMENT,
        **more,
    }


def test_only_what_is_applied_is_built_and_judged_once():
    result = scan_texts(base(**{"prod/kustomization.yaml": OVERLAY}))
    [found] = of_rule(result, "hardcoded-node-port")
    assert (found.path, found.line) == ("base/service.yaml", 11)
    assert found.resource.name == "prod-web" and found.resource.namespace == "prod"
    assert "(in the build of `prod`)" in found.message
    built = [r for r in result.inventory.resources if r.path == "prod/kustomization.yaml#build"]
    assert {(r.kind, r.name, r.namespace) for r in built} == {
        ("Service", "prod-web", "prod"),
        ("Deployment", "prod-web", "prod"),
    }
    assert not [r for r in result.inventory.resources if r.path.startswith("base/")]  # judged through the build only


def test_kustomization_lines_explain_what_the_kustomization_changes():
    files = base(**{"prod/kustomization.yaml": OVERLAY})
    loaded = [load_text(path, text) for path, text in files.items()]
    rendering = Builder(Config().limits, 1 << 20).render(loaded)
    [build] = rendering.builds
    placer = Placer(rendering.builds, {norm(f.source.path): f.resources for f in loaded}, {})
    deployment = next(r for r in build.loaded.resources if r.kind == "Deployment")

    def origin_of(*path):
        return placer.place(build, deployment, deployment.span(*path).key_line)

    assert (origin_of("metadata", "namespace").path, origin_of("metadata", "namespace").line) == (
        "prod/kustomization.yaml",
        1,
    )
    assert origin_of("metadata", "name").line == 2  # namePrefix
    assert origin_of("spec", "replicas").line == 6  # the replicas entry naming web
    image = placer.place(
        build, deployment, deployment.span("spec", "template", "spec", "containers", 0, "image").key_line
    )
    assert (image.path, image.line) == ("prod/kustomization.yaml", 9)  # the images entry
    kept = origin_of("spec", "selector")
    assert (kept.path, kept.line) == ("base/deployment.yaml", 7)  # written in the base, unchanged


def test_remote_and_helm_builds_are_skipped_and_their_files_judged_as_written():
    files = {
        "remote/kustomization.yaml": "resources:\n  - github.com/example/app//deploy?ref=v1.2.0\n  - service.yaml\n",
        "remote/service.yaml": NODE_PORT_SERVICE,
        "charts/kustomization.yaml": "helmCharts:\n  - name: ingress-nginx\n    repo: https://kubernetes.github.io/ingress-nginx\n",
    }
    result = scan_texts(files)
    reasons = {s.path: s.reason for s in result.skipped}
    assert "remote: it is not fetched" in reasons["remote/kustomization.yaml"]
    assert "helmCharts" in reasons["charts/kustomization.yaml"]
    assert [f.path for f in of_rule(result, "hardcoded-node-port")] == ["remote/service.yaml"]


def test_a_broken_kustomization_is_skipped_with_kustomizes_message():
    files = {
        "app/kustomization.yaml": "resources:\n  - service.yaml\npatches:\n  - path: missing-patch.yaml\n",
        "app/service.yaml": NODE_PORT_SERVICE,
        "odd/kustomization.yaml": "resources: []\nnamePrefx: typo-\n",
    }
    result = scan_texts(files)
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["app/kustomization.yaml"].startswith("kustomization not built: ")
    assert "missing-patch.yaml" in reasons["app/kustomization.yaml"] and "footgun-build" not in str(reasons)
    assert 'unknown field "namePrefx"' in reasons["odd/kustomization.yaml"]
    assert [f.path for f in of_rule(result, "hardcoded-node-port")] == ["app/service.yaml"]  # as written


def test_without_kustomize_the_unit_model_is_used_and_said_once(tmp_path, monkeypatch):
    (tmp_path / "base").mkdir()
    (tmp_path / "prod").mkdir()
    for path, text in base(**{"prod/kustomization.yaml": OVERLAY}).items():
        (tmp_path / path).write_text(text)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = scan_paths([str(tmp_path)])
    assert result.notes == [NOT_RENDERED]
    [found] = of_rule(result, "hardcoded-node-port")
    assert found.path.endswith("base/service.yaml") and found.resource.name == "web"  # not renamed
    cli = [sys.executable, "-m", "footgun", "scan", str(tmp_path)]
    text = subprocess.run(cli, capture_output=True, text=True, env={"PATH": str(empty)}).stdout
    assert text.count("kustomizations were not built") == 1
    document = subprocess.run([*cli, "--format", "json"], capture_output=True, text=True, env={"PATH": str(empty)})
    assert json.loads(document.stdout)["notes"] == [NOT_RENDERED]
    sarif = subprocess.run([*cli, "--format", "sarif"], capture_output=True, text=True, env={"PATH": str(empty)})
    told = json.loads(sarif.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in told if "locations" not in n] == [NOT_RENDERED]


def test_a_kustomize_binary_on_path_is_preferred(tmp_path, monkeypatch):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("the stand-in kustomize runs kubectl's")
    tools = tmp_path / "tools"
    tools.mkdir()
    stand_in = tools / "kustomize"
    # `kustomize build DIR`, served by kubectl's built-in kustomize; it leaves a mark
    stand_in.write_text(f'#!/bin/sh\n[ "$1" = build ] || exit 9\n: > "{tools}/used"\nexec {kubectl} kustomize "$2"\n')
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    result = scan_texts(base(**{"prod/kustomization.yaml": OVERLAY}))
    assert (tools / "used").exists() and not result.notes
    assert of_rule(result, "hardcoded-node-port")[0].resource.name == "prod-web"


def test_fix_edits_the_overlay_patch_on_disk(tmp_path):
    files = base(
        **{
            "prod/kustomization.yaml": "resources:\n  - ../base\npatches:\n  - path: selector.yaml\n",
            "prod/selector.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: wbe\n",
        }
    )
    files["base/service.yaml"] = files["base/service.yaml"].replace("      nodePort: 30080\n", "")
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
    command = [sys.executable, "-m", "footgun"]
    scanned = subprocess.run([*command, "scan", "--format", "json", "."], cwd=tmp_path, capture_output=True, text=True)
    [found] = json.loads(scanned.stdout)["findings"]
    assert (found["rule"], found["path"], found["line"]) == ("service-selector-mismatch", "./prod/selector.yaml", 6)
    fixed = subprocess.run([*command, "fix", "."], cwd=tmp_path, capture_output=True, text=True)
    assert "fixed 1 finding in ./prod/selector.yaml" in fixed.stdout, fixed.stdout + fixed.stderr
    assert (tmp_path / "prod/selector.yaml").read_text().endswith("  selector:\n    app: web\n")
    assert (tmp_path / "base/service.yaml").read_text() == files["base/service.yaml"]


def test_stdin_takes_a_rendered_build():
    built = subprocess.run(
        [sys.executable, "-m", "footgun", "scan", "-", "--format", "json"],
        input=NODE_PORT_SERVICE,
        capture_output=True,
        text=True,
    )
    [found] = json.loads(built.stdout)["findings"]
    assert found["path"] == "<stdin>" and found["fix"] is None


def test_the_bundled_overlays_example_shows_a_finding_in_each_overlays_patch(monkeypatch):
    monkeypatch.chdir(Path(__file__).parents[2])
    result = scan_paths(["examples/kustomize"])
    found = {(f.path, f.line, f.rule, bool(f.fix)) for f in result.findings}
    assert found == {
        ("examples/kustomize/overlays/prod/service-load-balancer.yaml", 9, "local-traffic-without-spread", False),
        ("examples/kustomize/overlays/staging/service-canary.yaml", 7, "service-selector-mismatch", True),
    }
    assert not result.skipped and not result.notes


def test_a_line_inside_a_script_keeps_its_line():
    script = DEPLOYMENT.replace(
        "          image: nginx:1.27\n",
        "          image: nginx:1.27\n          command:\n            - /bin/sh\n            - -c\n            - |\n"
        "              set -e\n              curl -fsS https://api.stripe.com/v1/charges\n",
    )
    result = scan_texts(base(**{"base/deployment.yaml": script, "prod/kustomization.yaml": OVERLAY}))
    [found] = of_rule(result, "ndots-external-lookups")
    assert (found.path, found.line) == ("base/deployment.yaml", 23)  # the curl line


def test_a_build_that_reads_a_file_the_scan_left_out_says_which():
    result = scan_texts(base(**{"prod/kustomization.yaml": OVERLAY}), Config(max_file_bytes=len(DEPLOYMENT) - 1))
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["prod/kustomization.yaml"] == (
        f"kustomization not built: it reads `base/deployment.yaml`, which was not scanned "
        f"(file is {len(DEPLOYMENT):,} bytes, over the {len(DEPLOYMENT) - 1:,}-byte limit)"
    )


def test_no_fix_edits_a_base_another_overlay_builds_without_the_finding():
    relabel = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n"
    files = base(
        **{
            "prod/kustomization.yaml": "resources:\n  - ../base\npatches:\n  - path: labels.yaml\n",
            "prod/labels.yaml": relabel + "      labels:\n        app: web-v2\n",
            "dev/kustomization.yaml": "resources:\n  - ../base\n",
        }
    )
    result = scan_texts(files)
    [mismatch] = of_rule(result, "service-selector-mismatch")  # prod's pods were relabelled, dev's were not
    assert (mismatch.path, mismatch.fix) == ("base/service.yaml", None)
    assert (
        mismatch.fix_withheld
        == "it edits base/service.yaml, which dev/kustomization.yaml builds too, without this finding"
    )
    assert mismatch.related[0].path == "prod/labels.yaml"  # the patch that relabelled the pods
    [pinned] = of_rule(result, "hardcoded-node-port")  # in both builds: its fix is right for both
    assert pinned.fix and "in the builds of `dev` and `prod`" in pinned.message


def test_a_folder_scanned_by_its_absolute_name_is_built_and_left_untouched(tmp_path):
    files = base(**{"prod/kustomization.yaml": OVERLAY})
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
    result = scan_paths([str(tmp_path.resolve())])
    [found] = of_rule(result, "hardcoded-node-port")
    assert found.path == str(tmp_path.resolve() / "base/service.yaml") and found.resource.name == "prod-web"
    assert {path: (tmp_path / path).read_text() for path in files} == files  # nothing written beside them


def _described(result) -> list[tuple]:
    return sorted(
        (f.rule, f.path, f.line, f.end_line, f.message, f.fix.edits if f.fix else None, f.fix_withheld)
        for f in result.findings
    )


def _counting_kustomize(tmp_path: Path, monkeypatch) -> Path:
    """A ``kustomize`` on PATH that runs kubectl's and counts its runs."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("the counting kustomize runs kubectl's")
    tools = tmp_path / "tools"
    tools.mkdir()
    runs = tools / "runs"
    (tools / "kustomize").write_text(f'#!/bin/sh\necho run >> "{runs}"\nexec {kubectl} kustomize "$2"\n')
    (tools / "kustomize").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    return runs


SELECTOR_PATCH = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: wbe\n"


def test_builds_sharing_a_kustomize_process_give_what_each_gives_alone(tmp_path, monkeypatch):
    runs = _counting_kustomize(tmp_path, monkeypatch)
    files = base(
        **{
            "prod/kustomization.yaml": OVERLAY,
            "dev/kustomization.yaml": "namespace: dev\nnamePrefix: dev-\nresources:\n  - ../base\n",
            "envs/staging/kustomization.yaml": "namespace: staging\nresources:\n  - ../../base\npatches:\n"
            "  - path: selector.yaml\n",
            "envs/staging/selector.yaml": SELECTOR_PATCH,
            "other/kustomization.yaml": "resources:\n  - service.yaml\n",
            "other/service.yaml": NODE_PORT_SERVICE.replace("name: web", "name: other"),
        }
    )
    together = scan_texts(files)
    shared_runs = len(runs.read_text().splitlines())
    runs.unlink()
    monkeypatch.setattr("footgun.rules.builds.MAX_BATCH", 1)
    alone = scan_texts(files)
    assert len(runs.read_text().splitlines()) == 4  # one process per build
    assert shared_runs < 4
    assert _described(together) == _described(alone)
    assert {f.rule for f in together.findings} >= {"hardcoded-node-port", "service-selector-mismatch"}
    [mismatch] = of_rule(together, "service-selector-mismatch")
    assert (mismatch.path, mismatch.line) == ("envs/staging/selector.yaml", 6) and mismatch.fix


def test_builds_that_cannot_share_a_process_are_built_apart(tmp_path, monkeypatch):
    """Two overlays making the same object (kustomize refuses them side by side) and a
    broken one: each gives what it gives alone, the broken one kustomize's message."""
    runs = _counting_kustomize(tmp_path, monkeypatch)
    files = base(
        **{
            "a/kustomization.yaml": "resources:\n  - ../base\n",
            "b/kustomization.yaml": "resources:\n  - ../base\nlabels:\n  - pairs:\n      team: b\n",
            "odd/kustomization.yaml": "resources: []\nnamePrefx: typo-\n",
        }
    )
    together = scan_texts(files)
    assert len(runs.read_text().splitlines()) > 1
    monkeypatch.setattr("footgun.rules.builds.MAX_BATCH", 1)
    alone = scan_texts(files)
    assert _described(together) == _described(alone)
    assert sorted((s.path, s.reason) for s in together.skipped) == sorted((s.path, s.reason) for s in alone.skipped)
    reasons = {s.path: s.reason for s in together.skipped}
    assert 'unknown field "namePrefx"' in reasons["odd/kustomization.yaml"]
    [pinned] = of_rule(together, "hardcoded-node-port")
    assert "in the builds of `a` and `b`" in pinned.message


def test_builds_of_a_folder_named_absolutely_share_a_process(tmp_path, monkeypatch):
    runs = _counting_kustomize(tmp_path, monkeypatch)
    files = base(
        **{
            "prod/kustomization.yaml": OVERLAY,
            **{
                f"{name}/kustomization.yaml": f"namespace: {name}\nnamePrefix: {name}-\nresources:\n  - ../base\n"
                for name in ("dev", "qa", "stage")
            },
        }
    )
    tree = tmp_path / "repo"
    for path, text in files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text)
    together = scan_paths([str(tree.resolve())])
    assert len(runs.read_text().splitlines()) < 4  # four builds
    monkeypatch.setattr("footgun.rules.builds.MAX_BATCH", 1)
    assert _described(together) == _described(scan_paths([str(tree.resolve())]))
    [pinned] = of_rule(together, "hardcoded-node-port")
    assert pinned.path == str(tree.resolve() / "base/service.yaml")


def test_a_base_an_unbuilt_kustomization_reads_is_judged_as_written_once():
    """The umbrella names a remote resource, so it is not built: the base it includes
    is judged as written in its unit, and the overlay's build, which reads the same
    base, does not report the base's line a second time."""
    files = base(
        **{
            "prod/kustomization.yaml": OVERLAY,
            "all/kustomization.yaml": "resources:\n  - https://github.com/example/crds?ref=v1\n  - ../base\n",
        }
    )
    result = scan_texts(files)
    assert "remote" in {s.path: s.reason for s in result.skipped}["all/kustomization.yaml"]
    [pinned] = of_rule(result, "hardcoded-node-port")
    assert (pinned.path, pinned.line) == ("base/service.yaml", 11)
    assert any(r.path == "base/service.yaml" for r in result.inventory.resources)  # as written, too
