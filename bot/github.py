"""Every call footgun makes to GitHub goes through here.

* Authentication: the App signs a JWT (RS256, PyJWT via PyGithub's ``Auth.AppAuth``);
  each installation gets an ``AppInstallationAuth`` that PyGithub keeps and refreshes
  20 seconds before its hour is up. One is cached per installation for the life of the
  process; a 401 "Bad credentials" (token revoked early) drops it and tries once more.
* Retries: PyGithub's ``GithubRetry`` (5xx, and 403/429 rate limits honouring
  ``retry-after`` and ``x-ratelimit-reset``) on every read, GraphQL included. Writes that
  are not idempotent (a review, a reply) are sent by a client that never retries a
  POST by itself: a timeout there may still have created the thing, so the job re-reads
  what exists before trying again (huey retries the whole job).
* Pacing: a second between writes of one client, as GitHub asks; reads unpaced.
* Pagination: 100 a page (GitHub's maximum), following the ``Link`` header.
* Errors: GitHub's exceptions become `NotFound` (end quietly), `Unprocessable` (422),
  `Forbidden` (a permission the App lacks) or `Transient` (try the job again later).
"""
from __future__ import annotations

import base64
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, TypeVar

import requests
from github import Auth, Github, GithubIntegration, GithubRetry
from github.GithubException import BadCredentialsException, GithubException, RateLimitExceededException

log = logging.getLogger("footgun.github")

PER_PAGE = 100
PR_FILES_MAX = 3000  # "Responses include a maximum of 3000 files"
USER_AGENT = "footgun-app"
TIMEOUT = 20
# GitHub asks integrations to wait a second between requests that create content;
# reads need no pacing (retries handle the rate limits).
WRITE_INTERVAL = 1.0
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "POST"})
WRITE_METHODS = READ_METHODS - {"POST"}  # PUT/PATCH/DELETE are idempotent; POST is not
ROLES = ("admin", "maintain", "write", "triage", "read", "none")

T = TypeVar("T")


# --- errors --------------------------------------------------------------------------

class GitHubError(Exception):
    def __init__(self, message: str, status: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.data = data


class NotFound(GitHubError):
    """404/410: the App was uninstalled, or the repository or pull request is gone."""


class Unprocessable(GitHubError):
    """422: GitHub refused the request as written (e.g. a review comment off the diff)."""


class Forbidden(GitHubError):
    """403 without a rate limit: the installation lacks a permission."""


class Transient(GitHubError):
    """5xx, timeouts, rate limits: worth trying again later."""

    def __init__(self, message: str, status: int | None = None, data: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status, data)
        self.retry_after = retry_after


def translate(exc: Exception) -> GitHubError:
    if isinstance(exc, GitHubError):
        return exc
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
        if isinstance(exc, RateLimitExceededException) or exc.status == 429:
            headers = exc.headers or {}
            return Transient(message, exc.status, exc.data, _retry_after(headers))
        if exc.status == 403:
            return Forbidden(message, exc.status, exc.data)
        if exc.status == 400 and isinstance(exc.data, dict) and exc.data.get("errors"):
            return GitHubError(message, exc.status, exc.data)  # a GraphQL error: our mistake
        if exc.status >= 500 or exc.status in (401, 408):
            return Transient(message, exc.status, exc.data)
        return GitHubError(message, exc.status, exc.data)
    if isinstance(exc, requests.RequestException):
        return Transient(f"cannot reach GitHub: {exc.__class__.__name__}")
    return GitHubError(str(exc))


def _error_text(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(e.get("message", str(e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(errors)


def _retry_after(headers: dict[str, str]) -> float | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in lowered:
        try:
            return float(lowered["retry-after"])
        except ValueError:
            return None
    if lowered.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in lowered:
        try:
            return max(1.0, float(lowered["x-ratelimit-reset"]) - time.time())
        except ValueError:
            return None
    return None


def _api(method: Callable[..., T]) -> Callable[..., T]:
    """Translate errors, and renew the installation token once on a 401."""
    @functools.wraps(method)
    def wrapper(self: "Installation", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except BadCredentialsException:
            self.renew()
        except (GithubException, requests.RequestException) as exc:
            raise translate(exc) from exc
        try:
            return method(self, *args, **kwargs)
        except (GithubException, requests.RequestException) as exc:
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
class Posted:
    """A review or comment already on the pull request."""
    id: int
    author: str
    body: str
    commit_id: str | None = None


# --- clients -----------------------------------------------------------------------------

def _retry(methods: frozenset[str], total: int) -> GithubRetry:
    return GithubRetry(total=total, backoff_factor=0.5, allowed_methods=methods,
                       secondary_rate_wait=60, max_rate_limit_wait=600)


class GitHubApp:
    """The App: its JWT client, and one cached `Installation` client per installation."""

    def __init__(self, app_id: int, private_key: str, api_url: str = "https://api.github.com",
                 retries: int = 5, timeout: int = TIMEOUT, write_interval: float = WRITE_INTERVAL) -> None:
        self.app_id = app_id
        self.api_url = api_url.rstrip("/")
        self.retries = retries
        self.timeout = timeout
        self.write_interval = write_interval
        self.auth = Auth.AppAuth(app_id, private_key)
        self.integration = GithubIntegration(auth=self.auth, base_url=self.api_url, timeout=timeout,
                                             retry=_retry(READ_METHODS, retries), user_agent=USER_AGENT)
        self._installations: dict[int, Installation] = {}
        self._lock = threading.Lock()
        self._slug: str | None = None

    @property
    def slug(self) -> str:
        """The App's slug (``GET /app``, once)."""
        if self._slug is None:
            try:
                self._slug = self.integration.get_app().slug
            except (GithubException, requests.RequestException) as exc:
                raise translate(exc) from exc
        return self._slug

    def is_self(self, login: str | None) -> bool:
        """Whether a login (REST ``name[bot]`` or GraphQL ``name``) is this App's bot."""
        if not login:
            return False
        login = login.lower()
        return login.removesuffix("[bot]") == self.slug.lower()

    def installation(self, installation_id: int) -> "Installation":
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

    def github(self, auth: Auth.Auth, methods: frozenset[str]) -> Github:
        return Github(auth=auth, base_url=self.api_url, timeout=self.timeout, per_page=PER_PAGE, lazy=True,
                      retry=_retry(methods, self.retries), user_agent=USER_AGENT,
                      seconds_between_requests=None, seconds_between_writes=self.write_interval)


class Installation:
    """GitHub as one installation of the App sees it."""

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self.app = app
        self.id = installation_id
        self.renew()

    def renew(self) -> None:
        """A new token (and clients) for the next call."""
        auth = self.app.auth.get_installation_auth(self.id, None, self.app.integration.requester)
        self.reads = self.app.github(auth, READ_METHODS)
        self.writes = self.app.github(auth, WRITE_METHODS)

    # -- helpers ----------------------------------------------------------------------------
    def _repo(self, repo: str, write: bool = False):
        return (self.writes if write else self.reads).get_repo(repo)

    def _request(self, verb: str, path: str, input: Any = None, params: dict | None = None,
                 write: bool = False) -> tuple[dict, Any]:
        client = self.writes if write else self.reads
        return client.requester.requestJsonAndCheck(verb, path, parameters=params, input=input)

    def _pages(self, path: str, params: dict | None = None, limit: int | None = None,
               item_key: str | None = None) -> Iterator[Any]:
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
        _, data = self.reads.requester.graphql_query(query, variables)
        return data.get("data") or {}

    # -- pull requests ------------------------------------------------------------------------
    @_api
    def pull(self, repo: str, number: int) -> PullInfo:
        _, data = self._request("GET", f"/repos/{repo}/pulls/{number}")
        head_repo = (data.get("head") or {}).get("repo") or {}
        return PullInfo(repo=repo, number=number, state=data["state"], draft=bool(data.get("draft")),
                        head_sha=data["head"]["sha"], base_sha=data["base"]["sha"], base_ref=data["base"]["ref"],
                        head_repo=head_repo.get("full_name"), author=(data.get("user") or {}).get("login", ""))

    @_api
    def pull_files(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The PR's files (GitHub lists at most 3,000) with their patches."""
        return list(self._pages(f"/repos/{repo}/pulls/{number}/files", limit=PR_FILES_MAX))

    @_api
    def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        return [p["number"] for p in self._pages(f"/repos/{repo}/commits/{sha}/pulls")
                if p.get("state") == "open"]

    def merge_base(self, repo: str, base: str, head: str) -> str:
        """The commit the PR's diff is taken from; the base's tip when GitHub cannot say
        (a comparison too large to compute)."""
        try:
            return self._merge_base(repo, base, head)
        except (NotFound, Transient, Unprocessable) as exc:
            log.info("compare %s...%s in %s failed (%s): using the base's tip", base[:7], head[:7], repo, exc)
            return base

    @_api
    def _merge_base(self, repo: str, base: str, head: str) -> str:
        _, data = self._request("GET", f"/repos/{repo}/compare/{base}...{head}", params={"per_page": 1})
        return (data.get("merge_base_commit") or {}).get("sha") or base

    # -- git data -----------------------------------------------------------------------------
    @_api
    def tree(self, repo: str, sha: str) -> tuple[dict[str, TreeEntry], bool]:
        """Every file of a commit (one recursive tree call), and whether GitHub cut it."""
        _, data = self._request("GET", f"/repos/{repo}/git/trees/{sha}", params={"recursive": "1"})
        files = {e["path"]: TreeEntry(e["path"], e["sha"], e.get("size"))
                 for e in data.get("tree", []) if e.get("type") == "blob"}
        return files, bool(data.get("truncated"))

    @_api
    def blob(self, repo: str, sha: str) -> bytes:
        _, data = self._request("GET", f"/repos/{repo}/git/blobs/{sha}")
        content = data.get("content") or ""
        if data.get("encoding") == "base64":
            return base64.b64decode(content)
        return content.encode()

    @_api
    def blob_texts(self, repo: str, expressions: list[str]) -> list[dict[str, Any] | None]:
        """``object(expression:)`` for each of ``expressions`` (``<commit>:<path>``) in one
        GraphQL query: ``{text, isBinary, isTruncated, byteSize}`` or None."""
        owner, name = repo.split("/", 1)
        params = ", ".join(f"$e{i}: String!" for i in range(len(expressions)))
        fields = "\n".join(f"b{i}: object(expression: $e{i}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}"
                           for i in range(len(expressions)))
        query = (f"query($owner: String!, $name: String!, {params}) {{\n"
                 f"  repository(owner: $owner, name: $name) {{\n{fields}\n  }}\n}}")
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"e{i}": e for i, e in enumerate(expressions)})
        found = self.graphql(query, variables).get("repository") or {}
        return [found.get(f"b{i}") for i in range(len(expressions))]

    # -- what the App said before ---------------------------------------------------------------
    @_api
    def reviews(self, repo: str, number: int) -> list[Posted]:
        return [Posted(r["id"], (r.get("user") or {}).get("login", ""), r.get("body") or "", r.get("commit_id"))
                for r in self._pages(f"/repos/{repo}/pulls/{number}/reviews")]

    @_api
    def review_comments(self, repo: str, number: int) -> list[Posted]:
        return [Posted(c["id"], (c.get("user") or {}).get("login", ""), c.get("body") or "", c.get("commit_id"))
                for c in self._pages(f"/repos/{repo}/pulls/{number}/comments")]

    @_api
    def review_threads(self, repo: str, number: int) -> list[Thread]:
        owner, name = repo.split("/", 1)
        threads: list[Thread] = []
        cursor = None
        while True:
            data = self.graphql(THREADS_QUERY, {"owner": owner, "name": name, "number": number, "cursor": cursor})
            connection = (((data.get("repository") or {}).get("pullRequest") or {}).get("reviewThreads") or {})
            for node in connection.get("nodes") or []:
                comments = [((c.get("author") or {}).get("login", ""), c.get("body") or "")
                            for c in (node.get("comments") or {}).get("nodes") or []]
                threads.append(Thread(node["id"], bool(node.get("isResolved")), comments))
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return threads
            cursor = page.get("endCursor")

    @_api
    def resolve_thread(self, thread_id: str) -> None:
        self.graphql(RESOLVE_MUTATION, {"id": thread_id})

    # -- writing ----------------------------------------------------------------------------------
    @_api
    def create_review(self, repo: str, number: int, commit_id: str, body: str, event: str,
                      comments: list[dict[str, Any]]) -> int:
        _, data = self._request("POST", f"/repos/{repo}/pulls/{number}/reviews", write=True,
                                input={"commit_id": commit_id, "body": body, "event": event, "comments": comments})
        return data["id"]

    @_api
    def check_runs(self, repo: str, sha: str, name: str) -> list[dict[str, Any]]:
        """This App's check runs called ``name`` on a commit, newest first."""
        runs = self._pages(f"/repos/{repo}/commits/{sha}/check-runs", params={"check_name": name},
                           item_key="check_runs")
        return [r for r in runs if (r.get("app") or {}).get("id") == self.app.app_id]

    @_api
    def create_check_run(self, repo: str, body: dict[str, Any]) -> int:
        _, data = self._request("POST", f"/repos/{repo}/check-runs", input=body, write=True)
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
        self._request("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", input={"content": content})

    @_api
    def comment(self, repo: str, number: int, body: str) -> int:
        _, data = self._request("POST", f"/repos/{repo}/issues/{number}/comments", input={"body": body}, write=True)
        return data["id"]


def _next_link(headers: dict[str, Any]) -> str | None:
    link = next((v for k, v in headers.items() if k.lower() == "link"), None)
    if not link:
        return None
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


def chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


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

RESOLVE_MUTATION = """
mutation($id: ID!) {
  resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } }
}
"""
