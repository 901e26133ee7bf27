"""Writes paced the way GitHub asks, per installation, whatever the number of pull
requests in flight.

GitHub's REST guidance (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api):
"make requests serially instead of concurrently", and for ``POST``, ``PATCH``, ``PUT``
or ``DELETE`` requests "wait at least one second between each request"; its secondary
limits (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
"no more than 80 content-generating requests per minute and no more than 500
content-generating requests per hour"; and after a rate limit, "if the ``retry-after``
response header is present, you should not retry your request until after that many
seconds has elapsed", or until ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0.

`WritePacer.write` is held around every mutation of an installation:

1. the installation's write lock (a lock in the shared store: one writer at a time
   across the threads of this process and, with Redis, across processes and machines);
2. a wait until the previous write ended ``interval`` seconds ago, until the end of any
   rate-limit block, and, for a content-creating request, until the per-minute and
   per-hour windows have room;
3. the request, then its end recorded (content) and the next slot.

A wait longer than ``max_wait`` raises `PaceWait` instead of holding a worker: the job
goes back on the queue for that long. Reads are not serialised, but wait out a
rate-limit block like writes (`wait_if_blocked`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from .store import PaceState, owner_token

MINUTE, HOUR = 60.0, 3600.0
WINDOW_MARGIN = 0.5  # seconds added to a window wait: GitHub's clock and ours differ a little


class PaceWait(Exception):
    """The installation may not write (or read) for ``seconds`` more."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(f"{reason}: wait {seconds:.0f} s")
        self.seconds = seconds
        self.reason = reason


class MemoryPaceState:
    """Pacing state of one process, for a client used without a shared store."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[str, float]] = {}
        self._pace: dict[int, PaceState] = {}

    def acquire(self, key: str, ttl: float) -> str | None:
        with self._lock:
            held = self._locks.get(key)
            now = self.clock()
            if held and held[1] >= now:
                return None
            token = owner_token()
            self._locks[key] = (token, now + ttl)
            return token

    def release(self, key: str, token: str) -> None:
        with self._lock:
            if self._locks.get(key, (None,))[0] == token:
                del self._locks[key]

    def pace_state(self, installation: int) -> PaceState:
        with self._lock:
            state = self._pace.get(installation) or PaceState()
            cutoff = self.clock() - HOUR
            return PaceState(state.next_at, state.blocked_until, tuple(t for t in state.content if t > cutoff))

    def pace_record(self, installation: int, started: float, next_at: float, content: bool) -> None:
        with self._lock:
            state = self._pace.setdefault(installation, PaceState())
            state.next_at = max(state.next_at, next_at)
            if content:
                state.content = tuple(t for t in state.content if t > started - HOUR) + (started,)

    def pace_block(self, installation: int, until: float) -> None:
        with self._lock:
            state = self._pace.setdefault(installation, PaceState())
            state.blocked_until = max(state.blocked_until, until)


class WritePacer:
    def __init__(
        self,
        state,
        interval: float = 1.0,
        per_minute: int | None = 80,
        per_hour: int | None = 500,
        max_wait: float = 60.0,
        request_time: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poll: float = 0.01,
    ) -> None:
        self.state = state
        self.interval = interval
        self.per_minute = per_minute or None
        self.per_hour = per_hour or None
        self.max_wait = max_wait
        # A holder never keeps the lock longer than its wait plus its request; a dead one
        # frees it after this.
        self.lock_ttl = max_wait + request_time + interval + 5
        self.clock = clock
        self.sleep = sleep
        self.poll = poll
        self._local: dict[int, threading.Lock] = {}
        self._local_guard = threading.Lock()

    def _thread_lock(self, installation: int) -> threading.Lock:
        with self._local_guard:
            return self._local.setdefault(installation, threading.Lock())

    @contextlib.contextmanager
    def write(self, installation: int, content: bool = True) -> Iterator[None]:
        """Hold the installation's turn to write (see the module's docstring)."""
        # Threads of this process queue on a local lock, so only one of them polls the
        # shared one.
        with self._thread_lock(installation):
            key = f"write:{installation}"
            token = self._acquire(key)
            started: float | None = None
            try:
                wait, reason = self._wait(installation, content)
                if wait > self.max_wait:
                    raise PaceWait(wait, reason)
                if wait > 0:
                    self.sleep(wait)
                started = self.clock()
                yield
            finally:
                if started is not None:
                    # Counted when it ended: GitHub saw it somewhere between start and end,
                    # so the window is never taken to free up early.
                    ended = self.clock()
                    self.state.pace_record(installation, ended, ended + self.interval, content)
                self.state.release(key, token)

    def _acquire(self, key: str) -> str:
        delay = self.poll
        while True:
            token = self.state.acquire(key, self.lock_ttl)
            if token is not None:
                return token
            self.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def _wait(self, installation: int, content: bool) -> tuple[float, str]:
        state = self.state.pace_state(installation)
        now = self.clock()
        until, reason = state.next_at, "writes are paced"
        if state.blocked_until > until:
            until, reason = state.blocked_until, "GitHub asked to wait (rate limit)"
        if content:
            for limit, window in ((self.per_minute, MINUTE), (self.per_hour, HOUR)):
                recent = [t for t in state.content if t > now - window]
                if limit and len(recent) >= limit:
                    free_at = recent[-limit] + window + WINDOW_MARGIN
                    if free_at > until:
                        until = free_at
                        reason = f"GitHub allows {limit} content-creating requests per {window / 60:.0f} minutes"
        return max(0.0, until - now), reason

    def block(self, installation: int, seconds: float) -> None:
        """GitHub asked this installation to wait ``seconds`` before its next request."""
        self.state.pace_block(installation, self.clock() + seconds)

    def wait_if_blocked(self, installation: int) -> None:
        """Before a read: sleep out a rate-limit block (`PaceWait` if it is long)."""
        wait = self.state.pace_state(installation).blocked_until - self.clock()
        if wait > self.max_wait:
            raise PaceWait(wait, "GitHub asked to wait (rate limit)")
        if wait > 0:
            self.sleep(wait)
