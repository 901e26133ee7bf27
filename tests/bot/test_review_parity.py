"""``footgun review`` prints the review the App posts: the same change, once as a pull
request on the fake GitHub through the whole App, once as two commits of a local git
repository, gives the same review body and the same inline comments."""

from __future__ import annotations

import subprocess
from pathlib import Path

from footgun.bot.local import local_review

from .test_app_flow import DEPLOY, REPO, SERVICE, TYPO, open_typo, setup_repo


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _local_change(root: Path, base: dict[str, str], changes: dict[str, str]) -> Path:
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "dev")
    _git(root, "config", "commit.gpgsign", "false")
    for files, message in ((base, "base"), (changes, "change")):
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", message)
        if message == "base":
            _git(root, "checkout", "-qb", "typo")
    return root


def test_the_command_line_prints_the_review_the_app_posts(bot, tmp_path):
    setup_repo(bot.fake)
    pr = open_typo(bot.fake)
    assert bot.open(pr).status_code == 202
    bot.wait()
    [posted] = bot.reviews(REPO, pr.number)
    posted_comments = sorted((c.path, c.start_line, c.line, c.body) for c in bot.fake.review_comments(REPO, pr.number))

    base = {"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE, "README.md": "# shop\n"}
    repo = _local_change(tmp_path, base, {"k8s/svc.yaml": TYPO})
    plan = local_review(str(repo)).plan
    assert plan is not None
    local_comments = sorted((c["path"], c.get("start_line"), c["line"], c["body"]) for c in plan.comments)

    assert plan.body == posted.body
    assert local_comments == posted_comments
    assert posted_comments  # the comparison covers an inline suggestion
