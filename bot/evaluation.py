"""The review core: what a change owns, the same for the App and ``footgun review``.

    the change (`ChangeSource`: its diff, its trees, its files)  ->  the configuration
    that judges it  ->  the manifests to read (within a `Budget`)  ->  the engine on the
    head, and on the merge base when a finding lies outside the changed files  ->  the
    findings the change owns, what was not judged, what a configuration change would do

A pull request on GitHub (`bot.github_source`) and a local git diff (`bot.git_source`)
are two sources of one change; `evaluate` is the only place that decides what a
review says, so ``footgun review`` prints the review the App would post. The engine
runs sandboxed for the App (`SandboxedEngine`: hostile input, bounded time and memory)
and in the process for the command line (`InProcessEngine`).

Over budget, the evaluation says what was left out; if even the change's own files do
not fit the engine's time or memory, they are scanned without the rest of the
repository, and failing that listed as not scanned.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from footgun.rules.config import CONFIG_NAMES, Config, ConfigError, parse_config_text
from footgun.rules.engine import ScanResult, is_manifest_path
from footgun.rules.model import Finding, Skip

from .budget import Budget
from .diff import FileDiff
from .emptied import emptied_services
from .fetch import Manifests, Selection, Tree, select_manifests
from .review import QUIET_ALONE_PREFIXES, ReviewPlan, code_span, finding_id, plan_review
from .sandbox import EngineFailed, EngineTimeout, is_note, scan_and_check
from .sandbox import call as sandboxed_call
from .sandbox import scan as sandboxed_scan

log = logging.getLogger("footgun.evaluation")

MAX_HIDDEN_LISTED = 10
# Skips not worth a reviewer's attention: YAML that simply is not Kubernetes.
QUIET_SKIP_PREFIXES = ("not a Kubernetes manifest",)


class ChangeSource(Protocol):
    """Where a change's files come from: a pull request on GitHub, or two commits of a
    local repository. Trees are `bot.fetch.Tree`; paths are the repository's."""

    def describe(self) -> str:
        """The change, for log lines."""
        ...

    def diffs(self) -> dict[str, FileDiff]:
        """What changed, by path at the head (a removed file by its old path), in the
        order the change lists its files."""
        ...

    def listing_cut(self) -> Skip | None:
        """Why the list of changed files may be incomplete, or None."""
        ...

    def head_tree(self) -> tuple[Tree, list[Skip]]:
        """The head's files, and notes when the listing is partial."""
        ...

    def base_tree(self) -> Tree:
        """The files of the base branch's tip, whose configuration judges a change to it."""
        ...

    def read_blobs(self, tree: Tree, paths: list[str]) -> dict[str, bytes]:
        """The contents of ``paths`` of ``tree``."""
        ...

    def read_manifests(self, tree: Tree, config: Config, paths: list[str]) -> Manifests:
        """``paths`` of ``tree`` as the engine reads them (oversized files skipped)."""
        ...

    def built_with(self, tree: Tree, config: Config, changed: list[str], max_reads: int) -> list[str]:
        """Manifests built together with a changed one: read first among the context."""
        ...

    def base_files(self, config: Config, paths: list[str]) -> dict[str, bytes]:
        """Those of ``paths`` the merge base has, with their text there."""
        ...


# --- the engine --------------------------------------------------------------------------


class Engine(Protocol):
    def remaining(self) -> float: ...

    def scan(
        self, files: dict[str, bytes], config: Config, seconds: float, validate: frozenset[str] = frozenset()
    ) -> tuple[list[Finding], list[Skip]]: ...

    def call(self, function: Callable[..., Any], args: tuple) -> Any: ...


class SandboxedEngine:
    """The rule engine in a child process (`bot.sandbox`), within the budget's memory,
    and its share of the budget's time: the seconds it may still run in this analysis."""

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

    def call(self, function: Callable[..., Any], args: tuple) -> Any:
        """``function(*args)`` in the engine's sandbox, within the time left."""
        started = time.monotonic()
        try:
            return sandboxed_call(function, args, self.remaining(), self.budget.engine_memory_mb)
        finally:
            self.spent += time.monotonic() - started


class InProcessEngine:
    """The rule engine in this process, without limits: a local repository, scanned by
    its owner's own command. Fixes are checked as the sandbox checks them."""

    UNBOUNDED = 1e12  # seconds no scan reaches: every share of it is still unbounded

    def remaining(self) -> float:
        return self.UNBOUNDED

    def scan(
        self, files: dict[str, bytes], config: Config, seconds: float, validate: frozenset[str] = frozenset()
    ) -> tuple[list[Finding], list[Skip]]:
        return scan_and_check(files, config, validate)

    def call(self, function: Callable[..., Any], args: tuple) -> Any:
        return function(*args)


# --- the evaluation ------------------------------------------------------------------------


@dataclass
class Evaluation:
    head_findings: list[Finding] = field(default_factory=list)  # everything at the head
    owned: list[Finding] = field(default_factory=list)  # what the change is answerable for
    review_skips: list[Skip] = field(default_factory=list)  # the change's files not scanned, and why
    notes: list[Skip] = field(default_factory=list)  # what makes the analysis partial
    all_skips: list[Skip] = field(default_factory=list)
    diffs: dict[str, FileDiff] = field(default_factory=dict)
    manifests_changed: bool = True
    tree: Tree | None = None  # the head's, and its configuration: to scan it later if needed
    config: Config | None = None
    remarks: list[Skip] = field(default_factory=list)  # what a change of the configuration would do

    def plan(
        self, head_sha: str, known: set[str] | frozenset[str] = frozenset(), inline: bool = True
    ) -> ReviewPlan | None:
        """The review of what is not ``known`` yet (`bot.review.plan_review`); every
        finding in the body when not ``inline``. None when there is nothing to say."""
        return plan_review(
            self.owned,
            self.diffs if inline else {},
            known,
            head_sha,
            self.review_skips,
            notes=self.notes,
            remarks=self.remarks,
        )

    def not_judged(self) -> list[Skip]:
        """What the change has that the rules did not judge: manifests over the budget
        or the engine's time or memory, files that failed to load. A Helm template is
        not among them (it is no manifest until rendered; the summary lists it)."""
        return [s for s in self.review_skips if not s.reason.startswith(QUIET_ALONE_PREFIXES)]


def evaluate(source: ChangeSource, budget: Budget, engine: Engine, config: Config | None = None) -> Evaluation:
    """Scan the head (every manifest within the budget: cross-file rules need them) and
    keep what the change owns: findings in the files it changed, plus findings
    elsewhere that are absent at the merge base. ``config`` judges instead of the
    repository's (`judging_config`) when given."""
    diffs = source.diffs()
    changed = changed_paths_of(diffs)
    head_tree, notes = source.head_tree()
    proposed: tuple[str, Config | ConfigError] | None = None
    if config is None:
        config, proposed = judging_config(source, head_tree, diffs)
    cut = source.listing_cut()  # the files past the cut may be manifests
    if cut is None and not any(_reviewable(path, config) for path in diffs):
        return Evaluation(diffs=diffs, manifests_changed=False, tree=head_tree, config=config)
    alerts: list[Skip] = [cut] if cut is not None else []
    order = [path for path, diff in diffs.items() if not diff.removed]
    built_with = source.built_with(head_tree, config, order, budget.max_files // 4)
    selection = select_manifests(head_tree, config, order, budget.max_files, budget.max_bytes, built_with)
    own = [p for p in selection.paths if p in changed]
    alerts += _left_out_of_own(selection, own, budget)
    notes += _left_out_of_context(selection, budget)
    head = Head(source, head_tree, config, engine)
    scan = _scan_within(head, selection.paths, own)
    alerts.extend(scan.alerts)
    notes.extend(scan.notes)
    head_result = scan.result
    owned = _owned(head, scan, changed, notes)
    for finding in _emptied_services(head, diffs, scan.paths):
        if finding.fingerprint not in {f.fingerprint for f in head_result.findings}:
            head_result.findings.append(finding)
            owned.append(finding)  # absent at the merge base by construction
    remarks = [] if proposed is None else [_config_change_remark(head, scan.paths, proposed, head_result.findings)]
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


def _left_out_of_own(selection: Selection, own: list[str], budget: Budget) -> list[Skip]:
    if not selection.changed_left_out:
        return []
    left = selection.changed_left_out
    return [
        Skip(
            ".",
            f"{len(left):,} of the {len(own) + len(left):,} manifests it changes were not "
            f"scanned (the first: {code_span(left[0])}): over the App's budget of {budget.describe()} "
            f"per analysis",
        )
    ]


def _left_out_of_context(selection: Selection, budget: Budget) -> list[Skip]:
    if not selection.context_left_out:
        return []
    read = selection.context_total - selection.context_left_out
    return [
        Skip(
            ".",
            f"the repository has {count(selection.context_total, 'other manifest')}: the "
            f"{read:,} nearest to the changed files were read as context for cross-file rules, "
            f"{selection.context_left_out:,} not (the App's budget of {budget.describe()} "
            f"per analysis)",
        )
    ]


def _owned(head: Head, scan: HeadScan, changed: set[str], notes: list[Skip]) -> list[Finding]:
    """The head's findings the change owns; the merge base is scanned only when some
    lie outside the changed files. Without time for it, those are dropped (from the
    scan's result too) and ``notes`` says so."""
    result = scan.result
    if not any(f.path not in changed for f in result.findings):
        return select_findings(result, set(), changed)
    at_base = _base_fingerprints(head, scan.paths)
    if at_base is None:
        notes.append(
            Skip(
                ".",
                "findings in files it did not change are left out: the rule engine had no "
                "time left to tell whether this pull request caused them",
            )
        )
        result.findings = [f for f in result.findings if f.path in changed]
        return select_findings(result, set(), changed)
    return select_findings(result, at_base, changed)


def select_findings(
    head_result: ScanResult | Iterable[Finding], base_fingerprints: Iterable[str], changed_paths: Iterable[str]
) -> list[Finding]:
    """The findings a change owns: every finding in a file it changed, plus findings
    elsewhere that it caused (their fingerprints are absent from the base's scan)."""
    findings = head_result.findings if isinstance(head_result, ScanResult) else head_result
    base = set(base_fingerprints)
    changed = set(changed_paths)
    return [f for f in findings if f.path in changed or f.fingerprint not in base]


def select_skipped(skipped: Iterable[Skip], changed_paths: Iterable[str]) -> list[Skip]:
    """Skipped files worth naming in a review: changed ones that failed to load (not
    the YAML files that are simply not Kubernetes manifests)."""
    changed = set(changed_paths)
    return [s for s in skipped if s.path in changed and not s.reason.startswith(QUIET_SKIP_PREFIXES)]


def changed_paths_of(diffs: dict[str, FileDiff]) -> set[str]:
    """Paths a diff leaves at its head (removed files have none)."""
    return {path for path, diff in diffs.items() if not diff.removed}


def _reviewable(path: str, config: Config) -> bool:
    """A manifest, or footgun's configuration (a change to it changes the review)."""
    return is_manifest_path(path, config) or posixpath.basename(path) in CONFIG_NAMES


def config_in(source: ChangeSource, tree: Tree) -> Config:
    """The repository's ``.footgun.yml`` in ``tree``, or the defaults. `ConfigError`
    names the file when it is invalid."""
    for name in CONFIG_NAMES:
        if name in tree.files:
            return parse_config_text(source.read_blobs(tree, [name])[name], name)
    return Config()


def judging_config(
    source: ChangeSource, head_tree: Tree, diffs: dict[str, FileDiff]
) -> tuple[Config, tuple[str, Config | ConfigError] | None]:
    """The configuration that judges the change: the base branch's, never the one the
    change brings (it could switch off the rules that would flag it). When the change
    does not touch the file, the head's copy is the merge base's and is read from the
    head's tree; when it does, the base branch's is read, and the proposed one is
    returned beside it (its name, and it or why it does not load)."""
    touched = [path for path, diff in diffs.items() if path in CONFIG_NAMES or diff.previous_path in CONFIG_NAMES]
    if not touched:
        return config_in(source, head_tree), None
    base = config_in(source, source.base_tree())
    try:
        proposed: Config | ConfigError = config_in(source, head_tree)
    except ConfigError as exc:
        proposed = exc
    return base, (touched[0], proposed)


@dataclass
class Head:
    """The head under judgement: where its files come from, its tree, the configuration
    that judges it, and the engine with the time it has left."""

    source: ChangeSource
    tree: Tree
    config: Config
    engine: Engine

    def read(self, paths: list[str], config: Config | None = None) -> Manifests:
        return self.source.read_manifests(self.tree, config or self.config, paths)


@dataclass
class HeadScan:
    """The head's scan: its result, the paths it covers, and what it could not do
    (``alerts`` for the review, ``notes`` when the whole analysis is partial)."""

    result: ScanResult
    paths: list[str]
    alerts: list[Skip] = field(default_factory=list)
    notes: list[Skip] = field(default_factory=list)


def _scan_within(head: Head, paths: list[str], own: list[str]) -> HeadScan:
    """Scan ``paths`` of the head within the engine's time; when the engine cannot
    (time, memory), scan the change's ``own`` files alone, and failing that report
    them as not scanned."""
    engine, config = head.engine, head.config
    manifests = head.read(paths)
    context = len(paths) > len(own)
    # With context to drop, keep a quarter of the time for scanning the change's files alone.
    reserve = engine.remaining() * 0.25 if context and own else 0.0
    try:
        findings, skipped = engine.scan(manifests.files, config, engine.remaining() - reserve, frozenset(own))
        kept = [s for s in skipped if not is_note(s)] + manifests.skipped
        # builds not rendered (no kustomize on this machine): the whole review is partial
        return HeadScan(ScanResult(findings, kept), paths, notes=[s for s in skipped if is_note(s)])
    except (EngineTimeout, EngineFailed) as exc:
        problem = str(exc)
    where = head.source.describe()
    if context and own:
        log.warning("%s %s over %d manifests: scanning the change's %d alone", where, problem, len(paths), len(own))
        dropped = Skip(
            ".",
            f"{problem} over {len(paths):,} manifests: only the {len(own):,} this pull request "
            f"changes were scanned, without the rest of the repository as context",
        )
        files = {p: manifests.files[p] for p in own if p in manifests.files}
        try:
            findings, skipped = engine.scan(files, config, max(reserve, engine.remaining()), frozenset(own))
            kept = skipped + [s for s in manifests.skipped if s.path in own]
            return HeadScan(ScanResult(findings, kept), own, alerts=[dropped])
        except (EngineTimeout, EngineFailed) as exc:
            problem = str(exc)
    log.warning("%s %s: the manifests are reported as not scanned", where, problem)
    nothing = ScanResult([], list(manifests.skipped))
    if not own:
        return HeadScan(nothing, [], notes=[Skip(".", f"{problem}: the repository's manifests could not be scanned")])
    return HeadScan(
        nothing, [], alerts=[Skip(".", f"{problem}: none of the {len(own):,} manifests it changes could be scanned")]
    )


def _base_fingerprints(head: Head, paths: list[str]) -> set[str] | None:
    """The fingerprints of the findings at the merge base, over the same files as at
    the head; None when the engine runs out of time or memory."""
    engine = head.engine
    contents = head.source.base_files(head.config, paths)
    if engine.remaining() <= 0:
        return None
    try:
        findings, _ = engine.scan(contents, head.config, engine.remaining())
    except (EngineTimeout, EngineFailed) as exc:
        log.warning("%s base scan: %s", head.source.describe(), exc)
        return None
    return {f.fingerprint for f in findings}


def _emptied_services(head: Head, diffs: dict[str, FileDiff], scanned: list[str]) -> list[Finding]:
    """Services left without pods by the manifests the change deletes (`bot.emptied`);
    none when it deletes none, or the engine has no time left."""
    config = head.config
    removed = [path for path, diff in diffs.items() if diff.removed and _reviewable(path, config)]
    if not removed or head.engine.remaining() <= 0:
        return []
    now = head.read(scanned).files
    before = head.source.base_files(config, [*scanned, *removed])
    try:
        return head.engine.call(emptied_services, (now, before, config, frozenset(removed)))
    except (EngineTimeout, EngineFailed) as exc:
        log.warning("%s services left without pods: %s", head.source.describe(), exc)
        return []


def _config_change_remark(
    head: Head, scanned: list[str], proposed: tuple[str, Config | ConfigError], findings: list[Finding]
) -> Skip:
    """What the configuration the change proposes would do: the findings it would
    hide, from a scan of the same files under it."""
    name, config = proposed
    said = (
        f"This pull request changes {code_span(name)}; footgun judged it with the base branch's "
        f"configuration, as it judges every pull request."
    )
    if isinstance(config, ConfigError):
        return Skip(name, f"{said} The proposed file does not load: {config}")
    paths = [p for p in scanned if config.is_included(p)]
    engine = head.engine
    try:
        if engine.remaining() <= 0:
            raise EngineTimeout("the rule engine had no time left")
        files = head.read(paths, config).files
        after, _ = engine.scan(files, config, engine.remaining())
    except (EngineTimeout, EngineFailed) as exc:
        return Skip(name, f"{said} What the change would hide is not known: {exc}.")
    kept = {finding_id(f) for f in after}
    hidden = [f for f in findings if finding_id(f) not in kept]
    if not hidden:
        return Skip(
            name, f"{said} With the change, no finding in the {count(len(scanned), 'file')} scanned would be hidden."
        )
    listed = "; ".join(f"`{f.rule}` in {code_span(f.path)} line {f.line}" for f in hidden[:MAX_HIDDEN_LISTED])
    more = f"; and {len(hidden) - MAX_HIDDEN_LISTED} more" if len(hidden) > MAX_HIDDEN_LISTED else ""
    return Skip(name, f"{said} With the change, {count(len(hidden), 'finding')} would be hidden: {listed}{more}.")


def scan_tree(source: ChangeSource, tree: Tree, config: Config, budget: Budget, engine: Engine) -> ScanResult:
    """Every manifest of ``tree`` within the budget, or nothing if the engine cannot."""
    selection = select_manifests(tree, config, [], budget.max_files, budget.max_bytes)
    manifests = source.read_manifests(tree, config, selection.paths)
    try:
        findings, skipped = engine.scan(manifests.files, config, budget.engine_seconds)
    except (EngineTimeout, EngineFailed) as exc:
        log.warning("%s scan of %s: %s", source.describe(), tree.commit[:7], exc)
        return ScanResult([], list(manifests.skipped))
    return ScanResult(findings, skipped + manifests.skipped)


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
