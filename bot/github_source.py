"""A pull request on GitHub, as the review core reads it (`bot.evaluation`), with few calls.

Everything is read through the base repository (`bot.fetch`): the files list pinned to
the head (`Installation.changed_files`), one recursive tree call per commit, blobs from
the cache, GraphQL or the commit's archive. The merge base's version of a file comes
from the head's text and the pull request's patches when they tell it (no call), else
from the merge base's tree; the head's blobs the patches tell whole are put in the
cache before anything is downloaded (`fill_from_patches`).
"""

from __future__ import annotations

from typing import Any

from footgun.rules.config import Config
from footgun.rules.model import Skip

from .diff import FileDiff, from_pr_files
from .fetch import (
    BlobCache,
    Manifests,
    Tree,
    base_key,
    fill_from_patches,
    read_blobs,
    read_manifests,
    read_tree,
    unapply_patch,
)
from .github import PR_FILES_MAX, Installation, PullInfo, TreeEntry
from .units import unit_paths


class GitHubSource:
    """One pull request at ``pr.head_sha`` (`bot.evaluation.ChangeSource`). Each thing
    is read once: the files list, each tree, each file of the merge base."""

    def __init__(self, gh: Installation, cache: BlobCache, pr: PullInfo) -> None:
        self.gh, self.cache, self.pr = gh, cache, pr
        self._files: list[dict[str, Any]] | None = None
        self._head: Tree | None = None
        self._base: Tree | None = None
        self._merge_base: Tree | None = None
        self._at_merge_base: dict[str, bytes | None] = {}  # None: not there

    def describe(self) -> str:
        return f"pr={self.pr.repo}#{self.pr.number}"

    @property
    def files(self) -> list[dict[str, Any]]:
        """The pull request's files list (GitHub's JSON entries, with their patches)."""
        if self._files is None:
            self._files = self.gh.changed_files(self.pr)
        return self._files

    def diffs(self) -> dict[str, FileDiff]:
        return from_pr_files(self.files)

    def listing_cut(self) -> Skip | None:
        if len(self.files) < PR_FILES_MAX:
            return None
        # What it changes past the cut is scanned as context only: not judged as its own.
        return Skip(
            ".",
            f"GitHub lists only the first {PR_FILES_MAX:,} files of a pull request: "
            f"findings in the others are not attributed to it",
        )

    def head_tree(self) -> tuple[Tree, list[Skip]]:
        if self._head is None:
            self._head = read_tree(self.gh, self.pr.repo, self.pr.head_sha)
            notes = self._complete(self._head)
            fill_from_patches(self._head, self.files, self.cache, self.pr.base_sha)  # no download for those
            return self._head, notes
        return self._head, []

    def base_tree(self) -> Tree:
        if self._base is None:
            self._base = read_tree(self.gh, self.pr.repo, self.pr.base_sha)
        return self._base

    def read_blobs(self, tree: Tree, paths: list[str]) -> dict[str, bytes]:
        return read_blobs(self.gh, self.pr.repo, tree, paths, self.cache)

    def read_manifests(self, tree: Tree, config: Config, paths: list[str]) -> Manifests:
        return read_manifests(self.gh, self.pr.repo, tree, config, self.cache, paths)

    def built_with(self, tree: Tree, config: Config, changed: list[str], max_reads: int) -> list[str]:
        return unit_paths(self.gh, self.pr.repo, tree, config, self.cache, changed, max_reads)

    def base_files(self, config: Config, paths: list[str]) -> dict[str, bytes]:
        missing = [p for p in paths if p not in self._at_merge_base]
        if missing:
            told = self._from_patches(config, missing)
            self._at_merge_base.update(told if told is not None else self._read_merge_base(config, missing))
        return {p: text for p in paths if (text := self._at_merge_base[p]) is not None}

    def _from_patches(self, config: Config, paths: list[str]) -> dict[str, bytes | None] | None:
        """The merge base's version of ``paths`` (None where it has none), from the
        head's (already read, so from the blob cache) and the files list, which is the
        diff from the merge base: a file it does not list is the same there, an added,
        renamed or copied one is not there, a modified one is its head text with the
        patch taken back, a removed one is its patch taken back from nothing. None when
        the list cannot tell (cut at GitHub's 3,000 files, a patch left out or not
        matching): the caller reads the merge base instead."""
        head_tree, _ = self.head_tree()
        if len(self.files) >= PR_FILES_MAX or head_tree.truncated:
            return None
        listed = {f["filename"]: f for f in self.files}
        head = self.read_manifests(head_tree, config, [p for p in paths if p in head_tree.files]).files
        out: dict[str, bytes | None] = {}
        for path in paths:
            entry = listed.get(path)
            status = entry.get("status") if entry else "unchanged"
            if status == "unchanged":
                out[path] = head.get(path)
            elif entry is not None and status in ("modified", "changed", "removed"):
                if status != "removed" and path not in head:
                    out[path] = None
                    continue
                before = unapply_patch(head[path] if status != "removed" else b"", entry.get("patch"))
                if before is None:
                    return None
                out[path] = before
                if status != "removed":  # the next push's patch applies to it (`fill_from_patches`)
                    self.cache.put(base_key(self.pr.base_sha, path), before)
            elif status in ("added", "renamed", "copied"):
                out[path] = None
            else:
                return None
        return out

    def _read_merge_base(self, config: Config, paths: list[str]) -> dict[str, bytes | None]:
        """``paths`` read from the merge base's tree on GitHub (None where it has none)."""
        if self._merge_base is None:
            pr = self.pr
            self._merge_base = read_tree(self.gh, pr.repo, self.gh.merge_base(pr.repo, pr.base_sha, pr.head_sha))
        tree = self._merge_base
        found = self.read_manifests(tree, config, [p for p in paths if p in tree.files]).files
        return {p: found.get(p) for p in paths}

    def _complete(self, tree: Tree) -> list[Skip]:
        """GitHub cuts recursive trees past 100,000 entries or 7 MB: the pull request's
        own files are still known (the files list carries their blob SHA), the rest is
        partial."""
        if not tree.truncated:
            return []
        for entry in self.files:
            if entry.get("status") != "removed" and entry.get("sha") and entry["filename"] not in tree.files:
                tree.files[entry["filename"]] = TreeEntry(entry["filename"], entry["sha"], None)
        return [
            Skip(
                ".",
                "the repository is too large for one tree listing from GitHub: only part of it was "
                "scanned as context for cross-file rules",
            )
        ]
