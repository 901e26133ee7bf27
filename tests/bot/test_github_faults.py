"""What GitHub throws at the job: expired tokens, server errors, a review whose POST
failed after GitHub stored it, an uninstalled App."""
from __future__ import annotations

from .test_app_flow import REPO, open_typo, setup_repo, typo_pr


def test_an_expired_token_is_renewed(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.add("GET", f"/repos/{REPO}/pulls/*/files", kind="expired_token")
    bot.open(pr)
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert bot.fake.requests.count("POST", "/app/installations/*/access_tokens") == 2


def test_server_errors_on_reads_are_retried(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.server_error("GET", f"/repos/{REPO}/git/trees/*", status=502, times=2)
    bot.fake.faults.server_error("POST", "/graphql", status=503, times=1)
    bot.open(pr)
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_review_stored_despite_an_error_is_not_posted_twice(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.add("POST", f"/repos/{REPO}/pulls/*/reviews", status=500, when="after")
    bot.open(pr)
    bot.wait(timeout=60)
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert len(bot.fake.review_comments(REPO, pr.number)) == 1
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")  # the retry finished the same run
    assert run.status == "completed"


def test_an_uninstalled_app_ends_the_job_quietly(bot):
    pr = typo_pr(bot, send=False)
    payload = bot.pull_request_payload("opened", pr)
    bot.fake.uninstall(payload["installation"]["id"])
    assert bot.post("pull_request", payload).status_code == 202
    bot.wait()
    assert bot.fake.requests.count("POST", "/app/installations/*/access_tokens") == 1  # 404: no retries
    assert bot.fake.check_runs(REPO) == []


def test_a_missing_permission_fails_the_check_run_once_and_says_so(bot):
    fake = bot.fake
    setup_repo(fake)
    installation = fake.installation_for(fake.repo(REPO))
    installation.permissions.pop("contents")  # the owner unticked it
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.conclusion == "failure" and "permission" in run.output["summary"]
    assert fake.requests.count("GET", f"/repos/{REPO}/git/trees/*") == 1  # not retried
