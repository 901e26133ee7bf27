"""Git object model of the fake: blobs, trees and commits with git's own SHA-1s.

Mirrors how git (and therefore GitHub) names objects, so SHAs the App sees in the
fake behave like real ones (a blob's SHA only depends on its bytes, so a blob cache
keyed by SHA works exactly as against GitHub):

* blob:   sha1(b"blob %d\\0" % len(content) + content)
* tree:   sha1(b"tree %d\\0" + entries), entries sorted the git way (a sub-tree sorts as
  ``name + "/"``), each ``b"<mode> <name>\\0" + <20-byte binary sha>``
* commit: sha1(b"commit %d\\0" + b"tree ...\\nparent ...\\nauthor ...\\ncommitter ...\\n\\nmsg")

See https://git-scm.com/book/en/v2/Git-Internals-Git-Objects .

Forks share one :class:`ObjectStore` (a "network"), as on GitHub, where a fork's
commits can be read through the parent repository (that is how fork pull requests
are read through the base repository).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass, field

BLOB_MODE = "100644"
TREE_MODE = "40000"


def blob_sha(content: bytes) -> str:
    """The git blob SHA-1 of ``content``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _object_sha(kind: bytes, payload: bytes) -> str:
    return hashlib.sha1(kind + b" %d\0" % len(payload) + payload).hexdigest()


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a git tree object (a blob or a sub-tree)."""

    name: str
    mode: str
    type: str  # "blob" | "tree"
    sha: str


@dataclass
class CommitObject:
    """A commit: its tree, parents, message, and (for convenience) its flattened file map."""

    sha: str
    tree: str
    parents: list[str]
    message: str
    author_name: str
    author_email: str
    timestamp: int
    files: dict[str, str] = field(default_factory=dict)  # path -> blob sha


@dataclass
class ObjectStore:
    """All git objects of one repository network (a repository and its forks)."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, list[TreeEntry]] = field(default_factory=dict)
    commits: dict[str, CommitObject] = field(default_factory=dict)

    # -- writing -----------------------------------------------------------------
    def add_blob(self, content: bytes) -> str:
        sha = blob_sha(content)
        self.blobs.setdefault(sha, content)
        return sha

    def add_tree_from_files(self, files: dict[str, str]) -> str:
        """Build (and store) the tree objects for ``{path: blob_sha}``; return the root SHA."""
        return self._build_tree(files, "")

    def _build_tree(self, files: dict[str, str], prefix: str) -> str:
        direct: dict[str, str] = {}
        subdirs: dict[str, dict[str, str]] = {}
        for path, sha in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                subdirs.setdefault(head, {})[rest] = sha
            else:
                direct[head] = sha
        entries = [TreeEntry(name, BLOB_MODE, "blob", sha) for name, sha in direct.items()]
        for name, sub in subdirs.items():
            entries.append(TreeEntry(name, TREE_MODE, "tree", self._build_tree(sub, prefix + name + "/")))
        entries.sort(key=lambda e: e.name.encode() + (b"/" if e.type == "tree" else b""))
        payload = b"".join(f"{e.mode} {e.name}".encode() + b"\0" + bytes.fromhex(e.sha) for e in entries)
        sha = _object_sha(b"tree", payload)
        self.trees.setdefault(sha, entries)
        return sha

    def add_commit(
        self,
        files: dict[str, bytes],
        parents: list[str],
        message: str,
        author_name: str,
        author_email: str,
        timestamp: int,
    ) -> CommitObject:
        """Store the blobs, trees and commit for a full file tree ``{path: bytes}``."""
        blob_map = {path: self.add_blob(content) for path, content in files.items()}
        tree = self.add_tree_from_files(blob_map)
        lines = [f"tree {tree}"]
        lines += [f"parent {p}" for p in parents]
        ident = f"{author_name} <{author_email}> {timestamp} +0000"
        lines += [f"author {ident}", f"committer {ident}", "", message]
        payload = ("\n".join(lines) + "\n").encode()
        sha = _object_sha(b"commit", payload)
        commit = CommitObject(sha, tree, list(parents), message, author_name, author_email, timestamp, blob_map)
        self.commits.setdefault(sha, commit)
        return self.commits[sha]

    # -- reading -----------------------------------------------------------------
    def file_bytes(self, commit: CommitObject) -> dict[str, bytes]:
        return {path: self.blobs[sha] for path, sha in commit.files.items()}

    def walk_tree(self, tree_sha: str, recursive: bool, prefix: str = "") -> list[tuple[str, TreeEntry]]:
        """Entries of a tree as ``(path, entry)``; with ``recursive``, sub-trees are listed
        before their contents, like ``GET /git/trees/{sha}?recursive=1``."""
        out: list[tuple[str, TreeEntry]] = []
        for entry in self.trees[tree_sha]:
            path = prefix + entry.name
            out.append((path, entry))
            if recursive and entry.type == "tree":
                out.extend(self.walk_tree(entry.sha, True, path + "/"))
        return out

    def tree_at_path(self, commit: CommitObject, path: str) -> TreeEntry | None:
        """The entry at ``path`` in a commit's tree ("" is the root tree)."""
        path = path.strip("/")
        if not path:
            return TreeEntry("", TREE_MODE, "tree", commit.tree)
        current = commit.tree
        parts = path.split("/")
        for i, part in enumerate(parts):
            match = next((e for e in self.trees.get(current, []) if e.name == part), None)
            if match is None:
                return None
            if i == len(parts) - 1:
                return match
            if match.type != "tree":
                return None
            current = match.sha
        return None

    def ancestors(self, sha: str) -> set[str]:
        """``sha`` and every commit reachable from it."""
        seen: set[str] = set()
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            stack.extend(self.commits[current].parents)
        return seen

    def merge_base(self, a: str, b: str) -> str | None:
        """The nearest common ancestor, found breadth-first from ``b``."""
        of_a = self.ancestors(a)
        queue = [b]
        seen: set[str] = set()
        while queue:
            current = queue.pop(0)
            if current in of_a:
                return current
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            queue.extend(self.commits[current].parents)
        return None


def make_tarball(store: ObjectStore, commit: CommitObject, top_dir: str) -> bytes:
    """A gzip tarball of a commit like GitHub's ``legacy.tar.gz``: every file under
    ``top_dir/`` (GitHub uses ``owner-repo-<short sha>/``) and a pax global header whose
    ``comment`` is the commit SHA (what ``git archive`` writes).
    https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": commit.sha}) as tar:
        root = tarfile.TarInfo(top_dir)
        root.type = tarfile.DIRTYPE
        root.mode = 0o775
        root.mtime = commit.timestamp
        tar.addfile(root)
        dirs: set[str] = set()
        for path in sorted(commit.files):
            parts = path.split("/")[:-1]
            for i in range(len(parts)):
                d = "/".join(parts[: i + 1])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(f"{top_dir}/{d}")
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o775
                    info.mtime = commit.timestamp
                    tar.addfile(info)
            data = store.blobs[commit.files[path]]
            info = tarfile.TarInfo(f"{top_dir}/{path}")
            info.size = len(data)
            info.mode = 0o664
            info.mtime = commit.timestamp
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
