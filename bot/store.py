"""Shared state beside the job queue: the delivery log, the job journal, locks and the
write pacing of each installation.

Everything lives in the same store as the queue (the SQLite file under
``FOOTGUN_DATA_DIR``, or Redis when ``REDIS_URL`` is set), so every web and worker
process that shares the queue shares it too.

* The delivery log makes a webhook delivery act once: ``remember_delivery`` is an
  atomic insert-if-absent on ``X-GitHub-Delivery``; entries are kept for a week
  (GitHub lets people redeliver for three days).
* The job journal is what makes a job survive its worker. huey deletes a task from
  the queue when a worker takes it (it has no acknowledgement), so a worker killed
  mid-job would lose it. Each accepted delivery is written to the journal before it is
  queued; a run *claims* its entry with a lease (owner and expiry, extended by the
  worker's heartbeat), and the entry is deleted only when the job is over. An entry
  whose lease ran out (its worker died, or the queue lost the task) is put back on the
  queue by `journal_due`; a copy of a task whose entry is claimed or gone does nothing.
  The journal also counts the tries of a job, kills included.
* Locks serialise the runs for one pull request and the writes of one installation. A
  lock has an owner token and an expiry, so a worker killed while holding one (kill -9
  never runs ``finally``) blocks for at most its ``ttl`` seconds, never for good; a
  restarted worker frees the locks of dead processes of its own machine at once.
* Pacing state per installation: when its next write may start, until when GitHub
  asked it to wait (``retry-after``), and when its recent content-creating requests
  were made (`bot.pacing`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: SQLite's own locking only
    fcntl = None  # type: ignore[assignment]

DELIVERY_TTL = 7 * 24 * 3600
LOCK_TTL = 15 * 60  # longer than any run; a dead holder's lock frees itself after this
CONTENT_WINDOW = 3600.0  # the longest window of GitHub's content-creation limits
JOB_COLUMNS = "id, data, owner, lease_until, attempts, claims"


class NotQueued(Exception):
    """`Store.accept` stored the delivery and its journal entry, but putting it on the
    queue failed (``__cause__``): the journal has it, a worker queues it later."""


@dataclass
class JobEntry:
    """A job in the journal: its data, how many of its runs count as tries, who holds
    it, and how many runs claimed it in all (rate-limited ones too: a run after the
    first may find what an earlier one left, such as its check run)."""

    id: str
    data: dict[str, Any]
    attempts: int = 0
    owner: str | None = None
    lease_until: float = 0.0
    claims: int = 0


@dataclass
class PaceState:
    next_at: float = 0.0  # the next write may start then
    blocked_until: float = 0.0  # GitHub asked to wait until then (retry-after, x-ratelimit-reset)
    content: tuple[float, ...] = ()  # start times of content-creating requests in the last hour


class Store(Protocol):
    def remember_delivery(self, delivery_id: str) -> bool: ...
    def forget_delivery(self, delivery_id: str) -> None: ...
    def accept(self, delivery_id: str, data: dict[str, Any], hold: float, enqueue: Callable[[], None]) -> bool: ...

    def acquire(self, key: str, ttl: float = LOCK_TTL) -> str | None: ...
    def renew(self, key: str, token: str, ttl: float) -> bool: ...
    def release(self, key: str, token: str) -> None: ...
    def locks(self) -> list[tuple[str, str]]: ...

    def journal_add(self, job_id: str, data: dict[str, Any], hold: float) -> bool: ...
    def journal_get(self, job_id: str) -> JobEntry | None: ...
    def journal_claim(self, job_id: str, owner: str, lease: float) -> JobEntry | None: ...
    def journal_renew(self, job_id: str, owner: str, lease: float) -> bool: ...
    def journal_release(self, job_id: str, owner: str, hold: float, count_attempt: bool = True) -> None: ...
    def journal_done(self, job_id: str) -> None: ...
    def journal_due(self, hold: float, limit: int = 100) -> list[JobEntry]: ...
    def journal_steal(self, job_id: str, owner: str, hold: float) -> bool: ...
    def journal_entries(self) -> list[JobEntry]: ...

    def pace_state(self, installation: int) -> PaceState: ...
    def pace_record(self, installation: int, started: float, next_at: float, content: bool) -> None: ...
    def pace_block(self, installation: int, until: float) -> None: ...

    def beat(self, worker: str) -> None: ...
    def last_beat(self) -> float | None: ...


# --- who holds what --------------------------------------------------------------------

_HOST = socket.gethostname()
_BOOT = uuid.uuid4().hex[:8]  # tells this process from an earlier one that had the same pid


def process_id() -> str:
    """``host:pid:boot`` of this process (after a fork, of the child)."""
    return f"{_HOST}:{os.getpid()}:{_BOOT}"


def owner_token() -> str:
    return f"{process_id()}:{uuid.uuid4().hex[:12]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def is_dead_owner(token: str | None) -> bool:
    """Whether ``token`` belongs to a process of this machine that no longer runs: a
    pid that is gone, or this very pid from an earlier life (a restarted container)."""
    if not token:
        return False
    parts = token.split(":")
    if len(parts) < 3 or parts[0] != _HOST or not parts[1].isdigit():
        return False
    pid, boot = int(parts[1]), parts[2]
    if pid == os.getpid():
        return boot != _BOOT
    return not _pid_alive(pid)


# --- SQLite ---------------------------------------------------------------------------------

_connections = threading.local()


def sqlite_connection(filename: str | Path) -> sqlite3.Connection:
    """This thread's connection to ``filename``, opened once and then reused (per
    process: a forked child opens its own).

    Every connection runs in WAL mode with ``synchronous=NORMAL``: a commit is
    written to the WAL without waiting for an fsync, so it survives the process
    being killed (kill -9, out of memory) but a power loss or kernel crash may lose
    the last commits; the WAL is fsynced when it is checkpointed into the
    database. Autocommit (``isolation_level=None``): transactions are explicit."""
    key = str(filename)
    cache = getattr(_connections, "cache", None)
    if cache is None or getattr(_connections, "pid", None) != os.getpid():
        cache = _connections.cache = {}
        _connections.pid = os.getpid()
    conn = cache.get(key)
    if conn is None:
        conn = sqlite3.connect(key, timeout=30, isolation_level=None, check_same_thread=False)
        deadline = time.monotonic() + 30
        while True:  # turning a new file to WAL takes a write lock: wait for it like any writer
            try:
                conn.execute("pragma journal_mode=wal")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        conn.execute("pragma synchronous=normal")
        conn.execute(f"pragma wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cache[key] = conn
        _checkpoint_in_background(key)
    return conn


CHECKPOINT_EVERY = 1.0  # seconds between two background checkpoints of a file's WAL
AUTOCHECKPOINT_PAGES = 10_000  # ~40 MiB: past that, a commit checkpoints itself (the background one fell behind)
_checkpoint_files: set[str] = set()
_checkpointer: tuple[int, threading.Thread] | None = None
_checkpoint_guard = threading.Lock()


def _checkpoint_in_background(filename: str) -> None:
    """Copy ``filename``'s WAL into the database every `CHECKPOINT_EVERY` seconds from
    a thread of this process. Checkpoints are what fsync under ``synchronous=NORMAL``;
    done here, a commit answering a webhook never waits for the disk (SQLite would
    otherwise checkpoint in whichever commit filled 1,000 pages of WAL)."""
    global _checkpointer
    with _checkpoint_guard:
        _checkpoint_files.add(filename)
        if _checkpointer is None or _checkpointer[0] != os.getpid() or not _checkpointer[1].is_alive():
            thread = threading.Thread(target=_checkpoint_loop, name="footgun-sqlite-checkpoint", daemon=True)
            _checkpointer = (os.getpid(), thread)
            thread.start()


def _after_fork_in_child() -> None:
    """A lock some thread of the parent held is held for good in the child: new ones."""
    global _checkpoint_guard, _write_locks_guard, _checkpointer
    _checkpoint_guard, _write_locks_guard, _checkpointer = threading.Lock(), threading.Lock(), None
    _checkpoint_files.clear()
    for lock in _write_locks.values():  # the parent's open file: the child opens its own
        lock._forget_fd()
    _write_locks.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _checkpoint_loop() -> None:
    pid = os.getpid()
    while True:
        time.sleep(CHECKPOINT_EVERY)
        with _checkpoint_guard:
            if _checkpointer is None or _checkpointer[0] != pid:
                return
            files = list(_checkpoint_files)
        for filename in files:
            if not os.path.exists(filename):  # removed (a test's folder): forget it
                with _checkpoint_guard:
                    _checkpoint_files.discard(filename)
                continue
            try:
                conn = sqlite3.connect(filename, timeout=5, isolation_level=None)
                try:
                    conn.execute("pragma wal_checkpoint(passive)")
                finally:
                    conn.close()
            except sqlite3.Error:
                pass  # busy or gone: the next round, or a commit past AUTOCHECKPOINT_PAGES, does it


class _WriteLock:
    """The turn to write to one SQLite file: this process's threads queue on a thread
    lock, and the processes of the machine on an ``flock`` of ``<file>.lock``. Both
    wake the next writer the moment the lock is free, where SQLite's busy handler,
    with two processes writing, sleeps in steps of up to 100 ms (webhook answers of
    the web process's two workers waited on each other that way)."""

    def __init__(self, filename: str) -> None:
        self.threads = threading.Lock()
        self.path = filename + ".lock"
        self.fd: int | None = None

    def __enter__(self) -> _WriteLock:
        self.threads.acquire()
        try:
            if fcntl is not None:
                if self.fd is None:
                    self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:
            self._forget_fd()  # no file lock here (a removed folder...): SQLite's own locking still holds
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.fd is not None and fcntl is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        except OSError:
            self._forget_fd()
        finally:
            self.threads.release()

    def _forget_fd(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


_write_locks: dict[tuple[int, str], _WriteLock] = {}
_write_locks_guard = threading.Lock()


def sqlite_write_lock(filename: str | Path) -> _WriteLock:
    """The lock to hold around a write transaction on ``filename`` (`_WriteLock`)."""
    key = (os.getpid(), str(filename))
    lock = _write_locks.get(key)
    if lock is None:
        with _write_locks_guard:
            lock = _write_locks.setdefault(key, _WriteLock(str(filename)))
    return lock


def close_sqlite_connection(filename: str | Path) -> None:
    """Close this thread's connection to ``filename`` (the next use opens a new one)."""
    cache = getattr(_connections, "cache", None)
    if cache is not None and getattr(_connections, "pid", None) == os.getpid():
        conn = cache.pop(str(filename), None)
        if conn is not None:
            conn.close()


class SqliteStore:
    """Tables in the queue's SQLite file (one machine; any number of its processes)."""

    def __init__(self, filename: str | Path, clock=time.time) -> None:
        self.filename = str(filename)
        self.clock = clock
        with self._db() as db:
            db.execute("create table if not exists footgun_delivery (id text primary key, received_at real not null)")
            db.execute(
                "create table if not exists footgun_lock ("
                "key text primary key, token text not null, expires_at real not null)"
            )
            db.execute(
                "create table if not exists footgun_job ("
                "id text primary key, data text not null, owner text, lease_until real not null, "
                "attempts integer not null default 0, claims integer not null default 0)"
            )
            if "claims" not in {row[1] for row in db.execute("pragma table_info(footgun_job)")}:
                db.execute("alter table footgun_job add column claims integer not null default 0")
            db.execute("create index if not exists footgun_job_lease on footgun_job (lease_until)")
            db.execute(
                "create table if not exists footgun_pace ("
                "installation integer primary key, next_at real not null default 0, "
                "blocked_until real not null default 0)"
            )
            db.execute("create table if not exists footgun_content (installation integer not null, at real not null)")
            db.execute("create index if not exists footgun_content_at on footgun_content (installation, at)")
            db.execute("create table if not exists footgun_heartbeat (worker text primary key, at real not null)")

    def _connection(self) -> sqlite3.Connection:
        return sqlite_connection(self.filename)

    @contextlib.contextmanager
    def _db(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with sqlite_write_lock(self.filename) if write else contextlib.nullcontext():
            conn.execute("begin immediate" if write else "begin")
            try:
                yield conn
            except BaseException:
                conn.execute("rollback")
                raise
            conn.execute("commit")

    # -- deliveries ----------------------------------------------------------------------------
    def remember_delivery(self, delivery_id: str) -> bool:
        now = self.clock()
        with self._db() as db:
            inserted = (
                db.execute(
                    "insert or ignore into footgun_delivery (id, received_at) values (?, ?)", (delivery_id, now)
                ).rowcount
                == 1
            )
            if inserted and hash(delivery_id) % 64 == 0:  # prune now and then
                db.execute("delete from footgun_delivery where received_at < ?", (now - DELIVERY_TTL,))
        return inserted

    def forget_delivery(self, delivery_id: str) -> None:
        with self._db() as db:
            db.execute("delete from footgun_delivery where id = ?", (delivery_id,))

    def accept(self, delivery_id: str, data: dict[str, Any], hold: float, enqueue: Callable[[], None]) -> bool:
        """Remember a delivery, write its job to the journal and queue it, all in one
        transaction (one commit); False, and nothing done, when it was received before.
        ``enqueue`` runs inside the transaction, on this thread's connection (huey's
        SQLite storage joins it, `bot.jobs`); if it fails, the delivery and its entry
        are committed all the same and `NotQueued` is raised."""
        now = self.clock()
        failed: Exception | None = None
        encoded = json.dumps(data)  # before taking the turn to write: others wait while it is held
        with self._db() as db:
            if (
                db.execute(
                    "insert or ignore into footgun_delivery (id, received_at) values (?, ?)", (delivery_id, now)
                ).rowcount
                != 1
            ):
                return False
            if hash(delivery_id) % 64 == 0:  # prune now and then
                db.execute("delete from footgun_delivery where received_at < ?", (now - DELIVERY_TTL,))
            db.execute(
                "insert or ignore into footgun_job (id, data, owner, lease_until, attempts) values (?, ?, null, ?, 0)",
                (delivery_id, encoded, now + hold),
            )
            db.execute("savepoint footgun_enqueue")
            try:
                enqueue()
            except Exception as exc:
                db.execute("rollback to footgun_enqueue")
                failed = exc
            db.execute("release footgun_enqueue")
        if failed is not None:
            raise NotQueued(str(failed)) from failed
        return True

    # -- locks -----------------------------------------------------------------------------------
    def acquire(self, key: str, ttl: float = LOCK_TTL) -> str | None:
        token = owner_token()
        now = self.clock()
        with self._db() as db:
            taken = (
                db.execute(
                    "insert into footgun_lock (key, token, expires_at) values (?, ?, ?) "
                    "on conflict (key) do update set token = excluded.token, expires_at = excluded.expires_at "
                    "where footgun_lock.expires_at < ?",
                    (key, token, now + ttl, now),
                ).rowcount
                == 1
            )
        return token if taken else None

    def renew(self, key: str, token: str, ttl: float) -> bool:
        with self._db() as db:
            return (
                db.execute(
                    "update footgun_lock set expires_at = ? where key = ? and token = ?",
                    (self.clock() + ttl, key, token),
                ).rowcount
                == 1
            )

    def release(self, key: str, token: str) -> None:
        with self._db() as db:
            db.execute("delete from footgun_lock where key = ? and token = ?", (key, token))

    def locks(self) -> list[tuple[str, str]]:
        with self._db(write=False) as db:
            return [(k, t) for k, t in db.execute("select key, token from footgun_lock")]

    # -- the job journal -----------------------------------------------------------------------
    @staticmethod
    def _entry(row: tuple) -> JobEntry:
        job_id, data, owner, lease_until, attempts, claims = row
        return JobEntry(job_id, json.loads(data), attempts, owner or None, lease_until, claims)

    def journal_add(self, job_id: str, data: dict[str, Any], hold: float) -> bool:
        with self._db() as db:
            return (
                db.execute(
                    "insert or ignore into footgun_job (id, data, owner, lease_until, attempts) "
                    "values (?, ?, null, ?, 0)",
                    (job_id, json.dumps(data), self.clock() + hold),
                ).rowcount
                == 1
            )

    def journal_get(self, job_id: str) -> JobEntry | None:
        with self._db(write=False) as db:
            row = db.execute("select " + JOB_COLUMNS + " from footgun_job where id = ?", (job_id,)).fetchone()
        return self._entry(row) if row else None

    def journal_claim(self, job_id: str, owner: str, lease: float) -> JobEntry | None:
        now = self.clock()
        with self._db() as db:
            changed = db.execute(
                "update footgun_job set owner = ?, lease_until = ?, "
                "attempts = attempts + 1, claims = claims + 1 "
                "where id = ? and (owner is null or lease_until < ?)",
                (owner, now + lease, job_id, now),
            ).rowcount
            if not changed:
                return None
            row = db.execute("select " + JOB_COLUMNS + " from footgun_job where id = ?", (job_id,)).fetchone()
        return self._entry(row)

    def journal_renew(self, job_id: str, owner: str, lease: float) -> bool:
        with self._db() as db:
            return (
                db.execute(
                    "update footgun_job set lease_until = ? where id = ? and owner = ?",
                    (self.clock() + lease, job_id, owner),
                ).rowcount
                == 1
            )

    def journal_release(self, job_id: str, owner: str, hold: float, count_attempt: bool = True) -> None:
        with self._db() as db:
            db.execute(
                "update footgun_job set owner = null, lease_until = ?, "
                "attempts = attempts - ? where id = ? and owner = ?",
                (self.clock() + hold, 0 if count_attempt else 1, job_id, owner),
            )

    def journal_done(self, job_id: str) -> None:
        with self._db() as db:
            db.execute("delete from footgun_job where id = ?", (job_id,))

    def journal_due(self, hold: float, limit: int = 100) -> list[JobEntry]:
        now = self.clock()
        with self._db() as db:
            rows = db.execute(
                "select " + JOB_COLUMNS + " from footgun_job where lease_until < ? order by lease_until limit ?",
                (now, limit),
            ).fetchall()
            for row in rows:
                db.execute("update footgun_job set owner = null, lease_until = ? where id = ?", (now + hold, row[0]))
        return [self._entry(row) for row in rows]

    def journal_steal(self, job_id: str, owner: str, hold: float) -> bool:
        with self._db() as db:
            return (
                db.execute(
                    "update footgun_job set owner = null, lease_until = ? where id = ? and owner = ?",
                    (self.clock() + hold, job_id, owner),
                ).rowcount
                == 1
            )

    def journal_entries(self) -> list[JobEntry]:
        with self._db(write=False) as db:
            rows = db.execute("select " + JOB_COLUMNS + " from footgun_job").fetchall()
        return [self._entry(row) for row in rows]

    # -- worker heartbeats ----------------------------------------------------------------------
    def beat(self, worker: str) -> None:
        """Worker process ``worker`` is alive now (what ``/healthz`` reads)."""
        now = self.clock()
        with self._db() as db:
            db.execute(
                "insert into footgun_heartbeat (worker, at) values (?, ?) "
                "on conflict (worker) do update set at = excluded.at",
                (worker, now),
            )
            db.execute("delete from footgun_heartbeat where at < ?", (now - DELIVERY_TTL,))

    def last_beat(self) -> float | None:
        """When a worker process last said it is alive, if ever."""
        with self._db(write=False) as db:
            return db.execute("select max(at) from footgun_heartbeat").fetchone()[0]

    # -- pacing --------------------------------------------------------------------------------
    def pace_state(self, installation: int) -> PaceState:
        now = self.clock()
        with self._db(write=False) as db:
            row = db.execute(
                "select next_at, blocked_until from footgun_pace where installation = ?", (installation,)
            ).fetchone()
            times = [
                t
                for (t,) in db.execute(
                    "select at from footgun_content where installation = ? and at > ? order by at",
                    (installation, now - CONTENT_WINDOW),
                )
            ]
        next_at, blocked = row or (0.0, 0.0)
        return PaceState(next_at, blocked, tuple(times))

    def pace_record(self, installation: int, started: float, next_at: float, content: bool) -> None:
        with self._db() as db:
            db.execute(
                "insert into footgun_pace (installation, next_at) values (?, ?) on conflict (installation) "
                "do update set next_at = max(next_at, excluded.next_at)",
                (installation, next_at),
            )
            if content:
                db.execute("insert into footgun_content (installation, at) values (?, ?)", (installation, started))
                db.execute(
                    "delete from footgun_content where installation = ? and at < ?",
                    (installation, started - CONTENT_WINDOW),
                )

    def pace_block(self, installation: int, until: float) -> None:
        with self._db() as db:
            db.execute(
                "insert into footgun_pace (installation, blocked_until) values (?, ?) "
                "on conflict (installation) do update set blocked_until = max(blocked_until, excluded.blocked_until)",
                (installation, until),
            )


# --- Redis ------------------------------------------------------------------------------------

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: job hash, lease zset; ARGV: data, lease_until, job id
_ADD = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], 'data', ARGV[1], 'owner', '', 'lease_until', ARGV[2], 'attempts', 0)
redis.call('zadd', KEYS[2], tonumber(ARGV[2]), ARGV[3])
return 1
"""

# KEYS: job hash, lease zset; ARGV: owner, lease, now, job id
_CLAIM = """
if redis.call('exists', KEYS[1]) == 0 then return false end
local owner = redis.call('hget', KEYS[1], 'owner')
local lease_until = tonumber(redis.call('hget', KEYS[1], 'lease_until'))
local now = tonumber(ARGV[3])
if owner and owner ~= '' and lease_until >= now then return false end
local until_ = now + tonumber(ARGV[2])
redis.call('hset', KEYS[1], 'owner', ARGV[1], 'lease_until', tostring(until_))
local attempts = redis.call('hincrby', KEYS[1], 'attempts', 1)
local claims = redis.call('hincrby', KEYS[1], 'claims', 1)
redis.call('zadd', KEYS[2], until_, ARGV[4])
return {redis.call('hget', KEYS[1], 'data'), attempts, claims}
"""

# KEYS: job hash, lease zset; ARGV: owner, new lease_until, job id, attempts delta, clear owner (1/0)
_IF_OWNER = """
if redis.call('hget', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[5] == '1' then redis.call('hset', KEYS[1], 'owner', '') end
redis.call('hset', KEYS[1], 'lease_until', ARGV[2])
if tonumber(ARGV[4]) ~= 0 then redis.call('hincrby', KEYS[1], 'attempts', tonumber(ARGV[4])) end
redis.call('zadd', KEYS[2], tonumber(ARGV[2]), ARGV[3])
return 1
"""

# KEYS: lease zset; ARGV: now, hold, limit, job key prefix
_DUE = """
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  if redis.call('exists', key) == 1 then
    redis.call('hset', key, 'owner', '', 'lease_until', tostring(until_))
    redis.call('zadd', KEYS[1], until_, id)
    table.insert(out, id)
    table.insert(out, redis.call('hget', key, 'data'))
    table.insert(out, redis.call('hget', key, 'attempts'))
    table.insert(out, redis.call('hget', key, 'claims'))
  else
    redis.call('zrem', KEYS[1], id)
  end
end
return out
"""

_MAX_FIELD = """
local current = tonumber(redis.call('hget', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""


class RedisStore:
    """The same on Redis: ``SET NX PX`` locks with compare-and-delete, the journal as a
    hash per job plus a sorted set of leases, scripts where a step must be atomic."""

    def __init__(self, client, prefix: str = "footgun", clock=time.time) -> None:
        self.redis = client
        self.prefix = prefix
        self.clock = clock
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._add = client.register_script(_ADD)
        self._claim = client.register_script(_CLAIM)
        self._if_owner = client.register_script(_IF_OWNER)
        self._due = client.register_script(_DUE)
        self._max_field = client.register_script(_MAX_FIELD)

    def _k(self, *parts: Any) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    # -- worker heartbeats ----------------------------------------------------------------------
    def beat(self, worker: str) -> None:
        self.redis.zadd(self._k("heartbeat"), {worker: self.clock()})
        self.redis.zremrangebyscore(self._k("heartbeat"), "-inf", self.clock() - DELIVERY_TTL)

    def last_beat(self) -> float | None:
        newest = self.redis.zrevrange(self._k("heartbeat"), 0, 0, withscores=True)
        return float(newest[0][1]) if newest else None

    # -- deliveries ----------------------------------------------------------------------------
    def remember_delivery(self, delivery_id: str) -> bool:
        return bool(self.redis.set(self._k("delivery", delivery_id), "1", nx=True, ex=DELIVERY_TTL))

    def forget_delivery(self, delivery_id: str) -> None:
        self.redis.delete(self._k("delivery", delivery_id))

    def accept(self, delivery_id: str, data: dict[str, Any], hold: float, enqueue: Callable[[], None]) -> bool:
        """Remember a delivery, write its job to the journal, then queue it; False, and
        nothing done, when it was received before. If queueing fails, `NotQueued`."""
        if not self.remember_delivery(delivery_id):
            return False
        try:
            self.journal_add(delivery_id, data, hold)
        except BaseException:
            self.forget_delivery(delivery_id)  # let GitHub's redelivery through
            raise
        try:
            enqueue()
        except Exception as exc:
            raise NotQueued(str(exc)) from exc
        return True

    # -- locks -----------------------------------------------------------------------------------
    def acquire(self, key: str, ttl: float = LOCK_TTL) -> str | None:
        token = owner_token()
        ok = self.redis.set(self._k("lock", key), token, nx=True, px=max(1, int(ttl * 1000)))
        return token if ok else None

    def renew(self, key: str, token: str, ttl: float) -> bool:
        return bool(self._renew(keys=[self._k("lock", key)], args=[token, max(1, int(ttl * 1000))]))

    def release(self, key: str, token: str) -> None:
        self._release(keys=[self._k("lock", key)], args=[token])

    def locks(self) -> list[tuple[str, str]]:
        prefix = self._k("lock", "")
        out = []
        for name in self.redis.scan_iter(match=prefix + "*", count=500):
            name = name.decode() if isinstance(name, bytes) else name
            token = self.redis.get(name)
            if token is not None:
                out.append((name[len(prefix) :], token.decode() if isinstance(token, bytes) else token))
        return out

    # -- the job journal -----------------------------------------------------------------------
    def _job(self, job_id: str) -> str:
        return self._k("job", job_id)

    @property
    def _leases(self) -> str:
        return self._k("jobs")

    def journal_add(self, job_id: str, data: dict[str, Any], hold: float) -> bool:
        return bool(
            self._add(
                keys=[self._job(job_id), self._leases], args=[json.dumps(data), repr(self.clock() + hold), job_id]
            )
        )

    def journal_get(self, job_id: str) -> JobEntry | None:
        raw = self.redis.hgetall(self._job(job_id))
        if not raw or b"data" not in raw:
            return None
        owner = raw.get(b"owner", b"").decode()
        return JobEntry(
            job_id,
            json.loads(raw[b"data"]),
            int(raw.get(b"attempts", 0)),
            owner or None,
            float(raw.get(b"lease_until", 0)),
            int(raw.get(b"claims", 0)),
        )

    def journal_claim(self, job_id: str, owner: str, lease: float) -> JobEntry | None:
        now = self.clock()
        found = self._claim(keys=[self._job(job_id), self._leases], args=[owner, lease, repr(now), job_id])
        if not found:
            return None
        data, attempts, claims = found
        return JobEntry(job_id, json.loads(data), int(attempts), owner, now + lease, int(claims))

    def journal_renew(self, job_id: str, owner: str, lease: float) -> bool:
        return bool(
            self._if_owner(
                keys=[self._job(job_id), self._leases], args=[owner, repr(self.clock() + lease), job_id, 0, "0"]
            )
        )

    def journal_release(self, job_id: str, owner: str, hold: float, count_attempt: bool = True) -> None:
        self._if_owner(
            keys=[self._job(job_id), self._leases],
            args=[owner, repr(self.clock() + hold), job_id, 0 if count_attempt else -1, "1"],
        )

    def journal_done(self, job_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(self._job(job_id))
        pipe.zrem(self._leases, job_id)
        pipe.execute()

    def journal_due(self, hold: float, limit: int = 100) -> list[JobEntry]:
        now = self.clock()
        flat = self._due(keys=[self._leases], args=[repr(now), hold, limit, self._job("")])
        out = []
        for i in range(0, len(flat), 4):
            job_id = flat[i].decode() if isinstance(flat[i], bytes) else flat[i]
            out.append(
                JobEntry(
                    job_id, json.loads(flat[i + 1]), int(flat[i + 2] or 0), None, now + hold, int(flat[i + 3] or 0)
                )
            )
        return out

    def journal_steal(self, job_id: str, owner: str, hold: float) -> bool:
        return bool(
            self._if_owner(
                keys=[self._job(job_id), self._leases], args=[owner, repr(self.clock() + hold), job_id, 0, "1"]
            )
        )

    def journal_entries(self) -> list[JobEntry]:
        out = []
        for raw_id in self.redis.zrange(self._leases, 0, -1):
            job_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
            entry = self.journal_get(job_id)
            if entry is not None:
                out.append(entry)
        return out

    # -- pacing --------------------------------------------------------------------------------
    def pace_state(self, installation: int) -> PaceState:
        now = self.clock()
        pipe = self.redis.pipeline()
        pipe.hmget(self._k("pace", installation), "next_at", "blocked_until")
        pipe.zrangebyscore(self._k("content", installation), now - CONTENT_WINDOW, "+inf", withscores=True)
        (next_at, blocked), times = pipe.execute()
        return PaceState(float(next_at or 0), float(blocked or 0), tuple(score for _, score in times))

    def pace_record(self, installation: int, started: float, next_at: float, content: bool) -> None:
        ttl = int(CONTENT_WINDOW) + 60
        self._max_field(keys=[self._k("pace", installation)], args=["next_at", repr(next_at), ttl])
        if content:
            key = self._k("content", installation)
            pipe = self.redis.pipeline()
            pipe.zadd(key, {f"{started!r}:{uuid.uuid4().hex[:8]}": started})
            pipe.zremrangebyscore(key, "-inf", started - CONTENT_WINDOW)
            pipe.expire(key, ttl)
            pipe.execute()

    def pace_block(self, installation: int, until: float) -> None:
        self._max_field(keys=[self._k("pace", installation)], args=["blocked_until", repr(until), int(CONTENT_WINDOW)])
