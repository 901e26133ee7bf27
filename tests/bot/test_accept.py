"""Accepting a delivery on the SQLite store: the delivery log, the journal entry and
huey's task are committed together, on this thread's reused WAL connection."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from footgun.bot.jobs import make_huey
from footgun.bot.settings import Settings
from footgun.bot.store import NotQueued, SqliteStore, sqlite_connection

from .procs import until


def test_connections_are_reused_per_thread_in_wal_with_normal_sync(tmp_path):
    path = tmp_path / "q.db"
    conn = sqlite_connection(path)
    assert sqlite_connection(path) is conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL
    other: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: other.append(sqlite_connection(path)))
    thread.start()
    thread.join()
    assert other[0] is not conn


def test_accept_commits_delivery_journal_and_task_together(tmp_path):
    settings = Settings(webhook_secret="s", data_dir=tmp_path)
    huey = make_huey(settings)
    store = SqliteStore(tmp_path / "queue.db")
    task = huey.task(name="t")(lambda job: None)
    assert huey.storage.conn is sqlite_connection(tmp_path / "queue.db")  # one connection per thread
    assert store.accept("d-1", {"delivery": "d-1"}, 300, lambda: task("d-1"))
    assert huey.pending_count() == 1 and store.journal_get("d-1") is not None
    assert not store.accept("d-1", {"delivery": "d-1"}, 300, lambda: task("d-1"))  # a redelivery: nothing
    assert huey.pending_count() == 1 and len(store.journal_entries()) == 1


def test_a_failing_enqueue_rolls_back_in_the_transaction(tmp_path):
    settings = Settings(webhook_secret="s", data_dir=tmp_path)
    huey = make_huey(settings)
    store = SqliteStore(tmp_path / "queue.db")
    task = huey.task(name="t")(lambda job: None)

    def enqueue_then_fail():
        task("d-1")
        raise RuntimeError("queue down")

    with pytest.raises(NotQueued):
        store.accept("d-1", {"delivery": "d-1"}, 300, enqueue_then_fail)
    assert huey.pending_count() == 0  # the half-written task is gone
    assert store.journal_get("d-1") is not None  # the journal has it: a worker queues it later
    assert not store.remember_delivery("d-1")  # and the delivery is remembered


def test_an_error_before_the_journal_leaves_nothing(tmp_path):
    store = SqliteStore(tmp_path / "queue.db")
    with pytest.raises(TypeError):
        store.accept("d-1", {"not json": object()}, 300, lambda: None)
    assert store.journal_get("d-1") is None
    assert store.remember_delivery("d-1")  # GitHub's redelivery gets through


def test_commits_leave_checkpoints_to_a_background_thread(tmp_path, monkeypatch):
    import footgun.bot.store as store_module

    monkeypatch.setattr(store_module, "CHECKPOINT_EVERY", 0.05)
    path = tmp_path / "q.db"
    conn = sqlite_connection(path)
    assert conn.execute("pragma wal_autocheckpoint").fetchone()[0] == store_module.AUTOCHECKPOINT_PAGES
    store = SqliteStore(path)
    for n in range(200):
        store.journal_add(f"d-{n}", {"pad": "x" * 8000}, hold=300)
    # under AUTOCHECKPOINT_PAGES: only the background thread copies the WAL
    until(lambda: path.stat().st_size >= 1_000_000, timeout=10, what="the background checkpoint")
    assert len(store.journal_entries()) == 200
