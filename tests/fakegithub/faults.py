"""Fault injection, the request log and rate-limit accounting.

Faults mirror what GitHub answers when things go wrong
(https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api and
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):

* ``500``/``502``/``503``/``504`` server errors (a 502 comes back as an HTML page, as
  GitHub's front end sends it; the 504 carries GitHub's "couldn't respond in time" text);
* ``hang``: the request is held past the client's timeout, then processed anyway (as a
  real slow request would be: a timed-out POST may still have taken effect);
* ``secondary_rate_limit``: 403 (or 429) with ``retry-after`` and GitHub's "You have
  exceeded a secondary rate limit" message;
* ``rate_limit``: the primary limit, 403 with ``x-ratelimit-remaining: 0`` and
  ``x-ratelimit-reset``, "API rate limit exceeded for installation ID N.";
* ``too_many_requests``: 429 with ``retry-after``;
* ``expired_token``: the presented installation token is expired on the spot and the
  request answers 401 "Bad credentials" (so the client has to get a new one);
* ``not_found``: 404 "Not Found".

A rule fires ``before`` the request is handled (nothing happens) or ``after`` (the
request took effect but the client sees the error: the case that produces duplicates).
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
PRIMARY_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
TIMEOUT_MESSAGE = (
    "We couldn't respond to your request in time. Sorry about that. Please try resubmitting "
    "your request and contact us if the problem persists."
)
BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
    "<p>Unicorn! GitHub is having trouble serving your request.</p></body></html>"
)

KINDS = {"status", "hang", "secondary_rate_limit", "rate_limit", "too_many_requests", "expired_token", "not_found"}


@dataclass
class FaultRule:
    """Answer the next ``times`` requests matching ``method`` and ``path`` with a fault.

    ``path`` is a glob (``/repos/*/pulls/*/reviews``) matched against the request path
    without the query string, or a regular expression when it starts with ``^``.
    ``times=None`` fires forever."""

    method: str
    path: str
    kind: str
    status: int = 500
    times: int | None = 1
    retry_after: int | None = None
    delay: float = 30.0
    when: str = "before"
    body: Any = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        if self.path.startswith("^"):
            return re.search(self.path, path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def response(self, installation_id: int | None, now: float) -> tuple[int, dict[str, str], bytes]:
        """The (status, headers, body) this fault answers with."""
        headers = {"content-type": "application/json; charset=utf-8"}
        if self.kind == "status":
            status = self.status
            if self.body is not None:
                body = self.body
            elif status == 502:
                headers["content-type"] = "text/html"
                return status, headers, BAD_GATEWAY_HTML.encode()
            elif status == 504:
                body = {"message": TIMEOUT_MESSAGE}
            elif status == 503:
                body = {"message": "Service Unavailable"}
            else:
                body = {"message": "Server Error"}
        elif self.kind == "secondary_rate_limit":
            status = self.status if self.status in (403, 429) else 403
            headers["retry-after"] = str(self.retry_after if self.retry_after is not None else 1)
            body = {"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS}
        elif self.kind == "too_many_requests":
            status = 429
            headers["retry-after"] = str(self.retry_after if self.retry_after is not None else 1)
            body = {"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS}
        elif self.kind == "rate_limit":
            status = self.status if self.status in (403, 429) else 403
            reset = int(now) + (self.retry_after if self.retry_after is not None else 1)
            headers.update(
                {
                    "x-ratelimit-limit": "5000",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "5000",
                    "x-ratelimit-reset": str(reset),
                    "x-ratelimit-resource": "core",
                }
            )
            body = {
                "message": f"API rate limit exceeded for installation ID {installation_id or 0}.",
                "documentation_url": PRIMARY_DOCS,
            }
        elif self.kind == "expired_token":
            status = 401
            body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        elif self.kind == "not_found":
            status = 404
            body = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        else:  # pragma: no cover - guarded in add()
            raise ValueError(self.kind)
        if isinstance(body, dict):
            body = {**body, "status": str(status)}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return status, headers, data


class FaultInjector:
    """The queue of fault rules; the first live matching rule fires."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self.release = threading.Event()

    def add(
        self,
        method: str,
        path: str,
        kind: str = "status",
        *,
        status: int = 500,
        times: int | None = 1,
        retry_after: int | None = None,
        delay: float = 30.0,
        when: str = "before",
        body: Any = None,
    ) -> FaultRule:
        """Add a rule (see :class:`FaultRule`); returns it (``rule.hits`` counts firings)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        rule = FaultRule(method.upper(), path, kind, status, times, retry_after, delay, when, body)
        with self._lock:
            self._rules.append(rule)
        return rule

    # Convenience wrappers -------------------------------------------------------
    def server_error(
        self, method: str, path: str, status: int = 500, times: int | None = 1, when: str = "before"
    ) -> FaultRule:
        return self.add(method, path, "status", status=status, times=times, when=when)

    def hang(self, method: str, path: str, seconds: float = 30.0, times: int | None = 1) -> FaultRule:
        return self.add(method, path, "hang", delay=seconds, times=times)

    def secondary_rate_limit(
        self, method: str, path: str, retry_after: int = 1, times: int | None = 1, status: int = 403
    ) -> FaultRule:
        return self.add(method, path, "secondary_rate_limit", status=status, retry_after=retry_after, times=times)

    def rate_limit(self, method: str, path: str, reset_in: int = 1, times: int | None = 1) -> FaultRule:
        return self.add(method, path, "rate_limit", status=403, retry_after=reset_in, times=times)

    def too_many_requests(self, method: str, path: str, retry_after: int = 1, times: int | None = 1) -> FaultRule:
        return self.add(method, path, "too_many_requests", retry_after=retry_after, times=times)

    def expired_token(self, method: str, path: str, times: int | None = 1) -> FaultRule:
        return self.add(method, path, "expired_token", times=times)

    def not_found(self, method: str, path: str, times: int | None = 1) -> FaultRule:
        return self.add(method, path, "not_found", times=times)

    # Matching -------------------------------------------------------------------
    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one firing of the first live rule matching this request."""
        with self._lock:
            for rule in self._rules:
                if not rule.exhausted and rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def release_hangs(self) -> None:
        """Let every held (``hang``) request go on at once (used at server shutdown)."""
        self.release.set()


@dataclass
class RequestRecord:
    """One request the fake answered."""

    method: str
    path: str
    query: str
    status: int
    installation_id: int | None = None
    fault: str | None = None
    started: float = 0.0
    duration: float = 0.0
    message: str | None = None  # a 4xx/5xx answer's message (and "errors"), for debugging
    graphql: dict[str, Any] | None = None  # {"operation": "query"|"mutation", "fields": [...]}


class RequestLog:
    """Thread-safe log of every request, for tests and API-budget benchmarks."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.all())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def all(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def filter(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[RequestRecord]:
        """Records matching ``method`` (exact), ``path`` (glob, or regex if it starts with
        ``^``) and ``status``."""
        out = []
        for r in self.all():
            if method and r.method != method.upper():
                continue
            if path and not (re.search(path, r.path) if path.startswith("^") else fnmatch.fnmatchcase(r.path, path)):
                continue
            if status is not None and r.status != status:
                continue
            out.append(r)
        return out

    def count(self, method: str | None = None, path: str | None = None, status: int | None = None) -> int:
        return len(self.filter(method, path, status))

    def summary(self) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` for every request, in order."""
        return [(r.method, r.path, r.status) for r in self.all()]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


@dataclass
class RateBucket:
    limit: int
    used: int = 0
    reset: float = 0.0


@dataclass
class RateLimiter:
    """Primary rate limits per installation (or App) and resource, hourly windows, like
    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api .
    Installation tokens get 5,000 requests an hour by default."""

    limits: dict[str, int] = field(default_factory=lambda: {"core": 5000, "graphql": 5000})
    window: float = 3600.0
    _buckets: dict[tuple[str, str], RateBucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bucket(self, key: str, resource: str, now: float) -> RateBucket:
        with self._lock:
            b = self._buckets.get((key, resource))
            if b is None or now >= b.reset:
                b = RateBucket(self.limits.get(resource, 5000), 0, now + self.window)
                self._buckets[(key, resource)] = b
            return b

    def consume(self, key: str, resource: str, now: float, points: int = 1) -> tuple[bool, dict[str, str]]:
        """Count a request; return (allowed, rate-limit headers)."""
        b = self.bucket(key, resource, now)
        with self._lock:
            allowed = b.used < b.limit
            if allowed:
                b.used += points
            headers = {
                "x-ratelimit-limit": str(b.limit),
                "x-ratelimit-remaining": str(max(0, b.limit - b.used)),
                "x-ratelimit-used": str(b.used),
                "x-ratelimit-reset": str(int(b.reset)),
                "x-ratelimit-resource": resource,
            }
        return allowed, headers

    def set_remaining(self, key: str, resource: str, remaining: int, now: float | None = None) -> None:
        """Force the remaining budget of a bucket (e.g. to test running out)."""
        b = self.bucket(key, resource, now if now is not None else time.time())
        with self._lock:
            b.used = max(0, b.limit - remaining)
