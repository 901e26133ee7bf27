"""Creating pull request reviews, validated like GitHub.

Mirrors ``POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews``
(https://docs.github.com/en/rest/pulls/reviews#create-a-review-for-a-pull-request):

* the review is all-or-nothing: any invalid comment rejects the whole review with 422
  ``{"message": "Unprocessable Entity", "errors": ["<messages joined as a sentence>"]}``
  and nothing is stored;
* a comment's ``line`` must be in a hunk of that file's diff on its ``side`` (``RIGHT``,
  the default: added and context lines; ``LEFT``: removed and context lines), else
  "Line could not be resolved"; an unknown ``path``: "Path could not be resolved";
  a ``start_line`` not before ``line``: "Pull request review thread start line must
  precede the end line."; in another hunk: "Pull request review thread start line must
  be part of the same hunk as the line." (messages as GitHub returns them, see e.g.
  max-sixty/tend#252, github/gh-aw#32910, ubuntu/WSL#244, parkerbxyz/suggest-changes#28);
* a ``commit_id`` that is not part of the pull request: "The commitOID is not part of
  the pull request" (reviewdog/reviewdog#434);
* bodies over 65,536 characters: "Body is too long (maximum is 65536 characters)";
* ``REQUEST_CHANGES`` without a body or comments: "You need to leave a comment indicating
  the requested changes." (hubtty/hubtty#67); ``COMMENT`` without either: 422 with an
  empty error string, as GitHub answers (github/gh-aw#32910);
* no ``event``: a ``PENDING`` review.

Each top-level comment opens a review thread; replies join the thread of the comment
they answer (https://docs.github.com/en/rest/pulls/comments#create-a-reply-for-a-review-comment).
"""

from __future__ import annotations

from typing import Any

from .diff import FileDiff, Hunk
from .errors import APIError, invalid_request, not_found, to_sentence
from .state import FakeGitHub, PullRequest, Review, ReviewComment, ReviewThread, User, node_id

REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}

MSG_LINE = "Line could not be resolved"
MSG_PATH = "Path could not be resolved"
MSG_PRECEDE = "Pull request review thread start line must precede the end line."
MSG_SAME_HUNK = "Pull request review thread start line must be part of the same hunk as the line."
MSG_COMMIT = "The commitOID is not part of the pull request"
MSG_REQUEST_CHANGES = "You need to leave a comment indicating the requested changes."


def body_too_long(limit: int) -> str:
    return f"Body is too long (maximum is {limit} characters)"


def _unprocessable(messages: list[str]) -> APIError:
    return APIError(422, "Unprocessable Entity", errors=[to_sentence(messages)], documentation_url=REVIEW_DOCS)


def _line_index(hunk: Hunk, line: int, side: str) -> int:
    for i, diff_line in enumerate(hunk.lines):
        if side == "LEFT" and diff_line.kind in " -" and diff_line.old_no == line:
            return i
        if side == "RIGHT" and diff_line.kind in " +" and diff_line.new_no == line:
            return i
    return -1


def _validate_comment(c: Any, files: dict[str, FileDiff], body_max: int) -> tuple[list[str], dict[str, Any]]:
    """Messages for one comment (empty if valid) and its resolved anchor."""
    if not isinstance(c, dict):
        raise invalid_request("For 'items', comments must be objects.", REVIEW_DOCS)
    for key in ("path", "body"):
        if key not in c:
            raise invalid_request(f'"{key}" wasn\'t supplied.', REVIEW_DOCS)
    body = c.get("body")
    if not isinstance(body, str):
        raise invalid_request("For 'properties/body', nil is not a string.", REVIEW_DOCS)
    side = c.get("side") or "RIGHT"
    start_side = c.get("start_side") or side
    for name, value in (("side", side), ("start_side", start_side)):
        if value not in ("LEFT", "RIGHT"):
            raise invalid_request(f'For \'properties/{name}\', "{value}" is not one of ["LEFT", "RIGHT"].', REVIEW_DOCS)
    messages: list[str] = []
    if len(body) > body_max:
        messages.append(body_too_long(body_max))
    f = files.get(c["path"])
    if f is None:
        messages.append(MSG_PATH)
        return messages, {}
    line = c.get("line")
    position = c.get("position")
    if line is None and position is not None:
        mapped = f.position_to_line(int(position))
        if mapped is None:
            messages.append(MSG_LINE)
            return messages, {}
        line, side = mapped
    if not isinstance(line, int) or isinstance(line, bool):
        messages.append(MSG_LINE)
        return messages, {}
    hunk = f.find_hunk(line, side)
    if hunk is None:
        messages.append(MSG_LINE)
        return messages, {}
    start_line = c.get("start_line")
    if start_line is not None:
        if not isinstance(start_line, int) or isinstance(start_line, bool):
            raise invalid_request(f"For 'properties/start_line', {start_line!r} is not an integer.", REVIEW_DOCS)
        start_idx = _line_index(hunk, start_line, start_side)
        end_idx = _line_index(hunk, line, side)
        same_side_order_bad = start_side == side and start_line >= line
        if same_side_order_bad:
            messages.append(MSG_PRECEDE)
        elif start_idx < 0:
            messages.append(MSG_SAME_HUNK)
        elif start_idx >= end_idx:
            messages.append(MSG_PRECEDE)
    anchor = {
        "path": c["path"],
        "line": line,
        "side": side,
        "body": body,
        "start_line": start_line,
        "start_side": start_side if start_line is not None else None,
        "diff_hunk": f.diff_hunk_for(line, side),
        "position": _position_of(f, line, side),
    }
    return messages, anchor


def _position_of(f: FileDiff, line: int, side: str) -> int | None:
    pos = 0
    for hunk in f.hunks:
        pos += 1 if pos else 0  # the @@ line of every hunk after the first counts
        for diff_line in hunk.lines:
            pos += 1
            if side == "LEFT" and diff_line.kind in " -" and diff_line.old_no == line:
                return pos
            if side == "RIGHT" and diff_line.kind in " +" and diff_line.new_no == line:
                return pos
    return None


def create_review(fake: FakeGitHub, pr: PullRequest, payload: dict[str, Any], actor: User) -> Review:
    """Validate and store a review with its comments and threads; raise :class:`APIError`
    (422) without storing anything when GitHub would refuse it."""
    event = payload.get("event")
    if event is not None and event not in EVENTS:
        raise invalid_request(
            f'For \'properties/event\', "{event}" is not one of ["APPROVE", "REQUEST_CHANGES", "COMMENT"].', REVIEW_DOCS
        )
    body = payload.get("body", "")
    if body is None or not isinstance(body, str):
        raise invalid_request("For 'properties/body', nil is not a string.", REVIEW_DOCS)
    comments = payload.get("comments") or []
    if not isinstance(comments, list):
        raise invalid_request("For 'properties/comments', it is not an array.", REVIEW_DOCS)
    commit_id = payload.get("commit_id") or pr.head_sha
    if commit_id not in fake.pr_commits(pr):
        raise _unprocessable([MSG_COMMIT])
    if len(body) > fake.limits.body_max:
        raise _unprocessable([body_too_long(fake.limits.body_max)])
    if not body and not comments:
        if event == "REQUEST_CHANGES":
            raise _unprocessable([MSG_REQUEST_CHANGES])
        if event == "COMMENT":
            raise APIError(422, "Unprocessable Entity", errors=[""], documentation_url=REVIEW_DOCS)
    files = {f.filename: f for f in fake.pr_files(pr, head=commit_id)}
    messages: list[str] = []
    anchors: list[dict[str, Any]] = []
    for c in comments:
        msgs, anchor = _validate_comment(c, files, fake.limits.body_max)
        messages.extend(msgs)
        anchors.append(anchor)
    if messages:
        raise _unprocessable(messages)

    now = fake.now()
    state = EVENTS.get(event, "PENDING") if event else "PENDING"
    review = Review(fake.next_id(), pr, actor, body, state, commit_id, now)
    fake.reviews_by_id[review.id] = review
    pr.review_ids.append(review.id)
    for a in anchors:
        comment = ReviewComment(
            fake.next_id(),
            pr,
            review.id,
            actor,
            a["body"],
            a["path"],
            a["line"],
            a["side"],
            a["start_line"],
            a["start_side"],
            commit_id,
            commit_id,
            a["diff_hunk"],
            a["position"],
            now,
        )
        thread_num = fake.next_id()
        thread = ReviewThread(
            node_id("PRRT", "PullRequestReviewThread", thread_num),
            thread_num,
            pr,
            [comment.id],
            comment.path,
            comment.line,
            comment.side,
            comment.start_line,
            comment.start_side,
            commit_id,
        )
        comment.thread_id = thread.id
        fake.comments_by_id[comment.id] = comment
        fake.threads_by_id[thread.id] = thread
        pr.comment_ids.append(comment.id)
        pr.thread_ids.append(thread.id)
        review.comment_ids.append(comment.id)
    return review


def add_reply(fake: FakeGitHub, pr: PullRequest, comment_id: int, actor: User, body: str) -> ReviewComment:
    """Reply in the thread of ``comment_id``; like GitHub, the reply points at the
    thread's top-level comment (``in_reply_to_id``) and comes with its own review."""
    target = fake.comments_by_id.get(comment_id)
    if target is None or target.pull is not pr:
        raise not_found("https://docs.github.com/rest/pulls/comments#create-a-reply-for-a-review-comment")
    if len(body) > fake.limits.body_max:
        raise _unprocessable([body_too_long(fake.limits.body_max)])
    thread = fake.threads_by_id[target.thread_id]
    top = fake.comments_by_id[thread.comment_ids[0]]
    now = fake.now()
    review = Review(fake.next_id(), pr, actor, "", "COMMENTED", pr.head_sha, now)
    fake.reviews_by_id[review.id] = review
    pr.review_ids.append(review.id)
    reply = ReviewComment(
        fake.next_id(),
        pr,
        review.id,
        actor,
        body,
        top.path,
        top.line,
        top.side,
        top.start_line,
        top.start_side,
        top.commit_id,
        top.original_commit_id,
        top.diff_hunk,
        top.position,
        now,
        thread_id=thread.id,
        in_reply_to_id=top.id,
    )
    fake.comments_by_id[reply.id] = reply
    pr.comment_ids.append(reply.id)
    thread.comment_ids.append(reply.id)
    review.comment_ids.append(reply.id)
    return reply
