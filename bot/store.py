"""Shared state beside the job queue: the delivery log and per-pull-request locks.

Both live in the same store as the queue (the SQLite file under ``FOOTGUN_DATA_DIR``,
or Redis when ``REDIS_URL`` is set), so every web and worker process that shares the
queue shares them too.

* The delivery log makes a webhook delivery act once: ``remember_delivery`` is an
  atomic insert-if-absent on ``X-GitHub-Delivery``; entries are kept for a week
  (GitHub lets people redeliver for three days).
* Locks serialise the runs for one pull request. A lock has an owner token and an
  expiry, so a worker killed while holding one (kill -9 never runs ``finally``) blocks
  that pull request for at most ``ttl`` seconds, never for good.
"""
from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator, Protocol

DELIVERY_TTL = 7 * 24 * 3600
LOCK_TTL = 15 * 60  # longer than any run; a dead holder's lock frees itself after this


class LockBusy(Exception):
    """Another run holds the lock."""


class Store(Protocol):
    def remember_delivery(self, delivery_id: str) -> bool: ...
    def forget_delivery(self, delivery_id: str) -> None: ...
    def acquire(self, key: str, ttl: float = LOCK_TTL) -> str | None: ...
    def release(self, key: str, token: str) -> None: ...


@contextlib.contextmanager
def locked(store: Store, key: str, ttl: float = LOCK_TTL) -> Iterator[str]:
    """Hold ``key`` for the block, or raise `LockBusy` at once."""
    token = store.acquire(key, ttl)
    if token is None:
        raise LockBusy(key)
    try:
        yield token
    finally:
        store.release(key, token)


def _owner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class SqliteStore:
    """Two tables in the queue's SQLite file."""

    def __init__(self, filename: str | Path, clock=time.time) -> None:
        self.filename = str(filename)
        self.clock = clock
        self._local = threading.local()
        with self._db() as db:
            db.execute("create table if not exists footgun_delivery ("
                       "id text primary key, received_at real not null)")
            db.execute("create table if not exists footgun_lock ("
                       "key text primary key, token text not null, expires_at real not null)")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.filename, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("pragma journal_mode=wal")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("begin immediate")
        try:
            yield conn
        except BaseException:
            conn.execute("rollback")
            raise
        conn.execute("commit")

    def remember_delivery(self, delivery_id: str) -> bool:
        now = self.clock()
        with self._db() as db:
            inserted = db.execute("insert or ignore into footgun_delivery (id, received_at) values (?, ?)",
                                  (delivery_id, now)).rowcount == 1
            if inserted and hash(delivery_id) % 64 == 0:  # prune now and then
                db.execute("delete from footgun_delivery where received_at < ?", (now - DELIVERY_TTL,))
        return inserted

    def forget_delivery(self, delivery_id: str) -> None:
        with self._db() as db:
            db.execute("delete from footgun_delivery where id = ?", (delivery_id,))

    def acquire(self, key: str, ttl: float = LOCK_TTL) -> str | None:
        token = _owner_token()
        now = self.clock()
        with self._db() as db:
            taken = db.execute(
                "insert into footgun_lock (key, token, expires_at) values (?, ?, ?) "
                "on conflict (key) do update set token = excluded.token, expires_at = excluded.expires_at "
                "where footgun_lock.expires_at < ?", (key, token, now + ttl, now)).rowcount == 1
        return token if taken else None

    def release(self, key: str, token: str) -> None:
        with self._db() as db:
            db.execute("delete from footgun_lock where key = ? and token = ?", (key, token))


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisStore:
    """The same on Redis: ``SET NX EX`` for both, a compare-and-delete to release."""

    def __init__(self, client, prefix: str = "footgun") -> None:
        self.redis = client
        self.prefix = prefix
        self._release = client.register_script(_RELEASE)

    def remember_delivery(self, delivery_id: str) -> bool:
        return bool(self.redis.set(f"{self.prefix}:delivery:{delivery_id}", "1", nx=True, ex=DELIVERY_TTL))

    def forget_delivery(self, delivery_id: str) -> None:
        self.redis.delete(f"{self.prefix}:delivery:{delivery_id}")

    def acquire(self, key: str, ttl: float = LOCK_TTL) -> str | None:
        token = _owner_token()
        ok = self.redis.set(f"{self.prefix}:lock:{key}", token, nx=True, px=int(ttl * 1000))
        return token if ok else None

    def release(self, key: str, token: str) -> None:
        self._release(keys=[f"{self.prefix}:lock:{key}"], args=[token])
