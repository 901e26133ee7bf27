"""A change in a local git repository, as the review core reads it (`bot.evaluation`).

The comparison is the one a pull request makes: from the merge base of ``base`` and
``head`` (``base`` defaults to the default branch: ``origin/HEAD``, else ``main``,
else ``master``) to ``head``; the base's tip plays the pull request's base branch (its
``.footgun.yml`` judges a change that edits the configuration). Files are read from
git objects (``git ls-tree``, ``git cat-file``), never from the working tree.
"""

from __future__ import annotations

import os
import posixpath
import subprocess

from footgun.rules.config import Config
from footgun.rules.manifests import KUSTOMIZATION_NAMES, load_file
from footgun.rules.model import Skip

from .diff import FileDiff, parse_git_diff
from .fetch import Manifests, Tree
from .github import TreeEntry
from .units import build_inputs

DEFAULT_BRANCHES = ("origin/HEAD", "main", "master")


class LocalReviewError(Exception):
    """A problem with the repository or the refs, worded for the command line."""


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


def tree_at(repo: str, commit: str) -> Tree:
    """Every regular file of ``commit`` with its blob and size (symbolic links hold a
    path, not YAML: left out)."""
    out = _git(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", commit)
    files: dict[str, TreeEntry] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        if kind != b"blob" or mode == b"120000":
            continue
        path = raw_path.decode("utf-8", errors="replace")
        files[path] = TreeEntry(path, sha.decode(), int(size) if size.isdigit() else 0)
    return Tree(commit, files)


def read_blobs(repo: str, shas: list[str]) -> dict[str, bytes]:
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


class GitSource:
    """The change from the merge base of ``base`` and ``head`` to ``head`` in ``repo``
    (`bot.evaluation.ChangeSource`)."""

    def __init__(self, repo_dir: str = ".", base: str | None = None, head: str = "HEAD") -> None:
        self.repo = repo_root(repo_dir)
        self.head = resolve(self.repo, head)
        self.base = resolve(self.repo, base if base is not None else default_base(self.repo))
        self.start = merge_base(self.repo, self.base, self.head)
        self._trees: dict[str, Tree] = {}

    def describe(self) -> str:
        return f"{self.repo}@{self.head[:7]}"

    def diffs(self) -> dict[str, FileDiff]:
        return diff_between(self.repo, self.start, self.head)

    def listing_cut(self) -> Skip | None:
        return None  # git lists every changed file

    def head_tree(self) -> tuple[Tree, list[Skip]]:
        return self._tree(self.head), []

    def base_tree(self) -> Tree:
        return self._tree(self.base)

    def read_blobs(self, tree: Tree, paths: list[str]) -> dict[str, bytes]:
        blobs = read_blobs(self.repo, [tree.files[p].sha for p in paths])
        return {p: blobs[tree.files[p].sha] for p in paths if tree.files[p].sha in blobs}

    def read_manifests(self, tree: Tree, config: Config, paths: list[str]) -> Manifests:
        """``paths`` of ``tree``, cut at the configuration's size limit plus a byte:
        the engine reports a larger file as skipped, so it needs no more to say so."""
        limit = config.max_file_bytes + 1
        return Manifests({p: data[:limit] for p, data in self.read_blobs(tree, paths).items()})

    def built_with(self, tree: Tree, config: Config, changed: list[str], max_reads: int) -> list[str]:
        """What kustomize builds read besides manifests (JSON patches, generators'
        files): every manifest is read anyway (no budget to spend on what is near
        first), but these only when a kustomization names them, as the App reads them."""
        kustomizations = [p for p in tree.files if posixpath.basename(p) in KUSTOMIZATION_NAMES]
        texts = self.read_blobs(tree, kustomizations)
        loaded = [load_file(p, raw, config.limits, config.max_file_bytes) for p, raw in texts.items()]
        return build_inputs(loaded, tree, config)

    def base_files(self, config: Config, paths: list[str]) -> dict[str, bytes]:
        tree = self._tree(self.start)
        return self.read_manifests(tree, config, [p for p in paths if p in tree.files]).files

    def _tree(self, commit: str) -> Tree:
        if commit not in self._trees:
            self._trees[commit] = tree_at(self.repo, commit)
        return self._trees[commit]
