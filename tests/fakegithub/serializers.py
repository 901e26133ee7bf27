"""JSON shapes of GitHub's REST resources, with the fields PyGithub's objects read
(``id``, ``node_id``, ``url``, ``html_url``, ...). Shapes follow the examples of
https://docs.github.com/en/rest (users, repos, pulls, pulls/reviews, pulls/comments,
checks/runs, issues/comments, reactions, git/trees, git/blobs, repos/contents,
commits/commits, apps/installations).

All URLs point back at the fake (``api`` is its REST root, ``html`` the web root), so
PyGithub can follow them (it refuses other hosts).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .diff import FileDiff
from .state import (
    LEGACY_PERMISSION,
    REACTIONS,
    App,
    CheckRun,
    FakeGitHub,
    Installation,
    Issue,
    IssueComment,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    User,
)


@dataclass
class Urls:
    api: str  # e.g. http://127.0.0.1:5555 or http://127.0.0.1:5555/api/v3
    html: str  # e.g. http://127.0.0.1:5555


def iso(ts: float | None) -> str | None:
    """GitHub's timestamp format: ``2011-04-14T16:00:49Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_json(u: Urls, user: User) -> dict[str, Any]:
    api = f"{u.api}/users/{user.login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": user.node_id,
        "avatar_url": f"{u.html}/avatars/u/{user.id}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{u.html}/{user.login}"
        if user.type != "Bot"
        else f"{u.html}/apps/{user.login.removesuffix('[bot]')}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app_json(u: Urls, app: App) -> dict[str, Any]:
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": f"A_kwDO{app.id}",
        "client_id": app.client_id,
        "owner": user_json(u, app.owner),
        "name": app.name,
        "description": "Reviews Kubernetes manifests (fake)",
        "external_url": f"{u.html}/apps/{app.slug}",
        "html_url": f"{u.html}/apps/{app.slug}",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "permissions": {
            "metadata": "read",
            "contents": "read",
            "pull_requests": "write",
            "checks": "write",
            "issues": "write",
        },
        "events": ["pull_request", "issue_comment", "check_run"],
        "installations_count": 1,
    }


def installation_json(u: Urls, fake: FakeGitHub, inst: Installation) -> dict[str, Any]:
    return {
        "id": inst.id,
        "account": user_json(u, inst.account),
        "repository_selection": inst.repository_selection,
        "access_tokens_url": f"{u.api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{u.api}/installation/repositories",
        "html_url": f"{u.html}/organizations/{inst.account.login}/settings/installations/{inst.id}",
        "app_id": fake.app.id,
        "app_slug": fake.app.slug,
        "target_id": inst.account.id,
        "target_type": inst.account.type,
        "permissions": dict(inst.permissions),
        "events": list(inst.events),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def repo_json(u: Urls, repo: Repository, full: bool = True) -> dict[str, Any]:
    api = f"{u.api}/repos/{repo.full_name}"
    html = f"{u.html}/{repo.full_name}"
    out: dict[str, Any] = {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user_json(u, repo.owner),
        "html_url": html,
        "description": None,
        "fork": repo.parent is not None,
        "url": api,
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_trees_url": f"{api}/git/trees{{/sha}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "clone_url": f"{html}.git",
        "git_url": f"{html}.git",
        "default_branch": repo.default_branch,
        "visibility": "private" if repo.private else "public",
        "archived": False,
        "disabled": False,
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.created_at),
        "pushed_at": iso(repo.created_at),
    }
    if full and repo.parent is not None:
        root = repo.parent
        while root.parent is not None:
            root = root.parent
        out["parent"] = repo_json(u, repo.parent, full=False)
        out["source"] = repo_json(u, root, full=False)
    return out


def _pr_ref(u: Urls, repo: Repository, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{repo.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user_json(u, repo.owner),
        "repo": repo_json(u, repo, full=False),
    }


def pull_json(u: Urls, fake: FakeGitHub, pr: PullRequest) -> dict[str, Any]:
    api = f"{u.api}/repos/{pr.repo.full_name}"
    url = f"{api}/pulls/{pr.number}"
    html = f"{u.html}/{pr.repo.full_name}/pull/{pr.number}"
    files = fake.pr_files(pr)
    return {
        "url": url,
        "id": pr.id,
        "node_id": pr.node_id,
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{api}/issues/{pr.number}",
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{api}/issues/{pr.number}/comments",
        "statuses_url": f"{api}/statuses/{pr.head_sha}",
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user_json(u, pr.user),
        "body": pr.body or None,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": None if pr.state == "open" else iso(pr.updated_at),
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _pr_ref(u, pr.head_repo, pr.head_ref, pr.head_sha),
        "base": _pr_ref(u, pr.repo, pr.base_ref, pr.base_sha),
        "_links": {
            "self": {"href": url},
            "html": {"href": html},
            "issue": {"href": f"{api}/issues/{pr.number}"},
            "comments": {"href": f"{api}/issues/{pr.number}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{api}/statuses/{pr.head_sha}"},
        },
        "author_association": association(pr.repo, pr.user),
        "auto_merge": None,
        "draft": pr.draft,
        "merged": pr.merged,
        "mergeable": True if pr.state == "open" else None,
        "rebaseable": True if pr.state == "open" else None,
        "mergeable_state": "clean",
        "merged_by": None,
        "comments": len([c for c in fake.issue_comments.values() if c.issue.pull is pr]),
        "review_comments": len(pr.comment_ids),
        "maintainer_can_modify": False,
        "commits": len(pr.repo.store.ancestors(pr.head_sha) - pr.repo.store.ancestors(pr.base_sha)),
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "changed_files": len(files),
    }


def issue_json(u: Urls, fake: FakeGitHub, issue: Issue) -> dict[str, Any]:
    api = f"{u.api}/repos/{issue.repo.full_name}"
    out: dict[str, Any] = {
        "id": issue.id,
        "node_id": issue.node_id,
        "url": f"{api}/issues/{issue.number}",
        "repository_url": api,
        "comments_url": f"{api}/issues/{issue.number}/comments",
        "html_url": f"{u.html}/{issue.repo.full_name}/{'pull' if issue.pull else 'issues'}/{issue.number}",
        "number": issue.number,
        "state": issue.state,
        "title": issue.title,
        "body": issue.body or None,
        "user": user_json(u, issue.user),
        "labels": [],
        "assignee": None,
        "assignees": [],
        "locked": False,
        "comments": len([c for c in fake.issue_comments.values() if c.issue is issue]),
        "created_at": iso(issue.created_at),
        "updated_at": iso(issue.created_at),
        "closed_at": None,
        "author_association": association(issue.repo, issue.user),
    }
    if issue.pull is not None:
        html = f"{u.html}/{issue.repo.full_name}/pull/{issue.number}"
        out["pull_request"] = {
            "url": f"{api}/pulls/{issue.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": None,
        }
    return out


def association(repo: Repository, user: User) -> str:
    """``author_association``: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR or NONE."""
    if user.login.lower() == repo.owner.login.lower():
        return "OWNER"
    if user.login.lower() in repo.collaborators and repo.collaborators[user.login.lower()] != "none":
        return "COLLABORATOR"
    return "NONE"


def file_json(u: Urls, repo: Repository, head_sha: str, f: FileDiff) -> dict[str, Any]:
    from urllib.parse import quote

    path = quote(f.filename)
    out: dict[str, Any] = {
        "sha": f.new_sha or f.old_sha,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.changes,
        "blob_url": f"{u.html}/{repo.full_name}/blob/{head_sha}/{path}",
        "raw_url": f"{u.html}/{repo.full_name}/raw/{head_sha}/{path}",
        "contents_url": f"{u.api}/repos/{repo.full_name}/contents/{path}?ref={head_sha}",
    }
    if f.patch is not None:
        out["patch"] = f.patch
    if f.previous_filename is not None:
        out["previous_filename"] = f.previous_filename
    return out


def review_json(u: Urls, review: Review) -> dict[str, Any]:
    pr = review.pull
    pr_url = f"{u.api}/repos/{pr.repo.full_name}/pulls/{pr.number}"
    html = f"{u.html}/{pr.repo.full_name}/pull/{pr.number}#pullrequestreview-{review.id}"
    return {
        "id": review.id,
        "node_id": review.node_id,
        "user": user_json(u, review.user),
        "body": review.body,
        "state": review.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": association(pr.repo, review.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": iso(review.submitted_at),
        "commit_id": review.commit_id,
    }


def review_comment_json(u: Urls, fake: FakeGitHub, c: ReviewComment) -> dict[str, Any]:
    pr = c.pull
    api = f"{u.api}/repos/{pr.repo.full_name}"
    url = f"{api}/pulls/comments/{c.id}"
    html = f"{u.html}/{pr.repo.full_name}/pull/{pr.number}#discussion_r{c.id}"
    outdated = comment_outdated(fake, c)
    out: dict[str, Any] = {
        "url": url,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": c.node_id,
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "position": None if outdated else c.position,
        "original_position": c.position,
        "commit_id": pr.head_sha if not outdated else c.commit_id,
        "original_commit_id": c.original_commit_id,
        "user": user_json(u, c.user),
        "body": c.body,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.created_at),
        "html_url": html,
        "pull_request_url": f"{api}/pulls/{pr.number}",
        "author_association": association(pr.repo, c.user),
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": f"{api}/pulls/{pr.number}"}},
        "reactions": _reaction_summary(url, []),
        "start_line": None if outdated else c.start_line,
        "original_start_line": c.start_line,
        "start_side": c.start_side,
        "line": None if outdated else c.line,
        "original_line": c.line,
        "side": c.side,
        "subject_type": "line",
    }
    if c.in_reply_to_id is not None:
        out["in_reply_to_id"] = c.in_reply_to_id
    return out


def comment_outdated(fake: FakeGitHub, c: ReviewComment) -> bool:
    """A comment is outdated once the pull request's head no longer has the commented
    file content it was made on (the fake's approximation of GitHub's hunk tracking)."""
    pr = c.pull
    store = pr.repo.store
    then = store.commits[c.original_commit_id].files.get(c.path)
    now = store.commits[pr.head_sha].files.get(c.path)
    return then != now


def _reaction_summary(url: str, reactions: list[Reaction]) -> dict[str, Any]:
    out: dict[str, Any] = {"url": f"{url}/reactions", "total_count": len(reactions)}
    for r in REACTIONS:
        out[r] = sum(1 for x in reactions if x.content == r)
    return out


def issue_comment_json(u: Urls, fake: FakeGitHub, c: IssueComment) -> dict[str, Any]:
    repo = c.issue.repo
    api = f"{u.api}/repos/{repo.full_name}"
    url = f"{api}/issues/comments/{c.id}"
    kind = "pull" if c.issue.pull else "issues"
    out = {
        "id": c.id,
        "node_id": c.node_id,
        "url": url,
        "html_url": f"{u.html}/{repo.full_name}/{kind}/{c.issue.number}#issuecomment-{c.id}",
        "body": c.body,
        "user": user_json(u, c.user),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "issue_url": f"{api}/issues/{c.issue.number}",
        "author_association": association(repo, c.user),
        "performed_via_github_app": app_json(u, fake.app) if c.via_app else None,
        "reactions": _reaction_summary(url, c.reactions),
    }
    return out


def reaction_json(u: Urls, r: Reaction) -> dict[str, Any]:
    return {
        "id": r.id,
        "node_id": f"REA_kwDO{r.id}",
        "user": user_json(u, r.user),
        "content": r.content,
        "created_at": iso(r.created_at),
    }


def check_run_json(u: Urls, fake: FakeGitHub, run: CheckRun) -> dict[str, Any]:
    api = f"{u.api}/repos/{run.repo.full_name}"
    url = f"{api}/check-runs/{run.id}"
    prs = [
        i.pull
        for i in run.repo.issues.values()
        if i.pull is not None and i.pull.state == "open" and i.pull.head_sha == run.head_sha
    ]
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": run.node_id,
        "external_id": run.external_id or "",
        "url": url,
        "html_url": f"{u.html}/{run.repo.full_name}/runs/{run.id}",
        "details_url": run.details_url or f"{u.html}/apps/{fake.app.slug}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "output": {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.id + 500_000},
        "app": app_json(u, fake.app),
        "pull_requests": [
            {
                "url": f"{api}/pulls/{pr.number}",
                "id": pr.id,
                "number": pr.number,
                "head": {
                    "ref": pr.head_ref,
                    "sha": pr.head_sha,
                    "repo": {
                        "id": pr.head_repo.id,
                        "url": f"{u.api}/repos/{pr.head_repo.full_name}",
                        "name": pr.head_repo.name,
                    },
                },
                "base": {
                    "ref": pr.base_ref,
                    "sha": pr.base_sha,
                    "repo": {"id": pr.repo.id, "url": api, "name": pr.repo.name},
                },
            }
            for pr in prs
        ],
    }


def annotation_json(run: CheckRun, a: Any, u: Urls) -> dict[str, Any]:
    return {
        "path": a.path,
        "blob_href": f"{u.html}/{run.repo.full_name}/blob/{run.head_sha}/{a.path}",
        "start_line": a.start_line,
        "end_line": a.end_line,
        "start_column": a.start_column,
        "end_column": a.end_column,
        "annotation_level": a.annotation_level,
        "title": a.title,
        "message": a.message,
        "raw_details": a.raw_details,
    }


def permission_json(u: Urls, repo: Repository, user: User) -> dict[str, Any]:
    role = repo.role_of(user)
    legacy = LEGACY_PERMISSION[role]
    order = ["none", "read", "triage", "write", "maintain", "admin"]
    level = order.index(role)
    uj = user_json(u, user)
    uj["permissions"] = {
        "admin": level >= order.index("admin"),
        "maintain": level >= order.index("maintain"),
        "push": level >= order.index("write"),
        "triage": level >= order.index("triage"),
        "pull": level >= order.index("read"),
    }
    uj["role_name"] = role
    return {"permission": legacy, "role_name": role, "user": uj}


def b64_lines(data: bytes) -> str:
    """Base64 with a newline every 60 characters, as GitHub's blob/contents APIs send it."""
    raw = base64.b64encode(data).decode()
    return "".join(raw[i : i + 60] + "\n" for i in range(0, len(raw), 60))
