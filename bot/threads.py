"""Resolving the App's review threads whose findings a later push fixed."""

from __future__ import annotations

from .evaluation import Evaluation, scan_tree
from .github import Thread
from .pull_run import PullRun
from .review import finding_id, fingerprints_in


def resolve_fixed_threads(run: PullRun, evaluation: Evaluation, threads: list[Thread] | None = None) -> int:
    """Resolve the App's own open threads whose findings are gone from the head, unless
    someone replied in them (then the conversation is theirs to close); how many.
    ``threads``: the pull request's, when already read."""
    app, pr = run.app, run.pr
    candidates = []
    for thread in threads if threads is not None else run.gh.review_threads(pr.repo, pr.number):
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
        # not scanned yet
        present = scan_tree(run.source(), evaluation.tree, evaluation.config, run.budget, run.engine()).findings
    if evaluation.notes:  # a partial scan cannot tell a fixed finding from one it did not see
        return 0
    still_there = {finding_id(f) for f in present}
    resolved = 0
    for thread_id, ids in candidates:
        if not ids & still_there:
            run.gh.resolve_thread(thread_id)
            resolved += 1
    return resolved
