"""Posting the review of what is new on a pull request, safe to repeat.

* what the App already reported is read back from its earlier reviews and comments
  (hidden markers), so a repeated run posts nothing new, and a finding is never
  commented twice;
* the head and state are read again right before posting: a head that moved on is the
  newer run's, a closed pull request gets no review;
* a 422 on the review moves every inline comment into the body and posts once more;
  GitHub creates nothing on a 422, so there is never a duplicate;
* a review whose ``POST`` timed out or got a 5xx may have been created all the same:
  after ``settle`` seconds (GitHub gives up on a request after 10) the App looks for
  its markers on the pull request and posts again only if they are not there.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import Transient, Unprocessable
from .evaluation import Evaluation
from .github import ReviewState, Thread
from .pull_run import PullRun
from .review import ReviewPlan, fingerprints_in

log = logging.getLogger("footgun.analysis")


class Posting(StrEnum):
    POSTED = "reviewed"
    NOTHING_NEW = "nothing-new"
    SUPERSEDED = "superseded"  # the head moved on: a newer run owns the pull request now
    CLOSED = "closed"  # closed or merged meanwhile: nobody reads a review now


@dataclass
class PostingResult:
    """What posting did: its kind, the review's id when one was posted, and the review
    threads when they were read on the way (`bot.threads` needs them too)."""

    kind: Posting
    review_id: int | None = None
    threads: list[Thread] | None = field(default=None, repr=False)


def already_reported(run: PullRun, state: ReviewState) -> set[str]:
    """The finding ids in the App's earlier reviews and review comments on this pull
    request, as ``state`` (read right before posting) shows them."""
    ids: set[str] = set()
    for review in state.reviews:
        if run.app.is_self(review.author):
            ids |= fingerprints_in(review.body)
    for thread in state.threads:  # every review comment is in a thread
        for author, body in thread.comments:
            if run.app.is_self(author):
                ids |= fingerprints_in(body)
    return ids


def post_review(run: PullRun, evaluation: Evaluation) -> PostingResult:
    """Post the review of what is new, unless there is nothing new, the head moved
    meanwhile, or the pull request was closed."""
    pr = run.pr
    if evaluation.plan(pr.head_sha) is None:
        return PostingResult(Posting.NOTHING_NEW)  # nothing to say even before what was said: no need to read it back
    # One read right before posting: the head now, and the markers of what was said.
    state = run.gh.review_state(pr.repo, pr.number)
    known = already_reported(run, state)
    plan = evaluation.plan(pr.head_sha, known)
    if plan is None:
        return PostingResult(Posting.NOTHING_NEW, threads=state.threads)
    if state.head_sha != pr.head_sha:
        log.info("%s head moved before posting, leaving it to the newer run", run.where)
        return PostingResult(Posting.SUPERSEDED, threads=state.threads)
    if state.state and state.state != "open":
        log.info("%s %s before posting: no review", run.where, state.state)
        return PostingResult(Posting.CLOSED, threads=state.threads)
    try:
        return PostingResult(Posting.POSTED, _create_review(run, plan), state.threads)
    except Unprocessable as exc:
        if not plan.comments:
            raise
        log.warning("%s GitHub refused the inline comments (%s); posting them in the review body", run.where, exc)
    # GitHub created nothing: the same review, every finding in the body, once more.
    fallback = evaluation.plan(pr.head_sha, known, inline=False)
    assert fallback is not None
    return PostingResult(Posting.POSTED, _create_review(run, fallback), state.threads)


def _create_review(run: PullRun, plan: ReviewPlan) -> int:
    """``POST`` the review; when the answer leaves open whether GitHub created it (a
    timeout, a 5xx), look for it before posting it again."""
    pr = run.pr
    try:
        return run.gh.create_review(pr.repo, pr.number, **plan.payload())
    except Transient as exc:
        if not exc.maybe_applied:
            raise
        log.warning(
            "%s posting the review failed (%s); it may exist all the same: looking in %.0f s",
            run.where,
            exc,
            run.budget.settle,
        )
    time.sleep(run.budget.settle)
    found = find_posted_review(run, plan)
    if found is not None:
        log.info("%s the review was posted after all (review %s)", run.where, found)
        return found
    log.info("%s the review was not posted: posting it again", run.where)
    return run.gh.create_review(pr.repo, pr.number, **plan.payload())


def find_posted_review(run: PullRun, plan: ReviewPlan) -> int | None:
    """The id of the App's review on this head that carries the plan's markers (in its
    body, or in one of its inline comments)."""
    pr = run.pr
    for review in run.gh.reviews(pr.repo, pr.number):
        if (
            run.app.is_self(review.author)
            and review.commit_id == plan.commit_id
            and fingerprints_in(review.body) & plan.fingerprints
        ):
            return review.id
    if plan.comments:
        for comment in run.gh.review_comments(pr.repo, pr.number):
            if run.app.is_self(comment.author) and fingerprints_in(comment.body) & plan.fingerprints:
                return comment.review_id or comment.id
    return None
