"""Issues, issue comments (a pull request's conversation) and reactions.

Mirrors:
* ``GET /repos/{o}/{r}/issues/{n}`` https://docs.github.com/en/rest/issues/issues#get-an-issue
* ``GET|POST /repos/{o}/{r}/issues/{n}/comments``, ``GET|PATCH /repos/{o}/{r}/issues/comments/{id}``
  https://docs.github.com/en/rest/issues/comments (201 on create; a body over 65,536
  characters answers 422 "Validation Failed" with
  ``{"resource": "IssueComment", "code": "unprocessable", "field": "data",
  "message": "Body is too long (maximum is 65536 characters)"}``, as seen in
  jmikedupont2/ai-ticket#51)
* ``GET|POST /repos/{o}/{r}/issues/comments/{id}/reactions``
  https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
  (201 for a new reaction, 200 when the same user already reacted with that content;
  content one of +1, -1, laugh, confused, heart, hooray, rocket, eyes)
"""

from __future__ import annotations

from flask import Blueprint, Response

from .errors import APIError, invalid_request, not_found
from .http import content_created, fake, json_body, json_response, paginate, repo_access, urls
from .serializers import issue_comment_json, issue_json, reaction_json
from .state import REACTIONS, Issue, IssueComment, Reaction, Repository

bp = Blueprint("issues", __name__)
READ = (("issues", "read"), ("pull_requests", "read"))
WRITE = (("issues", "write"), ("pull_requests", "write"))
DOCS_COMMENT = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"


def _issue(repo: Repository, number: int) -> Issue:
    issue = repo.issues.get(number)
    if issue is None:
        raise not_found("https://docs.github.com/rest/issues/issues#get-an-issue")
    return issue


def _comment(repo: Repository, comment_id: int) -> IssueComment:
    c = fake().issue_comments.get(comment_id)
    if c is None or c.issue.repo is not repo:
        raise not_found("https://docs.github.com/rest/issues/comments#get-an-issue-comment")
    return c


def _check_body(body: object, docs: str) -> str:
    if not isinstance(body, str):
        raise invalid_request('"body" wasn\'t supplied.', docs)
    limit = fake().limits.body_max
    if len(body) > limit:
        raise APIError(
            422,
            "Validation Failed",
            documentation_url=docs,
            errors=[
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": f"Body is too long (maximum is {limit} characters)",
                }
            ],
        )
    return body


@bp.get("/repos/<owner>/<name>/issues/<int:number>")
def get_issue(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, *READ)
    return json_response(issue_json(urls(), fake(), _issue(repo, number)))


@bp.get("/repos/<owner>/<name>/issues/<int:number>/comments")
def list_comments(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, *READ)
    f = fake()
    issue = _issue(repo, number)
    comments = sorted((c for c in f.issue_comments.values() if c.issue is issue), key=lambda c: c.id)
    page, headers = paginate(comments)
    return json_response([issue_comment_json(urls(), f, c) for c in page], headers=headers)


@bp.post("/repos/<owner>/<name>/issues/<int:number>/comments")
def create_comment(owner: str, name: str, number: int) -> Response:
    caller, repo = repo_access(owner, name, *WRITE)
    f = fake()
    issue = _issue(repo, number)
    content_created(caller)
    body = _check_body(json_body().get("body"), DOCS_COMMENT)
    now = f.now()
    c = IssueComment(f.next_id(), issue, f.app.bot, body, now, now, via_app=True)
    f.issue_comments[c.id] = c
    return json_response(issue_comment_json(urls(), f, c), status=201)


@bp.get("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def get_comment(owner: str, name: str, comment_id: int) -> Response:
    _, repo = repo_access(owner, name, *READ)
    return json_response(issue_comment_json(urls(), fake(), _comment(repo, comment_id)))


@bp.patch("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def update_comment(owner: str, name: str, comment_id: int) -> Response:
    _, repo = repo_access(owner, name, *WRITE)
    f = fake()
    c = _comment(repo, comment_id)
    if c.user is not f.app.bot:
        raise APIError(403, "Resource not accessible by integration")
    c.body = _check_body(
        json_body().get("body"), "https://docs.github.com/rest/issues/comments#update-an-issue-comment"
    )
    c.updated_at = f.now()
    return json_response(issue_comment_json(urls(), f, c))


@bp.get("/repos/<owner>/<name>/issues/comments/<int:comment_id>/reactions")
def list_reactions(owner: str, name: str, comment_id: int) -> Response:
    _, repo = repo_access(owner, name, *READ)
    page, headers = paginate(_comment(repo, comment_id).reactions)
    return json_response([reaction_json(urls(), r) for r in page], headers=headers)


@bp.post("/repos/<owner>/<name>/issues/comments/<int:comment_id>/reactions")
def create_reaction(owner: str, name: str, comment_id: int) -> Response:
    _, repo = repo_access(owner, name, *WRITE)
    f = fake()
    c = _comment(repo, comment_id)
    content = json_body().get("content")
    if content is None:
        raise invalid_request(
            '"content" wasn\'t supplied.',
            "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment",
        )
    if content not in REACTIONS:
        options = ", ".join(f'"{r}"' for r in REACTIONS)
        raise invalid_request(
            f"For 'properties/content', \"{content}\" is not one of [{options}].",
            "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment",
        )
    existing = next((r for r in c.reactions if r.user is f.app.bot and r.content == content), None)
    if existing:
        return json_response(reaction_json(urls(), existing), status=200)
    r = Reaction(f.next_id(), f.app.bot, content, f.now())
    c.reactions.append(r)
    return json_response(reaction_json(urls(), r), status=201)
