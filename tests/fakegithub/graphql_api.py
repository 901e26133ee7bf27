"""A working subset of GitHub's GraphQL API, executed by graphql-core against the fake's
state (real parsing, validation, aliases, fragments and variables).

Served at ``POST /graphql`` (and ``/api/graphql``): PyGithub 2.x derives its GraphQL URL
from ``base_url`` by dropping a trailing ``/v3`` and appending ``/graphql``
(``Requester.get_graphql_prefix``), so ``http://host:port`` -> ``/graphql`` and
``http://host:port/api/v3`` -> ``/api/graphql``.

Mirrors https://docs.github.com/en/graphql :
* ``repository(owner, name)``: null plus a ``NOT_FOUND`` error "Could not resolve to a
  Repository with the name 'o/r'." when missing or not covered by the installation;
* ``Repository.object(expression: "<rev>:<path>" | oid)``: ``Blob { oid byteSize
  isBinary isTruncated text }``; ``text`` is null for binary blobs and cut at 512,000
  bytes with ``isTruncated: true`` above that (the behaviour reported in
  sveltia/sveltia-cms#950; configurable via ``FakeGitHub.limits.blob_text_max``);
  many aliased ``object`` lookups in one query is how blobs are batched;
* ``pullRequest(number) { reviews(first, after) { nodes { databaseId body author commit { oid } } } }``;
* ``pullRequest(number) { reviewThreads(first, after) { nodes { id isResolved isOutdated
  path line comments(first) { nodes { databaseId body author { login } } } } pageInfo } }``;
  connections need ``first`` or ``last`` (at most 100), else GitHub's
  ``MISSING_PAGINATION_BOUNDARIES`` / ``EXCESSIVE_PAGINATION`` errors;
* ``mutation resolveReviewThread(input: {threadId})`` / ``unresolveReviewThread``
  https://docs.github.com/en/graphql/reference/mutations#resolvereviewthread ;
* a Bot's ``login`` is its slug without ``[bot]`` (unlike REST);
* errors come back with HTTP 200 and ``{"type", "path", "locations", "message"}``
  entries; a missing or bad token is a 401 like REST.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, request
from graphql import GraphQLError, build_schema, graphql_sync, parse
from graphql.language import FieldNode, OperationDefinitionNode, Visitor, visit

from .diff import is_binary
from .errors import APIError
from .http import Caller, allowed, fake, json_response, require_installation, urls
from .serializers import Urls, comment_outdated, iso
from .state import FakeGitHub, PullRequest, Repository, ReviewComment, ReviewThread, User, node_id

SDL = """
scalar GitObjectID
scalar URI
scalar DateTime

interface Node { id: ID! }

interface Actor {
  login: String!
  avatarUrl(size: Int): URI!
  url: URI!
  resourcePath: URI!
}

interface RepositoryOwner {
  id: ID!
  login: String!
  url: URI!
}

type User implements Node & Actor & RepositoryOwner {
  id: ID!
  databaseId: Int
  login: String!
  name: String
  avatarUrl(size: Int): URI!
  url: URI!
  resourcePath: URI!
}

type Organization implements Node & Actor & RepositoryOwner {
  id: ID!
  databaseId: Int
  login: String!
  name: String
  avatarUrl(size: Int): URI!
  url: URI!
  resourcePath: URI!
}

type Bot implements Node & Actor {
  id: ID!
  databaseId: Int
  login: String!
  avatarUrl(size: Int): URI!
  url: URI!
  resourcePath: URI!
}

interface GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  commitResourcePath: URI!
  repository: Repository!
}

type Blob implements Node & GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  commitResourcePath: URI!
  repository: Repository!
  byteSize: Int!
  isBinary: Boolean
  isTruncated: Boolean!
  text: String
}

type TreeEntry {
  name: String!
  path: String
  oid: GitObjectID!
  mode: Int!
  type: String!
  size: Int!
  extension: String
  isGenerated: Boolean!
  object: GitObject
  repository: Repository!
}

type Tree implements Node & GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  commitResourcePath: URI!
  repository: Repository!
  entries: [TreeEntry!]
}

type Commit implements Node & GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  commitResourcePath: URI!
  repository: Repository!
  message: String!
  messageHeadline: String!
  committedDate: DateTime!
  url: URI!
  tree: Tree!
}

type Ref implements Node {
  id: ID!
  name: String!
  prefix: String!
  target: GitObject
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

enum PullRequestState { OPEN CLOSED MERGED }
enum DiffSide { LEFT RIGHT }
enum PullRequestReviewThreadSubjectType { LINE FILE }
enum PullRequestReviewState { PENDING COMMENTED APPROVED CHANGES_REQUESTED DISMISSED }

type Repository implements Node {
  id: ID!
  databaseId: Int
  name: String!
  nameWithOwner: String!
  owner: RepositoryOwner!
  isPrivate: Boolean!
  isFork: Boolean!
  url: URI!
  defaultBranchRef: Ref
  object(expression: String, oid: GitObjectID): GitObject
  pullRequest(number: Int!): PullRequest
}

type PullRequest implements Node {
  id: ID!
  databaseId: Int
  number: Int!
  title: String!
  url: URI!
  state: PullRequestState!
  isDraft: Boolean!
  author: Actor
  headRefName: String!
  headRefOid: GitObjectID!
  baseRefName: String!
  baseRefOid: GitObjectID!
  repository: Repository!
  reviewThreads(first: Int, after: String, last: Int, before: String): PullRequestReviewThreadConnection!
  reviews(first: Int, after: String, last: Int, before: String): PullRequestReviewConnection
}

type PullRequestReviewConnection {
  nodes: [PullRequestReview]
  edges: [PullRequestReviewEdge]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestReviewEdge {
  cursor: String!
  node: PullRequestReview
}

type PullRequestReviewThreadConnection {
  nodes: [PullRequestReviewThread]
  edges: [PullRequestReviewThreadEdge]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestReviewThreadEdge {
  cursor: String!
  node: PullRequestReviewThread
}

type PullRequestReviewThread implements Node {
  id: ID!
  isResolved: Boolean!
  isOutdated: Boolean!
  isCollapsed: Boolean!
  path: String!
  line: Int
  startLine: Int
  originalLine: Int
  originalStartLine: Int
  diffSide: DiffSide!
  startDiffSide: DiffSide
  subjectType: PullRequestReviewThreadSubjectType!
  resolvedBy: User
  viewerCanResolve: Boolean!
  viewerCanUnresolve: Boolean!
  viewerCanReply: Boolean!
  pullRequest: PullRequest!
  repository: Repository!
  comments(first: Int, after: String, last: Int, before: String, skip: Int): PullRequestReviewCommentConnection!
}

type PullRequestReviewCommentConnection {
  nodes: [PullRequestReviewComment]
  edges: [PullRequestReviewCommentEdge]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestReviewCommentEdge {
  cursor: String!
  node: PullRequestReviewComment
}

type PullRequestReview implements Node {
  id: ID!
  databaseId: Int
  body: String!
  state: PullRequestReviewState!
  author: Actor
  submittedAt: DateTime
  url: URI!
  commit: Commit
}

type PullRequestReviewComment implements Node {
  id: ID!
  databaseId: Int
  body: String!
  bodyText: String!
  author: Actor
  createdAt: DateTime!
  path: String!
  line: Int
  startLine: Int
  originalLine: Int
  diffHunk: String!
  outdated: Boolean!
  url: URI!
  replyTo: PullRequestReviewComment
  pullRequestReview: PullRequestReview
  viewerDidAuthor: Boolean!
}

type RateLimit {
  cost: Int!
  limit: Int!
  nodeCount: Int!
  remaining: Int!
  resetAt: DateTime!
  used: Int!
}

type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  rateLimit(dryRun: Boolean = false): RateLimit
}

input ResolveReviewThreadInput { threadId: ID! clientMutationId: String }
type ResolveReviewThreadPayload { clientMutationId: String thread: PullRequestReviewThread }
input UnresolveReviewThreadInput { threadId: ID! clientMutationId: String }
type UnresolveReviewThreadPayload { clientMutationId: String thread: PullRequestReviewThread }

type Mutation {
  resolveReviewThread(input: ResolveReviewThreadInput!): ResolveReviewThreadPayload
  unresolveReviewThread(input: UnresolveReviewThreadInput!): UnresolveReviewThreadPayload
}
"""

bp = Blueprint("graphql", __name__)


def _error(message: str, type_: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": type_})


@dataclass
class Ctx:
    fake: FakeGitHub
    caller: Caller
    urls: Urls


# -- connections ---------------------------------------------------------------------------


def _cursor(i: int) -> str:
    return base64.b64encode(f"cursor:v2:{i}".encode()).decode()


def _uncursor(c: str | None) -> int | None:
    if c is None:
        return None
    try:
        return int(base64.b64decode(c).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError):
        raise _error(f"`{c}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS") from None


class Connection:
    def __init__(
        self,
        items: list[Any],
        name: str,
        limit: int,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
    ) -> None:
        if first is None and last is None:
            raise _error(
                f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
                "MISSING_PAGINATION_BOUNDARIES",
            )
        for arg, value in (("first", first), ("last", last)):
            if value is not None and value > limit:
                raise _error(
                    f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` limit of "
                    f"{limit} records.",
                    "EXCESSIVE_PAGINATION",
                )
        indexed = list(enumerate(items))
        a, b = _uncursor(after), _uncursor(before)
        if a is not None:
            indexed = [(i, x) for i, x in indexed if i > a]
        if b is not None:
            indexed = [(i, x) for i, x in indexed if i < b]
        has_next = has_prev = False
        if first is not None:
            has_next = len(indexed) > first
            indexed = indexed[:first]
        if last is not None:
            has_prev = len(indexed) > last
            indexed = indexed[-last:] if last else []
        self.totalCount = len(items)
        self.nodes = [x for _, x in indexed]
        self.edges = [{"cursor": _cursor(i), "node": x} for i, x in indexed]
        self.pageInfo = {
            "hasNextPage": has_next or (b is not None and b < len(items)),
            "hasPreviousPage": has_prev or (a is not None and a >= 0),
            "startCursor": _cursor(indexed[0][0]) if indexed else None,
            "endCursor": _cursor(indexed[-1][0]) if indexed else None,
        }


# -- object wrappers (fields are attributes, or methods taking (info, **args)) ---------------


class GActor:
    """A User, Organization or Bot. Like GitHub, a Bot's GraphQL ``login`` has no
    ``[bot]`` suffix (REST says ``footgun[bot]``, GraphQL ``footgun``; see
    fullsend-ai/fullsend#6205) and its URL is ``/apps/<slug>``."""

    def __init__(self, ctx: Ctx, user: User) -> None:
        self.typename = {"User": "User", "Organization": "Organization", "Bot": "Bot"}[user.type]
        self.id = user.node_id
        self.databaseId = user.id
        self.login = user.login.removesuffix("[bot]") if user.type == "Bot" else user.login
        self.name = self.login
        path = f"/apps/{self.login}" if user.type == "Bot" else f"/{user.login}"
        self.url = f"{ctx.urls.html}{path}"
        self.resourcePath = path
        self._avatar = f"{ctx.urls.html}/avatars/u/{user.id}"

    def avatarUrl(self, info: Any, size: int | None = None) -> str:
        return self._avatar


def _repo_visible(ctx: Ctx, repo: Repository) -> bool:
    return ctx.caller.installation.covers(repo)


class GRepository:
    typename = "Repository"

    def __init__(self, ctx: Ctx, repo: Repository) -> None:
        self._ctx, self._repo = ctx, repo
        self.id = repo.node_id
        self.databaseId = repo.id
        self.name = repo.name
        self.nameWithOwner = repo.full_name
        self.isPrivate = repo.private
        self.isFork = repo.parent is not None
        self.url = f"{ctx.urls.html}/{repo.full_name}"

    def owner(self, info: Any) -> GActor:
        return GActor(self._ctx, self._repo.owner)

    def defaultBranchRef(self, info: Any) -> dict[str, Any]:
        sha = self._repo.branches[self._repo.default_branch]
        return {
            "typename": "Ref",
            "id": node_id("REF", "Ref", self._repo.id),
            "name": self._repo.default_branch,
            "prefix": "refs/heads/",
            "target": GCommit(self._ctx, self._repo, sha),
        }

    def object(self, info: Any, expression: str | None = None, oid: str | None = None) -> Any:
        if not allowed(self._ctx.caller, ("contents", "read")):
            raise _error("Resource not accessible by integration", "FORBIDDEN")
        return resolve_object(self._ctx, self._repo, expression if expression is not None else oid)

    def pullRequest(self, info: Any, number: int) -> GPullRequest:
        if not allowed(self._ctx.caller, ("pull_requests", "read")):
            raise _error("Resource not accessible by integration", "FORBIDDEN")
        pr = self._ctx.fake.pull_request_or_none(self._repo, number)
        if pr is None:
            raise _error(f"Could not resolve to a PullRequest with the number of {number}.", "NOT_FOUND")
        return GPullRequest(self._ctx, pr)


def resolve_object(ctx: Ctx, repo: Repository, expression: str | None) -> Any:
    """``<rev>:<path>``, ``<rev>:`` (root tree), a ref or commit SHA, or any object id."""
    if not expression:
        return None
    store = repo.store
    if ":" in expression:
        rev, path = expression.split(":", 1)
        sha = ctx.fake.resolve_ref(repo, rev)
        if sha is None:
            return None
        entry = store.tree_at_path(store.commits[sha], path)
        if entry is None:
            return None
        return GBlob(ctx, repo, entry.sha) if entry.type == "blob" else GTree(ctx, repo, entry.sha)
    if expression in store.blobs:
        return GBlob(ctx, repo, expression)
    if expression in store.trees:
        return GTree(ctx, repo, expression)
    sha = ctx.fake.resolve_ref(repo, expression)
    return GCommit(ctx, repo, sha) if sha else None


class _GitObject:
    typename = ""
    kind = ""

    def __init__(self, ctx: Ctx, repo: Repository, oid: str) -> None:
        self._ctx, self._repo = ctx, repo
        self.oid = oid
        self.abbreviatedOid = oid[:7]
        self.id = f"{self.kind}_kwDO{oid[:20]}"
        self.commitUrl = f"{ctx.urls.html}/{repo.full_name}/commit/{oid}"
        self.commitResourcePath = f"/{repo.full_name}/commit/{oid}"

    def repository(self, info: Any) -> GRepository:
        return GRepository(self._ctx, self._repo)


class GBlob(_GitObject):
    typename = "Blob"
    kind = "B"

    def __init__(self, ctx: Ctx, repo: Repository, oid: str) -> None:
        super().__init__(ctx, repo, oid)
        data = repo.store.blobs[oid]
        limit = ctx.fake.limits.blob_text_max
        self.byteSize = len(data)
        self.isBinary = is_binary(data)
        self.isTruncated = not self.isBinary and len(data) > limit
        self.text = None if self.isBinary else data[:limit].decode("utf-8", errors="ignore")


class GTree(_GitObject):
    typename = "Tree"
    kind = "T"

    def entries(self, info: Any) -> list[dict[str, Any]]:
        out = []
        for e in self._repo.store.trees[self.oid]:
            obj = GBlob(self._ctx, self._repo, e.sha) if e.type == "blob" else GTree(self._ctx, self._repo, e.sha)
            size = len(self._repo.store.blobs[e.sha]) if e.type == "blob" else 0
            out.append(
                {
                    "name": e.name,
                    "path": e.name,
                    "oid": e.sha,
                    "mode": int(e.mode, 8),
                    "type": e.type,
                    "size": size,
                    "extension": ("." + e.name.rsplit(".", 1)[1]) if "." in e.name else None,
                    "isGenerated": False,
                    "object": obj,
                    "repository": GRepository(self._ctx, self._repo),
                }
            )
        return out


class GCommit(_GitObject):
    typename = "Commit"
    kind = "C"

    def __init__(self, ctx: Ctx, repo: Repository, oid: str) -> None:
        super().__init__(ctx, repo, oid)
        c = repo.store.commits[oid]
        self.message = c.message
        self.messageHeadline = c.message.split("\n", 1)[0]
        self.committedDate = iso(c.timestamp)
        self.url = self.commitUrl
        self._tree = c.tree

    def tree(self, info: Any) -> GTree:
        return GTree(self._ctx, self._repo, self._tree)


class GPullRequest:
    typename = "PullRequest"

    def __init__(self, ctx: Ctx, pr: PullRequest) -> None:
        self._ctx, self._pr = ctx, pr
        self.id = pr.node_id
        self.databaseId = pr.id
        self.number = pr.number
        self.title = pr.title
        self.url = f"{ctx.urls.html}/{pr.repo.full_name}/pull/{pr.number}"
        self.state = "MERGED" if pr.merged else pr.state.upper()
        self.isDraft = pr.draft
        self.headRefName = pr.head_ref
        self.headRefOid = pr.head_sha
        self.baseRefName = pr.base_ref
        self.baseRefOid = pr.base_sha

    def author(self, info: Any) -> GActor:
        return GActor(self._ctx, self._pr.user)

    def repository(self, info: Any) -> GRepository:
        return GRepository(self._ctx, self._pr.repo)

    def reviewThreads(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection:
        threads = [GThread(self._ctx, self._ctx.fake.threads_by_id[t]) for t in self._pr.thread_ids]
        return Connection(threads, "reviewThreads", self._ctx.fake.limits.connection_max, first, after, last, before)

    def reviews(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection:
        items = [_review(self._ctx, self._ctx.fake.reviews_by_id[i]) for i in self._pr.review_ids]
        return Connection(items, "reviews", self._ctx.fake.limits.connection_max, first, after, last, before)


def _review(ctx: Ctx, r: Any) -> dict[str, Any]:
    repo = r.pull.repo
    return {
        "typename": "PullRequestReview",
        "id": r.node_id,
        "databaseId": r.id,
        "body": r.body,
        "state": r.state,
        "author": GActor(ctx, r.user),
        "submittedAt": iso(r.submitted_at),
        "url": f"{ctx.urls.html}/{repo.full_name}/pull/{r.pull.number}#pullrequestreview-{r.id}",
        "commit": GCommit(ctx, repo, r.commit_id) if r.commit_id in repo.store.commits else None,
    }


class GThread:
    typename = "PullRequestReviewThread"

    def __init__(self, ctx: Ctx, thread: ReviewThread) -> None:
        self._ctx, self._t = ctx, thread
        top = ctx.fake.comments_by_id[thread.comment_ids[0]]
        outdated = comment_outdated(ctx.fake, top)
        can_write = allowed(ctx.caller, ("pull_requests", "write"))
        self.id = thread.id
        self.isResolved = thread.is_resolved
        self.isOutdated = outdated
        self.isCollapsed = thread.is_resolved
        self.path = thread.path
        self.line = None if outdated else thread.line
        self.startLine = None if outdated else thread.start_line
        self.originalLine = thread.line
        self.originalStartLine = thread.start_line
        self.diffSide = thread.side
        self.startDiffSide = thread.start_side
        self.subjectType = "LINE"
        self.viewerCanResolve = can_write and not thread.is_resolved
        self.viewerCanUnresolve = can_write and thread.is_resolved
        self.viewerCanReply = can_write

    def resolvedBy(self, info: Any) -> GActor | None:
        return GActor(self._ctx, self._t.resolved_by) if self._t.resolved_by else None

    def pullRequest(self, info: Any) -> GPullRequest:
        return GPullRequest(self._ctx, self._t.pull)

    def repository(self, info: Any) -> GRepository:
        return GRepository(self._ctx, self._t.pull.repo)

    def comments(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        skip: int | None = None,
    ) -> Connection:
        items = [GComment(self._ctx, self._ctx.fake.comments_by_id[i]) for i in self._t.comment_ids]
        if skip:
            items = items[skip:]
        return Connection(items, "comments", self._ctx.fake.limits.connection_max, first, after, last, before)


class GComment:
    typename = "PullRequestReviewComment"

    def __init__(self, ctx: Ctx, c: ReviewComment) -> None:
        self._ctx, self._c = ctx, c
        outdated = comment_outdated(ctx.fake, c)
        self.id = c.node_id
        self.databaseId = c.id
        self.body = c.body
        self.bodyText = c.body
        self.createdAt = iso(c.created_at)
        self.path = c.path
        self.line = None if outdated else c.line
        self.startLine = None if outdated else c.start_line
        self.originalLine = c.line
        self.diffHunk = c.diff_hunk
        self.outdated = outdated
        self.url = f"{ctx.urls.html}/{c.pull.repo.full_name}/pull/{c.pull.number}#discussion_r{c.id}"
        self.viewerDidAuthor = c.user is ctx.fake.app.bot

    def author(self, info: Any) -> GActor:
        return GActor(self._ctx, self._c.user)

    def replyTo(self, info: Any) -> GComment | None:
        if self._c.in_reply_to_id is None:
            return None
        return GComment(self._ctx, self._ctx.fake.comments_by_id[self._c.in_reply_to_id])

    def pullRequestReview(self, info: Any) -> dict[str, Any]:
        return _review(self._ctx, self._ctx.fake.reviews_by_id[self._c.review_id])


# -- root resolvers ------------------------------------------------------------------------------


def _ctx(info: Any) -> Ctx:
    return info.context


def q_repository(_: Any, info: Any, owner: str, name: str, followRenames: bool = True) -> GRepository:
    ctx = _ctx(info)
    repo = ctx.fake.repos.get(f"{owner}/{name}".lower())
    if repo is None or not _repo_visible(ctx, repo):
        raise _error(f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND")
    return GRepository(ctx, repo)


def _node(ctx: Ctx, gid: str) -> Any:
    f = ctx.fake
    if gid in f.threads_by_id:
        t = f.threads_by_id[gid]
        return GThread(ctx, t) if _repo_visible(ctx, t.pull.repo) else None
    for c in f.comments_by_id.values():
        if c.node_id == gid and _repo_visible(ctx, c.pull.repo):
            return GComment(ctx, c)
    for repo in f.repos.values():
        if repo.node_id == gid and _repo_visible(ctx, repo):
            return GRepository(ctx, repo)
        for issue in repo.issues.values():
            if issue.pull is not None and issue.pull.node_id == gid and _repo_visible(ctx, repo):
                return GPullRequest(ctx, issue.pull)
    return None


def q_node(_: Any, info: Any, id: str) -> Any:
    node = _node(_ctx(info), id)
    if node is None:
        raise _error(f"Could not resolve to a node with the global id of '{id}'", "NOT_FOUND")
    return node


def q_nodes(_: Any, info: Any, ids: list[str]) -> list[Any]:
    return [_node(_ctx(info), i) for i in ids]


def q_rate_limit(_: Any, info: Any, dryRun: bool = False) -> dict[str, Any]:
    ctx = _ctx(info)
    b = ctx.fake.rate_limiter.bucket(f"installation:{ctx.caller.installation.id}", "graphql", ctx.fake.now())
    return {
        "cost": 1,
        "limit": b.limit,
        "nodeCount": 0,
        "remaining": max(0, b.limit - b.used),
        "resetAt": iso(b.reset),
        "used": b.used,
    }


def _set_resolved(info: Any, input: dict[str, Any], resolved: bool) -> dict[str, Any]:
    ctx = _ctx(info)
    tid = input["threadId"]
    thread = ctx.fake.threads_by_id.get(tid)
    if thread is None or not _repo_visible(ctx, thread.pull.repo):
        raise _error(f"Could not resolve to a node with the global id of '{tid}'", "NOT_FOUND")
    if not allowed(ctx.caller, ("pull_requests", "write")):
        raise _error("Resource not accessible by integration", "FORBIDDEN")
    thread.is_resolved = resolved
    thread.resolved_by = ctx.fake.app.bot if resolved else None
    return {"clientMutationId": input.get("clientMutationId"), "thread": GThread(ctx, thread)}


def m_resolve(_: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    return _set_resolved(info, input, True)


def m_unresolve(_: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    return _set_resolved(info, input, False)


def _type_of(value: Any, *_: Any) -> str:
    if isinstance(value, dict):
        return value["typename"]
    return value.typename


def build() -> Any:
    schema = build_schema(SDL)
    query = schema.query_type
    mutation = schema.mutation_type
    assert query is not None and mutation is not None
    query.fields["repository"].resolve = q_repository
    query.fields["node"].resolve = q_node
    query.fields["nodes"].resolve = q_nodes
    query.fields["rateLimit"].resolve = q_rate_limit
    mutation.fields["resolveReviewThread"].resolve = m_resolve
    mutation.fields["unresolveReviewThread"].resolve = m_unresolve
    for name in ("Node", "Actor", "RepositoryOwner", "GitObject"):
        schema.type_map[name].resolve_type = _type_of  # type: ignore[union-attr]
    return schema


SCHEMA = build()


def _summary(query: str) -> dict[str, Any]:
    """What the request log records about a GraphQL call: operation, root fields and how
    many ``object`` lookups it batched."""
    try:
        doc = parse(query)
    except GraphQLError:
        return {"operation": None, "root_fields": [], "object_lookups": 0}
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    roots = [s.name.value for op in ops for s in op.selection_set.selections if isinstance(s, FieldNode)]
    count = 0

    class Counter(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            nonlocal count
            if node.name.value == "object":
                count += 1

    visit(doc, Counter())
    return {"operation": ops[0].operation.value if ops else None, "root_fields": roots, "object_lookups": count}


def _format_error(e: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ext = dict(e.extensions or {})
    if "type" in ext:
        out["type"] = ext.pop("type")
    if e.path is not None:
        out["path"] = list(e.path)
    if e.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in e.locations]
    if ext:
        out["extensions"] = ext
    out["message"] = e.message
    return out


@bp.post("/graphql")
def graphql_endpoint() -> Response:
    if not request.headers.get("Authorization"):
        raise APIError(
            401,
            "This endpoint requires you to be authenticated.",
            documentation_url="https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
        )
    caller = require_installation(resource="graphql")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return json_response({"errors": [{"message": "Problems parsing JSON"}]}, status=400)
    query = payload.get("query")
    if not isinstance(query, str):
        return json_response({"errors": [{"message": "A query attribute must be specified and must be a string."}]})
    request.environ["fakegithub.graphql"] = _summary(query)
    variables = payload.get("variables") or {}
    ctx = Ctx(fake(), caller, urls())
    result = graphql_sync(
        SCHEMA, query, context_value=ctx, variable_values=variables, operation_name=payload.get("operationName")
    )
    out: dict[str, Any] = {}
    if result.data is not None or not result.errors:
        out["data"] = result.data
    if result.errors:
        out["errors"] = [_format_error(e) for e in result.errors]
    return json_response(out)
