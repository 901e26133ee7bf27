"""The delivery log and the per-PR locks on SQLite, and the jobs' serialisation."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from footgun.bot.store import SqliteStore, sqlite_write_lock

from .test_app_flow import REPO, open_typo, setup_repo


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_delivery_is_remembered_once_across_processes(tmp_path):
    one, two = SqliteStore(tmp_path / "q.db"), SqliteStore(tmp_path / "q.db")
    assert one.remember_delivery("d-1")
    assert not two.remember_delivery("d-1")
    two.forget_delivery("d-1")
    assert one.remember_delivery("d-1")


def test_concurrent_deliveries_of_one_id_store_one(tmp_path):
    store = SqliteStore(tmp_path / "q.db")
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.remember_delivery("same"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


WRITE_FROM_ANOTHER_PROCESS = """
import sys, time
from footgun.bot.store import SqliteStore
store = SqliteStore(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
started = time.monotonic()
assert store.remember_delivery("from-the-other-process")
print(time.monotonic() - started, flush=True)
"""


def test_writers_of_two_processes_take_turns_on_a_file_lock(tmp_path):
    """A writer of another process waits on the file lock and goes the moment it is
    free (not on SQLite's busy handler, which sleeps in steps of up to 100 ms)."""
    db = tmp_path / "q.db"
    SqliteStore(db)
    other = subprocess.Popen(
        [sys.executable, "-c", WRITE_FROM_ANOTHER_PROCESS, str(db)],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert other.stdout.readline().strip() == "ready"
    with sqlite_write_lock(db):
        other.stdin.write("go\n")
        other.stdin.flush()
        with pytest.raises(subprocess.TimeoutExpired):
            other.wait(timeout=0.5)  # still waiting for its turn
    waited = float(other.stdout.readline())
    assert other.wait(timeout=10) == 0
    assert waited >= 0.4
    assert not SqliteStore(db).remember_delivery("from-the-other-process")  # it did write


def test_lock_is_exclusive_and_released(tmp_path):
    clock = Clock()
    one, two = SqliteStore(tmp_path / "q.db", clock), SqliteStore(tmp_path / "q.db", clock)
    held = one.acquire("pr:acme/shop#1")
    assert held is not None
    assert two.acquire("pr:acme/shop#1") is None
    other = two.acquire("pr:acme/shop#2")  # another PR is free
    assert other is not None
    two.release("pr:acme/shop#2", other)
    one.release("pr:acme/shop#1", held)
    assert two.acquire("pr:acme/shop#1") is not None


def test_a_dead_holders_lock_expires(tmp_path):
    clock = Clock()
    store = SqliteStore(tmp_path / "q.db", clock)
    token = store.acquire("pr:x", ttl=60)  # its holder is killed: never released
    assert token and store.acquire("pr:x", ttl=60) is None
    clock.now += 61
    taken = store.acquire("pr:x", ttl=60)
    assert taken and taken != token
    store.release("pr:x", token)  # the old holder's late release frees nothing
    assert store.acquire("pr:x", ttl=60) is None


def test_deliveries_for_one_pr_run_one_at_a_time(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    for action in ("opened", "reopened", "ready_for_review"):  # three events about one head
        payload = bot.pull_request_payload(action, pr)
        assert bot.post("pull_request", payload, delivery=f"d-{action}").status_code == 202
    bot.wait(timeout=60)
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert len(fake.review_comments(REPO, pr.number)) == 1
