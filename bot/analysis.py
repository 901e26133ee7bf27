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
  GitHub creates nothing on a 422, so there is never a duplicate;
* a review whose ``POST`` timed out or got a 5xx may have been created all the same:
  after ``settle`` seconds (GitHub gives up on a request after 10) the App looks for
  its markers on the pull request and posts again only if they are not there.

Every analysis has a budget (`Budget`): the manifests it reads (the pull request's
own first, then the nearest others as context) and the time and memory of the rule
engine, which runs in a child process (`bot.sandbox`). Over budget, the review and
the check run say what was left out; if even the pull request's own files do not fit,
they are scanned without the rest of the repository, and failing that listed as not
scanned. The run ends either way, in bounded time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ContextManager

from footgun.rules.config import CONFIG_NAMES, Config, ConfigError
from footgun.rules.engine import ScanResult
from footgun.rules.model import Finding, Skip

from .annotations import annotation, batches, check_run_output, conclusion_for, fit_summary
from .diff import FileDiff, from_pr_files
from .emptied import emptied_services
from .fetch import (
    BlobCache,
    Tree,
    base_key,
    fill_from_patches,
    is_manifest,
    read_config,
    read_manifests,
    read_tree,
    select_manifests,
    unapply_patch,
)
from .github import (
    COMPARE_FILES_MAX,
    PR_FILES_MAX,
    Forbidden,
    GitHubApp,
    Installation,
    NotFound,
    NotYetThere,
    PullInfo,
    RateLimited,
    ReviewState,
    Thread,
    Transient,
    TreeEntry,
    Unprocessable,
)
from .local import changed_paths_of, select_findings, select_skipped
from .review import (
    QUIET_ALONE_PREFIXES,
    ReviewPlan,
    code_block,
    code_span,
    escape_prose,
    finding_id,
    fingerprints_in,
    neutralise,
    plan_review,
)
from .sandbox import EngineFailed, EngineTimeout, is_note
from .sandbox import call as sandboxed_call
from .sandbox import scan as sandboxed_scan
from .units import unit_paths

log = logging.getLogger("footgun.analysis")

CHECK_NAME = "footgun"
SUPERSEDED = "superseded"  # the head moved on: a newer run owns the PR now
CLOSED = "closed"  # closed or merged meanwhile: nobody reads a review now
MAX_ANNOTATIONS = 1000  # 20 requests of 50; the summary table still counts every finding


@dataclass
class Budget:
    """What one analysis may use (``FOOTGUN_MAX_FILES``, ``FOOTGUN_MAX_BYTES``,
    ``FOOTGUN_ENGINE_SECONDS``, ``FOOTGUN_ENGINE_MEMORY_MB``), and how long GitHub may
    still be working on a write the App gave up on (``FOOTGUN_WRITE_SETTLE``)."""

    max_files: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    engine_seconds: float = 120.0
    engine_memory_mb: int = 2048
    settle: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> Budget:
        return cls(
            settings.max_files,
            settings.max_bytes,
            settings.engine_seconds,
            settings.engine_memory_mb,
            settings.write_settle,
        )


@dataclass
class Trigger:
    """Why a run happens, and what it may do."""

    reason: str  # opened, synchronize, reopened, ready_for_review, recheck, rerequested
    expected_head: str | None = None  # pull request events: the head the event was about
    force_review: bool = False  # an explicit request reviews drafts too
    new_check_run: bool = False  # "Re-run" asks for a fresh check run
    first_run: bool = False  # no earlier run of this job can have left a check run to finish
    last_attempt: bool = True  # a failure now is final: say so on the check run
    attempt: int = 1  # the job's try: a git object missing on the first may be GitHub still storing a push
    once: Callable[[str], ContextManager[bool]] | None = None  # a notice's first time (`Context.once`)
    pull: PullInfo | None = None  # the pull request as the event showed it, on a first run; else read
    budget: Budget = field(default_factory=Budget)


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
    review_skips: list[Skip] = field(default_factory=list)  # the PR's files not scanned, and why
    notes: list[Skip] = field(default_factory=list)  # what makes the analysis partial
    all_skips: list[Skip] = field(default_factory=list)
    diffs: dict[str, FileDiff] = field(default_factory=dict)
    manifests_changed: bool = True
    tree: Tree | None = None  # the head's, and its configuration: to scan it later if needed
    config: Config | None = None
    threads: list[Thread] | None = None  # the review threads, when read before posting
    remarks: list[Skip] = field(default_factory=list)  # what a change of the configuration would do


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the run -----------------------------------------------------------------------------


def analyse(
    app: GitHubApp, installation_id: int, cache: BlobCache, repo: str, number: int, trigger: Trigger
) -> Outcome:
    gh = app.installation(installation_id)
    pr = _pull_request(gh, repo, number, trigger)
    if pr.state != "open":
        log.info("pr=%s#%d closed, nothing to do", repo, number)
        return Outcome(CLOSED, pr.head_sha)
    if trigger.expected_head and pr.head_sha != trigger.expected_head:
        log.info(
            "pr=%s#%d head moved from %s to %s, leaving it to the newer run",
            repo,
            number,
            trigger.expected_head[:7],
            pr.head_sha[:7],
        )
        return Outcome(SUPERSEDED, pr.head_sha)

    try:
        run_id = start_check_run(gh, pr, fresh=trigger.new_check_run or trigger.first_run)
    except Forbidden as exc:  # the review still comes; the person is told what is missing
        run_id = None
        _tell_check_run_refused(gh, pr, exc, trigger)
    try:
        outcome = _run(app, gh, cache, pr, trigger, run_id)
    except ConfigError as exc:
        finish_check_run(
            gh,
            pr.repo,
            run_id,
            "failure",
            {
                "title": "Invalid footgun configuration",
                "summary": f"footgun did not scan this commit: the repository's configuration is invalid.\n\n"
                f"{code_block(str(exc), '')}\n\nFix the file and push, or comment `/footgun recheck`.",
            },
        )
        return Outcome("config-error", pr.head_sha, conclusion="failure")
    except RateLimited:
        raise  # the job waits and runs again; nothing failed
    except NotYetThere as exc:
        if trigger.attempt == 1 and not trigger.last_attempt:  # the check run waits for the next try
            raise Transient(f"{exc} (GitHub may still be storing the push: trying again)") from exc
        fail_check_run(gh, pr, run_id, exc)
        raise
    except Exception as exc:
        if trigger.last_attempt or isinstance(exc, (NotFound, Forbidden)):  # no later attempt will finish it
            fail_check_run(gh, pr, run_id, exc)
        raise
    log.info(
        "pr=%s#%d head=%s %s conclusion=%s resolved=%d",
        repo,
        number,
        pr.head_sha[:7],
        outcome.status,
        outcome.conclusion,
        outcome.resolved,
    )
    return outcome


def _pull_request(gh: Installation, repo: str, number: int, trigger: Trigger) -> PullInfo:
    """The event's copy of the pull request when its files can be read pinned to its
    head (`Installation.changed_files`): that saves a read, and everything after is about
    that head; the head and state are read again before posting. Otherwise read now."""
    sent = trigger.pull
    if sent is not None and sent.changed_files is not None and sent.changed_files <= COMPARE_FILES_MAX:
        return sent
    return gh.pull(repo, number)


def _run(
    app: GitHubApp, gh: Installation, cache: BlobCache, pr: PullInfo, trigger: Trigger, run_id: int | None
) -> Outcome:
    evaluation = evaluate(gh, cache, pr, trigger.budget)
    outcome = Outcome("no-manifests" if not evaluation.manifests_changed else "nothing-new", pr.head_sha)
    if evaluation.manifests_changed:
        if pr.draft and not trigger.force_review:
            outcome.status = "draft"
        else:
            posted = post_review(app, gh, pr, evaluation, trigger.budget.settle)
            if posted in (SUPERSEDED, CLOSED):
                outcome.status = str(posted)
            elif posted is not None:
                outcome.status, outcome.review_id = "reviewed", posted
    if outcome.status != SUPERSEDED:
        outcome.resolved = resolve_fixed_threads(app, gh, cache, pr, evaluation, trigger.budget)
    outcome.conclusion = complete_check_run(gh, pr.repo, run_id, evaluation, {finding_id(f) for f in evaluation.owned})
    return outcome


def evaluate(gh: Installation, cache: BlobCache, pr: PullInfo, budget: Budget | None = None) -> Evaluation:
    """Scan the head (every manifest within the budget: cross-file rules need them) and
    keep what the pull request owns: findings in the files it changed, plus findings
    elsewhere that are absent at the merge base."""
    budget = budget or Budget()
    files = gh.changed_files(pr)
    diffs = from_pr_files(files)
    changed = changed_paths_of(diffs)
    head_tree = read_tree(gh, pr.repo, pr.head_sha)
    config, proposed = judging_config(gh, cache, pr, head_tree, files)
    cut = len(files) >= PR_FILES_MAX  # the files past GitHub's cut may be manifests
    if not cut and not any(is_manifest(path, config) for path in diffs):
        return Evaluation(diffs=diffs, manifests_changed=False, tree=head_tree, config=config)
    notes = _complete_tree(head_tree, files)
    fill_from_patches(head_tree, files, cache, pr.base_sha)  # what the patches tell needs no download
    alerts: list[Skip] = []
    if cut:  # what it changes past the cut is scanned as context only: not judged as its own
        alerts.append(
            Skip(
                ".",
                f"GitHub lists only the first {PR_FILES_MAX:,} files of a pull request: "
                f"findings in the others are not attributed to it",
            )
        )
    order = [f["filename"] for f in files if f.get("status") != "removed"]
    built_with = unit_paths(gh, pr.repo, head_tree, config, cache, order, budget.max_files // 4)
    selection = select_manifests(head_tree, config, order, budget.max_files, budget.max_bytes, built_with)
    own = [p for p in selection.paths if p in changed]
    if selection.changed_left_out:
        left = selection.changed_left_out
        alerts.append(
            Skip(
                ".",
                f"{len(left):,} of the {len(own) + len(left):,} manifests it changes were not "
                f"scanned (the first: {code_span(left[0])}): over the App's budget of {_budget_text(budget)} "
                f"per analysis",
            )
        )
    if selection.context_left_out:
        read = selection.context_total - selection.context_left_out
        notes.append(
            Skip(
                ".",
                f"the repository has {_count(selection.context_total, 'other manifest')}: the "
                f"{read:,} nearest to the changed files were read as context for cross-file rules, "
                f"{selection.context_left_out:,} not (the App's budget of {_budget_text(budget)} "
                f"per analysis)",
            )
        )

    engine = EngineTime(budget)
    head_result, scanned, engine_skips = _scan_within(
        gh, cache, pr.repo, head_tree, config, selection.paths, own, engine, notes
    )
    alerts.extend(engine_skips)
    merge_base = MergeBase(gh, cache, pr, config, head_tree, files)
    base_fingerprints: set[str] | None = set()
    if any(f.path not in changed for f in head_result.findings):
        base_fingerprints = _base_fingerprints(merge_base, scanned, engine)
        if base_fingerprints is None:
            notes.append(
                Skip(
                    ".",
                    "findings in files it did not change are left out: the rule engine had no "
                    "time left to tell whether this pull request caused them",
                )
            )
            head_result.findings = [f for f in head_result.findings if f.path in changed]
            base_fingerprints = set()
    owned = select_findings(head_result, base_fingerprints, changed)
    for finding in _emptied_services(merge_base, scanned, engine):
        if finding.fingerprint not in {f.fingerprint for f in head_result.findings}:
            head_result.findings.append(finding)
            owned.append(finding)  # absent at the merge base by construction
    remarks = (
        []
        if proposed is None
        else [_config_change_remark(gh, cache, pr.repo, head_tree, scanned, proposed, head_result.findings, engine)]
    )
    return Evaluation(
        head_findings=list(head_result.findings),
        owned=owned,
        review_skips=select_skipped(head_result.skipped, changed) + alerts,
        notes=notes,
        all_skips=notes + alerts + list(head_result.skipped),
        diffs=diffs,
        tree=head_tree,
        config=config,
        remarks=remarks,
    )


def _emptied_services(merge_base: MergeBase, scanned: list[str], engine: EngineTime) -> list[Finding]:
    """Services left without pods by the manifests the pull request deletes
    (`bot.emptied`); none when it deletes none, or the engine has no time left."""
    gh, pr, config = merge_base.gh, merge_base.pr, merge_base.config
    removed = {
        f["filename"]: f
        for f in merge_base.files
        if f.get("status") == "removed" and is_manifest(f["filename"], config)
    }
    if not removed or engine.remaining() <= 0:
        return []
    head = read_manifests(gh, pr.repo, merge_base.head_tree, config, merge_base.cache, scanned).files
    base = merge_base.from_patches(scanned)
    gone = {path: unapply_patch(b"", entry.get("patch")) for path, entry in removed.items()}
    if base is None or any(text is None for text in gone.values()):  # the patches cannot tell: read the base
        base = merge_base.read([*scanned, *removed])
    else:
        base = {**base, **{path: text for path, text in gone.items() if text is not None}}
    try:
        return engine.call(emptied_services, (head, base, config, frozenset(removed)))
    except (EngineTimeout, EngineFailed) as exc:
        log.warning("pr=%s#%d services left without pods: %s", pr.repo, pr.number, exc)
        return []


def judging_config(
    gh: Installation, cache: BlobCache, pr: PullInfo, head_tree: Tree, files: list[dict[str, Any]]
) -> tuple[Config, tuple[str, Config | ConfigError] | None]:
    """The configuration that judges the pull request: the base branch's, never the one
    the pull request brings (it could switch off the rules that would flag it). When
    the pull request does not touch the file, the head's copy is the merge base's and
    is read from the head's tree; when it does, the base branch's is read, and the
    proposed one is returned beside it (its name, and it or why it does not load)."""
    touched = [
        f["filename"] for f in files if f.get("filename") in CONFIG_NAMES or f.get("previous_filename") in CONFIG_NAMES
    ]
    if not touched:
        return read_config(gh, pr.repo, head_tree, cache), None
    base = read_config(gh, pr.repo, read_tree(gh, pr.repo, pr.base_sha), cache)
    try:
        proposed: Config | ConfigError = read_config(gh, pr.repo, head_tree, cache)
    except ConfigError as exc:
        proposed = exc
    return base, (touched[0], proposed)


MAX_HIDDEN_LISTED = 10


def _config_change_remark(
    gh: Installation,
    cache: BlobCache,
    repo: str,
    tree: Tree,
    scanned: list[str],
    proposed: tuple[str, Config | ConfigError],
    findings: list[Finding],
    engine: EngineTime,
) -> Skip:
    """What the configuration the pull request proposes would do: the findings it
    would hide, from a scan of the same files under it."""
    name, config = proposed
    said = (
        f"This pull request changes {code_span(name)}; footgun judged it with the base branch's "
        f"configuration, as it judges every pull request."
    )
    if isinstance(config, ConfigError):
        return Skip(name, f"{said} The proposed file does not load: {config}")
    paths = [p for p in scanned if config.is_included(p)]
    try:
        if engine.remaining() <= 0:
            raise EngineTimeout("the rule engine had no time left")
        files = read_manifests(gh, repo, tree, config, cache, paths).files
        after, _ = engine.scan(files, config, engine.remaining())
    except (EngineTimeout, EngineFailed) as exc:
        return Skip(name, f"{said} What the change would hide is not known: {exc}.")
    kept = {finding_id(f) for f in after}
    hidden = [f for f in findings if finding_id(f) not in kept]
    if not hidden:
        return Skip(
            name, f"{said} With the change, no finding in the {_count(len(scanned), 'file')} scanned would be hidden."
        )
    listed = "; ".join(f"`{f.rule}` in {code_span(f.path)} line {f.line}" for f in hidden[:MAX_HIDDEN_LISTED])
    more = f"; and {len(hidden) - MAX_HIDDEN_LISTED} more" if len(hidden) > MAX_HIDDEN_LISTED else ""
    return Skip(name, f"{said} With the change, {_count(len(hidden), 'finding')} would be hidden: {listed}{more}.")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _budget_text(budget: Budget) -> str:
    return f"{budget.max_files:,} files and {budget.max_bytes / (1024 * 1024):,.0f} MB"


class EngineTime:
    """The rule engine's share of the budget: seconds it may still run in this analysis."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.spent = 0.0

    def remaining(self) -> float:
        return self.budget.engine_seconds - self.spent

    def scan(
        self, files: dict[str, bytes], config: Config, seconds: float, validate: frozenset[str] = frozenset()
    ) -> tuple[list[Finding], list[Skip]]:
        started = time.monotonic()
        try:
            return sandboxed_scan(files, config, seconds, self.budget.engine_memory_mb, validate)
        finally:
            self.spent += time.monotonic() - started

    def call(self, function: Any, args: tuple) -> Any:
        """``function(*args)`` in the engine's sandbox, within the time left."""
        started = time.monotonic()
        try:
            return sandboxed_call(function, args, self.remaining(), self.budget.engine_memory_mb)
        finally:
            self.spent += time.monotonic() - started


def _scan_within(
    gh: Installation,
    cache: BlobCache,
    repo: str,
    tree: Tree,
    config: Config,
    paths: list[str],
    own: list[str],
    engine: EngineTime,
    notes: list[Skip],
) -> tuple[ScanResult, list[str], list[Skip]]:
    """Scan ``paths`` of ``tree`` within the engine's time; when the engine cannot
    (time, memory), scan the pull request's ``own`` files alone, and failing that
    report them as not scanned. The result, the paths it covers, and the skips for the
    review."""
    manifests = read_manifests(gh, repo, tree, config, cache, paths)
    context = len(paths) > len(own)
    # With context to drop, keep a quarter of the time for scanning the PR's files alone.
    reserve = engine.remaining() * 0.25 if context and own else 0.0
    try:
        findings, skipped = engine.scan(manifests.files, config, engine.remaining() - reserve, frozenset(own))
        notes.extend(s for s in skipped if is_note(s))  # builds not rendered: a partial review
        return ScanResult(findings, [s for s in skipped if not is_note(s)] + manifests.skipped), paths, []
    except (EngineTimeout, EngineFailed) as exc:
        problem = str(exc)
    if context and own:
        log.warning(
            "repo=%s %s over %d manifests: scanning the pull request's %d alone", repo, problem, len(paths), len(own)
        )
        dropped = Skip(
            ".",
            f"{problem} over {len(paths):,} manifests: only the {len(own):,} this pull request "
            f"changes were scanned, without the rest of the repository as context",
        )
        files = {p: manifests.files[p] for p in own if p in manifests.files}
        try:
            findings, skipped = engine.scan(files, config, max(reserve, engine.remaining()), frozenset(own))
            return ScanResult(findings, skipped + [s for s in manifests.skipped if s.path in own]), own, [dropped]
        except (EngineTimeout, EngineFailed) as exc:
            problem = str(exc)
    log.warning("repo=%s %s: the manifests are reported as not scanned", repo, problem)
    if not own:
        notes.append(Skip(".", f"{problem}: the repository's manifests could not be scanned"))
        return ScanResult([], list(manifests.skipped)), [], []
    return (
        ScanResult([], list(manifests.skipped)),
        [],
        [Skip(".", f"{problem}: none of the {len(own):,} manifests it changes could be scanned")],
    )


class MergeBase:
    """The merge base's manifests for one analysis, whoever asks (the base scan, the
    emptied-Service check): from the head and the pull request's patches when they
    tell them (no call), else from GitHub. Each is worked out once: the patches taken
    back once per list of paths, the merge base's tree read once."""

    def __init__(
        self,
        gh: Installation,
        cache: BlobCache,
        pr: PullInfo,
        config: Config,
        head_tree: Tree,
        files: list[dict[str, Any]],
    ) -> None:
        self.gh, self.cache, self.pr, self.config = gh, cache, pr, config
        self.head_tree, self.files = head_tree, files
        self._patched: dict[tuple[str, ...], dict[str, bytes] | None] = {}
        self._tree: Tree | None = None

    def from_patches(self, paths: list[str]) -> dict[str, bytes] | None:
        """`_base_from_patches` of ``paths``; shared, so callers copy before they change it."""
        key = tuple(paths)
        if key not in self._patched:
            self._patched[key] = _base_from_patches(
                self.gh, self.cache, self.pr.repo, self.head_tree, self.config, paths, self.files, self.pr.base_sha
            )
        return self._patched[key]

    def read(self, paths: list[str]) -> dict[str, bytes]:
        """Those of ``paths`` the merge base has, read from its tree on GitHub."""
        if self._tree is None:
            self._tree = read_tree(
                self.gh, self.pr.repo, self.gh.merge_base(self.pr.repo, self.pr.base_sha, self.pr.head_sha)
            )
        wanted = [p for p in paths if p in self._tree.files]
        return read_manifests(self.gh, self.pr.repo, self._tree, self.config, self.cache, wanted).files


def _base_fingerprints(merge_base: MergeBase, paths: list[str], engine: EngineTime) -> set[str] | None:
    """The fingerprints of the findings at the merge base, over the same files as at
    the head; None when the engine runs out of time or memory."""
    contents = merge_base.from_patches(paths)
    if contents is None:
        contents = merge_base.read(paths)
    if engine.remaining() <= 0:
        return None
    try:
        findings, _ = engine.scan(contents, merge_base.config, engine.remaining())
    except (EngineTimeout, EngineFailed) as exc:
        log.warning("pr=%s#%d base scan: %s", merge_base.pr.repo, merge_base.pr.number, exc)
        return None
    return {f.fingerprint for f in findings}


def _base_from_patches(
    gh: Installation,
    cache: BlobCache,
    repo: str,
    head_tree: Tree,
    config: Config,
    paths: list[str],
    files: list[dict[str, Any]],
    base_sha: str = "",
) -> dict[str, bytes] | None:
    """The merge base's version of ``paths`` (those it has), from the head's (already
    read, so from the blob cache) and the pull request's files list, which is the diff
    from the merge base: a file it does not list is the same there, an added, renamed or
    copied one is not there, a modified one is its head text with the patch taken back.
    None when the list cannot tell (cut at GitHub's 3,000 files, a patch left out or
    not matching): the caller reads the merge base instead."""
    if len(files) >= PR_FILES_MAX or head_tree.truncated:
        return None
    listed = {f["filename"]: f for f in files}
    head = read_manifests(gh, repo, head_tree, config, cache, paths).files
    out: dict[str, bytes] = {}
    for path in paths:
        entry = listed.get(path)
        status = entry.get("status") if entry else "unchanged"
        if status == "unchanged":
            if path in head:
                out[path] = head[path]
        elif status in ("modified", "changed"):
            if path not in head:
                continue
            before = unapply_patch(head[path], entry.get("patch"))
            if before is None:
                return None
            out[path] = before
            if base_sha:  # the next push's patch applies to it (`fill_from_patches`)
                cache.put(base_key(base_sha, path), before)
        elif status not in ("added", "renamed", "copied"):
            return None
    return out


def _scan(
    gh: Installation, cache: BlobCache, repo: str, tree: Tree, config: Config, budget: Budget | None = None
) -> ScanResult:
    """Every manifest of ``tree`` within the budget, or nothing if the engine cannot."""
    budget = budget or Budget()
    selection = select_manifests(tree, config, [], budget.max_files, budget.max_bytes)
    manifests = read_manifests(gh, repo, tree, config, cache, selection.paths)
    try:
        findings, skipped = sandboxed_scan(manifests.files, config, budget.engine_seconds, budget.engine_memory_mb)
    except (EngineTimeout, EngineFailed) as exc:
        log.warning("repo=%s scan of %s: %s", repo, tree.commit[:7], exc)
        return ScanResult([], list(manifests.skipped))
    return ScanResult(findings, skipped + manifests.skipped)


def _complete_tree(tree: Tree, files: list[dict[str, Any]]) -> list[Skip]:
    """GitHub cuts recursive trees past 100,000 entries or 7 MB: the PR's own files are
    still known (the files list carries their blob SHA), the rest is partial."""
    if not tree.truncated:
        return []
    for entry in files:
        if entry.get("status") != "removed" and entry.get("sha") and entry["filename"] not in tree.files:
            tree.files[entry["filename"]] = TreeEntry(entry["filename"], entry["sha"], None)
    return [
        Skip(
            ".",
            "the repository is too large for one tree listing from GitHub: only part of it was "
            "scanned as context for cross-file rules",
        )
    ]


# --- the review ------------------------------------------------------------------------------


def already_reported(app: GitHubApp, gh: Installation, pr: PullInfo, state: ReviewState | None = None) -> set[str]:
    """The finding ids in the App's earlier reviews and review comments on this PR (from
    ``state``, the pull request read right before posting, when given)."""
    ids: set[str] = set()
    if state is None:
        for item in gh.reviews(pr.repo, pr.number) + gh.review_comments(pr.repo, pr.number):
            if app.is_self(item.author):
                ids |= fingerprints_in(item.body)
        return ids
    for review in state.reviews:
        if app.is_self(review.author):
            ids |= fingerprints_in(review.body)
    for thread in state.threads:  # every review comment is in a thread
        for author, body in thread.comments:
            if app.is_self(author):
                ids |= fingerprints_in(body)
    return ids


def post_review(
    app: GitHubApp, gh: Installation, pr: PullInfo, evaluation: Evaluation, settle: float = 10.0
) -> int | str | None:
    """Post the review of what is new; its id, None when nothing is, `SUPERSEDED` when
    the head moved meanwhile, `CLOSED` when the pull request was closed."""
    if (
        plan_review(
            evaluation.owned,
            evaluation.diffs,
            set(),
            pr.head_sha,
            evaluation.review_skips,
            notes=evaluation.notes,
            remarks=evaluation.remarks,
        )
        is None
    ):
        return None  # nothing to say even before what was said: no need to read it back
    # One read right before posting: the head now, and the markers of what was said.
    state = gh.review_state(pr.repo, pr.number)
    evaluation.threads = state.threads
    known = already_reported(app, gh, pr, state)
    plan = plan_review(
        evaluation.owned,
        evaluation.diffs,
        known,
        pr.head_sha,
        evaluation.review_skips,
        notes=evaluation.notes,
        remarks=evaluation.remarks,
    )
    if plan is None:
        return None
    if state.head_sha != pr.head_sha:
        log.info("pr=%s#%d head moved before posting, leaving it to the newer run", pr.repo, pr.number)
        return SUPERSEDED
    if state.state and state.state != "open":
        log.info("pr=%s#%d %s before posting: no review", pr.repo, pr.number, state.state)
        return CLOSED
    try:
        return _create_review(app, gh, pr, plan, settle)
    except Unprocessable as exc:
        if not plan.comments:
            raise
        log.warning(
            "pr=%s#%d GitHub refused the inline comments (%s); posting them in the review body", pr.repo, pr.number, exc
        )
    # GitHub created nothing: the same review, every finding in the body, once more.
    fallback = plan_review(
        evaluation.owned,
        {},
        known,
        pr.head_sha,
        evaluation.review_skips,
        notes=evaluation.notes,
        remarks=evaluation.remarks,
    )
    assert fallback is not None
    return _create_review(app, gh, pr, fallback, settle)


def _create_review(app: GitHubApp, gh: Installation, pr: PullInfo, plan: ReviewPlan, settle: float) -> int:
    """``POST`` the review; when the answer leaves open whether GitHub created it (a
    timeout, a 5xx), look for it before posting it again."""
    try:
        return gh.create_review(pr.repo, pr.number, **plan.payload())
    except Transient as exc:
        if not exc.maybe_applied:
            raise
        log.warning(
            "pr=%s#%d posting the review failed (%s); it may exist all the same: looking in %.0f s",
            pr.repo,
            pr.number,
            exc,
            settle,
        )
    time.sleep(settle)
    found = find_posted_review(app, gh, pr, plan)
    if found is not None:
        log.info("pr=%s#%d the review was posted after all (review %s)", pr.repo, pr.number, found)
        return found
    log.info("pr=%s#%d the review was not posted: posting it again", pr.repo, pr.number)
    return gh.create_review(pr.repo, pr.number, **plan.payload())


def find_posted_review(app: GitHubApp, gh: Installation, pr: PullInfo, plan: ReviewPlan) -> int | None:
    """The id of the App's review on this head that carries the plan's markers (in its
    body, or in one of its inline comments)."""
    for review in gh.reviews(pr.repo, pr.number):
        if (
            app.is_self(review.author)
            and review.commit_id == plan.commit_id
            and fingerprints_in(review.body) & plan.fingerprints
        ):
            return review.id
    if plan.comments:
        for comment in gh.review_comments(pr.repo, pr.number):
            if app.is_self(comment.author) and fingerprints_in(comment.body) & plan.fingerprints:
                return comment.review_id or comment.id
    return None


def resolve_fixed_threads(
    app: GitHubApp,
    gh: Installation,
    cache: BlobCache,
    pr: PullInfo,
    evaluation: Evaluation,
    budget: Budget | None = None,
) -> int:
    """Resolve the App's own open threads whose findings are gone from the head, unless
    someone replied in them (then the conversation is theirs to close)."""
    candidates = []
    threads = evaluation.threads if evaluation.threads is not None else gh.review_threads(pr.repo, pr.number)
    for thread in threads:
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
        present = _scan(gh, cache, pr.repo, evaluation.tree, evaluation.config, budget).findings  # not scanned yet
    if evaluation.notes:  # a partial scan cannot tell a fixed finding from one it did not see
        return 0
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
    earlier attempt, or a new one. ``fresh`` creates one without looking: a re-run asks
    for a new one, and a job's first run has no earlier attempt to look for."""
    if not fresh:
        for run in gh.check_runs(pr.repo, pr.head_sha, CHECK_NAME):
            if run.get("status") != "completed":
                return run["id"]
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


def complete_check_run(
    gh: Installation, repo: str, run_id: int | None, evaluation: Evaluation, new_ids: set[str]
) -> str:
    if not evaluation.manifests_changed:
        finish_check_run(
            gh,
            repo,
            run_id,
            "success",
            {
                "title": "No Kubernetes manifests changed",
                "summary": "This pull request changes no YAML manifest, so footgun had nothing to review.",
            },
        )
        return "success"
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
    finish_check_run(gh, repo, run_id, conclusion, output, annotations)
    return conclusion


def _honest(output: dict[str, Any], conclusion: str, evaluation: Evaluation) -> str:
    """The conclusion, and the output saying first what the pull request's proposed
    configuration would hide and what it changes that was not judged: silence about
    what was not read is not a clean bill, so that is never a ``success``."""
    for remark in evaluation.remarks:
        output["summary"] = f"{escape_prose(remark.reason)}\n\n{output['summary']}"
    unjudged = not_judged(evaluation)
    if not unjudged:
        return conclusion
    output["title"] = _not_judged_title(output["title"] if evaluation.head_findings else "", unjudged)
    output["summary"] = _not_judged_text(unjudged) + "\n\n" + output["summary"]
    return "neutral" if conclusion == "success" else conclusion


def not_judged(evaluation: Evaluation) -> list[Skip]:
    """What the pull request changes that the rules did not judge: manifests over the
    budget or the engine's time or memory, files that failed to load. A Helm template
    is not among them (it is no manifest until rendered; the summary lists it)."""
    return [s for s in evaluation.review_skips if not s.reason.startswith(QUIET_ALONE_PREFIXES)]


def _not_judged_title(title: str, unjudged: list[Skip]) -> str:
    files = [s.path for s in unjudged if s.path != "."]
    what = (
        f"{_count(len(files), 'changed file')} not judged"
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
    conclusion: str,
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


def fail_check_run(gh: Installation, pr: PullInfo, run_id: int | None, exc: Exception) -> None:
    """Tell the PR the run failed for good, in words a user can act on. When the check
    run itself cannot be updated, a new one is completed ``neutral`` with the reason:
    GitHub shows the newest run of a name, so a required check is never left waiting
    on one stuck ``in_progress``."""
    if run_id is None:
        return
    try:
        finish_check_run(
            gh,
            pr.repo,
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
        gh.create_check_run(
            pr.repo,
            {
                "name": CHECK_NAME,
                "head_sha": pr.head_sha,
                "external_id": str(pr.number),
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


CHECKS_REFUSED = (
    "**footgun** could not create its check run on this pull request: GitHub refused ({error}). "
    "The App needs the **Checks: read and write** permission; an owner of the account can accept "
    "it in the App's installation settings. Until then footgun reviews pull requests without a "
    "check run."
)


def _tell_check_run_refused(gh: Installation, pr: PullInfo, exc: Forbidden, trigger: Trigger) -> None:
    """A comment on the pull request (once per pull request) naming the permission."""
    log.warning("pr=%s#%d creating the check run was refused: %s", pr.repo, pr.number, exc)
    once = trigger.once(f"checks-refused:{pr.repo.lower()}#{pr.number}") if trigger.once else nullcontext(True)
    with once as first:
        if not first:
            return
        try:
            gh.comment(pr.repo, pr.number, neutralise(CHECKS_REFUSED.format(error=escape_prose(str(exc)[:300]))))
        except Forbidden as refused:
            log.warning("pr=%s#%d the comment saying so was refused too: %s", pr.repo, pr.number, refused)


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


def report_gave_up(app: GitHubApp, installation_id: int, repo: str, number: int, reason: str) -> None:
    """Say on the head's check run that footgun stopped trying, and why (a job whose
    worker died during every try: no code of the run was left to say it)."""
    gh = app.installation(installation_id)
    pr = gh.pull(repo, number)
    runs = [r["id"] for r in gh.check_runs(repo, pr.head_sha, CHECK_NAME) if r.get("status") != "completed"]
    run_id = runs[0] if runs else start_check_run(gh, pr, fresh=True)
    finish_check_run(
        gh,
        repo,
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
