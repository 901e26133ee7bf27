"""The App reviews what a pull request's overlay builds: the finding of a patch is
commented on the patch's line with its suggestion, and what the merge base's build
already had is left out."""

from __future__ import annotations

import shutil

import pytest

from tests.rules.test_builds import DEPLOYMENT
from tests.rules.test_builds import NODE_PORT_SERVICE as SERVICE

from .test_app_flow import REPO, setup_repo

pytestmark = pytest.mark.skipif(
    not (shutil.which("kustomize") or shutil.which("kubectl")),
    reason="needs kustomize or kubectl (.ci/run installs it)",
)

PATCH = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: {app}
"""


def test_a_patch_that_breaks_the_build_is_commented_on_its_line(bot):
    files = {
        "base/kustomization.yaml": "resources:\n  - service.yaml\n  - deployment.yaml\n",
        "base/service.yaml": SERVICE,
        "base/deployment.yaml": DEPLOYMENT,
        "overlays/prod/kustomization.yaml": "namespace: prod\nnamePrefix: prod-\nresources:\n  - ../../base\n"
        "patches:\n  - path: selector.yaml\n",
        "overlays/prod/selector.yaml": PATCH.format(app="web"),
        "README.md": "# shop\n",
    }
    setup_repo(bot.fake, files=files)
    pr = bot.fake.open_pull_request(
        REPO, head="typo", user="alice", changes={"overlays/prod/selector.yaml": PATCH.format(app="wbe")}
    )
    bot.open(pr)
    bot.wait()
    comments = bot.fake.review_comments(REPO, pr.number)
    # the base's pinned nodePort is in the merge base's build too: not this pull request's
    assert [(c.path, c.line) for c in comments] == [("overlays/prod/selector.yaml", 7)]
    [comment] = comments
    assert "service-selector-mismatch" in comment.body and "Service prod-web" in comment.body
    assert "```suggestion\n  selector:\n    app: web\n```" in comment.body


def test_a_build_reads_its_json_patch_and_generator_files_at_head_and_merge_base(bot):
    files = {
        "base/kustomization.yaml": "resources:\n  - service.yaml\n  - deployment.yaml\n",
        "base/service.yaml": SERVICE.replace("      nodePort: 30080\n", ""),
        "base/deployment.yaml": DEPLOYMENT,
        "overlays/prod/kustomization.yaml": "resources:\n  - ../../base\nconfigMapGenerator:\n"
        "  - name: web-settings\n    envs:\n      - settings.env\n",
        "overlays/prod/settings.env": "GREETING=hello\n",
        "README.md": "# shop\n",
    }
    setup_repo(bot.fake, files=files)
    kustomization = files["overlays/prod/kustomization.yaml"] + (
        "patches:\n  - path: node-port.json\n    target:\n      kind: Service\n      name: web\n"
    )
    operations = '[\n  {"op": "add", "path": "/spec/ports/0/nodePort", "value": 30080}\n]\n'
    pr = bot.fake.open_pull_request(
        REPO,
        head="pin",
        user="alice",
        changes={"overlays/prod/kustomization.yaml": kustomization, "overlays/prod/node-port.json": operations},
    )
    bot.open(pr)
    bot.wait()
    comments = bot.fake.review_comments(REPO, pr.number)

    assert [(c.path, c.line) for c in comments] == [("overlays/prod/node-port.json", 2)]
    assert "hardcoded-node-port" in comments[0].body
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")
    assert "not built" not in str(run.output)  # the .env and the .json were read for the build


def test_without_kustomize_the_engine_tells_the_review_its_builds_were_not_rendered(tmp_path, monkeypatch):
    """What the sandboxed engine returns carries the note, which the analysis turns
    into a "Partial review" line (`bot.analysis`), once."""
    from footgun.bot.sandbox import _findings_and_skips, is_note
    from footgun.rules.builds import NOT_RENDERED
    from footgun.rules.engine import scan_files

    monkeypatch.setenv("PATH", str(tmp_path))
    files = {
        "base/kustomization.yaml": b"resources:\n  - service.yaml\n",
        "base/service.yaml": SERVICE.encode(),
        "prod/kustomization.yaml": b"resources:\n  - ../base\n",
    }
    findings, skipped = _findings_and_skips(scan_files(files))
    assert [s.reason for s in skipped if is_note(s)] == [NOT_RENDERED]
    assert [f.path for f in findings if f.rule == "hardcoded-node-port"] == ["base/service.yaml"]
