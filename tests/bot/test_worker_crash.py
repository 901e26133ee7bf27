"""A real worker process (``python -m footgun.bot.worker``, the Procfile's line) killed with
kill -9 in the middle of a job: after a restart the job runs again and the pull
request gets exactly one review for its head."""

from __future__ import annotations

import pytest

from .harness import start_bot
from .procs import Worker, app_env, until
from .test_app_flow import REPO, open_typo, setup_repo

pytestmark = pytest.mark.slow  # kills and restarts worker processes


@pytest.fixture
def crash(fake_github, tmp_path):
    """The web side (storing deliveries in the SQLite queue) and a way to run workers
    on the same data directory."""
    setup_repo(fake_github)
    web = start_bot(fake_github, tmp_path / "data", consume=False)
    workers: list[Worker] = []

    def worker(**env: str) -> Worker:
        w = Worker(app_env(fake_github, tmp_path / "data", **env), tmp_path / f"worker-{len(workers)}.log")
        workers.append(w)
        return w

    yield web, worker
    for w in workers:
        w.stop()


def _settled(web, pr) -> bool:
    runs = web.fake.check_runs(REPO, pr.head_sha, "footgun")
    return bool(runs) and all(r.status == "completed" for r in runs) and not web.jobs.store.journal_entries()


def test_killed_while_reading_the_pull_request(crash):
    web, worker = crash
    pr = open_typo(web.fake)
    held = web.fake.faults.hang("GET", f"/repos/{REPO}/git/trees/*", seconds=60)
    assert web.open(pr).status_code == 202
    first = worker()
    until(lambda: held.hits == 1, what="the job to be mid-way")
    first.kill()

    second = worker()
    until(lambda: _settled(web, pr), timeout=60, what="the job to run again")
    [review] = web.reviews(REPO, pr.number)
    assert review.commit_id == pr.head_sha and len(web.fake.review_comments(REPO, pr.number)) == 1
    assert "its worker is gone, it runs again" in second.output()


def test_killed_while_its_review_was_being_posted(crash):
    """The review's POST reached GitHub, which created it after the worker died: the
    job that runs again finds it and posts nothing (it looks once GitHub is done with
    whatever the dead worker sent: FOOTGUN_WRITE_SETTLE)."""
    web, worker = crash
    pr = open_typo(web.fake)
    held = web.fake.faults.hang("POST", f"/repos/{REPO}/pulls/*/reviews", seconds=1.5)
    assert web.open(pr).status_code == 202
    first = worker(FOOTGUN_WRITE_SETTLE="3")
    until(lambda: held.hits == 1, what="the review to be in flight")
    first.kill()

    worker(FOOTGUN_WRITE_SETTLE="3")
    until(lambda: _settled(web, pr), timeout=60, what="the job to run again")
    assert len(web.reviews(REPO, pr.number)) == 1
    assert len(web.fake.review_comments(REPO, pr.number)) == 1
    assert web.fake.requests.count("POST", f"/repos/{REPO}/pulls/*/reviews") == 1


def test_a_job_that_kills_its_worker_every_time_stops_and_says_so(crash):
    web, worker = crash
    pr = open_typo(web.fake)
    held = web.fake.faults.hang("GET", f"/repos/{REPO}/git/trees/*", seconds=60, times=None)
    assert web.open(pr).status_code == 202
    for tries in (1, 2):
        w = worker(FOOTGUN_MAX_ATTEMPTS="2")
        until(lambda tries=tries: held.hits == tries, what=f"try {tries}")
        w.kill()
    web.fake.faults.clear()

    last = worker(FOOTGUN_MAX_ATTEMPTS="2")
    until(lambda: _settled(web, pr), timeout=60, what="the job to give up")
    [run] = web.fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.conclusion == "failure"
    assert "stopped during each of 2 tries" in run.output["summary"]
    assert "/footgun recheck" in run.output["summary"]  # what the user can do
    assert web.reviews(REPO, pr.number) == []
    assert "gave up" in last.output()


def test_a_worker_stopped_mid_job_hands_the_job_back(crash):
    """SIGINT (or SIGTERM past its grace period): the job goes back on the queue at
    once rather than when its lease runs out."""
    web, worker = crash
    pr = open_typo(web.fake)
    held = web.fake.faults.hang("GET", f"/repos/{REPO}/git/trees/*", seconds=60)
    assert web.open(pr).status_code == 202
    first = worker(FOOTGUN_JOB_LEASE="600")  # a lease that would outlast the test
    until(lambda: held.hits == 1, what="the job to be mid-way")
    first.interrupt()
    assert "interrupted by shutdown, it runs again" in first.output()

    worker(FOOTGUN_JOB_LEASE="600")
    until(lambda: _settled(web, pr), timeout=60, what="the job to run again")
    assert len(web.reviews(REPO, pr.number)) == 1
