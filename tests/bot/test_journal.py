"""The job journal (a job outlives the worker that took it) on SQLite and on Redis, and
the recovery of jobs whose lease ran out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import redis

from footgun.bot.store import RedisStore, SqliteStore, is_dead_owner, owner_token, process_id

from .harness import start_bot, stop_bot
from .test_app_flow import REPO, open_typo, setup_repo


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "redis"])
def stores(request, tmp_path):
    """Two handles on one store (as two processes have), and the clock they share."""
    clock = Clock()
    if request.param == "sqlite":
        yield SqliteStore(tmp_path / "q.db", clock), SqliteStore(tmp_path / "q.db", clock), clock
    else:
        url = request.getfixturevalue("redis_url")
        yield (
            RedisStore(redis.Redis.from_url(url), clock=clock),
            RedisStore(redis.Redis.from_url(url), clock=clock),
            clock,
        )


def test_a_job_is_claimed_by_one_worker_at_a_time(stores):
    one, two, clock = stores
    assert one.journal_add("d-1", {"delivery": "d-1", "n": 1}, hold=300)
    assert not two.journal_add("d-1", {"delivery": "d-1"}, hold=300)  # the same delivery is one job
    claimed = one.journal_claim("d-1", "w1", lease=60)
    assert claimed and claimed.data == {"delivery": "d-1", "n": 1} and claimed.attempts == 1
    assert two.journal_claim("d-1", "w2", lease=60) is None  # a copy of the task does nothing
    clock.now += 30
    assert one.journal_renew("d-1", "w1", lease=60)  # the heartbeat
    clock.now += 59
    assert two.journal_claim("d-1", "w2", lease=60) is None
    assert two.journal_due(hold=300) == []
    one.journal_done("d-1")
    assert two.journal_get("d-1") is None and two.journal_claim("d-1", "w2", 60) is None


def test_a_dead_workers_job_comes_back_with_its_tries_counted(stores):
    one, two, clock = stores
    one.journal_add("d-1", {"delivery": "d-1"}, hold=300)
    one.journal_claim("d-1", "w1", lease=60)  # then kill -9: no renew, no release
    clock.now += 61
    [due] = two.journal_due(hold=300)
    assert due.id == "d-1" and due.data == {"delivery": "d-1"}
    assert two.journal_due(hold=300) == []  # queued once, not at every scan
    assert not one.journal_renew("d-1", "w1", lease=60)  # the stalled owner learns it lost it
    again = two.journal_claim("d-1", "w2", lease=60)
    assert again and again.attempts == 2


def test_a_retry_releases_the_job_and_a_lock_wait_does_not_count(stores):
    one, two, clock = stores
    one.journal_add("d-1", {}, hold=300)
    one.journal_claim("d-1", "w1", lease=60)
    one.journal_release("d-1", "w1", hold=20)  # failed: back on the queue for 20 s
    assert two.journal_due(hold=300) == []
    assert two.journal_claim("d-1", "w2", lease=60).attempts == 2
    two.journal_release("d-1", "w2", hold=20, count_attempt=False)  # rate limited: not a failure
    assert one.journal_claim("d-1", "w1", lease=60).attempts == 2
    one.journal_release("d-1", "wrong-owner", hold=20)  # only the owner releases
    assert two.journal_claim("d-1", "w2", lease=60) is None


def test_every_claim_is_counted_even_one_that_is_not_a_try(stores):
    """A run after a rate limit is not a new try, but it is not the job's first run
    either: the first may have left a check run for it to finish."""
    one, two, clock = stores
    one.journal_add("d-1", {}, hold=300)
    first = one.journal_claim("d-1", "w1", lease=60)
    assert (first.attempts, first.claims) == (1, 1)
    one.journal_release("d-1", "w1", hold=20, count_attempt=False)
    again = two.journal_claim("d-1", "w2", lease=60)
    assert (again.attempts, again.claims) == (1, 2)
    assert two.journal_get("d-1").claims == 2
    clock.now += 61  # then the worker died
    [due] = one.journal_due(hold=300)
    assert due.claims == 2


def test_a_journal_written_before_claims_were_counted_is_upgraded(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "q.db")
    db.execute(
        "create table footgun_job (id text primary key, data text not null, owner text, "
        "lease_until real not null, attempts integer not null default 0)"
    )
    db.execute("insert into footgun_job values ('d-1', '{}', null, 0, 1)")
    db.commit()
    db.close()
    store = SqliteStore(tmp_path / "q.db", Clock())
    claimed = store.journal_claim("d-1", "w1", lease=60)
    assert (claimed.attempts, claimed.claims) == (2, 1)


def test_an_entry_never_claimed_is_queued_again_after_the_hold(stores):
    one, two, clock = stores
    one.journal_add("d-1", {}, hold=300)  # the web process died before queueing it
    assert two.journal_due(hold=300) == []
    clock.now += 301
    assert [e.id for e in two.journal_due(hold=300)] == ["d-1"]


def test_steal_takes_a_job_only_from_the_owner_named(stores):
    one, two, clock = stores
    one.journal_add("d-1", {}, hold=300)
    one.journal_claim("d-1", "w1", lease=60)
    assert not two.journal_steal("d-1", "w9", hold=5)
    assert two.journal_steal("d-1", "w1", hold=5)
    assert two.journal_claim("d-1", "w2", lease=60).attempts == 2


def test_locks_are_listed_and_renewed(stores):
    one, two, clock = stores
    token = one.acquire("pr:x", ttl=10)
    assert ("pr:x", token) in two.locks()
    assert one.renew("pr:x", token, ttl=10) and not one.renew("pr:x", "other", ttl=10)


def test_dead_owners_are_recognised():
    assert not is_dead_owner(owner_token())  # this process
    assert not is_dead_owner("another-host:1:abc:def")  # cannot tell: its lease decides
    host, pid, boot = process_id().split(":")
    assert is_dead_owner(f"{host}:{pid}:{'0' * len(boot)}:x")  # this pid in an earlier life
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = int(done.stdout)
    assert is_dead_owner(f"{socket.gethostname()}:{gone}:abcd1234:x")
    assert not is_dead_owner(f"{socket.gethostname()}:{os.getppid()}:abcd1234:x")  # alive


def test_a_job_whose_worker_vanished_runs_again_and_reviews_once(fake_github, tmp_path):
    """A worker on another machine took the job and went silent: when its lease runs
    out, a worker here runs it."""
    setup_repo(fake_github)
    pr = open_typo(fake_github)
    bot = start_bot(fake_github, tmp_path / "data", consume=False, job_lease=0.6)
    payload = bot.pull_request_payload("opened", pr)
    assert bot.post("pull_request", payload, delivery="d-lost").status_code == 202
    bot.jobs.huey.flush()  # the queue's copy went with that worker
    assert bot.jobs.store.journal_claim("d-lost", "elsewhere:1:dead0000:x", lease=0.6)
    bot.consumer = bot.jobs.consumer(workers=2, signals=False)
    bot.consumer.start()
    try:
        bot.wait(timeout=30)
        assert len(bot.reviews(REPO, pr.number)) == 1
        assert bot.jobs.store.journal_entries() == []
    finally:
        stop_bot(bot)
