"""What one review costs in API calls: the merge base from ``compare``, annotations for
the pull request's own findings only, the App's slug without ``GET /app``, and no read of
earlier reviews when there is nothing to post."""
from __future__ import annotations

from bot.github import GitHubApp

from .harness import installation_id
from .test_app_flow import REPO, SERVICE, TYPO, open_typo, setup_repo


def test_compare_answers_the_merge_base_as_github_does(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fork_point = fake.repo(REPO).branches["main"]
    base_tip = fake.commit(REPO, changes={"README.md": "moved on\n"}, branch="main")
    app = GitHubApp(fake.app.id, fake.app.private_key_pem, fake.url)
    inst = app.installation(installation_id(fake, fake.repo(REPO)))
    assert inst.merge_base(REPO, base_tip, pr.head_sha) == fork_point
    _, data = inst._request("GET", f"/repos/{REPO}/compare/{base_tip}...{pr.head_sha}")
    assert data["status"] == "diverged" and (data["ahead_by"], data["behind_by"]) == (1, 1)
    assert [f["filename"] for f in data["files"]] == ["k8s/svc.yaml"] and "patch" in data["files"][0]
    _, paged = inst._request("GET", f"/repos/{REPO}/compare/{base_tip}...{pr.head_sha}", params={"page": 2})
    assert "files" not in paged
    assert inst.merge_base(REPO, "0" * 40, pr.head_sha) == "0" * 40  # unknown: the base's tip


def test_annotations_are_the_pull_requests_findings(bot):
    fake = bot.fake
    setup_repo(fake)
    fake.commit(REPO, branch="main", changes={"k8s/other.yaml": TYPO.replace("name: api", "name: other", 1)})
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert [a.path for a in run.annotations] == ["k8s/svc.yaml"]
    assert "| 2 |" in run.output["summary"]  # the table counts the repository's findings
    assert fake.requests.count("GET", "/app") == 0


def test_nothing_to_say_reads_no_earlier_review(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(REPO, head="clean", user="alice",
                                changes={"k8s/svc.yaml": SERVICE + "\n"})
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/reviews") == 0
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/comments") == 0
