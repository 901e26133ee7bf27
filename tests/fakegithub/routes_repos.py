"""Repository and git-data endpoints.

Mirrors:
* ``GET /repos/{o}/{r}`` https://docs.github.com/en/rest/repos/repos#get-a-repository
* ``GET /repos/{o}/{r}/commits/{ref}`` https://docs.github.com/en/rest/commits/commits#get-a-commit
  (422 "No commit found for SHA: <ref>" for an unknown ref)
* ``GET /repos/{o}/{r}/branches/{branch}`` https://docs.github.com/en/rest/branches/branches#get-a-branch
* ``GET /repos/{o}/{r}/git/trees/{sha}?recursive=1`` https://docs.github.com/en/rest/git/trees#get-a-tree
  (any ``recursive`` value recurses; ``truncated`` past 100,000 entries or 7 MB, both
  configurable through ``FakeGitHub.limits``)
* ``GET /repos/{o}/{r}/git/blobs/{sha}`` https://docs.github.com/en/rest/git/blobs#get-a-blob
  (base64 in 60-character lines)
* ``GET /repos/{o}/{r}/contents/{path}?ref=`` https://docs.github.com/en/rest/repos/contents#get-repository-content
  (files over 1 MB come back with ``encoding: "none"`` and empty ``content``)
* ``GET /repos/{o}/{r}/tarball/{ref}`` https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
  (302 to a short-lived, token-carrying "codeload" URL of the fake serving the gzip tar)
* ``GET /repos/{o}/{r}/compare/{base}...{head}`` https://docs.github.com/en/rest/commits/commits#compare-two-commits
  (``merge_base_commit``, ``status`` ahead/behind/diverged/identical, ``commits`` in
  chronological order, 250 at most without paging; ``files`` of merge base..head, the
  first 300, and only on page 1 when paging; 404 "Not Found" for an unknown ref)
* ``GET /repos/{o}/{r}/collaborators/{user}/permission``
  https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
  (404 "<user> is not a user" only for unknown accounts; non-collaborators get ``read``
  on public and ``none`` on private repositories)
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import quote

from flask import Blueprint, Response, request

from .diff import diff_trees
from .errors import APIError, not_found
from .gitobjects import make_tarball
from .http import fake, json_response, paginate, repo_access, urls
from .serializers import b64_lines, file_json, iso, permission_json, repo_json, user_json
from .state import Repository

bp = Blueprint("repos", __name__)
CONTENTS = ("contents", "read")


@bp.get("/repos/<owner>/<name>")
def get_repo(owner: str, name: str) -> Response:
    _, repo = repo_access(owner, name)
    return json_response(repo_json(urls(), repo))


def commit_json(repo: Repository, sha: str, with_files: bool = True) -> dict:
    u = urls()
    f = fake()
    c = repo.store.commits[sha]
    api = f"{u.api}/repos/{repo.full_name}"
    ident = {"name": c.author_name, "email": c.author_email, "date": iso(c.timestamp)}
    author = f.users.get(c.author_name.lower())
    out = {
        "sha": sha,
        "node_id": f"C_kwDO{sha[:16]}",
        "commit": {
            "author": ident,
            "committer": ident,
            "message": c.message,
            "tree": {"sha": c.tree, "url": f"{api}/git/trees/{c.tree}"},
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"{u.html}/{repo.full_name}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": user_json(u, author) if author else None,
        "committer": user_json(u, author) if author else None,
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{u.html}/{repo.full_name}/commit/{p}"}
            for p in c.parents
        ],
    }
    if with_files:
        parent_files = repo.store.commits[c.parents[0]].files if c.parents else {}
        diffs = diff_trees(parent_files, c.files, repo.store.blobs, f.limits.diff)
        adds = sum(d.additions for d in diffs)
        dels = sum(d.deletions for d in diffs)
        out["stats"] = {"total": adds + dels, "additions": adds, "deletions": dels}
        out["files"] = [file_json(u, repo, sha, d) for d in diffs[:300]]
    return out


@bp.get("/repos/<owner>/<name>/commits/<path:ref>")
def get_commit(owner: str, name: str, ref: str) -> Response:
    if ref.endswith("/check-runs"):
        from .routes_checks import list_for_ref

        return list_for_ref(owner, name, ref[: -len("/check-runs")])
    _, repo = repo_access(owner, name, CONTENTS)
    sha = fake().resolve_ref(repo, ref)
    if sha is None:
        raise APIError(
            422,
            f"No commit found for SHA: {ref}",
            documentation_url="https://docs.github.com/rest/commits/commits#get-a-commit",
        )
    return json_response(commit_json(repo, sha))


@bp.get("/repos/<owner>/<name>/git/commits/<sha>")
def get_git_commit(owner: str, name: str, sha: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    if sha not in repo.store.commits:
        raise not_found("https://docs.github.com/rest/git/commits#get-a-commit-object")
    data = commit_json(repo, sha, with_files=False)
    git = data["commit"]
    git.update({"sha": sha, "node_id": data["node_id"], "html_url": data["html_url"], "parents": data["parents"]})
    return json_response(git)


@bp.get("/repos/<owner>/<name>/branches/<path:branch>")
def get_branch(owner: str, name: str, branch: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    sha = repo.branches.get(branch)
    if sha is None:
        raise APIError(
            404, "Branch not found", documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch"
        )
    u = urls()
    return json_response(
        {
            "name": branch,
            "commit": commit_json(repo, sha, with_files=False),
            "protected": False,
            "_links": {
                "self": f"{u.api}/repos/{repo.full_name}/branches/{branch}",
                "html": f"{u.html}/{repo.full_name}/tree/{branch}",
            },
        }
    )


@bp.get("/repos/<owner>/<name>/git/trees/<path:sha>")
def get_tree(owner: str, name: str, sha: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    f = fake()
    store = repo.store
    tree_sha = sha if sha in store.trees else None
    if tree_sha is None:
        commit_sha = f.resolve_ref(repo, sha)
        if commit_sha is None:
            raise not_found("https://docs.github.com/rest/git/trees#get-a-tree")
        tree_sha = store.commits[commit_sha].tree
    recursive = "recursive" in request.args
    api = f"{urls().api}/repos/{repo.full_name}"
    entries = []
    size = 0
    truncated = False
    for path, e in store.walk_tree(tree_sha, recursive):
        item = {"path": path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type == "blob":
            item["size"] = len(store.blobs[e.sha])
            item["url"] = f"{api}/git/blobs/{e.sha}"
        else:
            item["url"] = f"{api}/git/trees/{e.sha}"
        size += len(json.dumps(item))
        if recursive and (len(entries) >= f.limits.tree_max_entries or size > f.limits.tree_max_bytes):
            truncated = True
            break
        entries.append(item)
    return json_response(
        {"sha": tree_sha, "url": f"{api}/git/trees/{tree_sha}", "tree": entries, "truncated": truncated}
    )


@bp.get("/repos/<owner>/<name>/git/blobs/<sha>")
def get_blob(owner: str, name: str, sha: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    data = repo.store.blobs.get(sha)
    if data is None:
        raise not_found("https://docs.github.com/rest/git/blobs#get-a-blob")
    return json_response(
        {
            "sha": sha,
            "node_id": f"B_kwDO{sha[:16]}",
            "size": len(data),
            "url": f"{urls().api}/repos/{repo.full_name}/git/blobs/{sha}",
            "content": b64_lines(data),
            "encoding": "base64",
        }
    )


def _content_item(repo: Repository, ref_sha: str, path: str, etype: str, sha: str, size: int) -> dict:
    u = urls()
    api = f"{u.api}/repos/{repo.full_name}"
    qpath = quote(path)
    git_url = f"{api}/git/{'blobs' if etype == 'file' else 'trees'}/{sha}"
    html_url = f"{u.html}/{repo.full_name}/{'blob' if etype == 'file' else 'tree'}/{ref_sha}/{qpath}"
    self_url = f"{api}/contents/{qpath}?ref={ref_sha}"
    return {
        "type": etype,
        "size": size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": f"{u.html}/{repo.full_name}/raw/{ref_sha}/{qpath}" if etype == "file" else None,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


@bp.get("/repos/<owner>/<name>/contents", defaults={"path": ""})
@bp.get("/repos/<owner>/<name>/contents/<path:path>")
def get_contents(owner: str, name: str, path: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    f = fake()
    ref = request.args.get("ref") or repo.default_branch
    sha = f.resolve_ref(repo, ref)
    if sha is None:
        raise APIError(
            404,
            f"No commit found for the ref {ref}",
            documentation_url="https://docs.github.com/rest/repos/contents#get-repository-content",
        )
    commit = repo.store.commits[sha]
    entry = repo.store.tree_at_path(commit, path)
    if entry is None:
        raise not_found("https://docs.github.com/rest/repos/contents#get-repository-content")
    path = path.strip("/")
    if entry.type == "tree":
        items = []
        for e in repo.store.trees[entry.sha]:
            child = f"{path}/{e.name}" if path else e.name
            size = len(repo.store.blobs[e.sha]) if e.type == "blob" else 0
            items.append(_content_item(repo, sha, child, "file" if e.type == "blob" else "dir", e.sha, size))
        return json_response(items)
    data = repo.store.blobs[entry.sha]
    item = _content_item(repo, sha, path, "file", entry.sha, len(data))
    if len(data) > f.limits.contents_max:
        item.update({"content": "", "encoding": "none"})
    else:
        item.update({"content": b64_lines(data), "encoding": "base64"})
    return json_response(item)


@bp.get("/repos/<owner>/<name>/tarball", defaults={"ref": ""})
@bp.get("/repos/<owner>/<name>/tarball/<path:ref>")
def get_tarball(owner: str, name: str, ref: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    f = fake()
    sha = f.resolve_ref(repo, ref or repo.default_branch)
    if sha is None:
        raise not_found("https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar")
    token = secrets.token_urlsafe(16)
    f.archive_tokens[token] = f.now() + 300
    location = f"{urls().html}/_codeload/{repo.full_name}/legacy.tar.gz/{sha}?token={token}"
    resp = Response(b"", status=302)
    resp.headers["location"] = location
    return resp


@bp.get("/_codeload/<owner>/<name>/legacy.tar.gz/<sha>")
def codeload(owner: str, name: str, sha: str) -> Response:
    """The redirect target of the tarball endpoint; authorised by its ``token`` query."""
    f = fake()
    token = request.args.get("token", "")
    expiry = f.archive_tokens.get(token)
    repo = f.repos.get(f"{owner}/{name}".lower())
    if expiry is None or expiry < f.now() or repo is None or sha not in repo.store.commits:
        return Response(b"404: Not Found", status=404, mimetype="text/plain")
    top = f"{repo.owner.login}-{repo.name}-{sha[:7]}"
    data = make_tarball(repo.store, repo.store.commits[sha], top)
    resp = Response(data, status=200, mimetype="application/x-gzip")
    resp.headers["content-disposition"] = f"attachment; filename={top}.tar.gz"
    return resp


COMPARE_FILES_MAX = 300
COMPARE_COMMITS_MAX = 250


@bp.get("/repos/<owner>/<name>/compare/<path:basehead>")
def compare(owner: str, name: str, basehead: str) -> Response:
    _, repo = repo_access(owner, name, CONTENTS)
    f = fake()
    base_ref, sep, head_ref = basehead.partition("...")
    base = f.resolve_ref(repo, base_ref) if sep else None
    head = f.resolve_ref(repo, head_ref) if sep else None
    if base is None or head is None:
        raise not_found("https://docs.github.com/rest/commits/commits#compare-two-commits")
    store = repo.store
    merge_base = store.merge_base(base, head)
    if merge_base is None:
        raise not_found("https://docs.github.com/rest/commits/commits#compare-two-commits")
    ahead = store.ancestors(head) - store.ancestors(base)
    behind = store.ancestors(base) - store.ancestors(head)
    status = (
        "identical" if not ahead and not behind else "ahead" if not behind else "behind" if not ahead else "diverged"
    )
    ordered = sorted(ahead, key=lambda sha: (store.commits[sha].timestamp, sha))
    paging = "per_page" in request.args or "page" in request.args
    headers: dict[str, str] = {}
    if paging:
        commits, headers = paginate(ordered)
    else:
        commits = ordered[:COMPARE_COMMITS_MAX]
    u = urls()
    api = f"{u.api}/repos/{repo.full_name}"
    out = {
        "url": f"{api}/compare/{basehead}",
        "html_url": f"{u.html}/{repo.full_name}/compare/{basehead}",
        "permalink_url": f"{u.html}/{repo.full_name}/compare/{base}...{head}",
        "diff_url": f"{u.html}/{repo.full_name}/compare/{basehead}.diff",
        "patch_url": f"{u.html}/{repo.full_name}/compare/{basehead}.patch",
        "base_commit": commit_json(repo, base, with_files=False),
        "merge_base_commit": commit_json(repo, merge_base, with_files=False),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [commit_json(repo, sha, with_files=False) for sha in commits],
    }
    page = request.args.get("page", "1")
    if not paging or page == "1":
        diffs = diff_trees(store.commits[merge_base].files, store.commits[head].files, store.blobs, f.limits.diff)
        out["files"] = [file_json(u, repo, head, d) for d in diffs[:COMPARE_FILES_MAX]]
    return json_response(out, headers=headers)


@bp.get("/repos/<owner>/<name>/collaborators/<username>/permission")
def collaborator_permission(owner: str, name: str, username: str) -> Response:
    _, repo = repo_access(owner, name)
    user = fake().users.get(username.lower())
    if user is None:
        raise APIError(
            404,
            f"{username} is not a user",
            documentation_url="https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user",
        )
    return json_response(permission_json(urls(), repo, user))
