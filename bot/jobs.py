"""The job queue: deliveries stored by the web process, run by workers.

huey is the queue; `make_huey` is the one switch between its backends: SQLite under
``FOOTGUN_DATA_DIR`` by default (one machine), Redis when ``REDIS_URL`` is set (web and
worker processes on several machines share it). The delivery log, the job journal,
the locks and the write pacing (`bot.store`) live in the same store.

A job is one webhook delivery. The web process writes it to the journal (the durable
record) and puts its id on huey's queue. A worker running it:

1. reads the entry (gone: a copy of a job already over, nothing to do);
2. takes the lock of the pull request it is about (another run holds it: the job goes
   back on the queue for a few seconds, without using up a try);
3. claims the entry with a lease that a heartbeat thread extends while it runs (and
   the pull request's lock with it); claimed by a live worker already: nothing to do;
4. dispatches the event to its handler (the `router` it was built with:
   `bot.routes.build_router`) and deletes the entry.

Failures: a 404 (App uninstalled, PR gone) ends the job quietly with a log line, a 403
(a missing permission) with a warning; a rate limit puts it back for as long as GitHub
asked, without using up a try; anything else is tried again after ``retry_delay``,
doubling, up to ``max_attempts`` tries in all, and the last failure is reported on the
check run (`bot.check_lifecycle`). A payload no try could read (stored by an older version,
or naming no pull request) ends the job at once; a failure before the job is claimed
(the store refusing its lock) counts as a try too, so no entry is run forever.

Worker processes beat into the store every few seconds; ``/healthz`` reads the last
beat (`Jobs.health`).

Workers die (kill -9, out of memory, a redeploy): huey has already deleted the task
then, but its journal entry stays. Each worker process, when it starts and every few
seconds after, puts back on the queue the entries whose lease ran out; at start it
also takes back at once the entries and locks of dead processes of its own machine.
Either way the job runs again ``write_settle`` seconds later (so a write the dead
worker had sent has landed and is seen), and the analysis finds what the dead run
already posted (`bot.posting`), so the pull request still gets one review. A run
counts as a try when it claims the entry, so a job that kills its worker every time
stops after ``max_attempts`` too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from huey.exceptions import RetryTask
from huey.storage import SqliteStorage

from .budget import Budget
from .errors import Forbidden, NotFound, RateLimited, Transient
from .events import Event, PayloadError, Router, pull_request_number
from .logs import for_delivery
from .settings import Settings
from .store import (
    JobEntry,
    NotQueued,
    RedisStore,
    SqliteStore,
    Store,
    close_sqlite_connection,
    is_dead_owner,
    owner_token,
    process_id,
    sqlite_connection,
    sqlite_write_lock,
)

if TYPE_CHECKING:
    from .fetch import BlobCache
    from .github import GitHubApp, Installation

log = logging.getLogger("footgun.jobs")

QUEUE_NAME = "footgun"
LOCK_WAIT = 1.0  # seconds before a job whose PR is busy is tried again
PENDING_HOLD = 300.0  # an entry queued but never claimed this long: its task was lost, queue it again
MAX_RETRY_DELAY = 15 * 60
SHUTDOWN_TIMEOUT = 20  # Heroku and Kubernetes send SIGKILL 30 s after SIGTERM
# Seconds without a worker's beat before /healthz says it is down: three beats at the
# longest interval (10 s, `Jobs._keep`), more at shorter ones (a busy machine is late).
HEARTBEAT_STALE = 30.0


class _SqliteStorage(SqliteStorage):
    """huey's SQLite storage on `bot.store`'s connections: one per thread, reused (no
    connect per request, no process-wide lock around one shared connection), in WAL
    mode with ``synchronous=NORMAL`` (huey's ``fsync`` option offers only FULL or
    OFF). A write made while this thread's connection is inside a transaction joins
    it, so `SqliteStore.accept` commits the delivery, its journal entry and the
    queued task at once."""

    @property
    def conn(self):
        return sqlite_connection(self.filename)

    def close(self) -> bool:
        close_sqlite_connection(self.filename)
        return True

    @contextlib.contextmanager
    def db(self, commit: bool = False, close: bool = False):
        conn = self.conn
        joined = conn.in_transaction  # the caller's transaction commits or rolls back
        own = commit and not joined
        with sqlite_write_lock(self.filename) if own else contextlib.nullcontext():
            cursor = conn.cursor()
            try:
                if own:
                    cursor.execute(self.begin_sql)
                yield cursor
            except Exception:
                if own:
                    conn.rollback()
                raise
            else:
                if own:
                    conn.commit()
            finally:
                cursor.close()
                if close and not joined:
                    self.close()


class _SqliteHuey(SqliteHuey):
    storage_class = _SqliteStorage


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey(QUEUE_NAME, url=settings.redis_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return _SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.db"), results=False)


def make_store(settings: Settings, huey: Huey) -> Store:
    if settings.redis_url:
        return RedisStore(huey.storage.conn)
    return SqliteStore(settings.data_dir / "queue.db")


class Runtime:
    """What a handler works with: the App's GitHub client, the blob cache, the budgets.
    The client and the cache are made when a handler first asks: the web process,
    which runs no handler, loads neither."""

    def __init__(self, settings: Settings, app: GitHubApp | None = None, store: Store | None = None) -> None:
        self.settings = settings
        self._app = app
        self._store = store
        self._lock = threading.Lock()
        self._cache: BlobCache | None = None

    @property
    def store(self) -> Store | None:
        return self._store

    @property
    def app(self) -> GitHubApp:
        with self._lock:
            if self._app is None:
                from .credentials import current_settings
                from .github import GitHubApp

                self._app = GitHubApp.from_settings(current_settings(self.settings), self._store)
            return self._app

    @property
    def cache(self) -> BlobCache:
        with self._lock:
            if self._cache is None:
                from .fetch import BlobCache

                self._cache = BlobCache(self.settings.data_dir / "blobs")
            return self._cache


@dataclass
class JobContext:
    """One run of one job, as its handler sees it: the runtime, which try this is, and
    the store's once-only markers."""

    runtime: Runtime
    last_attempt: bool = True  # a failure now is final
    attempt: int = 1
    first_run: bool = False  # no earlier run of this job started: it left nothing behind

    @property
    def app(self) -> GitHubApp:
        return self.runtime.app

    @property
    def cache(self) -> BlobCache:
        return self.runtime.cache

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def budget(self) -> Budget:
        return Budget.from_settings(self.runtime.settings)

    @contextlib.contextmanager
    def once(self, key: str) -> Iterator[bool]:
        """True the first time ``key`` is asked for (kept as long as delivery ids), for
        replies the App posts at most once whoever asks how often; forgotten again when
        the block fails, so a reply that could not be posted is posted by the retry."""
        store = self.runtime.store
        first = store is None or store.remember_delivery(f"once:{key}")
        try:
            yield first
        except BaseException:
            if first and store is not None:
                store.forget_delivery(f"once:{key}")
            raise

    def mark(self, key: str) -> None:
        """Set a marker ``key`` (kept as long as delivery ids)."""
        if self.runtime.store is not None:
            self.runtime.store.remember_delivery(f"mark:{key}")

    def marked(self, key: str) -> bool:
        """Whether `mark` set ``key``; asking sets nothing. Handlers of one pull
        request run one at a time (its lock), so nothing marks it in between."""
        store = self.runtime.store
        if store is None or store.remember_delivery(f"mark:{key}"):
            if store is not None:
                store.forget_delivery(f"mark:{key}")
            return False
        return True

    def queued(self) -> list[JobEntry]:
        """The jobs waiting in the journal (this one included)."""
        store = self.runtime.store
        return store.journal_entries() if store is not None else []

    def installation_id(self, event: Event) -> int:
        return event.installation_id or self.app.installation_for(event.repo)

    def github(self, event: Event) -> Installation:
        return self.app.installation(self.installation_id(event))


@dataclass
class _Running:
    owner: str
    lock_key: str | None
    lock_token: str | None


class Jobs:
    def __init__(
        self,
        settings: Settings,
        router: Router,
        huey: Huey | None = None,
        store: Store | None = None,
        runtime: Runtime | None = None,
        retry_delay: float | None = None,
        lock_wait: float = LOCK_WAIT,
        pending_hold: float = PENDING_HOLD,
    ) -> None:
        self.settings = settings
        self.router = router
        self.huey = huey or make_huey(settings)
        self.store = store or make_store(settings, self.huey)
        self._runtime = runtime
        self.retry_delay = settings.retry_delay if retry_delay is None else retry_delay
        self.lease = settings.job_lease
        self.max_attempts = settings.max_attempts
        self.settle = settings.write_settle
        self.lock_wait = lock_wait
        self.pending_hold = max(pending_hold, self.settle + self.lease)
        self.task = self.huey.task(context=True, name="footgun.delivery")(self._run)
        self._running: dict[str, _Running] = {}
        self._running_lock = threading.Lock()
        self._keeper: threading.Thread | None = None
        self._keeper_stop = threading.Event()
        self._recovering = False

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime(self.settings, store=self.store)
        return self._runtime

    # -- the web side ---------------------------------------------------------------------------
    def submit(self, event: Event) -> bool:
        """Store a delivery for the workers; False when it was received before.

        The delivery log, the journal entry and huey's task are written in one
        transaction on the SQLite store (`SqliteStore.accept`). The same body under
        another delivery id (a replay, or a copy sent by hand) is received before too:
        GitHub's redeliveries keep their id, and two real events never share a body."""
        body_key = f"body:{event.body_digest}" if event.body_digest else None
        if body_key and not self.store.remember_delivery(body_key):
            return False
        try:
            accepted = self.store.accept(
                event.delivery, event.to_job(), self.pending_hold, lambda: self.task(event.delivery)
            )
            if not accepted and body_key:
                self.store.forget_delivery(body_key)  # GitHub's redelivery of a stored one: as it was
            return accepted
        except NotQueued as exc:  # the journal has it: a worker queues it again later
            log.warning(
                "%s stored but not queued (%s): a worker will queue it within %.0f s",
                event.describe(),
                exc,
                self.pending_hold,
            )
            return True
        except BaseException:
            if body_key:  # not stored: GitHub's redelivery must not be taken for a copy
                self.store.forget_delivery(body_key)
            raise

    def enqueue(self, job_id: str, delay: float = 0.0) -> None:
        if delay > 0:
            self.task.schedule(args=(job_id,), delay=delay)
        else:
            self.task(job_id)

    # -- the worker side -------------------------------------------------------------------------
    def _run(self, job: str, task: Any = None) -> None:
        entry = self.store.journal_get(job)
        if entry is None:
            return  # a copy of a job that is over
        try:
            event = Event.from_job(entry.data)
            problem = self.router.malformed(event)
        except (KeyError, TypeError, AttributeError) as exc:
            event, problem = None, f"an unreadable job ({_brief(exc)})"
        if problem or event is None:  # stored before it was checked: no try could read it either
            log.error("job %s dropped: %s", job, problem)
            self.store.journal_done(job)
            return
        with for_delivery(event.delivery):
            self._take(job, event)

    def _take(self, job_id: str, event: Event) -> None:
        try:
            key = self.router.subject(event)
        except (PayloadError, KeyError, TypeError, AttributeError) as exc:  # the payload: no try could read it
            log.error("job %s dropped: its payload names no pull request it can be read for (%s)", job_id, _brief(exc))
            self.store.journal_done(job_id)
            return
        lock_key = f"pr:{key}" if key else None
        try:
            lock_token = self.store.acquire(lock_key, self.lease) if lock_key else None
        except Exception as exc:
            self._failed_unclaimed(job_id, event, exc)
            return
        if lock_key and lock_token is None:
            log.info("%s waits: another run holds %s", event.describe(), key)
            raise RetryTask(delay=self.lock_wait)
        owner = owner_token()
        try:
            entry = self.store.journal_claim(job_id, owner, self.lease)
            if entry is None:
                return  # a live worker runs it, or it is over
            self._start_keeper()
            with self._running_lock:
                self._running[job_id] = _Running(owner, lock_key, lock_token)
            try:
                self._attempt(job_id, owner, event, entry)
            finally:
                with self._running_lock:
                    self._running.pop(job_id, None)
        finally:
            if lock_key and lock_token:
                self.store.release(lock_key, lock_token)

    def _attempt(self, job_id: str, owner: str, event: Event, entry: JobEntry) -> None:
        attempt = entry.attempts
        started = time.monotonic()
        if attempt > self.max_attempts:  # the earlier runs died with their workers
            log.error("%s gave up: its worker stopped during each of %d tries", event.describe(), self.max_attempts)
            self._give_up(
                event,
                f"the worker running it stopped during each of {self.max_attempts} tries (killed or out of memory)",
            )
            self.store.journal_done(job_id)
            return
        last = attempt >= self.max_attempts
        outcome = "done"
        try:
            self.router.dispatch(
                event, JobContext(self.runtime, last_attempt=last, attempt=attempt, first_run=entry.claims == 1)
            )
        except NotFound as exc:
            outcome = "ended"
            log.info("%s ends: %s (App uninstalled, or the pull request is gone)", event.describe(), exc)
        except Forbidden as exc:  # trying again will not grant the permission
            outcome = "ended"
            log.warning("%s ends: %s (check the App's permissions on this installation)", event.describe(), exc)
        except PayloadError as exc:  # the same payload fails the same way every time
            outcome = "ended"
            log.error("%s ends: %s", event.describe(), exc)
        except RateLimited as exc:
            delay = max(1.0, exc.retry_after or 60.0)
            self.store.journal_release(job_id, owner, delay + self.pending_hold, count_attempt=False)
            log.info("%s rate-limited by GitHub: back on the queue for %.0f s", event.describe(), delay)
            raise RetryTask(delay=delay) from None
        except Exception as exc:
            if last:
                outcome = "failed"
                log.error("%s failed for good after %d tries: %s", event.describe(), attempt, _brief(exc))
            else:
                delay = min(self.retry_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY)
                if isinstance(exc, Transient) and exc.retry_after:
                    delay = max(delay, exc.retry_after)
                self.store.journal_release(job_id, owner, delay + self.pending_hold)
                log.warning(
                    "%s failed (try %d of %d), again in %.0f s: %s",
                    event.describe(),
                    attempt,
                    self.max_attempts,
                    delay,
                    _brief(exc),
                )
                raise RetryTask(delay=delay) from None
        self.store.journal_done(job_id)
        log.info("%s %s in %.2f s (try %d)", event.describe(), outcome, time.monotonic() - started, attempt)

    def _failed_unclaimed(self, job_id: str, event: Event, exc: Exception) -> None:
        """A failure before the job was claimed counts as a try all the same: without
        that, an entry failing there would be recovered and run again forever."""
        owner = owner_token()
        entry = self.store.journal_claim(job_id, owner, self.lease)
        if entry is None:
            return  # a live worker runs it, or it is over
        if entry.attempts >= self.max_attempts:
            log.error(
                "%s failed for good after %d tries, before it could start: %s",
                event.describe(),
                entry.attempts,
                _brief(exc),
            )
            self.store.journal_done(job_id)
            return
        delay = min(self.retry_delay * 2 ** (entry.attempts - 1), MAX_RETRY_DELAY)
        self.store.journal_release(job_id, owner, delay + self.pending_hold)
        log.warning(
            "%s failed before it started (try %d of %d), again in %.0f s: %s",
            event.describe(),
            entry.attempts,
            self.max_attempts,
            delay,
            _brief(exc),
        )
        raise RetryTask(delay=delay) from None

    def _give_up(self, event: Event, reason: str) -> None:
        number = pull_request_number(event)
        if number is None or not event.repo:
            return
        try:
            from .analysis import gave_up

            gave_up(JobContext(self.runtime), event, number, reason)
        except Exception as exc:
            log.warning("%s: could not report it on the check run: %s", event.describe(), _brief(exc))

    # -- leases, recovery --------------------------------------------------------------------------
    def _start_keeper(self) -> None:
        with self._running_lock:
            if self._keeper is not None and self._keeper.is_alive():
                return
            self._keeper_stop.clear()
            self._keeper = threading.Thread(target=self._keep, name="footgun-keeper", daemon=True)
            self._keeper.start()

    def _keep(self) -> None:
        beat = max(0.2, min(self.lease / 3, 10.0))
        scan_every = max(0.5, min(self.lease / 2, 15.0))
        next_scan = time.monotonic() + scan_every
        self._beat_alive()
        while not self._keeper_stop.wait(beat):
            try:
                self._beat_alive()
                self.heartbeat()
                if self._recovering and time.monotonic() >= next_scan:
                    next_scan = time.monotonic() + scan_every
                    self.recover()
            except Exception as exc:  # the store is briefly unreachable: try at the next beat
                log.warning("job keeper: %s", _brief(exc))

    def _beat_alive(self) -> None:
        """Tell ``/healthz`` that this worker process is alive (worker processes only)."""
        if self._recovering:
            try:
                self.store.beat(process_id())
            except Exception as exc:
                log.warning("job keeper: heartbeat: %s", _brief(exc))

    def health(self) -> dict[str, str]:
        """What serving needs that is down, by part (empty: all well): the store must
        answer, and a worker process must have said it is alive within
        `HEARTBEAT_STALE` seconds."""
        try:
            last = self.store.last_beat()
        except Exception as exc:
            return {"store": f"the queue's store does not answer: {_brief(exc)}"}
        if last is None:
            return {"worker": "no worker process has started (run the Procfile's worker)"}
        age = time.time() - last
        if age > HEARTBEAT_STALE:
            return {"worker": f"no worker heartbeat for {age:.0f} s"}
        return {}

    def heartbeat(self) -> None:
        """Extend the leases of the jobs running here, and their pull requests' locks."""
        with self._running_lock:
            running = list(self._running.items())
        for job_id, run in running:
            if not self.store.journal_renew(job_id, run.owner, self.lease):
                with self._running_lock:
                    still_ours = self._running.get(job_id) is run
                entry = self.store.journal_get(job_id) if still_ours else None
                if entry is not None and entry.owner != run.owner:  # not merely finished meanwhile
                    log.warning("job %s: its lease was lost (taken over after a stall)", job_id)
            if run.lock_key and run.lock_token:
                self.store.renew(run.lock_key, run.lock_token, self.lease)

    def recover(self, startup: bool = False) -> int:
        """Put back on the queue the jobs whose lease ran out (at start also those of
        dead processes of this machine, and free their locks); how many."""
        count = 0
        if startup:
            for key, token in self.store.locks():
                if is_dead_owner(token):
                    self.store.release(key, token)
                    log.info("freed %s, held by a worker that is gone", key)
            for entry in self.store.journal_entries():
                if (
                    entry.owner
                    and is_dead_owner(entry.owner)
                    and self.store.journal_steal(entry.id, entry.owner, self.settle + self.pending_hold)
                ):
                    self.enqueue(entry.id, delay=self.settle)
                    count += 1
                    log.info("job %s: its worker is gone, it runs again in %.0f s", entry.id, self.settle)
        for entry in self.store.journal_due(self.settle + self.pending_hold):
            self.enqueue(entry.id, delay=self.settle)
            count += 1
            log.info(
                "job %s: lease ran out (worker gone, or task lost), it runs again in %.0f s", entry.id, self.settle
            )
        return count

    def abandon(self) -> None:
        """At shutdown: hand the jobs still running here back to the queue now rather
        than when their lease runs out."""
        with self._running_lock:
            running = list(self._running.items())
        for job_id, run in running:
            if self.store.journal_steal(job_id, run.owner, self.settle + self.pending_hold):
                self.enqueue(job_id, delay=self.settle)
                log.info("job %s: interrupted by shutdown, it runs again in %.0f s", job_id, self.settle)
            if run.lock_key and run.lock_token:
                self.store.release(run.lock_key, run.lock_token)

    def start_recovery(self) -> None:
        """Recover at once, then keep recovering every few seconds (worker processes)."""
        try:
            self.recover(startup=True)
        except Exception as exc:
            log.warning("job recovery at start failed: %s", _brief(exc))
        self._recovering = True
        self._start_keeper()

    def stop_keeper(self) -> None:
        self._recovering = False
        self._keeper_stop.set()

    def consumer(self, workers: int | None = None, signals: bool = True) -> Consumer:
        """A huey consumer of this queue with worker threads. SIGTERM (what a platform
        sends before it stops a process) lets running jobs finish for up to
        `SHUTDOWN_TIMEOUT` seconds; SIGINT stops at once. Either way a job still running
        is handed back to the queue (`abandon`)."""
        consumer = _Consumer(
            self.huey,
            workers=workers or self.settings.workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            backoff=1.5,
            max_delay=0.5,
            scheduler_interval=1,
            graceful_signal="TERM",
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        consumer.signals = signals
        consumer.jobs = self
        return consumer


def _brief(exc: BaseException) -> str:
    text = str(exc)
    if (
        not isinstance(exc, Exception)
        or type(exc).__module__.startswith(("builtins", "huey", "requests", "github"))
        or not text
    ):
        text = f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
    return text if len(text) <= 500 else text[:500] + "..."


class _Consumer(Consumer):
    """huey's consumer, able to run beside a web server or inside tests, where the
    signal handlers are not ours to install; it recovers lost jobs while it runs."""

    signals = True
    jobs: Jobs | None = None

    def _set_signal_handlers(self) -> None:
        if self.signals and threading.current_thread() is threading.main_thread():
            super()._set_signal_handlers()

    def start(self) -> None:
        super().start()
        if self.jobs is not None:
            self.jobs.start_recovery()

    def stop(self, graceful: bool = False) -> None:
        super().stop(graceful=graceful)
        if self.jobs is not None:
            self.jobs.stop_keeper()
            self.jobs.abandon()
