"""The job: one pull request in, one review and one check run out.

    the pull request  ->  `bot.evaluation` (the review core, shared with ``footgun review``,
    over `bot.github_source`)  ->  `bot.posting` (the review)  ->  `bot.threads` (the
    threads a push fixed)  ->  `bot.check_lifecycle` (the check run)

Runs for one pull request are serialised by the caller (`bot.jobs`); every step is safe
to repeat: a run for a head that is no longer the pull request's head does nothing
(pull request events), and what posting and resolving do is decided from what GitHub
shows at the time (`bot.posting`).

Every analysis has a budget (`bot.budget.Budget`): the manifests it reads and the time
and memory of the rule engine, which runs in a child process (`bot.sandbox`). Over
budget, the review and the check run say what was left out. The run ends either way,
in bounded time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from footgun.rules.config import ConfigError

from .annotations import Conclusion
from .check_lifecycle import (
    complete_check_run,
    fail_check_run,
    finish_check_run,
    report_gave_up,
    start_check_run,
    tell_check_run_refused,
)
from .errors import Forbidden, NotFound, NotYetThere, RateLimited, Transient
from .evaluation import evaluate
from .events import Event
from .github import COMPARE_FILES_MAX, Installation, PullInfo
from .posting import Posting, post_review
from .pull_run import PullRun
from .review import code_block
from .threads import resolve_fixed_threads

if TYPE_CHECKING:
    from .jobs import JobContext

log = logging.getLogger("footgun.analysis")


@dataclass
class Trigger:
    """Why a run happens, and what it may do."""

    reason: str  # opened, synchronize, reopened, ready_for_review, recheck, rerequested
    expected_head: str | None = None  # pull request events: the head the event was about
    force_review: bool = False  # an explicit request reviews drafts too
    new_check_run: bool = False  # "Re-run" asks for a fresh check run
    pull: PullInfo | None = None  # the pull request as the event showed it, on a first run; else read


class Status(StrEnum):
    REVIEWED = "reviewed"
    NOTHING_NEW = "nothing-new"
    DRAFT = "draft"  # findings on the check run; the review waits until the pull request is ready
    SUPERSEDED = "superseded"  # the head moved on: a newer run owns the pull request now
    CLOSED = "closed"  # closed or merged meanwhile: nobody reads a review now
    NO_MANIFESTS = "no-manifests"
    CONFIG_ERROR = "config-error"


@dataclass
class Outcome:
    status: Status
    head_sha: str | None = None
    review_id: int | None = None
    conclusion: Conclusion | None = None
    resolved: int = 0


def analyse(job: JobContext, event: Event, number: int, trigger: Trigger) -> Outcome:
    """Analyse pull request ``number`` of the event's repository for ``trigger``."""
    gh = job.github(event)
    pr = _pull_request(gh, event.repo, number, trigger, job.first_run)
    run = PullRun(job.app, gh, job.cache, pr, job.budget)
    if pr.state != "open":
        log.info("%s closed, nothing to do", run.where)
        return Outcome(Status.CLOSED, pr.head_sha)
    if trigger.expected_head and pr.head_sha != trigger.expected_head:
        log.info(
            "%s head moved from %s to %s, leaving it to the newer run",
            run.where,
            trigger.expected_head[:7],
            pr.head_sha[:7],
        )
        return Outcome(Status.SUPERSEDED, pr.head_sha)
    outcome = run_checked(run, trigger, job)
    log.info(
        "%s head=%s %s conclusion=%s resolved=%d",
        run.where,
        pr.head_sha[:7],
        outcome.status,
        outcome.conclusion,
        outcome.resolved,
    )
    return outcome


def run_checked(run: PullRun, trigger: Trigger, job: JobContext) -> Outcome:
    """The run between its check run's start and its end, whatever happens in between.
    ``job`` tells which try this is: a failure on the last is said on the check run; a
    git object missing on the first may be GitHub still storing a push."""
    try:
        run_id: int | None = start_check_run(run, fresh=trigger.new_check_run or job.first_run)
    except Forbidden as exc:  # the review still comes; the person is told what is missing
        run_id = None
        tell_check_run_refused(run, exc, job.once)
    try:
        return _review(run, trigger, run_id)
    except ConfigError as exc:
        finish_check_run(
            run.gh,
            run.repo,
            run_id,
            "failure",
            {
                "title": "Invalid footgun configuration",
                "summary": f"footgun did not scan this commit: the repository's configuration is invalid.\n\n"
                f"{code_block(str(exc), '')}\n\nFix the file and push, or comment `/footgun recheck`.",
            },
        )
        return Outcome(Status.CONFIG_ERROR, run.pr.head_sha, conclusion="failure")
    except RateLimited:
        raise  # the job waits and runs again; nothing failed
    except NotYetThere as exc:
        if job.attempt == 1 and not job.last_attempt:  # the check run waits for the next try
            raise Transient(f"{exc} (GitHub may still be storing the push: trying again)") from exc
        fail_check_run(run, run_id, exc)
        raise
    except Exception as exc:
        if job.last_attempt or isinstance(exc, (NotFound, Forbidden)):  # no later attempt will finish it
            fail_check_run(run, run_id, exc)
        raise


def _pull_request(gh: Installation, repo: str, number: int, trigger: Trigger, first_run: bool) -> PullInfo:
    """The event's copy of the pull request when its files can be read pinned to its
    head (`Installation.changed_files`): that saves a read, and everything after is about
    that head; the head and state are read again before posting. Otherwise read now."""
    sent = trigger.pull if first_run else None
    if sent is not None and sent.changed_files is not None and sent.changed_files <= COMPARE_FILES_MAX:
        return sent
    return gh.pull(repo, number)


_AFTER_POSTING = {
    Posting.POSTED: Status.REVIEWED,
    Posting.NOTHING_NEW: Status.NOTHING_NEW,
    Posting.SUPERSEDED: Status.SUPERSEDED,
    Posting.CLOSED: Status.CLOSED,
}


def _review(run: PullRun, trigger: Trigger, run_id: int | None) -> Outcome:
    evaluation = evaluate(run.source(), run.budget, run.engine())
    outcome = Outcome(Status.NO_MANIFESTS if not evaluation.manifests_changed else Status.NOTHING_NEW, run.pr.head_sha)
    threads = None
    if evaluation.manifests_changed:
        if run.pr.draft and not trigger.force_review:
            outcome.status = Status.DRAFT
        else:
            posted = post_review(run, evaluation)
            threads = posted.threads
            outcome.status = _AFTER_POSTING[posted.kind]
            outcome.review_id = posted.review_id
    if outcome.status != Status.SUPERSEDED:
        outcome.resolved = resolve_fixed_threads(run, evaluation, threads)
    outcome.conclusion = complete_check_run(run, run_id, evaluation)
    return outcome


def gave_up(job: JobContext, event: Event, number: int, reason: str) -> None:
    """Say on the head's check run that footgun stopped trying, and why."""
    gh = job.github(event)
    report_gave_up(PullRun(job.app, gh, job.cache, gh.pull(event.repo, number), job.budget), reason)
