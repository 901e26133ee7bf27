"""``footgun review``: the review the App would post for a local git diff, offline.

The comparison is the one a pull request makes: from the merge base of ``base`` and
``head`` (``base`` defaults to the default branch: ``origin/HEAD``, else ``main``,
else ``master``) to ``head``. Every manifest of the repository at ``head`` is scanned,
not only the changed ones, so cross-file rules see the whole picture; the review
keeps the findings in changed files plus those elsewhere that the change caused
(absent when the same scan runs on the base). Files are read from git objects
(``git ls-tree``, ``git cat-file``), never from the working tree.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from footgun.rules.config import CONFIG_NAMES, Config, ConfigError, parse_config_text
from footgun.rules.engine import SKIP_DIRS, YAML_SUFFIXES, ScanResult, scan_files
from footgun.rules.model import Finding, Skip

from .diff import FileDiff, parse_git_diff
from .review import ReviewPlan, code_span, escape_prose, plan_review

DEFAULT_BRANCHES = ("origin/HEAD", "main", "master")
NO_FINDINGS = "No findings."
# Skips not worth a reviewer's attention: YAML that simply is not Kubernetes.
QUIET_SKIP_PREFIXES = ("not a Kubernetes manifest",)


class LocalReviewError(Exception):
    """A problem with the repository or the refs, worded for the command line."""


# --- what a change owns (shared with the App) -----------------------------------------


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


# --- git -------------------------------------------------------------------------------


def _git(repo: str, *args: str, stdin: bytes | None = None) -> bytes:
    command = ["git", "-C", repo, "-c", "core.quotePath=false", *args]
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise LocalReviewError("git is not installed (or not on PATH)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip()
        raise LocalReviewError(f"git {args[0]} failed: {message}")
    return done.stdout


def repo_root(repo_dir: str) -> str:
    if not os.path.isdir(repo_dir):
        raise LocalReviewError(f"{repo_dir}: no such directory")
    try:
        out = _git(repo_dir, "rev-parse", "--show-toplevel")
    except LocalReviewError:
        raise LocalReviewError(f"{repo_dir}: not a git repository") from None
    return out.decode().strip()


def resolve(repo: str, ref: str) -> str:
    """The commit a ref names, or a `LocalReviewError` naming the ref."""
    if not ref or ref.startswith("-"):
        raise LocalReviewError(f"unknown revision: {ref!r}")
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    except LocalReviewError:
        raise LocalReviewError(f"unknown revision: {ref!r} is not a commit in {repo}") from None


def default_base(repo: str) -> str:
    """The default branch: ``origin/HEAD``, else ``main``, else ``master``."""
    for candidate in DEFAULT_BRANCHES:
        try:
            resolve(repo, candidate)
            return candidate
        except LocalReviewError:
            continue
    raise LocalReviewError("no default branch found (origin/HEAD, main, master): pass --base")


def merge_base(repo: str, base: str, head: str) -> str:
    try:
        return _git(repo, "merge-base", base, head).decode().strip()
    except LocalReviewError:
        raise LocalReviewError(f"{base} and {head} have no common ancestor") from None


def diff_between(repo: str, base: str, head: str) -> dict[str, FileDiff]:
    out = _git(
        repo,
        "-c",
        "diff.noprefix=false",
        "-c",
        "diff.mnemonicPrefix=false",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--find-renames",
        "--unified=3",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        base,
        head,
        "--",
    )
    return parse_git_diff(out.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class TreeEntry:
    path: str
    sha: str
    size: int


def _tree(repo: str, commit: str) -> list[TreeEntry]:
    out = _git(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", commit)
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        if kind != b"blob" or mode == b"120000":  # symbolic links hold a path, not YAML
            continue
        entries.append(
            TreeEntry(path.decode("utf-8", errors="replace"), sha.decode(), int(size) if size.isdigit() else 0)
        )
    return entries


def _read_blobs(repo: str, shas: list[str]) -> dict[str, bytes]:
    """Blob contents by sha, all through one ``git cat-file --batch``."""
    if not shas:
        return {}
    unique = list(dict.fromkeys(shas))
    out = _git(repo, "cat-file", "--batch", stdin=("\n".join(unique) + "\n").encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        blobs[sha] = out[pos : pos + size]
        pos += size + 1  # the content, then a newline
    return blobs


def is_manifest_path(path: str, config: Config) -> bool:
    """A YAML file to scan: not the config file, not under a vendored or tool folder,
    and in the config's include/exclude scope."""
    name = posixpath.basename(path)
    if not name.endswith(YAML_SUFFIXES) or name in CONFIG_NAMES:
        return False
    if any(part in SKIP_DIRS for part in path.split("/")[:-1]):
        return False
    return config.is_included(path)


def manifests_at(repo: str, commit: str, config: Config) -> dict[str, bytes]:
    """Every YAML file of the repository at ``commit`` (bounded to the config's file
    size limit: the engine reports larger ones as skipped)."""
    entries = [e for e in _tree(repo, commit) if is_manifest_path(e.path, config)]
    blobs = _read_blobs(repo, [e.sha for e in entries])
    limit = config.max_file_bytes + 1
    return {e.path: blobs[e.sha][:limit] for e in entries if e.sha in blobs}


def config_at(repo: str, commit: str) -> Config:
    """The repository's ``.footgun.yml`` at ``commit``, or the defaults."""
    entries = {e.path: e for e in _tree(repo, commit) if e.path in CONFIG_NAMES}
    for name in CONFIG_NAMES:
        if name in entries:
            raw = _read_blobs(repo, [entries[name].sha]).get(entries[name].sha, b"")
            try:
                return parse_config_text(raw, name, repo)
            except ConfigError as exc:
                raise LocalReviewError(f"invalid configuration: {exc}") from None
    return Config(root=repo)


# --- the review ------------------------------------------------------------------------


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
    """Scan ``head`` and plan the review of the change from the merge base with
    ``base`` (default: the default branch) to ``head``."""
    repo = repo_root(repo_dir)
    head_sha = resolve(repo, head)
    base_sha = resolve(repo, base if base is not None else default_base(repo))
    start = merge_base(repo, base_sha, head_sha)
    config = config if config is not None else config_at(repo, head_sha)
    diffs = diff_between(repo, start, head_sha)
    changed = changed_paths_of(diffs)
    review = LocalReview(start, head_sha, diffs)
    if not changed:
        return review
    head_result = scan_files(manifests_at(repo, head_sha, config), config)
    base_fingerprints: set[str] = set()
    if any(f.path not in changed for f in head_result.findings):
        base_result = scan_files(manifests_at(repo, start, config), config)
        base_fingerprints = {f.fingerprint for f in base_result.findings}
    review.findings = select_findings(head_result, base_fingerprints, changed)
    review.skipped = select_skipped(head_result.skipped, changed)
    review.plan = plan_review(review.findings, diffs, set(), head_sha, review.skipped)
    return review


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
