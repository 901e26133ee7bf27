"""Reading a pull request's manifests from GitHub with few calls.

* One recursive tree call lists every file of a commit with its blob SHA and size.
* Blob contents come from a cache keyed by blob SHA (``FOOTGUN_DATA_DIR/blobs``; a
  blob never changes, so entries never go stale), else from GraphQL, up to 50
  ``object(expression: "<commit>:<path>")`` aliases a query, else from the REST blob
  endpoint for what GraphQL does not return whole (``isTruncated`` above 512 KB,
  binary files, text that does not hash back to its SHA). A cold read of hundreds of
  blobs takes the commit's tarball instead (`_from_tarball`), keeping what hashes back.
* Files over the configuration's size limit are never downloaded: they are reported
  as skipped, as the engine would.
* A budget caps what one analysis reads (`select_manifests`): the pull request's own
  manifests first, then the others built with them by a kustomization (`bot.units`),
  then those nearest to them (same folder, then the parent folders...), up to ``max_files`` files and ``max_bytes`` bytes; what is left out is
  said in the review.

Everything is read through the base repository: GitHub keeps a fork's pull request
commits in the base repository's object network, so fork PRs need no access to the
fork.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import posixpath
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from footgun.rules.config import Config
from footgun.rules.engine import is_manifest_path
from footgun.rules.model import Skip

from .diff import hunk_header
from .github import Installation, TreeEntry

log = logging.getLogger("footgun.fetch")

# GitHub's GraphQL limits count connection nodes (500,000 a query), not aliases: an
# aliased ``object`` is no connection. What bounds a query is its 10-second timeout,
# so a batch is capped by the bytes it returns rather than by a small alias count.
GRAPHQL_BATCH = 250
GRAPHQL_BATCH_BYTES = 4 * 1024 * 1024
# A cold read of this many blobs or more takes the commit's archive (one API call, then
# a download that is no API call on GitHub) instead of ceil(n / 250) GraphQL queries,
# when the whole repository is no larger than TARBALL_MAX_BYTES and at least a quarter
# of it is wanted.
TARBALL_MIN_FILES = 500
TARBALL_MAX_BYTES = 256 * 1024 * 1024
GRAPHQL_TEXT_MAX = 512_000  # Blob.text stops there (isTruncated)


class BlobCache:
    """Blob contents on disk, one file per SHA."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:]

    def get(self, sha: str) -> bytes | None:
        try:
            return self._path(sha).read_bytes()
        except OSError:
            return None

    def put(self, sha: str, data: bytes) -> None:
        path = self._path(sha)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache: failing to fill it only costs a later download


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Tree:
    commit: str
    files: dict[str, TreeEntry]
    truncated: bool = False


def read_tree(gh: Installation, repo: str, commit: str) -> Tree:
    files, truncated = gh.tree(repo, commit)
    return Tree(commit, files, truncated)


def read_blobs(gh: Installation, repo: str, tree: Tree, paths: list[str], cache: BlobCache) -> dict[str, bytes]:
    """The contents of ``paths`` (files of ``tree``), by path."""
    out: dict[str, bytes] = {}
    missing: list[TreeEntry] = []
    for path in paths:
        entry = tree.files[path]
        data = cache.get(entry.sha)
        if data is None:
            missing.append(entry)
        else:
            out[path] = data
    if len(missing) >= TARBALL_MIN_FILES:
        found = _from_tarball(gh, repo, tree, missing, cache)
        out.update(found)
        missing = [e for e in missing if e.path not in found]
    for batch in _batches(missing):
        answers = gh.blob_texts(repo, [f"{tree.commit}:{e.path}" for e in batch])
        for entry, answer in zip(batch, answers):
            data = _text_of(answer, entry.sha)
            if data is None:
                data = gh.blob(repo, entry.sha)
            cache.put(entry.sha, data)
            out[entry.path] = data
    return out


def _from_tarball(
    gh: Installation, repo: str, tree: Tree, missing: list[TreeEntry], cache: BlobCache
) -> dict[str, bytes]:
    """Whatever of ``missing`` the commit's archive holds byte for byte (its content
    hashes back to the tree's blob SHA: ``export-ignore``, ``export-subst`` or LFS
    pointers make a file differ, and it is then read through GraphQL)."""
    total = sum(e.size or 0 for e in tree.files.values())
    wanted_bytes = sum(e.size or 0 for e in missing)
    if tree.truncated or total > TARBALL_MAX_BYTES or wanted_bytes * 4 < total:
        return {}  # too large, or mostly files not wanted: cheaper by GraphQL
    data = gh.tarball(repo, tree.commit, TARBALL_MAX_BYTES)
    if data is None:
        return {}
    wanted = {e.path: e for e in missing}
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                _, _, path = member.name.partition("/")  # under owner-repo-<sha>/
                entry = wanted.get(path)
                if entry is None or not member.isfile():
                    continue
                handle = archive.extractfile(member)
                content = handle.read() if handle is not None else None
                if content is None or git_blob_sha(content) != entry.sha:
                    continue
                cache.put(entry.sha, content)
                out[path] = content
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        log.info(
            "repo=%s the archive of %s could not be read (%s): reading the files one by one", repo, tree.commit[:7], exc
        )
    return out


def _text_of(answer: dict | None, sha: str) -> bytes | None:
    """A GraphQL blob's text as bytes, if it is the whole blob, byte for byte."""
    if not answer or answer.get("isBinary") or answer.get("isTruncated") or answer.get("text") is None:
        return None
    data = answer["text"].encode("utf-8")
    return data if git_blob_sha(data) == sha else None


def _batches(entries: list[TreeEntry]) -> list[list[TreeEntry]]:
    out: list[list[TreeEntry]] = []
    current: list[TreeEntry] = []
    size = 0
    for entry in entries:
        cost = min(entry.size or 0, GRAPHQL_TEXT_MAX)
        if current and (len(current) >= GRAPHQL_BATCH or size + cost > GRAPHQL_BATCH_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(entry)
        size += cost
    if current:
        out.append(current)
    return out


@dataclass
class Manifests:
    files: dict[str, bytes] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)


def manifest_paths(tree: Tree, config: Config) -> list[str]:
    return sorted(p for p in tree.files if is_manifest_path(p, config))


@dataclass
class Selection:
    """The manifests one analysis reads, and what the budget left out."""

    paths: list[str]
    changed_left_out: list[str] = field(default_factory=list)
    context_left_out: int = 0
    context_total: int = 0


def _folder(path: str) -> str:
    return posixpath.dirname(path)


def folders_around(paths: list[str]) -> set[str]:
    """The folders holding ``paths`` and every folder above them, the root ("") included."""
    near: set[str] = set()
    for path in paths:
        folder = _folder(path)
        while folder not in near:  # a folder in the set has its parents there too
            near.add(folder)
            if not folder:
                break
            folder = _folder(folder)
    return near


def _distance(folder: str, near: set[str]) -> int:
    """Folders to climb from ``folder`` to one holding (or above) a changed file."""
    steps = 0
    while folder not in near:
        if not folder:
            return steps + 1
        folder = _folder(folder)
        steps += 1
    return steps


def select_manifests(
    tree: Tree, config: Config, changed: list[str], max_files: int, max_bytes: int, first: list[str] | None = None
) -> Selection:
    """The manifests of ``tree`` to read: ``changed`` ones first (in the order given),
    then the others (``first`` ones, built with the changed ones, before the rest) by
    closeness to them, within ``max_files`` and ``max_bytes`` (sizes from the tree;
    files over ``max_file_bytes`` cost nothing: they are skipped unread)."""
    all_paths = manifest_paths(tree, config)
    # a build's files that are no manifests (`bot.units`) are read as context too
    all_paths += sorted(set(first or ()) - set(all_paths))
    changed_set = set(changed)
    built_with = set(first or ())
    own = [p for p in changed if p in tree.files and (is_manifest_path(p, config) or p in built_with)]
    near = folders_around(own)
    others = sorted(
        (p for p in all_paths if p not in changed_set),
        key=lambda p: (p not in built_with, _distance(_folder(p), near), p),
    )
    selection = Selection([], context_total=len(others))
    # The PR's own files come first, but leave a quarter of the budget to the files
    # around them: cross-file rules judge a Service by the workloads beside it.
    reserve_files = min(len(others), max_files // 4)
    reserve_bytes = max_bytes // 4 if others else 0
    files = size = 0
    for index, path in enumerate(own + others):
        entry_size = tree.files[path].size or 0
        cost = 0 if entry_size > config.max_file_bytes else entry_size
        mine = index < len(own)
        if files >= max_files - (reserve_files if mine else 0) or size + cost > max_bytes - (
            reserve_bytes if mine else 0
        ):
            if mine:
                selection.changed_left_out.append(path)
            else:
                selection.context_left_out += 1
            continue
        files += 1
        size += cost
        selection.paths.append(path)
    return selection


def read_manifests(
    gh: Installation, repo: str, tree: Tree, config: Config, cache: BlobCache, paths: list[str] | None = None
) -> Manifests:
    """The manifests of ``tree`` (or the given ones), less those too large to read."""
    out = Manifests()
    wanted = []
    for path in manifest_paths(tree, config) if paths is None else paths:
        size = tree.files[path].size
        if size is not None and size > config.max_file_bytes:
            out.skipped.append(
                Skip(path, f"file is {size:,} bytes, over the {config.max_file_bytes:,}-byte limit (max_file_bytes)")
            )
        else:
            wanted.append(path)
    out.files = read_blobs(gh, repo, tree, wanted, cache)
    return out


# --- the merge base's version of a changed file, without reading it ----------------------------


def unapply_patch(head: bytes, patch: str | None) -> bytes | None:
    """The file before a pull request's ``patch`` (an entry of its files list: the diff
    from the merge base to ``head``), rebuilt from the head's text; None when the patch
    is missing or does not fit the text exactly (the caller then reads the base)."""
    if not patch:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    pieces = text.split("\n")
    lines = [(t, True) for t in pieces[:-1]] + ([(pieces[-1], False)] if pieces[-1] else [])
    old: list[tuple[str, bool]] = []
    at = 0  # next head line to copy
    kind = None
    old_left = new_left = 0
    for raw in patch.split("\n"):
        header = hunk_header(raw)
        if header:
            if old_left or new_left:
                return None
            old_start, old_count, new_start, new_count = header
            before = new_start - 1 if new_count else new_start
            if before < at or before > len(lines):
                return None
            old.extend(lines[at:before])
            at = before
            if len(old) != (old_start - 1 if old_count else old_start):
                return None
            old_left, new_left, kind = old_count, new_count, None
            continue
        if raw.startswith("\\"):
            if kind == "-" and old:
                old[-1] = (old[-1][0], False)
            elif kind in (" ", "+") and (at == 0 or lines[at - 1][1]):
                return None  # the head's line has a newline after all
            continue
        if not raw and not old_left and not new_left:
            continue  # the patch's last newline
        sign, body = raw[:1], raw[1:]
        if sign in (" ", "+"):
            if at >= len(lines) or lines[at][0] != body or new_left <= 0:
                return None
            if sign == " ":
                if old_left <= 0:
                    return None
                old.append(lines[at])
                old_left -= 1
            at += 1
            new_left -= 1
        elif sign == "-":
            if old_left <= 0:
                return None
            old.append((body, True))
            old_left -= 1
        else:
            return None
        kind = sign
    if old_left or new_left:
        return None
    old.extend(lines[at:])
    return "".join(t + ("\n" if newline else "") for t, newline in old).encode("utf-8")


def _invert(patch: str) -> str:
    """The patch the other way round (from the head back to the merge base)."""
    out = []
    for raw in patch.split("\n"):
        header = hunk_header(raw)
        if header:
            old_start, old_count, new_start, new_count = header
            out.append(f"@@ -{new_start},{new_count} +{old_start},{old_count} @@")
        elif raw.startswith("+"):
            out.append("-" + raw[1:])
        elif raw.startswith("-"):
            out.append("+" + raw[1:])
        else:
            out.append(raw)
    return "\n".join(out)


def apply_patch(before: bytes, patch: str | None) -> bytes | None:
    """The file after ``patch`` applied to ``before``; None when it does not fit."""
    if not patch:
        return None
    return unapply_patch(before, _invert(patch))


def base_key(base_sha: str, path: str) -> str:
    """Where the blob cache keeps a file's text at a pull request's base, as rebuilt
    from its patch (not a blob SHA: it is checked again whenever it is used)."""
    return hashlib.sha1(f"footgun-base\0{base_sha}\0{path}".encode()).hexdigest()


def fill_from_patches(tree: Tree, files: list[dict], cache: BlobCache, base_sha: str) -> int:
    """Put in the cache the head's blobs the pull request's patches tell whole: an added
    file's patch is its text, a modified file's applies to its base text when an earlier
    run rebuilt it (`base_key`). Only what hashes to the tree's blob SHA is kept, so a
    wrong base (the merge base moved) costs only the usual download. How many."""
    filled = 0
    for entry in files:
        path, status, patch = entry.get("filename"), entry.get("status"), entry.get("patch")
        item = tree.files.get(path) if path else None
        if not path or item is None or not patch or status not in ("added", "modified", "changed"):
            continue
        if cache.get(item.sha) is not None:
            continue
        before = b"" if status == "added" else cache.get(base_key(base_sha, path))
        if before is None:
            continue
        after = apply_patch(before, patch)
        if after is not None and git_blob_sha(after) == item.sha:
            cache.put(item.sha, after)
            filled += 1
    return filled
