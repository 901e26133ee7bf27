"""With ``REDIS_URL`` set, the queue, the delivery log and the locks live in Redis
(a smoke test of the switch against a real redis-server; skipped without one)."""

from __future__ import annotations

import shutil

import pytest
import redis

from footgun.bot.store import RedisStore

from .harness import start_bot, stop_bot
from .test_app_flow import REPO, SERVICE, open_typo, setup_repo

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def test_redis_store(redis_url):
    one, two = RedisStore(redis.Redis.from_url(redis_url)), RedisStore(redis.Redis.from_url(redis_url))
    assert one.remember_delivery("d-1") and not two.remember_delivery("d-1")
    held = one.acquire("pr:x", ttl=0.2)
    assert held is not None
    assert two.acquire("pr:x") is None
    one.release("pr:x", held)
    stale = one.acquire("pr:y", ttl=0.1)  # a holder that died
    assert stale
    until(lambda: two.acquire("pr:y", ttl=5), timeout=5, what="the dead holder's lock to expire")


def test_worker_heartbeats_through_redis(redis_url):
    web, worker = RedisStore(redis.Redis.from_url(redis_url)), RedisStore(redis.Redis.from_url(redis_url))
    assert web.last_beat() is None
    worker.clock = lambda: 1000.0
    worker.beat("host:1:0")
    worker.clock = lambda: 900.0
    worker.beat("host:2:0")
    assert web.last_beat() == 1000.0


def test_a_pull_request_reviewed_through_redis(fake_github, tmp_path, redis_url):
    bot = start_bot(fake_github, tmp_path / "data", redis_url=redis_url)
    try:
        assert bot.jobs.huey.__class__.__name__ == "RedisHuey"
        setup_repo(fake_github)
        pr = open_typo(fake_github)
        payload = bot.pull_request_payload("opened", pr)
        assert bot.post("pull_request", payload, delivery="r-1").status_code == 202
        assert bot.post("pull_request", payload, delivery="r-1").status_code == 200
        bot.wait()
        assert len(bot.reviews(REPO, pr.number)) == 1
    finally:
        stop_bot(bot)


# --- several worker processes on one Redis ------------------------------------------------------

from .harness import start_bot as _start_bot  # noqa: E402
from .procs import Worker, app_env, until  # noqa: E402
from .test_pacing import _writes, assert_serial_and_spaced  # noqa: E402


def _web_and_workers(fake, tmp_path, redis_url, count, **env):
    web = _start_bot(fake, tmp_path / "data", consume=False, redis_url=redis_url)
    workers = [
        Worker(app_env(fake, tmp_path / "data", redis_url=redis_url, **env), tmp_path / f"worker-{n}.log")
        for n in range(count)
    ]
    return web, workers


@pytest.mark.slow
def test_two_worker_processes_never_post_the_same_review_twice(fake_github, tmp_path, redis_url):
    fake = fake_github
    setup_repo(fake)
    prs = [
        fake.open_pull_request(
            REPO,
            head=f"typo-{n}",
            user="alice",
            changes={f"k8s/svc-{n}.yaml": SERVICE.replace("app: api", "app: apii")},
        )
        for n in range(6)
    ]
    web, workers = _web_and_workers(fake, tmp_path, redis_url, 2, FOOTGUN_WRITE_INTERVAL="0.05")
    try:
        for pr in prs:  # each pull request three times under three ids, both workers racing for them
            for action in ("opened", "reopened", "ready_for_review"):
                assert web.post("pull_request", web.pull_request_payload(action, pr)).status_code == 202
        until(
            lambda: all(web.reviews(REPO, pr.number) for pr in prs) and not web.jobs.store.journal_entries(),
            timeout=60,
            what="every job to be done",
        )
        assert [len(web.reviews(REPO, pr.number)) for pr in prs] == [1] * len(prs)
        assert all(len(fake.review_comments(REPO, pr.number)) == 1 for pr in prs)
        ran = [w.output().count("done in") for w in workers]
        assert sum(ran) == 3 * len(prs) and all(ran), ran  # both processes took jobs
        # One installation, two processes: its writes still one at a time, 0.05 s apart.
        installation = fake.installation_for(fake.repo(REPO)).id
        assert_serial_and_spaced(_writes(fake, installation), 0.05)
    finally:
        for w in workers:
            w.stop()


@pytest.mark.slow
def test_a_killed_workers_job_is_taken_over_by_the_other_worker(fake_github, tmp_path, redis_url):
    """No restart: the surviving worker process sees the lease run out and runs it."""
    fake = fake_github
    setup_repo(fake)
    pr = open_typo(fake)
    held = fake.faults.hang("GET", f"/repos/{REPO}/git/trees/*", seconds=60)
    web, workers = _web_and_workers(fake, tmp_path, redis_url, 1, FOOTGUN_JOB_LEASE="1.5")
    try:
        assert web.open(pr).status_code == 202
        until(lambda: held.hits == 1, what="the job to be mid-way")
        survivor = Worker(
            app_env(fake, tmp_path / "data", redis_url=redis_url, FOOTGUN_JOB_LEASE="1.5"), tmp_path / "survivor.log"
        )
        workers.append(survivor)
        # the survivor is up, its start over (and finding nothing: the job's owner lives)
        until(lambda: _has_beaten(redis_url, survivor), what="the survivor's first heartbeat")
        workers[0].kill()
        until(
            lambda: web.reviews(REPO, pr.number) and not web.jobs.store.journal_entries(),
            timeout=60,
            what="the survivor to run the job",
        )
        assert len(web.reviews(REPO, pr.number)) == 1
        assert "lease ran out" in survivor.output()
    finally:
        for w in workers:
            w.stop()


def _has_beaten(redis_url: str, worker: Worker) -> bool:
    """Whether ``worker``'s process has beaten (it does once its start-up recovery is over)."""
    store = RedisStore(redis.Redis.from_url(redis_url))
    beaten = store.redis.zrange(store._k("heartbeat"), 0, -1)
    return any(f":{worker.proc.pid}:" in name.decode() for name in beaten)
