"""The fake's world: App, installations, users, repositories, pull requests, and what
the App posts (reviews, review comments and threads, check runs, issue comments,
reactions), with a plain-Python API for tests to set it up and read it back.

Everything is in memory and guarded by one re-entrant lock (``FakeGitHub.lock``) that the
HTTP layer holds while handling a request.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .auth import InstallationToken, generate_key_pair, new_token
from .diff import DiffLimits, FileDiff, diff_trees
from .faults import FaultInjector, RateLimiter, RequestLog
from .gitobjects import CommitObject, ObjectStore

if TYPE_CHECKING:
    from .webhooks import Webhooks

ROLES = ("admin", "maintain", "write", "triage", "read", "none")
# https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user :
# "maintain" maps to "write" and "triage" to "read" in the legacy ``permission`` field.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
DEFAULT_INSTALLATION_PERMISSIONS = {
    "metadata": "read",
    "contents": "read",
    "pull_requests": "write",
    "checks": "write",
    "issues": "write",
}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def node_id(prefix: str, kind: str, num: int) -> str:
    """An opaque GraphQL global id in GitHub's current style (``PRRT_kwDO...``)."""
    raw = base64.urlsafe_b64encode(f"{kind}:{num}".encode()).decode().rstrip("=")
    return f"{prefix}_kwDO{raw}"


@dataclass
class Limits:
    """GitHub's limits the fake enforces; tests may lower them to exercise edge cases."""

    per_page_max: int = 100  # every REST list endpoint
    pr_files_max: int = 3000  # "Responses include a maximum of 3000 files"
    tree_max_entries: int = 100_000  # "The limit for the tree array is 100,000 entries
    tree_max_bytes: int = 7 * 1024 * 1024  #  with a maximum size of 7 MB" (recursive)
    body_max: int = 65536  # "Body is too long (maximum is 65536 characters)"
    annotations_per_request: int = 50  # checks API
    blob_text_max: int = 512_000  # GraphQL Blob.text is cut at 512,000 bytes (isTruncated)
    contents_max: int = 1024 * 1024  # contents API returns no content above 1 MB
    token_ttl: float = 3600.0  # installation tokens last one hour
    connection_max: int = 100  # GraphQL first/last
    # Secondary rate limit on content creation: "no more than 80 content-generating
    # requests per minute and no more than 500 content-generating requests per hour"
    # (reviews, comments, replies, check runs). None disables.
    content_per_minute: int | None = 80
    content_per_hour: int | None = 500
    diff: DiffLimits = field(default_factory=DiffLimits)


@dataclass
class User:
    """A user, organization or bot account."""

    login: str
    id: int
    type: str = "User"  # "User" | "Organization" | "Bot"

    @property
    def node_id(self) -> str:
        prefix = {"User": "U", "Organization": "O", "Bot": "BOT"}[self.type]
        return node_id(prefix, self.type, self.id)


@dataclass
class App:
    """The GitHub App under test."""

    id: int
    slug: str
    name: str
    owner: User
    client_id: str
    private_key_pem: str
    public_key_pem: str
    bot: User  # "<slug>[bot]", the author of everything the App posts


@dataclass
class Installation:
    """An installation of the App on an account."""

    id: int
    account: User
    repository_selection: str  # "all" | "selected"
    repository_ids: set[int] = field(default_factory=set)
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_INSTALLATION_PERMISSIONS))
    events: list[str] = field(default_factory=lambda: ["pull_request", "issue_comment", "check_run"])
    created_at: float = 0.0

    def covers(self, repo: Repository) -> bool:
        if repo.owner.login.lower() != self.account.login.lower():
            return False
        return self.repository_selection == "all" or repo.id in self.repository_ids


@dataclass
class Repository:
    """A repository; forks share their parent's :class:`ObjectStore`."""

    id: int
    owner: User
    name: str
    default_branch: str
    private: bool
    store: ObjectStore
    parent: Repository | None = None
    branches: dict[str, str] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login (lower) -> role
    created_at: float = 0.0
    next_number: int = 1
    issues: dict[int, Issue] = field(default_factory=dict)  # issues and pull requests by number

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def node_id(self) -> str:
        return node_id("R", "Repository", self.id)

    def role_of(self, user: User) -> str:
        """The user's role: an explicit grant, else admin for the owner, else read on a
        public repository and none on a private one (what GitHub answers for
        non-collaborators)."""
        role = self.collaborators.get(user.login.lower())
        if role:
            return role
        if user.login.lower() == self.owner.login.lower():
            return "admin"
        return "none" if self.private else "read"


@dataclass
class Issue:
    """An issue; every pull request is also an issue with the same number."""

    repo: Repository
    number: int
    id: int
    title: str
    body: str
    user: User
    created_at: float
    state: str = "open"
    pull: PullRequest | None = None

    @property
    def node_id(self) -> str:
        return node_id("I", "Issue", self.id)


@dataclass
class PullRequest:
    """A pull request from ``head_repo:head_ref`` into ``repo:base_ref``. Its head follows
    the head branch, as on GitHub."""

    repo: Repository
    number: int
    id: int
    title: str
    body: str
    user: User
    base_ref: str
    head_ref: str
    head_repo: Repository
    draft: bool
    created_at: float
    updated_at: float
    state: str = "open"
    merged: bool = False
    head_history: list[str] = field(default_factory=list)
    review_ids: list[int] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)  # review comments
    thread_ids: list[str] = field(default_factory=list)
    frozen_head: str | None = None  # the head when closed

    @property
    def node_id(self) -> str:
        return node_id("PR", "PullRequest", self.id)

    @property
    def head_sha(self) -> str:
        if self.frozen_head:
            return self.frozen_head
        return self.head_repo.branches[self.head_ref]

    @property
    def base_sha(self) -> str:
        return self.repo.branches[self.base_ref]

    @property
    def full_name(self) -> str:
        return f"{self.repo.full_name}#{self.number}"


@dataclass
class Review:
    id: int
    pull: PullRequest
    user: User
    body: str
    state: str  # COMMENTED | APPROVED | CHANGES_REQUESTED
    commit_id: str
    submitted_at: float
    comment_ids: list[int] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return node_id("PRR", "PullRequestReview", self.id)


@dataclass
class ReviewComment:
    id: int
    pull: PullRequest
    review_id: int
    user: User
    body: str
    path: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    commit_id: str
    original_commit_id: str
    diff_hunk: str
    position: int | None
    created_at: float
    thread_id: str = ""
    in_reply_to_id: int | None = None

    @property
    def node_id(self) -> str:
        return node_id("PRRC", "PullRequestReviewComment", self.id)


@dataclass
class ReviewThread:
    """A review thread: a top-level review comment and its replies."""

    id: str  # GraphQL node id
    num: int
    pull: PullRequest
    comment_ids: list[int]
    path: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    commit_id: str
    is_resolved: bool = False
    resolved_by: User | None = None


@dataclass
class Annotation:
    path: str
    start_line: int
    end_line: int
    annotation_level: str
    message: str
    title: str | None = None
    raw_details: str | None = None
    start_column: int | None = None
    end_column: int | None = None


@dataclass
class CheckRun:
    id: int
    repo: Repository
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: float | None
    completed_at: float | None
    details_url: str | None
    external_id: str | None
    output: dict[str, Any] = field(default_factory=lambda: {"title": None, "summary": None, "text": None})
    annotations: list[Annotation] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    updates: int = 0

    @property
    def node_id(self) -> str:
        return node_id("CR", "CheckRun", self.id)


@dataclass
class Reaction:
    id: int
    user: User
    content: str
    created_at: float


@dataclass
class IssueComment:
    id: int
    issue: Issue
    user: User
    body: str
    created_at: float
    updated_at: float
    via_app: bool = False
    reactions: list[Reaction] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return node_id("IC", "IssueComment", self.id)


class FakeGitHub:
    """The state of the fake GitHub and the plain-Python API tests use to set it up and
    read it back. Serve it over HTTP with :class:`tests.fakegithub.server.FakeGitHubServer`.

    Typical set-up::

        fake = FakeGitHub()
        inst = fake.install("acme", repos=["acme/web"])   # creates acme/web if missing
        fake.commit("acme/web", files={"k8s/svc.yaml": "..."}, branch="main")
        fake.add_user("alice"); fake.set_permission("acme/web", "alice", "write")
        pr = fake.open_pull_request("acme/web", head="fix", user="alice",
                                    changes={"k8s/svc.yaml": "..."})
        fake.push("acme/web", pr.number, changes={"k8s/svc.yaml": "..."})  # synchronize
    """

    def __init__(self, app_id: int = 4242, app_slug: str = "footgun", clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.limits = Limits()
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.rate_limiter = RateLimiter()
        self._ids = itertools.count(1001)
        self._commit_clock = itertools.count(1_700_000_000, 60)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repository] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, InstallationToken] = {}
        self.issue_comments: dict[int, IssueComment] = {}
        self.reviews_by_id: dict[int, Review] = {}
        self.comments_by_id: dict[int, ReviewComment] = {}
        self.threads_by_id: dict[str, ReviewThread] = {}
        self.check_runs_by_id: dict[int, CheckRun] = {}
        self.archive_tokens: dict[str, float] = {}
        self.content_log: dict[int, list[float]] = {}  # installation id -> creation times
        self._diff_cache: dict[tuple[str, str], list[FileDiff]] = {}
        self.url: str | None = None  # set when served by FakeGitHubServer
        owner = self.add_user(f"{app_slug}-owner", type="Organization")
        private_pem, public_pem = generate_key_pair()
        bot = self.add_user(f"{app_slug}[bot]", type="Bot")
        self.app = App(
            app_id, app_slug, app_slug.capitalize(), owner, f"Iv1.{app_id:016x}", private_pem, public_pem, bot
        )

    @property
    def webhooks(self) -> Webhooks:
        """Builder of signed webhook deliveries for this state (:class:`tests.fakegithub.webhooks.Webhooks`)."""
        from .webhooks import Webhooks  # local import: webhooks imports this module

        return Webhooks(self)

    def app_env(self) -> dict[str, str]:
        """The App's environment as the spec names it (GITHUB_APP_ID, GITHUB_PRIVATE_KEY,
        GITHUB_API_URL), pointing at this fake."""
        env = {"GITHUB_APP_ID": str(self.app.id), "GITHUB_PRIVATE_KEY": self.app.private_key_pem}
        if self.url:
            env["GITHUB_API_URL"] = self.url
        return env

    # -- ids and time ---------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> float:
        return self.clock()

    # -- users ------------------------------------------------------------------------
    def add_user(self, login: str, type: str = "User") -> User:
        """Create (or return) an account; ``type`` is "User", "Organization" or "Bot"."""
        with self.lock:
            existing = self.users.get(login.lower())
            if existing:
                return existing
            user = User(login, self.next_id(), type)
            self.users[login.lower()] = user
            return user

    def user(self, login: str) -> User:
        try:
            return self.users[login.lower()]
        except KeyError:
            raise KeyError(f"no user {login!r}; add it with add_user()") from None

    def _as_user(self, who: User | str | None, default: User | None = None) -> User:
        if who is None:
            assert default is not None
            return default
        if isinstance(who, User):
            return who
        return self.users.get(who.lower()) or self.add_user(who)

    # -- repositories --------------------------------------------------------------------
    def create_repo(
        self,
        full_name: str,
        files: dict[str, bytes | str] | None = None,
        default_branch: str = "main",
        private: bool = False,
        owner_type: str = "Organization",
    ) -> Repository:
        """Create a repository with one commit (``files``, possibly empty) on its default
        branch. The owner account is created if needed."""
        with self.lock:
            owner_login, name = full_name.split("/", 1)
            owner = self.users.get(owner_login.lower()) or self.add_user(owner_login, owner_type)
            repo = Repository(
                self.next_id(), owner, name, default_branch, private, ObjectStore(), created_at=self.now()
            )
            self.repos[full_name.lower()] = repo
            self.commit(full_name, files=files or {}, branch=default_branch, message="Initial commit")
            return repo

    def repo(self, full_name: str | Repository) -> Repository:
        if isinstance(full_name, Repository):
            return full_name
        try:
            return self.repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"no repository {full_name!r}; create it with create_repo()") from None

    def fork(self, full_name: str, owner: str) -> Repository:
        """Fork a repository to ``owner`` (same object network, same branches)."""
        with self.lock:
            parent = self.repo(full_name)
            owner_user = self._as_user(owner)
            fork = Repository(
                self.next_id(),
                owner_user,
                parent.name,
                parent.default_branch,
                parent.private,
                parent.store,
                parent=parent,
                branches=dict(parent.branches),
                created_at=self.now(),
            )
            self.repos[fork.full_name.lower()] = fork
            return fork

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        """Give ``login`` a role on a repository: admin, maintain, write, triage, read or none."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        with self.lock:
            self._as_user(login)
            self.repo(full_name).collaborators[login.lower()] = role

    def create_branch(self, full_name: str, branch: str, from_ref: str | None = None) -> str:
        with self.lock:
            repo = self.repo(full_name)
            sha = self.resolve_ref(repo, from_ref or repo.default_branch)
            if sha is None:
                raise KeyError(from_ref)
            repo.branches[branch] = sha
            return sha

    def commit(
        self,
        full_name: str,
        files: dict[str, bytes | str | None] | None = None,
        changes: dict[str, bytes | str | None] | None = None,
        branch: str | None = None,
        parent: str | None = None,
        message: str = "Update",
        author: str = "octocat",
    ) -> str:
        """Commit a full file tree (``files``) or changes on top of the parent's tree
        (``changes``; ``None`` deletes a path). The parent is ``parent`` or the tip of
        ``branch``; the branch (created if missing) moves to the new commit. Returns the SHA."""
        with self.lock:
            repo = self.repo(full_name)
            if parent is None and branch is not None and branch in repo.branches:
                parent = repo.branches[branch]
            base: dict[str, bytes] = {}
            if parent is not None:
                base = repo.store.file_bytes(repo.store.commits[parent])
            if files is not None:
                tree = {p: _b(c) for p, c in files.items() if c is not None}
            else:
                tree = dict(base)
            for path, content in (changes or {}).items():
                if content is None:
                    tree.pop(path, None)
                else:
                    tree[path] = _b(content)
            commit = repo.store.add_commit(
                tree,
                [parent] if parent else [],
                message,
                author,
                f"{author}@users.noreply.github.com",
                next(self._commit_clock),
            )
            if branch is not None:
                repo.branches[branch] = commit.sha
            return commit.sha

    def resolve_ref(self, repo: Repository, ref: str) -> str | None:
        """A branch name, ``refs/heads/x``, ``refs/pull/N/head``, a full or abbreviated
        (7+) commit SHA, or ``HEAD`` -> commit SHA."""
        if ref in ("HEAD", ""):
            ref = repo.default_branch
        if ref.startswith("refs/heads/"):
            ref = ref[len("refs/heads/") :]
        if ref.startswith("refs/pull/") and ref.endswith("/head"):
            try:
                num = int(ref.split("/")[2])
            except ValueError:
                return None
            pr = self.pull_request_or_none(repo, num)
            return pr.head_sha if pr else None
        if ref in repo.branches:
            return repo.branches[ref]
        if ref in repo.store.commits:
            return ref
        if len(ref) >= 7 and all(c in "0123456789abcdef" for c in ref):
            found = [s for s in repo.store.commits if s.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def commit_object(self, repo: Repository, sha: str) -> CommitObject:
        return repo.store.commits[sha]

    # -- installations and tokens -----------------------------------------------------------
    def install(
        self,
        account: str,
        repos: list[str] | None = None,
        permissions: dict[str, str] | None = None,
        account_type: str = "Organization",
    ) -> Installation:
        """Install the App on ``account``, for ``repos`` (full names, created empty if
        missing) or for all of the account's repositories when ``repos`` is None."""
        with self.lock:
            acct = self.users.get(account.lower()) or self.add_user(account, account_type)
            inst = Installation(self.next_id(), acct, "all" if repos is None else "selected", created_at=self.now())
            if permissions is not None:
                inst.permissions = dict(permissions)
            for full in repos or []:
                if full.lower() not in self.repos:
                    self.create_repo(full)
                inst.repository_ids.add(self.repo(full).id)
            self.installations[inst.id] = inst
            return inst

    def installation_for(self, repo: Repository) -> Installation | None:
        for inst in self.installations.values():
            if inst.covers(repo):
                return inst
        return None

    def issue_token(self, installation_id: int, permissions: dict[str, str] | None = None) -> InstallationToken:
        with self.lock:
            inst = self.installations[installation_id]
            perms = dict(inst.permissions)
            if permissions:
                perms = {k: v for k, v in permissions.items()}
            tok = InstallationToken(new_token(), installation_id, self.now() + self.limits.token_ttl, perms)
            self.tokens[tok.token] = tok
            return tok

    def expire_tokens(self, installation_id: int | None = None) -> int:
        """Expire every issued installation token (of one installation, or all); the next
        request with one answers 401 "Bad credentials". Returns how many were expired."""
        with self.lock:
            n = 0
            for tok in self.tokens.values():
                if installation_id is None or tok.installation_id == installation_id:
                    if tok.valid(self.now()):
                        n += 1
                    tok.expires_at = min(tok.expires_at, self.now() - 1)
            return n

    def uninstall(self, installation_id: int) -> None:
        """Remove an installation (its tokens stop working, its repos answer 404)."""
        with self.lock:
            self.installations.pop(installation_id, None)
            for tok in self.tokens.values():
                if tok.installation_id == installation_id:
                    tok.revoked = True

    # -- pull requests ------------------------------------------------------------------------
    def open_pull_request(
        self,
        full_name: str,
        head: str,
        base: str | None = None,
        user: str | User = "octocat",
        head_repo: str | None = None,
        title: str = "Update manifests",
        body: str = "",
        draft: bool = False,
        changes: dict[str, bytes | str | None] | None = None,
        files: dict[str, bytes | str | None] | None = None,
        message: str = "Change manifests",
    ) -> PullRequest:
        """Open a pull request from ``head`` (a branch of ``head_repo``, default: the same
        repository; a fork's full name for a fork PR) into ``base`` (default branch). With
        ``changes``/``files``, first commits them on ``head`` (branched from base)."""
        with self.lock:
            repo = self.repo(full_name)
            src = self.repo(head_repo) if head_repo else repo
            base = base or repo.default_branch
            author = self._as_user(user)
            if changes is not None or files is not None:
                if head not in src.branches:
                    src.branches[head] = repo.branches[base]  # forks share the object network
                self.commit(
                    src.full_name, files=files, changes=changes, branch=head, message=message, author=author.login
                )
            if head not in src.branches:
                raise KeyError(f"no branch {head!r} in {src.full_name}")
            number = repo.next_number
            repo.next_number += 1
            now = self.now()
            pr = PullRequest(repo, number, self.next_id(), title, body, author, base, head, src, draft, now, now)
            pr.head_history.append(pr.head_sha)
            issue = Issue(repo, number, self.next_id(), title, body, author, now, pull=pr)
            repo.issues[number] = issue
            return pr

    def open_issue(self, full_name: str, title: str, user: str | User = "octocat", body: str = "") -> Issue:
        """Open a plain issue (not a pull request)."""
        with self.lock:
            repo = self.repo(full_name)
            number = repo.next_number
            repo.next_number += 1
            issue = Issue(repo, number, self.next_id(), title, body, self._as_user(user), self.now())
            repo.issues[number] = issue
            return issue

    def issue_or_none(self, repo: Repository, number: int) -> Issue | None:
        return repo.issues.get(number)

    def pull_request_or_none(self, repo: Repository, number: int) -> PullRequest | None:
        issue = repo.issues.get(number)
        return issue.pull if issue else None

    def pull_request(self, full_name: str, number: int) -> PullRequest:
        pr = self.pull_request_or_none(self.repo(full_name), number)
        if pr is None:
            raise KeyError(f"no pull request #{number} in {full_name}")
        return pr

    def push(
        self,
        full_name: str,
        number: int,
        changes: dict[str, bytes | str | None] | None = None,
        files: dict[str, bytes | str | None] | None = None,
        message: str = "Update manifests",
        author: str | None = None,
        force_parent: str | None = None,
    ) -> str:
        """Push a new head commit to a pull request's head branch (GitHub then sends
        ``pull_request.synchronize``). Returns the new head SHA."""
        with self.lock:
            pr = self.pull_request(full_name, number)
            sha = self.commit(
                pr.head_repo.full_name,
                files=files,
                changes=changes,
                parent=force_parent or pr.head_sha,
                message=message,
                author=author or pr.user.login,
            )
            pr.head_repo.branches[pr.head_ref] = sha
            pr.head_history.append(sha)
            pr.updated_at = self.now()
            return sha

    def close_pull_request(self, full_name: str, number: int, merged: bool = False) -> None:
        with self.lock:
            pr = self.pull_request(full_name, number)
            pr.frozen_head = pr.head_sha
            pr.state = "closed"
            pr.merged = merged
            pr.repo.issues[number].state = "closed"

    def pr_commits(self, pr: PullRequest) -> set[str]:
        """Commits that are part of the pull request: reachable from its head and not from
        its base, plus every head it ever had."""
        store = pr.repo.store
        return (store.ancestors(pr.head_sha) - store.ancestors(pr.base_sha)) | set(pr.head_history)

    def pr_files(self, pr: PullRequest, head: str | None = None) -> list[FileDiff]:
        """The pull request's file list (merge base .. head), as GitHub computes it."""
        head = head or pr.head_sha
        store = pr.repo.store
        base = store.merge_base(pr.base_sha, head) or pr.base_sha
        key = (base, head)
        with self.lock:
            if key not in self._diff_cache:
                self._diff_cache[key] = diff_trees(
                    store.commits[base].files, store.commits[head].files, store.blobs, self.limits.diff
                )
            return self._diff_cache[key]

    # -- what people do in the UI (test API) ---------------------------------------------------
    def add_issue_comment(self, full_name: str, number: int, user: str | User, body: str) -> IssueComment:
        """A person (or bot) comments on an issue or pull request (e.g. ``/footgun recheck``)."""
        with self.lock:
            issue = self.issue_or_none(self.repo(full_name), number)
            if issue is None:
                raise KeyError(f"no issue #{number} in {full_name}")
            now = self.now()
            c = IssueComment(self.next_id(), issue, self._as_user(user), body, now, now)
            self.issue_comments[c.id] = c
            return c

    def reply_to_review_comment(
        self, full_name: str, number: int, comment_id: int, user: str | User, body: str
    ) -> ReviewComment:
        """A person replies in the thread of review comment ``comment_id``."""
        from .reviews import add_reply  # local import: reviews imports this module

        with self.lock:
            pr = self.pull_request(full_name, number)
            return add_reply(self, pr, comment_id, self._as_user(user), body)

    # -- reading back what the App did -----------------------------------------------------------
    def reviews(self, full_name: str, number: int) -> list[Review]:
        pr = self.pull_request(full_name, number)
        return [self.reviews_by_id[i] for i in pr.review_ids]

    def review_comments(self, full_name: str, number: int) -> list[ReviewComment]:
        pr = self.pull_request(full_name, number)
        return [self.comments_by_id[i] for i in pr.comment_ids]

    def review_threads(self, full_name: str, number: int) -> list[ReviewThread]:
        pr = self.pull_request(full_name, number)
        return [self.threads_by_id[i] for i in pr.thread_ids]

    def check_runs(self, full_name: str, head_sha: str | None = None, name: str | None = None) -> list[CheckRun]:
        repo = self.repo(full_name)
        return [
            c
            for c in self.check_runs_by_id.values()
            if c.repo is repo and (head_sha is None or c.head_sha == head_sha) and (name is None or c.name == name)
        ]

    def comments_on(self, full_name: str, number: int) -> list[IssueComment]:
        issue = self.issue_or_none(self.repo(full_name), number)
        return [c for c in self.issue_comments.values() if c.issue is issue]

    def reactions(self, comment_id: int) -> list[Reaction]:
        return list(self.issue_comments[comment_id].reactions)


def _b(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content
