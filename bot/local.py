"""``footgun review``: the review the App would post for a local git diff, offline.

The change is read from git (`bot.git_source`: from the merge base of ``base`` and
``head`` to ``head``, as a pull request compares) and judged by the App's own review
core (`bot.evaluation.evaluate`): every manifest at ``head`` is scanned, the findings
kept are those in changed files plus those elsewhere the change caused, a change to
``.footgun.yml`` is judged with the base's and its effect said. Only the engine differs:
it runs in this process, without the App's budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from footgun.rules.config import Config, ConfigError
from footgun.rules.model import Finding, Skip

from .budget import Budget
from .diff import FileDiff
from .evaluation import InProcessEngine, evaluate
from .git_source import GitSource, LocalReviewError
from .review import ReviewPlan, code_span, escape_prose

NO_FINDINGS = "No findings."


@dataclass
class LocalReview:
    base: str  # the merge base compared against
    head: str
    diffs: dict[str, FileDiff]
    findings: list[Finding] = field(default_factory=list)  # those the change owns
    skipped: list[Skip] = field(default_factory=list)
    plan: ReviewPlan | None = None


def local_review(
    repo_dir: str = ".", base: str | None = None, head: str = "HEAD", config: Config | None = None
) -> LocalReview:
    """The review of the change from the merge base with ``base`` (default: the
    default branch) to ``head``; ``config`` judges instead of the base's when given."""
    source = GitSource(repo_dir, base, head)
    try:
        evaluation = evaluate(source, Budget.unlimited(), InProcessEngine(), config)
    except ConfigError as exc:
        raise LocalReviewError(f"invalid configuration: {exc}") from None
    return LocalReview(
        source.start,
        source.head,
        evaluation.diffs,
        evaluation.owned,
        evaluation.review_skips,
        evaluation.plan(source.head),
    )


def review_markdown(
    repo_dir: str = ".", base: str | None = None, head: str = "HEAD", config: Config | None = None
) -> str:
    """The review as Markdown, or "No findings." when the change owns none."""
    review = local_review(repo_dir, base, head, config)
    if review.plan is not None:
        return review.plan.to_markdown()
    if not review.skipped:
        return NO_FINDINGS
    listing = "\n".join(f"- {code_span(s.path)}: {escape_prose(s.reason)}" for s in review.skipped)
    return f"{NO_FINDINGS}\n\n### Files not scanned\n\n{listing}\n"
