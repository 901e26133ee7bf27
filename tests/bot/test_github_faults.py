"""What GitHub throws at the job: expired tokens, server errors, a review whose POST
failed after GitHub stored it, an uninstalled App."""

from __future__ import annotations

from .test_app_flow import REPO, open_typo, setup_repo, typo_pr

# A pull request of up to 300 files is read through one comparison of its base and head.
CHANGED_FILES = f"/repos/{REPO}/compare/*"


def test_an_expired_token_is_renewed(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.add("GET", CHANGED_FILES, kind="expired_token")
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
    assert fake.requests.count("GET", CHANGED_FILES) == 1  # not retried


# --- each fault GitHub is known to produce, one test each -------------------------------------

import logging  # noqa: E402

import pytest  # noqa: E402

from .procs import until  # noqa: E402


def _after(records, first):
    """The records that started after ``first`` ended."""
    return [r for r in records if r.started >= first.started + first.duration]


def test_a_read_that_times_out_is_retried(make_bot):
    bot = make_bot(github_timeout=1)
    pr = typo_pr(bot, send=False)
    held = bot.fake.faults.hang("GET", CHANGED_FILES, seconds=2)
    bot.open(pr)
    bot.wait()
    assert held.hits == 1 and len(bot.reviews(REPO, pr.number)) == 1
    until(lambda: bot.fake.requests.count("GET", CHANGED_FILES) == 2)  # the held one, logged late


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_is_waited_out_by_every_request_of_the_installation(bot, status):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.secondary_rate_limit("GET", CHANGED_FILES, retry_after=1, status=status)
    bot.open(pr)
    bot.wait()
    [limited] = bot.fake.requests.filter("GET", CHANGED_FILES, status=status)
    later = [r for r in bot.fake.requests.all() if r.started > limited.started and r.installation_id]
    assert later and min(r.started for r in later) >= limited.started + 1 - 0.05  # retry-after: 1
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_primary_rate_limit_waits_for_x_ratelimit_reset(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.rate_limit("GET", f"/repos/{REPO}/git/trees/*", reset_in=1)
    bot.open(pr)
    bot.wait()
    [limited] = bot.fake.requests.filter("GET", f"/repos/{REPO}/git/trees/*", status=403)
    reset = int(limited.started) + 1  # what the fake sent in x-ratelimit-reset
    retried = [r for r in bot.fake.requests.filter("GET", f"/repos/{REPO}/git/trees/*") if r.status == 200]
    assert retried and retried[0].started >= reset
    assert len(bot.reviews(REPO, pr.number)) == 1


@pytest.mark.parametrize("fault", ["too_many_requests", "secondary_rate_limit"])
def test_a_rate_limited_write_is_sent_again_after_retry_after(bot, fault):
    pr = typo_pr(bot, send=False)
    getattr(bot.fake.faults, fault)("POST", f"/repos/{REPO}/pulls/*/reviews", retry_after=1)
    bot.open(pr)
    bot.wait()
    first, second = bot.fake.requests.filter("POST", f"/repos/{REPO}/pulls/*/reviews")
    assert first.status in (403, 429) and second.status == 200
    assert second.started >= first.started + 1 - 0.05
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_long_rate_limit_puts_the_job_back_without_using_up_a_try(make_bot, caplog):
    caplog.set_level(logging.INFO)
    bot = make_bot(rate_limit_max_wait=0.5, max_attempts=1)  # a failure would be final
    pr = typo_pr(bot, send=False)
    bot.fake.faults.secondary_rate_limit("GET", CHANGED_FILES, retry_after=2)
    bot.open(pr)
    bot.wait()
    assert "back on the queue for 2 s" in caplog.text
    [limited] = bot.fake.requests.filter("GET", CHANGED_FILES, status=403)
    [done] = bot.fake.requests.filter("GET", CHANGED_FILES, status=200)
    assert done.started >= limited.started + 2 - 0.05
    assert len(bot.reviews(REPO, pr.number)) == 1
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.conclusion == "failure" and run.output["title"] != "footgun could not finish"  # the typo's failure


def test_an_expired_token_on_a_write_is_renewed(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.expired_token("POST", f"/repos/{REPO}/check-runs")
    bot.open(pr)
    bot.wait()
    assert bot.fake.requests.count("POST", "/app/installations/*/access_tokens") == 2
    assert len(bot.fake.check_runs(REPO, pr.head_sha, "footgun")) == 1
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_pull_request_gone_ends_the_job_quietly_with_a_log_line(bot, caplog):
    caplog.set_level(logging.INFO)
    pr = typo_pr(bot, send=False)
    bot.fake.faults.not_found("GET", f"^/repos/{REPO}/(compare|pulls)/", times=None)
    bot.open(pr)
    bot.wait()
    assert bot.fake.requests.count("GET", f"/repos/{REPO}/pulls/{pr.number}/files") == 1  # no retries
    ended = [r for r in caplog.records if "ends: Not Found" in r.getMessage()]
    assert len(ended) == 1 and ended[0].levelno == logging.INFO
    assert bot.jobs.store.journal_entries() == []


def test_a_422_on_the_review_moves_the_comments_into_the_body_and_posts_once_more(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.add(
        "POST",
        f"/repos/{REPO}/pulls/*/reviews",
        status=422,
        body={
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"],
            "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
        },
    )
    bot.open(pr)
    bot.wait()
    assert bot.fake.requests.count("POST", f"/repos/{REPO}/pulls/*/reviews") == 2
    [review] = bot.fake.reviews(REPO, pr.number)  # no duplicate, no pending orphan
    assert review.state == "COMMENTED" and review.comment_ids == []
    assert "service-selector-mismatch" in review.body and "app: api" in review.body
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed"


def test_a_review_post_that_timed_out_but_landed_is_not_posted_again(make_bot):
    bot = make_bot(github_timeout=1, write_settle=1.5)
    pr = typo_pr(bot, send=False)
    held = bot.fake.faults.hang("POST", f"/repos/{REPO}/pulls/*/reviews", seconds=2)
    bot.open(pr)
    bot.wait()
    assert held.hits == 1 and bot.fake.requests.count("POST", f"/repos/{REPO}/pulls/*/reviews") == 1
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert len(bot.fake.review_comments(REPO, pr.number)) == 1


def test_a_review_post_that_failed_and_did_not_land_is_posted_again(bot):
    pr = typo_pr(bot, send=False)
    bot.fake.faults.server_error("POST", f"/repos/{REPO}/pulls/*/reviews", status=502)  # before: nothing created
    bot.open(pr)
    bot.wait()
    assert bot.fake.requests.count("POST", f"/repos/{REPO}/pulls/*/reviews") == 2
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_job_that_keeps_failing_stops_and_the_check_run_says_why(make_bot):
    bot = make_bot(max_attempts=3, github_retries=1)
    pr = typo_pr(bot, send=False)
    bot.fake.faults.server_error("GET", f"/repos/{REPO}/git/trees/*", status=502, times=None)
    bot.open(pr)
    bot.wait()
    assert bot.fake.requests.count("GET", f"/repos/{REPO}/git/trees/*") == 3 * 2  # tries x (1 + retries)
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed" and run.conclusion == "failure"
    summary = run.output["summary"]
    assert "GitHub kept failing" in summary and "/footgun recheck" in summary
    assert bot.reviews(REPO, pr.number) == [] and bot.jobs.store.journal_entries() == []
