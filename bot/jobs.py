"""The job queue: deliveries stored by the web process, run by workers.

huey is the queue; `make_huey` is the one switch between its backends: SQLite under
``FOOTGUN_DATA_DIR`` by default (one machine), Redis when ``REDIS_URL`` is set (web and
worker processes on several machines share it). The delivery log and the per-PR
locks (`bot.store`) live in the same store.

A job is one webhook delivery. Running it:

1. takes the lock of the pull request it is about (another run holds it: the job
   goes back on the queue for a few seconds, without using up a try);
2. dispatches the event to its handler (`bot.events.router`);
3. on failure, huey tries again, at most `RETRIES` more times, waiting 10 s, 20 s,
   40 s...; a 404 (App uninstalled, PR gone) ends the job quietly, a 403 (a missing
   permission) with a warning; the last failure is reported on the check run.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from huey.exceptions import RetryTask

from .events import Event, router
from .fetch import BlobCache
from .github import Forbidden, GitHubApp, Installation, NotFound
from .logs import for_delivery
from .settings import Settings
from .store import LockBusy, RedisStore, SqliteStore, Store, locked

from . import check_run, commands, pull_request  # noqa: F401  (register their handlers)

log = logging.getLogger("footgun.jobs")

QUEUE_NAME = "footgun"
RETRIES = 5
RETRY_DELAY = 10
LOCK_WAIT = 3  # seconds before a job whose PR is busy is tried again


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey(QUEUE_NAME, url=settings.redis_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.db"), results=False)


def make_store(settings: Settings, huey: Huey) -> Store:
    if settings.redis_url:
        return RedisStore(huey.storage.conn)
    return SqliteStore(settings.data_dir / "queue.db")


class Runtime:
    """What a handler works with: the App's GitHub client, the blob cache."""

    def __init__(self, settings: Settings, app: GitHubApp | None = None) -> None:
        self.settings = settings
        self._app = app
        self._lock = threading.Lock()
        self.cache = BlobCache(settings.data_dir / "blobs")

    @property
    def app(self) -> GitHubApp:
        with self._lock:
            if self._app is None:
                app_id, key = self.settings.require_app_credentials()
                self._app = GitHubApp(app_id, key, self.settings.api_url)
            return self._app


@dataclass
class Context:
    """One run of one job, as its handler sees it."""

    runtime: Runtime
    last_attempt: bool = True

    @property
    def app(self) -> GitHubApp:
        return self.runtime.app

    @property
    def cache(self) -> BlobCache:
        return self.runtime.cache

    def installation_id(self, event: Event) -> int:
        return event.installation_id or self.app.installation_for(event.repo)

    def github(self, event: Event) -> Installation:
        return self.app.installation(self.installation_id(event))


class Jobs:
    def __init__(self, settings: Settings, huey: Huey | None = None, store: Store | None = None,
                 runtime: Runtime | None = None, retry_delay: float = RETRY_DELAY) -> None:
        self.settings = settings
        self.huey = huey or make_huey(settings)
        self.store = store or make_store(settings, self.huey)
        self._runtime = runtime
        self.task = self.huey.task(retries=RETRIES, retry_delay=retry_delay, retry_backoff=2, context=True,
                                   name="footgun.delivery")(self._run)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime(self.settings)
        return self._runtime

    def submit(self, event: Event) -> bool:
        """Store a delivery for the workers; False when it was received before."""
        if not self.store.remember_delivery(event.delivery):
            return False
        try:
            self.task(event.to_job())
        except BaseException:
            self.store.forget_delivery(event.delivery)  # let GitHub's redelivery through
            raise
        return True

    def _run(self, job: dict[str, Any], task: Any = None) -> None:
        event = Event.from_job(job)
        with for_delivery(event.delivery):
            self._handle(event, last_attempt=task is None or not task.retries)

    def _handle(self, event: Event, last_attempt: bool) -> None:
        key = router.subject(event)
        try:
            with locked(self.store, f"pr:{key}") if key else contextlib.nullcontext():
                router.dispatch(event, Context(self.runtime, last_attempt))
        except LockBusy:
            log.info("%s waits: another run holds %s", event.describe(), key)
            raise RetryTask(delay=LOCK_WAIT) from None
        except NotFound as exc:
            log.info("%s ends: %s (App uninstalled, or the pull request is gone)", event.describe(), exc)
        except Forbidden as exc:  # trying again will not grant the permission
            log.warning("%s ends: %s (check the App's permissions on this installation)", event.describe(), exc)
        except Exception as exc:
            log.warning("%s failed%s: %s", event.describe(), "" if last_attempt else ", will retry", exc)
            raise

    def consumer(self, workers: int | None = None, signals: bool = True) -> Consumer:
        """A huey consumer of this queue with worker threads."""
        consumer = _Consumer(self.huey, workers=workers or self.settings.workers, worker_type="thread",
                             periodic=False, initial_delay=0.05, backoff=1.5, max_delay=1.0,
                             scheduler_interval=1)
        consumer.signals = signals
        return consumer


class _Consumer(Consumer):
    """huey's consumer, able to run beside a web server or inside tests, where the
    signal handlers are not ours to install."""

    signals = True

    def _set_signal_handlers(self) -> None:
        if self.signals and threading.current_thread() is threading.main_thread():
            super()._set_signal_handlers()
