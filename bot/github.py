"""Every call footgun makes to GitHub goes through here.

* Authentication: the App signs a JWT (RS256, PyJWT via PyGithub's ``Auth.AppAuth``);
  each installation gets an ``AppInstallationAuth`` that PyGithub keeps and refreshes
  20 seconds before its hour is up. One is cached per installation for the life of the
  process; a 401 "Bad credentials" (token revoked or expired early) drops it and tries
  once more with a new one.
* Reads retry in place (PyGithub's ``GithubRetry``): 5xx and timeouts with exponential
  backoff, 403/429 rate limits after ``retry-after`` or ``x-ratelimit-reset`` (at least a
  minute for a secondary limit without either), GraphQL included. A rate limit also
  blocks the installation's other requests, in every worker (`bot.pacing`); a wait
  longer than ``rate_limit_max_wait`` becomes `RateLimited`, and the job goes back on the
  queue for that long instead of holding a worker.
* Writes go one at a time per installation, ``write_interval`` apart, within GitHub's
  content-creation limits (`bot.pacing.WritePacer`). A write refused by a rate limit
  (GitHub did nothing) waits and is sent again. A ``POST`` is never retried blindly on
  a 5xx or a timeout: it may have taken effect, so the error says so
  (``Transient.maybe_applied``) and the caller looks for what it created first
  (`bot.analysis.post_review`). ``PATCH``/``PUT``/``DELETE`` are idempotent and retried.
* Pagination: 100 a page (GitHub's maximum), following the ``Link`` header.
* Errors: GitHub's exceptions become `NotFound` (end quietly), `Unprocessable` (422),
  `Forbidden` (a permission the App lacks), `RateLimited` or `Transient` (try again
  later).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubIntegration, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
)
from urllib3.util.retry import Retry

from .errors import Forbidden, GitHubError, NotFound, NotYetThere, RateLimited, Transient, Unprocessable
from .pacing import MemoryPaceState, PaceWait, WritePacer

log = logging.getLogger("footgun.github")

PER_PAGE = 100
PR_FILES_MAX = 3000  # "Responses include a maximum of 3000 files"
# A comparison lists "up to 300 changed files" on its first page.
COMPARE_FILES_MAX = 300
MERGE_BASES_KEPT = 1024
USER_AGENT = "footgun-app"
TIMEOUT = 20
# GitHub asks integrations to wait a second between mutative requests (`bot.pacing`).
WRITE_INTERVAL = 1.0
# Reads are GET, and POST for GraphQL queries: both safe to send again.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST"})
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})  # idempotent; a POST is not
SECONDARY_WAIT = 60.0  # "Otherwise, wait for at least one minute before retrying"
WRITE_TRIES = 4  # sends of one write refused by rate limits before the job is put back
WRITE_RETRIES = 2  # in-place retries of an idempotent write (PATCH...) on a 5xx or a timeout
ROLES = ("admin", "maintain", "write", "triage", "read", "none")

T = TypeVar("T")


def translate(exc: Exception, write: bool = False) -> GitHubError:
    """GitHub's error as one of ours. ``write``: the failed request was a write (a
    timeout or a 5xx may then have created something)."""
    if isinstance(exc, GitHubError):
        return exc
    if isinstance(exc, PaceWait):
        return RateLimited(str(exc), None, None, exc.seconds)
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = data.get("message") or exc.message or str(exc.status)
        errors = data.get("errors")
        if errors:
            message = f"{message}: {_error_text(errors)}"
        if exc.status in (404, 410):
            return NotFound(message, exc.status, exc.data)
        if exc.status == 422:
            return Unprocessable(message, exc.status, exc.data)
        headers = exc.headers or {}
        if is_rate_limited(exc.status, headers, message) or isinstance(exc, RateLimitExceededException):
            wait = exc.wait if isinstance(exc, RateLimitExceededExceedsMaxWait) else None
            return RateLimited(message, exc.status, exc.data, wait or _retry_after(headers) or SECONDARY_WAIT)
        if exc.status == 403:
            return Forbidden(message, exc.status, exc.data)
        if exc.status == 400 and isinstance(exc.data, dict) and exc.data.get("errors"):
            return GitHubError(message, exc.status, exc.data)  # a GraphQL error: our mistake
        if exc.status == 401:
            return Transient(message, exc.status, exc.data)
        if exc.status >= 500 or exc.status == 408:
            return Transient(message, exc.status, exc.data, maybe_applied=write)
        return GitHubError(message, exc.status, exc.data)
    if isinstance(exc, requests.RequestException):
        # Only a connection never made is known to have done nothing.
        applied = write and not isinstance(exc, requests.ConnectTimeout)
        kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
        return Transient(f"a request to GitHub {kind} ({exc.__class__.__name__})", maybe_applied=applied)
    return GitHubError(str(exc))


def is_rate_limited(status: int | None, headers: Any, message: str | None = None) -> bool:
    """GitHub's signs of a rate limit: 403/429 with ``retry-after``, with
    ``x-ratelimit-remaining: 0``, or with a rate-limit message."""
    if status not in (403, 429):
        return False
    lowered = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    if "retry-after" in lowered or lowered.get("x-ratelimit-remaining") == "0":
        return True
    text = (message or "").lower()
    return "rate limit" in text or status == 429


def _error_text(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(e.get("message", str(e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(errors)


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait, from ``retry-after`` or (remaining 0) ``x-ratelimit-reset``."""
    lowered = {str(k).lower(): v for k, v in dict(headers or {}).items()}
    if "retry-after" in lowered:
        try:
            return float(lowered["retry-after"])
        except ValueError:
            return None
    if lowered.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in lowered:
        try:
            return max(1.0, float(lowered["x-ratelimit-reset"]) - time.time() + 1)
        except ValueError:
            return None
    return None


def _lagging(exc: GithubException) -> Exception:
    """A 404 on a git object read as `NotYetThere`; any other error as it is."""
    if exc.status == 404:
        found = translate(exc)
        return NotYetThere(str(found), 404, exc.data)
    return exc


def _api(method: Callable[..., T]) -> Callable[..., T]:
    """Translate errors, and renew the installation token once on a 401."""

    @functools.wraps(method)
    def wrapper(self: Installation, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except BadCredentialsException:
            log.info("installation %s: token refused (expired or revoked), getting a new one", self.id)
            self.renew()
        except (GithubException, requests.RequestException, PaceWait) as exc:
            raise translate(exc) from exc
        try:
            return method(self, *args, **kwargs)
        except (GithubException, requests.RequestException, PaceWait) as exc:
            raise translate(exc) from exc

    return wrapper


# --- data ------------------------------------------------------------------------------


@dataclass
class PullInfo:
    repo: str  # the base repository, through which everything is read (fork PRs too)
    number: int
    state: str
    draft: bool
    head_sha: str
    base_sha: str
    base_ref: str
    head_repo: str | None
    author: str
    changed_files: int | None = None  # as GitHub counts them; None when not told


def pull_info(repo: str, data: dict[str, Any]) -> PullInfo:
    """A pull request, from the REST API's or a webhook's ``pull_request`` object."""
    head_repo = (data.get("head") or {}).get("repo") or {}
    changed = data.get("changed_files")
    return PullInfo(
        repo=repo,
        number=data["number"],
        state=data["state"],
        draft=bool(data.get("draft")),
        head_sha=data["head"]["sha"],
        base_sha=data["base"]["sha"],
        base_ref=data["base"]["ref"],
        head_repo=head_repo.get("full_name"),
        author=(data.get("user") or {}).get("login", ""),
        changed_files=changed if isinstance(changed, int) and not isinstance(changed, bool) else None,
    )


@dataclass
class TreeEntry:
    path: str
    sha: str
    size: int | None


@dataclass
class Thread:
    id: str
    resolved: bool
    comments: list[tuple[str, str]] = field(default_factory=list)  # (author login, body)


@dataclass
class ReviewState:
    """A pull request as the App reads it right before posting: its head now, and what
    was said on it (reviews, and review threads with their comments)."""

    head_sha: str
    state: str
    reviews: list[Posted] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)


@dataclass
class Posted:
    """A review or comment already on the pull request."""

    id: int
    author: str
    body: str
    commit_id: str | None = None
    review_id: int | None = None  # a review comment's review


# --- clients -----------------------------------------------------------------------------


class _ReadRetry(GithubRetry):
    """PyGithub's retry for reads, which also tells the pacer when GitHub asks the
    installation to wait, so its other requests (other threads, other workers) wait too."""

    def __init__(self, on_rate_limit: Callable[[float], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_rate_limit = on_rate_limit

    def new(self, **kw: Any) -> _ReadRetry:
        retry = super().new(**kw)
        retry.on_rate_limit = self.on_rate_limit
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None and is_rate_limited(response.status, response.headers):
            wait = _retry_after(response.headers)
            if wait:
                if self.on_rate_limit is not None:
                    self.on_rate_limit(wait)
                if self.max_rate_limit_wait is not None and wait > self.max_rate_limit_wait:
                    # urllib3 would sleep out any retry-after: too long to hold a worker.
                    raise RateLimitExceededExceedsMaxWait(
                        response.status, _json_of(self, response, url), dict(response.headers), wait=wait
                    )
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _json_of(retry: GithubRetry, response: Any, url: str | None) -> Any:
    try:
        return json.loads(retry.get_content(response, url or ""))
    except Exception:  # noqa: BLE001 - only for the error's message
        return {"message": f"rate limited ({response.status})"}


def _read_retry(
    total: int, backoff: float, max_wait: float, on_rate_limit: Callable[[float], None] | None = None
) -> GithubRetry:
    return _ReadRetry(
        on_rate_limit=on_rate_limit,
        total=total,
        backoff_factor=backoff,
        allowed_methods=READ_METHODS,
        secondary_rate_wait=SECONDARY_WAIT,
        max_rate_limit_wait=max_wait,
        raise_on_status=False,
    )


def _write_retry(total: int, backoff: float) -> Retry:
    """Idempotent writes on 5xx and timeouts; never a POST, never a rate limit (the
    pacer waits those out, for every worker)."""
    return Retry(
        total=total,
        backoff_factor=backoff,
        allowed_methods=WRITE_METHODS,
        status_forcelist=list(range(500, 600)),
        respect_retry_after_header=False,
        raise_on_status=False,
    )


class GitHubApp:
    """The App: its JWT client, and one cached `Installation` client per installation."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        api_url: str = "https://api.github.com",
        retries: int = 5,
        timeout: float = TIMEOUT,
        write_interval: float = WRITE_INTERVAL,
        *,
        backoff: float = 0.5,
        pacer: WritePacer | None = None,
        max_wait: float = 60.0,
        content_per_minute: int | None = 80,
        content_per_hour: int | None = 500,
    ) -> None:
        self.app_id = app_id
        self.api_url = api_url.rstrip("/")
        self.retries = retries
        self.timeout = timeout = max(1, int(math.ceil(timeout)))  # PyGithub takes whole seconds
        self.backoff = backoff
        self.max_wait = max_wait
        self.write_interval = write_interval
        self.pacer = pacer or WritePacer(
            MemoryPaceState(),
            interval=write_interval,
            per_minute=content_per_minute,
            per_hour=content_per_hour,
            max_wait=max_wait,
            request_time=timeout * (WRITE_RETRIES + 1),
        )
        self.auth = Auth.AppAuth(app_id, private_key)
        self.integration = GithubIntegration(
            auth=self.auth,
            base_url=self.api_url,
            timeout=timeout,
            retry=_read_retry(retries, backoff, max_wait),
            user_agent=USER_AGENT,
        )
        self._installations: dict[int, Installation] = {}
        self._lock = threading.Lock()
        self._slug: str | None = None

    @classmethod
    def from_settings(cls, settings: Any, state: Any = None) -> GitHubApp:
        """The App as configured, pacing its writes through ``state`` (the shared
        store: every worker of every process then takes turns)."""
        app_id, key = settings.require_app_credentials()
        pacer = WritePacer(
            state if state is not None else MemoryPaceState(),
            interval=settings.write_interval,
            per_minute=settings.content_per_minute,
            per_hour=settings.content_per_hour,
            max_wait=settings.rate_limit_max_wait,
            request_time=settings.github_timeout * (WRITE_RETRIES + 1),
        )
        return cls(
            app_id,
            key,
            settings.api_url,
            retries=settings.github_retries,
            timeout=settings.github_timeout,
            write_interval=settings.write_interval,
            backoff=settings.github_backoff,
            pacer=pacer,
            max_wait=settings.rate_limit_max_wait,
        )

    @property
    def slug(self) -> str:
        """The App's slug (``GET /app``, once, unless a check run's answer told it)."""
        if self._slug is None:
            try:
                self._slug = self.integration.get_app().slug
            except (GithubException, requests.RequestException) as exc:
                raise translate(exc) from exc
        return self._slug

    def learn_slug(self, app: dict[str, Any] | None) -> None:
        """Take the slug from an object GitHub answered with (a check run's ``app``), so
        that ``GET /app`` is not needed."""
        if self._slug is None and isinstance(app, dict) and app.get("id") == self.app_id and app.get("slug"):
            self._slug = str(app["slug"])

    def is_self(self, login: str | None) -> bool:
        """Whether a login (REST ``name[bot]`` or GraphQL ``name``) is this App's bot."""
        if not login:
            return False
        login = login.lower()
        return login.removesuffix("[bot]") == self.slug.lower()

    def installation(self, installation_id: int) -> Installation:
        with self._lock:
            client = self._installations.get(installation_id)
            if client is None:
                client = self._installations[installation_id] = Installation(self, installation_id)
            return client

    def installation_for(self, repo: str) -> int:
        owner, name = repo.split("/", 1)
        try:
            return self.integration.get_repo_installation(owner, name).id
        except (GithubException, requests.RequestException) as exc:
            raise translate(exc) from exc

    def github(self, auth: Auth.Auth, retry: Retry) -> Github:
        # Pacing is the pacer's, across workers; PyGithub's own is per client.
        return Github(
            auth=auth,
            base_url=self.api_url,
            timeout=self.timeout,
            per_page=PER_PAGE,
            lazy=True,
            retry=retry,
            user_agent=USER_AGENT,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )


class Installation:
    """GitHub as one installation of the App sees it."""

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self.app = app
        self.id = installation_id
        self._merge_bases: dict[tuple[str, str, str], str] = {}
        self.renew()

    def renew(self) -> None:
        """A new token (and clients) for the next call."""
        app = self.app
        auth = app.auth.get_installation_auth(self.id, None, app.integration.requester)
        self.auth = auth
        self.reads = app.github(auth, _read_retry(app.retries, app.backoff, app.max_wait, self._rate_limited))
        self.writes = app.github(auth, _write_retry(min(app.retries, WRITE_RETRIES), app.backoff))

    def _rate_limited(self, seconds: float) -> None:
        log.info("installation %s: GitHub asked to wait %.0f s (rate limit)", self.id, seconds)
        self.app.pacer.block(self.id, seconds)

    # -- helpers ----------------------------------------------------------------------------
    def _request(
        self,
        verb: str,
        path: str,
        input: Any = None,
        params: dict | None = None,
        write: bool = False,
        content: bool | None = None,
    ) -> tuple[dict, Any]:
        if write:
            return self._write(
                lambda: self.writes.requester.requestJsonAndCheck(verb, path, parameters=params, input=input),
                content=(verb == "POST") if content is None else content,
            )
        self.app.pacer.wait_if_blocked(self.id)
        return self.reads.requester.requestJsonAndCheck(verb, path, parameters=params, input=input)

    def _write(self, send: Callable[[], T], content: bool) -> T:
        """One write in the installation's turn; sent again while GitHub refuses it
        with a rate limit (it did nothing then), waiting as asked."""
        for attempt in range(1, WRITE_TRIES + 1):
            try:
                with self.app.pacer.write(self.id, content=content):
                    return send()
            except BadCredentialsException:
                raise  # `_api` renews the token and sends it once more
            except GithubException as exc:
                error = translate(exc, write=True)
                if not isinstance(error, RateLimited) or attempt == WRITE_TRIES:
                    raise error from exc
                log.info(
                    "installation %s: write refused by a rate limit, again in %.0f s",
                    self.id,
                    error.retry_after or SECONDARY_WAIT,
                )
                self.app.pacer.block(self.id, error.retry_after or SECONDARY_WAIT)
            except requests.RequestException as exc:
                raise translate(exc, write=True) from exc
        raise AssertionError("unreachable")

    def _pages(
        self, path: str, params: dict | None = None, limit: int | None = None, item_key: str | None = None
    ) -> Iterator[Any]:
        """The items of a REST list, 100 a page, following ``Link: rel="next"``."""
        url: str | None = path
        query: dict | None = {**(params or {}), "per_page": PER_PAGE}
        seen = 0
        while url:
            headers, data = self._request("GET", url, params=query)
            items = data.get(item_key, []) if item_key else data
            for item in items:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            url, query = _next_link(headers), None

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        self.app.pacer.wait_if_blocked(self.id)
        _, data = self.reads.requester.graphql_query(query, variables)
        return data.get("data") or {}

    def graphql_mutation(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        _, data = self._write(lambda: self.writes.requester.graphql_query(query, variables), content=False)
        return data.get("data") or {}

    # -- pull requests ------------------------------------------------------------------------
    @_api
    def pull(self, repo: str, number: int) -> PullInfo:
        _, data = self._request("GET", f"/repos/{repo}/pulls/{number}")
        return pull_info(repo, {**data, "number": number})

    def changed_files(self, pr: PullInfo) -> list[dict[str, Any]]:
        """The files of the pull request at ``pr.head_sha``, with their patches.

        Up to 300 files, one comparison of its base and head answers (GitHub's pull
        request diff is that three-dot diff, from their merge base) and is pinned to
        those commits, where the pull request's own list pages 100 at a time and shows
        its head of the moment. The comparison counts only when it lists exactly as many
        files as GitHub counts for the pull request; otherwise, and past 300, the pull
        request's list (GitHub lists at most 3,000)."""
        count = pr.changed_files
        if count is not None and count <= COMPARE_FILES_MAX:
            files = self._compared_files(pr.repo, pr.base_sha, pr.head_sha)
            if files is not None and len(files) == count:
                return files
            log.warning(
                "compare %s...%s in %s listed %s files where the pull request has %d: reading its list",
                pr.base_sha[:7],
                pr.head_sha[:7],
                pr.repo,
                "no" if files is None else len(files),
                count,
            )
        return self.pull_files(pr.repo, pr.number)

    @_api
    def pull_files(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The PR's files (GitHub lists at most 3,000) with their patches."""
        return list(self._pages(f"/repos/{repo}/pulls/{number}/files", limit=PR_FILES_MAX))

    def _compared_files(self, repo: str, base: str, head: str) -> list[dict[str, Any]] | None:
        try:
            data = self._compare(repo, base, head)
        except (NotFound, Unprocessable) as exc:  # a base gone, a comparison GitHub cannot make
            log.info("compare %s...%s in %s failed (%s)", base[:7], head[:7], repo, exc)
            return None
        files = data.get("files")
        return files if isinstance(files, list) else None

    @_api
    def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        return [p["number"] for p in self._pages(f"/repos/{repo}/commits/{sha}/pulls") if p.get("state") == "open"]

    def merge_base(self, repo: str, base: str, head: str) -> str:
        """The commit the PR's diff is taken from; the base's tip when GitHub cannot say
        (a comparison too large to compute)."""
        try:
            return self._merge_base(repo, base, head)
        except (NotFound, Transient, Unprocessable) as exc:
            log.info("compare %s...%s in %s failed (%s): using the base's tip", base[:7], head[:7], repo, exc)
            return base

    def _merge_base(self, repo: str, base: str, head: str) -> str:
        known = self._merge_bases.get((repo, base, head))
        if known is None:
            known = (self._compare(repo, base, head).get("merge_base_commit") or {}).get("sha") or base
        return known

    @_api
    def _compare(self, repo: str, base: str, head: str) -> dict[str, Any]:
        """``compare/{base}...{head}``, one commit a page (its files come on the first),
        remembering the merge base: two commits have the same one forever."""
        _, data = self._request("GET", f"/repos/{repo}/compare/{base}...{head}", params={"per_page": 1})
        merge_base = (data.get("merge_base_commit") or {}).get("sha")
        if merge_base:
            if len(self._merge_bases) >= MERGE_BASES_KEPT:
                self._merge_bases.clear()
            self._merge_bases[(repo, base, head)] = merge_base
        return data

    # -- git data -----------------------------------------------------------------------------
    @_api
    def tree(self, repo: str, sha: str) -> tuple[dict[str, TreeEntry], bool]:
        """Every file of a commit (one recursive tree call), and whether GitHub cut it."""
        try:
            _, data = self._request("GET", f"/repos/{repo}/git/trees/{sha}", params={"recursive": "1"})
        except GithubException as exc:
            raise _lagging(exc) from exc
        files = {
            e["path"]: TreeEntry(e["path"], e["sha"], e.get("size"))
            for e in data.get("tree", [])
            if e.get("type") == "blob"
        }
        return files, bool(data.get("truncated"))

    @_api
    def blob(self, repo: str, sha: str) -> bytes:
        try:
            _, data = self._request("GET", f"/repos/{repo}/git/blobs/{sha}")
        except GithubException as exc:
            raise _lagging(exc) from exc
        content = data.get("content") or ""
        if data.get("encoding") == "base64":
            return base64.b64decode(content)
        return content.encode()

    def tarball(self, repo: str, sha: str, max_bytes: int) -> bytes | None:
        """The commit's ``tar.gz`` archive (``GET /repos/{repo}/tarball/{sha}``, which
        redirects to a short-lived download URL), or None when GitHub does not hand it
        over (an error, a rate limit, over ``max_bytes``): the caller then reads the
        files another way, so nothing here is retried."""
        self.app.pacer.wait_if_blocked(self.id)
        try:
            token = self.auth.token
            with requests.get(
                f"{self.app.api_url}/repos/{repo}/tarball/{sha}",
                stream=True,
                timeout=self.app.timeout,
                allow_redirects=True,
                headers={
                    "Authorization": f"token {token}",
                    "User-Agent": USER_AGENT,
                    "Accept": "application/vnd.github+json",
                },
            ) as response:
                if response.status_code != 200:
                    log.info(
                        "tarball of %s in %s: HTTP %s, reading the files one by one",
                        sha[:7],
                        repo,
                        response.status_code,
                    )
                    return None
                data = bytearray()
                for chunk in response.iter_content(1 << 16):
                    data += chunk
                    if len(data) > max_bytes:
                        log.info(
                            "tarball of %s in %s is over %d bytes, reading the files one by one",
                            sha[:7],
                            repo,
                            max_bytes,
                        )
                        return None
                return bytes(data)
        except (requests.RequestException, GithubException) as exc:
            log.info("tarball of %s in %s failed (%s), reading the files one by one", sha[:7], repo, exc)
            return None

    @_api
    def blob_texts(self, repo: str, expressions: list[str]) -> list[dict[str, Any] | None]:
        """``object(expression:)`` for each of ``expressions`` (``<commit>:<path>``) in one
        GraphQL query: ``{text, isBinary, isTruncated, byteSize}`` or None."""
        owner, name = repo.split("/", 1)
        params = ", ".join(f"$e{i}: String!" for i in range(len(expressions)))
        fields = "\n".join(
            f"b{i}: object(expression: $e{i}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}"
            for i in range(len(expressions))
        )
        query = (
            f"query($owner: String!, $name: String!, {params}) {{\n"
            f"  repository(owner: $owner, name: $name) {{\n{fields}\n  }}\n}}"
        )
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"e{i}": e for i, e in enumerate(expressions)})
        found = self.graphql(query, variables).get("repository") or {}
        return [found.get(f"b{i}") for i in range(len(expressions))]

    # -- what the App said before ---------------------------------------------------------------
    @_api
    def reviews(self, repo: str, number: int) -> list[Posted]:
        return [
            Posted(r["id"], (r.get("user") or {}).get("login", ""), r.get("body") or "", r.get("commit_id"))
            for r in self._pages(f"/repos/{repo}/pulls/{number}/reviews")
        ]

    @_api
    def review_comments(self, repo: str, number: int) -> list[Posted]:
        return [
            Posted(
                c["id"],
                (c.get("user") or {}).get("login", ""),
                c.get("body") or "",
                c.get("commit_id"),
                c.get("pull_request_review_id"),
            )
            for c in self._pages(f"/repos/{repo}/pulls/{number}/comments")
        ]

    @_api
    def review_threads(self, repo: str, number: int) -> list[Thread]:
        owner, name = repo.split("/", 1)
        return self._review_threads(owner, name, number, None)

    def _review_threads(self, owner: str, name: str, number: int, cursor: str | None) -> list[Thread]:
        threads: list[Thread] = []
        while True:
            data = self.graphql(THREADS_QUERY, {"owner": owner, "name": name, "number": number, "cursor": cursor})
            connection = ((data.get("repository") or {}).get("pullRequest") or {}).get("reviewThreads") or {}
            threads += _threads_of(connection)
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return threads
            cursor = page.get("endCursor")

    @_api
    def review_state(self, repo: str, number: int) -> ReviewState:
        """In one GraphQL query (more pages only past 100): the pull request's head and
        state now, the reviews on it and its review threads."""
        owner, name = repo.split("/", 1)
        data = self.graphql(STATE_QUERY, {"owner": owner, "name": name, "number": number})
        pull = (data.get("repository") or {}).get("pullRequest")
        if not pull:
            raise NotFound(f"pull request {repo}#{number} not found", 404)
        state = ReviewState(head_sha=pull["headRefOid"], state=str(pull.get("state") or "").lower())
        reviews = pull.get("reviews") or {}
        while True:
            for node in reviews.get("nodes") or []:
                state.reviews.append(
                    Posted(
                        node.get("databaseId") or 0,
                        (node.get("author") or {}).get("login", ""),
                        node.get("body") or "",
                        (node.get("commit") or {}).get("oid"),
                    )
                )
            page = reviews.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            more = self.graphql(
                REVIEWS_QUERY, {"owner": owner, "name": name, "number": number, "cursor": page.get("endCursor")}
            )
            reviews = ((more.get("repository") or {}).get("pullRequest") or {}).get("reviews") or {}
        threads = pull.get("reviewThreads") or {}
        state.threads = _threads_of(threads)
        page = threads.get("pageInfo") or {}
        if page.get("hasNextPage"):
            state.threads += self._review_threads(owner, name, number, page.get("endCursor"))
        return state

    @_api
    def resolve_thread(self, thread_id: str) -> None:
        self.graphql_mutation(RESOLVE_MUTATION, {"id": thread_id})

    # -- writing ----------------------------------------------------------------------------------
    @_api
    def create_review(
        self, repo: str, number: int, commit_id: str, body: str, event: str, comments: list[dict[str, Any]]
    ) -> int:
        _, data = self._request(
            "POST",
            f"/repos/{repo}/pulls/{number}/reviews",
            write=True,
            input={"commit_id": commit_id, "body": body, "event": event, "comments": comments},
        )
        return data["id"]

    @_api
    def check_runs(self, repo: str, sha: str, name: str) -> list[dict[str, Any]]:
        """This App's check runs called ``name`` on a commit, newest first."""
        runs = self._pages(
            f"/repos/{repo}/commits/{sha}/check-runs", params={"check_name": name}, item_key="check_runs"
        )
        return [r for r in runs if (r.get("app") or {}).get("id") == self.app.app_id]

    @_api
    def create_check_run(self, repo: str, body: dict[str, Any]) -> int:
        _, data = self._request("POST", f"/repos/{repo}/check-runs", input=body, write=True)
        self.app.learn_slug(data.get("app"))
        return data["id"]

    @_api
    def update_check_run(self, repo: str, run_id: int, body: dict[str, Any]) -> None:
        self._request("PATCH", f"/repos/{repo}/check-runs/{run_id}", input=body, write=True)

    @_api
    def permission(self, repo: str, login: str) -> str:
        """A user's permission on the repository: admin, maintain, write, triage, read or none."""
        _, data = self._request("GET", f"/repos/{repo}/collaborators/{login}/permission")
        role = data.get("role_name")
        if role in ROLES:
            return role
        return data.get("permission") or "none"  # a custom role: its base permission

    @_api
    def react(self, repo: str, comment_id: int, content: str) -> None:
        """A reaction on an issue comment (creating one twice is a no-op on GitHub)."""
        self._request(
            "POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", input={"content": content}, write=True
        )

    @_api
    def comment(self, repo: str, number: int, body: str) -> int:
        _, data = self._request("POST", f"/repos/{repo}/issues/{number}/comments", input={"body": body}, write=True)
        return data["id"]


def _threads_of(connection: dict[str, Any]) -> list[Thread]:
    threads = []
    for node in connection.get("nodes") or []:
        comments = [
            ((c.get("author") or {}).get("login", ""), c.get("body") or "")
            for c in (node.get("comments") or {}).get("nodes") or []
        ]
        threads.append(Thread(node["id"], bool(node.get("isResolved")), comments))
    return threads


def _next_link(headers: dict[str, Any]) -> str | None:
    link = next((v for k, v in headers.items() if k.lower() == "link"), None)
    if not link:
        return None
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          isResolved
          comments(first: 100) { nodes { author { login } body } }
        }
      }
    }
  }
}
"""

_THREAD_FIELDS = """
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          isResolved
          comments(first: 100) { nodes { author { login } body } }
        }"""

_REVIEW_FIELDS = """
        pageInfo { hasNextPage endCursor }
        nodes { databaseId body author { login } commit { oid } }"""

STATE_QUERY = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      headRefOid
      state
      reviews(first: 100) {<reviews>
      }
      reviewThreads(first: 100) {<threads>
      }
    }
  }
}
""".replace("<reviews>", _REVIEW_FIELDS).replace("<threads>", _THREAD_FIELDS)

REVIEWS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviews(first: 100, after: $cursor) {<reviews>
      }
    }
  }
}
""".replace("<reviews>", _REVIEW_FIELDS)

RESOLVE_MUTATION = """
mutation($id: ID!) {
  resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } }
}
"""
