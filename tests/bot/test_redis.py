"""With ``REDIS_URL`` set, the queue, the delivery log and the locks live in Redis
(a smoke test of the switch against a real redis-server; skipped without one)."""
from __future__ import annotations

import shutil
import time

import pytest
import redis

from bot.store import LockBusy, RedisStore, locked

from .harness import start_bot, stop_bot
from .test_app_flow import REPO, open_typo, setup_repo

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def test_redis_store(redis_url):
    one, two = RedisStore(redis.Redis.from_url(redis_url)), RedisStore(redis.Redis.from_url(redis_url))
    assert one.remember_delivery("d-1") and not two.remember_delivery("d-1")
    with locked(one, "pr:x", ttl=0.2):
        with pytest.raises(LockBusy):
            with locked(two, "pr:x"):
                pass
    stale = one.acquire("pr:y", ttl=0.1)  # a holder that died
    time.sleep(0.2)
    assert stale and two.acquire("pr:y", ttl=5)


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
