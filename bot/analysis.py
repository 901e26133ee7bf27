"""The job: one pull request in, one review and one check run out.

    fetch (PR files, head tree, manifests, .footgun.yml)  ->  engine (head, and the merge
    base when a finding lies outside the changed files)  ->  the findings the PR owns
    ->  check run + review + resolved threads

The same selection as ``footgun review`` (`bot.local`), so the command line prints the
review the App posts. Runs for one pull request are serialised by the caller
(`bot.jobs`); this module makes every step safe to repeat:

* a run for a head that is no longer the PR's head does nothing (pull request events),
  and the head is read again right before the review is posted;
* what the App already reported is read back from its earlier reviews and comments
  (hidden markers), so a repeated run posts nothing new, and a finding is never
  commented twice;
* a 422 on the review moves every inline comment into the body and posts once more;
  GitHub creates nothing on a 422, so there is never a duplicate.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rules.config import Config, ConfigError
from rules.engine import ScanResult, scan_files
from rules.model import Finding, Skip

from .annotations import batches, check_run_output, conclusion_for
from .diff import FileDiff, from_pr_files
from .fetch import BlobCache, Tree, is_manifest, read_config, read_manifests, read_tree
from .github import (PR_FILES_MAX, Forbidden, GitHubApp, Installation, NotFound, PullInfo, Transient, TreeEntry,
                     Unprocessable)
from .local import changed_paths_of, select_findings, select_skipped
from .review import finding_id, fingerprints_in, neutralise, plan_review

log = logging.getLogger("footgun.analysis")

CHECK_NAME = "footgun"
SUPERSEDED = "superseded"  # the head moved on: a newer run owns the PR now
MAX_ANNOTATIONS = 1000  # 20 requests of 50; the summary table still counts every finding


@dataclass
class Trigger:
    """Why a run happens, and what it may do."""

    reason: str  # opened, synchronize, reopened, ready_for_review, recheck, rerequested
    expected_head: str | None = None  # pull request events: the head the event was about
    force_review: bool = False  # an explicit request reviews drafts too
    new_check_run: bool = False  # "Re-run" asks for a fresh check run
    last_attempt: bool = True  # a failure now is final: say so on the check run


@dataclass
class Outcome:
    status: str  # reviewed, nothing-new, draft, superseded, closed, no-manifests, config-error
    head_sha: str | None = None
    review_id: int | None = None
    conclusion: str | None = None
    resolved: int = 0


@dataclass
class Evaluation:
    head_findings: list[Finding] = field(default_factory=list)  # everything at the head
    owned: list[Finding] = field(default_factory=list)  # what the PR is answerable for
    review_skips: list[Skip] = field(default_factory=list)
    all_skips: list[Skip] = field(default_factory=list)
    diffs: dict[str, FileDiff] = field(default_factory=dict)
    manifests_changed: bool = True
    tree: Tree | None = None  # the head's, and its configuration: to scan it later if needed
    config: Config | None = None


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the run -----------------------------------------------------------------------------

def analyse(app: GitHubApp, installation_id: int, cache: BlobCache, repo: str, number: int,
            trigger: Trigger) -> Outcome:
    gh = app.installation(installation_id)
    pr = gh.pull(repo, number)
    if pr.state != "open":
        log.info("pr=%s#%d closed, nothing to do", repo, number)
        return Outcome("closed", pr.head_sha)
    if trigger.expected_head and pr.head_sha != trigger.expected_head:
        log.info("pr=%s#%d head moved from %s to %s, leaving it to the newer run",
                 repo, number, trigger.expected_head[:7], pr.head_sha[:7])
        return Outcome(SUPERSEDED, pr.head_sha)

    run_id = start_check_run(gh, pr, fresh=trigger.new_check_run)
    try:
        outcome = _run(app, gh, cache, pr, trigger, run_id)
    except ConfigError as exc:
        finish_check_run(gh, pr.repo, run_id, "failure", {
            "title": "Invalid footgun configuration",
            "summary": f"footgun did not scan this commit: the repository's configuration is invalid.\n\n"
                       f"```\n{exc}\n```\n\nFix the file and push, or comment `/footgun recheck`."})
        return Outcome("config-error", pr.head_sha, conclusion="failure")
    except Exception as exc:
        if trigger.last_attempt or isinstance(exc, (NotFound, Forbidden)):  # no later attempt will finish it
            fail_check_run(gh, pr.repo, run_id, exc)
        raise
    log.info("pr=%s#%d head=%s %s conclusion=%s resolved=%d", repo, number, pr.head_sha[:7],
             outcome.status, outcome.conclusion, outcome.resolved)
    return outcome


def _run(app: GitHubApp, gh: Installation, cache: BlobCache, pr: PullInfo, trigger: Trigger,
         run_id: int) -> Outcome:
    evaluation = evaluate(gh, cache, pr)
    outcome = Outcome("no-manifests" if not evaluation.manifests_changed else "nothing-new", pr.head_sha)
    if evaluation.manifests_changed:
        if pr.draft and not trigger.force_review:
            outcome.status = "draft"
        else:
            posted = post_review(app, gh, pr, evaluation)
            if posted == SUPERSEDED:
                outcome.status = SUPERSEDED
            elif posted is not None:
                outcome.status, outcome.review_id = "reviewed", posted
    if outcome.status != SUPERSEDED:
        outcome.resolved = resolve_fixed_threads(app, gh, cache, pr, evaluation)
    outcome.conclusion = complete_check_run(gh, pr.repo, run_id, evaluation,
                                            {finding_id(f) for f in evaluation.owned})
    return outcome


def evaluate(gh: Installation, cache: BlobCache, pr: PullInfo) -> Evaluation:
    """Scan the head (every manifest: cross-file rules need them all) and keep what the
    pull request owns: findings in the files it changed, plus findings elsewhere that are
    absent at the merge base."""
    files = gh.pull_files(pr.repo, pr.number)
    diffs = from_pr_files(files)
    changed = changed_paths_of(diffs)
    head_tree = read_tree(gh, pr.repo, pr.head_sha)
    config = read_config(gh, pr.repo, head_tree, cache)
    if not any(is_manifest(path, config) for path in diffs):
        return Evaluation(diffs=diffs, manifests_changed=False, tree=head_tree, config=config)
    notes = _complete_tree(head_tree, files)
    if len(files) >= PR_FILES_MAX:
        notes.append(Skip(".", f"GitHub lists only the first {PR_FILES_MAX:,} files of a pull request: "
                               f"findings in the others are not attributed to it"))

    head_result = _scan(gh, cache, pr.repo, head_tree, config)
    base_fingerprints: set[str] = set()
    if any(f.path not in changed for f in head_result.findings):
        base_sha = gh.merge_base(pr.repo, pr.base_sha, pr.head_sha)
        base_result = _scan(gh, cache, pr.repo, read_tree(gh, pr.repo, base_sha), config)
        base_fingerprints = {f.fingerprint for f in base_result.findings}
    owned = select_findings(head_result, base_fingerprints, changed)
    return Evaluation(head_findings=list(head_result.findings), owned=owned,
                      review_skips=select_skipped(head_result.skipped, changed),
                      all_skips=notes + list(head_result.skipped), diffs=diffs, tree=head_tree, config=config)


def _scan(gh: Installation, cache: BlobCache, repo: str, tree: Tree, config: Config) -> ScanResult:
    manifests = read_manifests(gh, repo, tree, config, cache)
    result = scan_files(manifests.files, config)
    result.skipped.extend(manifests.skipped)
    return result


def _complete_tree(tree: Tree, files: list[dict[str, Any]]) -> list[Skip]:
    """GitHub cuts recursive trees past 100,000 entries or 7 MB: the PR's own files are
    still known (the files list carries their blob SHA), the rest is partial."""
    if not tree.truncated:
        return []
    for entry in files:
        if entry.get("status") != "removed" and entry.get("sha") and entry["filename"] not in tree.files:
            tree.files[entry["filename"]] = TreeEntry(entry["filename"], entry["sha"], None)
    return [Skip(".", "the repository is too large for one tree listing from GitHub: only part of it was "
                      "scanned as context for cross-file rules")]


# --- the review ------------------------------------------------------------------------------

def already_reported(app: GitHubApp, gh: Installation, pr: PullInfo) -> set[str]:
    """The finding ids in the App's earlier reviews and review comments on this PR."""
    posted = gh.reviews(pr.repo, pr.number) + gh.review_comments(pr.repo, pr.number)
    ids: set[str] = set()
    for item in posted:
        if app.is_self(item.author):
            ids |= fingerprints_in(item.body)
    return ids


def post_review(app: GitHubApp, gh: Installation, pr: PullInfo, evaluation: Evaluation) -> int | str | None:
    """Post the review of what is new; its id, None when nothing is, or `SUPERSEDED`
    when the head moved meanwhile."""
    known = already_reported(app, gh, pr)
    plan = plan_review(evaluation.owned, evaluation.diffs, known, pr.head_sha, evaluation.review_skips)
    if plan is None:
        return None
    if gh.pull(pr.repo, pr.number).head_sha != pr.head_sha:
        log.info("pr=%s#%d head moved before posting, leaving it to the newer run", pr.repo, pr.number)
        return SUPERSEDED
    try:
        return gh.create_review(pr.repo, pr.number, **plan.payload())
    except Unprocessable as exc:
        if not plan.comments:
            raise
        log.warning("pr=%s#%d GitHub refused the inline comments (%s); posting them in the review body",
                    pr.repo, pr.number, exc)
    fallback = plan_review(evaluation.owned, {}, known, pr.head_sha, evaluation.review_skips)
    assert fallback is not None
    return gh.create_review(pr.repo, pr.number, **fallback.payload())


def resolve_fixed_threads(app: GitHubApp, gh: Installation, cache: BlobCache, pr: PullInfo,
                          evaluation: Evaluation) -> int:
    """Resolve the App's own open threads whose findings are gone from the head, unless
    someone replied in them (then the conversation is theirs to close)."""
    candidates = []
    for thread in gh.review_threads(pr.repo, pr.number):
        if thread.resolved or not thread.comments:
            continue
        author, body = thread.comments[0]
        if not app.is_self(author) or any(not app.is_self(a) for a, _ in thread.comments[1:]):
            continue
        ids = fingerprints_in(body)
        if ids:
            candidates.append((thread.id, ids))
    if not candidates:
        return 0
    present = evaluation.head_findings
    if not evaluation.manifests_changed and evaluation.tree is not None and evaluation.config is not None:
        present = _scan(gh, cache, pr.repo, evaluation.tree, evaluation.config).findings  # not scanned yet
    still_there = {finding_id(f) for f in present}
    resolved = 0
    for thread_id, ids in candidates:
        if not ids & still_there:
            gh.resolve_thread(thread_id)
            resolved += 1
    return resolved


# --- the check run ----------------------------------------------------------------------------

def start_check_run(gh: Installation, pr: PullInfo, fresh: bool = False) -> int:
    """The ``footgun`` check run for this head, in progress: an unfinished one left by an
    earlier attempt, or a new one."""
    if not fresh:
        for run in gh.check_runs(pr.repo, pr.head_sha, CHECK_NAME):
            if run.get("status") != "completed":
                return run["id"]
    return gh.create_check_run(pr.repo, {
        "name": CHECK_NAME, "head_sha": pr.head_sha, "status": "in_progress", "started_at": now_iso(),
        "external_id": str(pr.number),
        "output": {"title": "Scanning manifests", "summary": "footgun is reading the manifests of this commit."}})


def complete_check_run(gh: Installation, repo: str, run_id: int, evaluation: Evaluation,
                       new_ids: set[str]) -> str:
    if not evaluation.manifests_changed:
        finish_check_run(gh, repo, run_id, "success", {
            "title": "No Kubernetes manifests changed",
            "summary": "This pull request changes no YAML manifest, so footgun had nothing to review."})
        return "success"
    ordered = sorted(evaluation.head_findings, key=lambda f: finding_id(f) not in new_ids)  # the PR's first
    output = check_run_output(ordered, new_ids, evaluation.all_skips)
    conclusion = conclusion_for(evaluation.head_findings, new_ids)
    annotations = output.pop("annotations")
    if len(annotations) > MAX_ANNOTATIONS:
        output["summary"] += (f"\n\nThe first {MAX_ANNOTATIONS} of {len(annotations)} findings are annotated; "
                              f"`footgun scan` lists them all.")
        annotations = annotations[:MAX_ANNOTATIONS]
    finish_check_run(gh, repo, run_id, conclusion, output, annotations)
    return conclusion


def finish_check_run(gh: Installation, repo: str, run_id: int, conclusion: str, output: dict[str, Any],
                     annotations: list[dict[str, Any]] | None = None) -> None:
    """Send the output with its annotations, 50 a request (GitHub appends them), and
    complete the run with the last request."""
    output = {key: neutralise(value) if isinstance(value, str) else value for key, value in output.items()}
    parts = list(batches(annotations or [])) or [[]]
    for n, part in enumerate(parts, 1):
        body: dict[str, Any] = {"output": {**output, "annotations": part} if part else dict(output)}
        if n == len(parts):
            body.update(status="completed", conclusion=conclusion, completed_at=now_iso())
        gh.update_check_run(repo, run_id, body)


def fail_check_run(gh: Installation, repo: str, run_id: int, exc: Exception) -> None:
    """Tell the PR the run failed for good, in words a user can act on."""
    try:
        finish_check_run(gh, repo, run_id, "failure", {
            "title": "footgun could not finish",
            "summary": f"footgun could not analyse this commit: {_explain(exc)}\n\n"
                       f"Comment `/footgun recheck` on the pull request to try again."})
    except Exception:  # the original error matters more
        log.exception("could not report the failure on check run %s", run_id)


def _explain(exc: Exception) -> str:
    if isinstance(exc, Forbidden):
        return (f"GitHub refused access ({exc}). The App may be missing a permission: "
                f"check its installation settings.")
    if isinstance(exc, NotFound):
        return f"something it needed is gone from GitHub ({exc})."
    if isinstance(exc, Transient):
        return f"GitHub kept failing or rate-limiting its requests ({exc})."
    return f"an internal error ({exc.__class__.__name__}: {exc})."
