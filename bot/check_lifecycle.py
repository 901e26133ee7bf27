"""The ``footgun`` check run of a pull request's head: started, completed with the
findings, or failed in words a user can act on.

The summary counts every finding at the head; the annotations are the pull request's
own. Silence about what was not read is not a clean bill: a change not wholly judged
never concludes ``success``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from footgun.rules.model import Skip

from .annotations import Conclusion, annotation, batches, check_run_output, conclusion_for, fit_summary
from .check_run import CHECK_NAME
from .errors import Forbidden, NotFound, Transient
from .evaluation import Evaluation, count
from .github import Installation
from .pull_run import PullRun
from .review import code_span, escape_prose, finding_id, neutralise

log = logging.getLogger("footgun.analysis")

MAX_ANNOTATIONS = 1000  # 20 requests of 50; the summary table still counts every finding
CHECKS_REFUSED = (
    "**footgun** could not create its check run on this pull request: GitHub refused ({error}). "
    "The App needs the **Checks: read and write** permission; an owner of the account can accept "
    "it in the App's installation settings. Until then footgun reviews pull requests without a "
    "check run."
)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_check_run(run: PullRun, fresh: bool = False) -> int:
    """The ``footgun`` check run for this head, in progress: an unfinished one left by an
    earlier attempt, or a new one. ``fresh`` creates one without looking: a re-run asks
    for a new one, and a job's first run has no earlier attempt to look for."""
    pr, gh = run.pr, run.gh
    if not fresh:
        for check in gh.check_runs(pr.repo, pr.head_sha, CHECK_NAME):
            if check.get("status") != "completed":
                return check["id"]
    return gh.create_check_run(
        pr.repo,
        {
            "name": CHECK_NAME,
            "head_sha": pr.head_sha,
            "status": "in_progress",
            "started_at": now_iso(),
            "external_id": str(pr.number),
            "output": {"title": "Scanning manifests", "summary": "footgun is reading the manifests of this commit."},
        },
    )


def complete_check_run(run: PullRun, run_id: int | None, evaluation: Evaluation) -> Conclusion:
    """Complete the check run with the evaluation; its conclusion."""
    if not evaluation.manifests_changed:
        finish_check_run(
            run.gh,
            run.repo,
            run_id,
            "success",
            {
                "title": "No Kubernetes manifests changed",
                "summary": "This pull request changes no YAML manifest, so footgun had nothing to review.",
            },
        )
        return "success"
    new_ids = {finding_id(f) for f in evaluation.owned}
    ordered = sorted(evaluation.head_findings, key=lambda f: finding_id(f) not in new_ids)  # the PR's first
    output = check_run_output(ordered, new_ids, evaluation.all_skips)
    conclusion = _honest(output, conclusion_for(evaluation.head_findings, new_ids), evaluation)
    # The summary table counts every finding; the annotations are the PR's own (its
    # changed files, and what it caused elsewhere): annotating the whole repository
    # would cost a request per 50 findings it already had.
    output.pop("annotations")
    annotations = [annotation(f) for f in ordered if finding_id(f) in new_ids]
    if len(annotations) > MAX_ANNOTATIONS:
        output["summary"] += (
            f"\n\nThe first {MAX_ANNOTATIONS} of {len(annotations)} findings are annotated; "
            f"`footgun scan` lists them all."
        )
        annotations = annotations[:MAX_ANNOTATIONS]
    output["summary"] = fit_summary(output["summary"])
    finish_check_run(run.gh, run.repo, run_id, conclusion, output, annotations)
    return conclusion


def _honest(output: dict[str, Any], conclusion: Conclusion, evaluation: Evaluation) -> Conclusion:
    """The conclusion, and the output saying first what the pull request's proposed
    configuration would hide and what it changes that was not judged: silence about
    what was not read is not a clean bill, so that is never a ``success``."""
    for remark in evaluation.remarks:
        output["summary"] = f"{escape_prose(remark.reason)}\n\n{output['summary']}"
    unjudged = evaluation.not_judged()
    if not unjudged:
        return conclusion
    output["title"] = _not_judged_title(output["title"] if evaluation.head_findings else "", unjudged)
    output["summary"] = _not_judged_text(unjudged) + "\n\n" + output["summary"]
    return "neutral" if conclusion == "success" else conclusion


def _not_judged_title(title: str, unjudged: list[Skip]) -> str:
    files = [s.path for s in unjudged if s.path != "."]
    what = (
        f"{count(len(files), 'changed file')} not judged"
        if files and len(files) == len(unjudged)
        else "not all changes judged"
    )
    return f"{title}; {what}" if title else what[0].upper() + what[1:]


def _not_judged_text(unjudged: list[Skip]) -> str:
    items = [
        f"- {'the pull request' if s.path == '.' else code_span(s.path)}: {escape_prose(s.reason)}"
        for s in unjudged[:20]
    ]
    if len(unjudged) > 20:
        items.append(f"- ... and {len(unjudged) - 20} more.")
    return "**Not everything this pull request changes was judged**, so footgun does not report success:\n" + "\n".join(
        items
    )


def finish_check_run(
    gh: Installation,
    repo: str,
    run_id: int | None,
    conclusion: Conclusion,
    output: dict[str, Any],
    annotations: list[dict[str, Any]] | None = None,
) -> None:
    """Send the output with its annotations, 50 a request (GitHub appends them), and
    complete the run with the last request (nothing without a run: GitHub refused to
    create it, and the pull request was told)."""
    if run_id is None:
        return
    output = {key: neutralise(value) if isinstance(value, str) else value for key, value in output.items()}
    parts = list(batches(annotations or [])) or [[]]
    for n, part in enumerate(parts, 1):
        body: dict[str, Any] = {"output": {**output, "annotations": part} if part else dict(output)}
        if n == len(parts):
            body.update(status="completed", conclusion=conclusion, completed_at=now_iso())
        gh.update_check_run(repo, run_id, body)


def fail_check_run(run: PullRun, run_id: int | None, exc: Exception) -> None:
    """Tell the PR the run failed for good, in words a user can act on. When the check
    run itself cannot be updated, a new one is completed ``neutral`` with the reason:
    GitHub shows the newest run of a name, so a required check is never left waiting
    on one stuck ``in_progress``."""
    if run_id is None:
        return
    try:
        finish_check_run(
            run.gh,
            run.repo,
            run_id,
            "failure",
            {
                "title": "footgun could not finish",
                "summary": f"footgun could not analyse this commit: {_explain(exc)}\n\n"
                f"Comment `/footgun recheck` on the pull request to try again.",
            },
        )
        return
    except Exception as update_failed:
        log.warning("could not report the failure on check run %s (%s): completing a new one", run_id, update_failed)
    try:
        run.gh.create_check_run(
            run.repo,
            {
                "name": CHECK_NAME,
                "head_sha": run.pr.head_sha,
                "external_id": str(run.pr.number),
                "status": "completed",
                "conclusion": "neutral",
                "completed_at": now_iso(),
                "output": {
                    "title": "footgun could not report its result",
                    "summary": neutralise(
                        f"GitHub kept refusing the updates of footgun's check run {run_id}, "
                        f"so this one replaces it. The analysis stopped: {_explain(exc)}\n\n"
                        f"Comment `/footgun recheck` on the pull request to try again."
                    ),
                },
            },
        )
    except Exception:  # the original error matters more
        log.exception("could not complete a check run in place of %s", run_id)


def tell_check_run_refused(
    run: PullRun, exc: Forbidden, once: Callable[[str], AbstractContextManager[bool]] | None
) -> None:
    """A comment on the pull request (once per pull request, when ``once`` can tell)
    naming the permission."""
    pr = run.pr
    log.warning("%s creating the check run was refused: %s", run.where, exc)
    first_time = once(f"checks-refused:{pr.repo.lower()}#{pr.number}") if once else nullcontext(True)
    with first_time as first:
        if not first:
            return
        try:
            run.gh.comment(pr.repo, pr.number, neutralise(CHECKS_REFUSED.format(error=escape_prose(str(exc)[:300]))))
        except Forbidden as refused:
            log.warning("%s the comment saying so was refused too: %s", run.where, refused)


def _explain(exc: Exception) -> str:
    if isinstance(exc, Forbidden):
        return f"GitHub refused access ({exc}). The App may be missing a permission: check its installation settings."
    if isinstance(exc, NotFound):
        return f"something it needed is gone from GitHub ({exc})."
    if isinstance(exc, Transient):
        return (
            f"GitHub kept failing or timing out ({exc}), try after try. Nothing is wrong with the pull "
            f"request; GitHub's status page (https://www.githubstatus.com) may say more."
        )
    return (
        f"an internal error ({exc.__class__.__name__}: {exc}). If it happens again, report it to "
        f"whoever runs footgun for your organisation, with the commit."
    )


def report_gave_up(run: PullRun, reason: str) -> None:
    """Say on the head's check run that footgun stopped trying, and why (a job whose
    worker died during every try: no code of the run was left to say it)."""
    pr = run.pr
    runs = [r["id"] for r in run.gh.check_runs(pr.repo, pr.head_sha, CHECK_NAME) if r.get("status") != "completed"]
    run_id = runs[0] if runs else start_check_run(run, fresh=True)
    finish_check_run(
        run.gh,
        pr.repo,
        run_id,
        "failure",
        {
            "title": "footgun could not finish",
            "summary": f"footgun stopped trying to analyse this commit: {reason}. This usually means the "
            f"repository is too large for the limits footgun runs with: exclude folders that hold no "
            f"manifests in `.footgun.yml`, or ask whoever runs footgun to raise its budgets "
            f"(FOOTGUN_MAX_FILES, FOOTGUN_ENGINE_MEMORY_MB).\n\n"
            f"Comment `/footgun recheck` on the pull request to try again.",
        },
    )
