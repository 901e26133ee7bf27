"""Pull request endpoints: the pull request, its files, reviews and review comments.

Mirrors:
* ``GET /repos/{o}/{r}/pulls[/{n}]`` https://docs.github.com/en/rest/pulls/pulls
* ``GET /repos/{o}/{r}/pulls/{n}/files`` https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files
  ("Responses include a maximum of 3000 files"; 30 a page by default, at most 100)
* ``GET /repos/{o}/{r}/pulls/{n}/commits``
* ``GET|POST /repos/{o}/{r}/pulls/{n}/reviews`` https://docs.github.com/en/rest/pulls/reviews
  (validation in :mod:`tests.fakegithub.reviews`)
* ``GET /repos/{o}/{r}/pulls/{n}/comments``, ``GET /repos/{o}/{r}/pulls/comments/{id}``,
  ``POST /repos/{o}/{r}/pulls/{n}/comments/{id}/replies`` https://docs.github.com/en/rest/pulls/comments
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from .errors import not_found
from .http import content_created, fake, json_body, json_response, paginate, repo_access, urls
from .reviews import add_reply, create_review
from .routes_repos import commit_json
from .serializers import file_json, pull_json, review_comment_json, review_json
from .state import PullRequest, Repository

bp = Blueprint("pulls", __name__)
PR_READ = ("pull_requests", "read")
PR_WRITE = ("pull_requests", "write")


def _pull(repo: Repository, number: int) -> PullRequest:
    pr = fake().pull_request_or_none(repo, number)
    if pr is None:
        raise not_found("https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
    return pr


@bp.get("/repos/<owner>/<name>/pulls")
def list_pulls(owner: str, name: str) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    state = request.args.get("state", "open")
    prs = [i.pull for i in sorted(repo.issues.values(), key=lambda i: -i.number) if i.pull is not None]
    prs = [p for p in prs if state == "all" or p.state == state]
    page, headers = paginate(prs)
    return json_response([pull_json(urls(), f, p) for p in page], headers=headers)


@bp.get("/repos/<owner>/<name>/pulls/<int:number>")
def get_pull(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    return json_response(pull_json(urls(), fake(), _pull(repo, number)))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/files")
def list_files(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    pr = _pull(repo, number)
    files = f.pr_files(pr)
    page, headers = paginate(files, max_total=f.limits.pr_files_max)
    u = urls()
    return json_response([file_json(u, repo, pr.head_sha, d) for d in page], headers=headers)


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/commits")
def list_commits(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    pr = _pull(repo, number)
    store = repo.store
    shas = store.ancestors(pr.head_sha) - store.ancestors(pr.base_sha)
    ordered = sorted(shas, key=lambda s: store.commits[s].timestamp)
    page, headers = paginate(ordered, max_total=250)
    return json_response([commit_json(repo, s, with_files=False) for s in page], headers=headers)


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/reviews")
def list_reviews(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    pr = _pull(repo, number)
    page, headers = paginate([f.reviews_by_id[i] for i in pr.review_ids])
    return json_response([review_json(urls(), r) for r in page], headers=headers)


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/reviews/<int:review_id>")
def get_review(owner: str, name: str, number: int, review_id: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    pr = _pull(repo, number)
    review = f.reviews_by_id.get(review_id)
    if review is None or review.pull is not pr:
        raise not_found("https://docs.github.com/rest/pulls/reviews#get-a-review-for-a-pull-request")
    return json_response(review_json(urls(), review))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/reviews/<int:review_id>/comments")
def list_review_comments_of_review(owner: str, name: str, number: int, review_id: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    pr = _pull(repo, number)
    review = f.reviews_by_id.get(review_id)
    if review is None or review.pull is not pr:
        raise not_found("https://docs.github.com/rest/pulls/reviews#list-comments-for-a-pull-request-review")
    page, headers = paginate([f.comments_by_id[i] for i in review.comment_ids])
    return json_response([review_comment_json(urls(), f, c) for c in page], headers=headers)


@bp.post("/repos/<owner>/<name>/pulls/<int:number>/reviews")
def post_review(owner: str, name: str, number: int) -> Response:
    caller, repo = repo_access(owner, name, PR_WRITE)
    f = fake()
    pr = _pull(repo, number)
    payload = json_body()
    content_created(caller)
    review = create_review(f, pr, payload, f.app.bot)
    return json_response(review_json(urls(), review))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/comments")
def list_review_comments(owner: str, name: str, number: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    pr = _pull(repo, number)
    comments = [f.comments_by_id[i] for i in pr.comment_ids]
    if request.args.get("direction") == "desc":
        comments.reverse()
    page, headers = paginate(comments)
    return json_response([review_comment_json(urls(), f, c) for c in page], headers=headers)


@bp.get("/repos/<owner>/<name>/pulls/comments/<int:comment_id>")
def get_review_comment(owner: str, name: str, comment_id: int) -> Response:
    _, repo = repo_access(owner, name, PR_READ)
    f = fake()
    c = f.comments_by_id.get(comment_id)
    if c is None or c.pull.repo is not repo:
        raise not_found("https://docs.github.com/rest/pulls/comments#get-a-review-comment-for-a-pull-request")
    return json_response(review_comment_json(urls(), f, c))


@bp.post("/repos/<owner>/<name>/pulls/<int:number>/comments/<int:comment_id>/replies")
def reply(owner: str, name: str, number: int, comment_id: int) -> Response:
    caller, repo = repo_access(owner, name, PR_WRITE)
    f = fake()
    pr = _pull(repo, number)
    body = json_body().get("body")
    content_created(caller)
    if not isinstance(body, str):
        from .errors import invalid_request

        raise invalid_request(
            '"body" wasn\'t supplied.',
            "https://docs.github.com/rest/pulls/comments#create-a-reply-for-a-review-comment",
        )
    c = add_reply(f, pr, comment_id, f.app.bot, body)
    return json_response(review_comment_json(urls(), f, c), status=201)
