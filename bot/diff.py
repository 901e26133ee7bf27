"""Which lines of a pull request GitHub accepts review comments on.

GitHub anchors a review comment to a line of the diff: on the ``RIGHT`` side (the
head), that is an added or a context line of one of the file's hunks, and a
multi-line comment must start and end in the same hunk. Anything else makes GitHub
reject the whole review with a 422.

Two inputs are understood:

* the ``patch`` of one entry of ``GET /repos/{owner}/{repo}/pulls/{n}/files``: bare
  ``@@ -a,b +c,d @@`` hunks, no ``---``/``+++`` header, ``\\ No newline at end of
  file`` markers. GitHub leaves ``patch`` out for binary files and for diffs over its
  size limit: then no line of the file can be commented on;
* the output of ``git diff`` (local mode): ``diff --git`` sections with their
  headers, renames, new and deleted files, binary files.

Lines are 1-based; the head's text of every commentable line is kept, so a
suggestion can be widened over lines next to the ones a fix edits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Hunk:
    """One ``@@`` hunk: the head-side (RIGHT) lines it shows, with their text."""

    index: int
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    right: dict[int, str] = field(default_factory=dict)  # line -> text (added or context)
    added: set[int] = field(default_factory=set)

    def contains(self, start: int, end: int) -> bool:
        """Whether every line of ``start..end`` is a RIGHT line of this hunk."""
        return start <= end and all(n in self.right for n in range(start, end + 1))


@dataclass
class FileDiff:
    """One file of a diff, as GitHub lets a review comment on it."""

    path: str
    status: str = "modified"  # added, modified, removed, renamed, copied, changed, unchanged
    previous_path: str | None = None
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False
    has_patch: bool = True  # False: GitHub omitted the patch (too large), or binary

    def __post_init__(self) -> None:
        self._hunk_by_line = {n: h for h in self.hunks for n in h.right}

    def added(self, line: int) -> bool:
        hunk = self._hunk_by_line.get(line)
        return hunk is not None and line in hunk.added

    def hunk_spanning(self, start: int, end: int) -> Hunk | None:
        """The hunk holding all of ``start..end``, or None (outside the diff, or across
        hunks: a range GitHub refuses)."""
        hunk = self._hunk_by_line.get(start)
        return hunk if hunk is not None and hunk.contains(start, end) else None

    def text(self, line: int) -> str | None:
        """The head's text of a commentable line (without its line ending)."""
        hunk = self._hunk_by_line.get(line)
        return hunk.right[line] if hunk is not None else None

    def texts(self, start: int, end: int) -> list[str] | None:
        """The head's text of every line of ``start..end``, or None when they are not
        all lines of one hunk (a suggestion over them could not be posted)."""
        hunk = self.hunk_spanning(start, end)
        return [hunk.right[n] for n in range(start, end + 1)] if hunk is not None else None

    @property
    def removed(self) -> bool:
        return self.status == "removed"


def parse_patch(patch: str | None, path: str, status: str = "modified", previous_path: str | None = None) -> FileDiff:
    """A GitHub ``patch`` (hunks only) as a `FileDiff`. ``None`` (GitHub omitted it):
    nothing is commentable."""
    if patch is None:
        return FileDiff(path, status, previous_path, [], has_patch=False)
    hunks = _parse_hunks(patch.split("\n"))
    if status == "removed":
        hunks = []  # a removed file has no head side
    return FileDiff(path, status, previous_path, hunks)


def from_pr_file(entry: Any) -> FileDiff:
    """A `FileDiff` from one entry of the PR files list: the REST JSON (a dict) or a
    PyGithub ``File`` (attributes of the same names)."""

    def get(name: str) -> Any:
        if isinstance(entry, Mapping):
            return entry.get(name)
        return getattr(entry, name, None)

    return parse_patch(get("patch"), get("filename"), get("status") or "modified", get("previous_filename"))


def from_pr_files(entries: Iterable[Any]) -> dict[str, FileDiff]:
    """Every file of a PR's file list, keyed by its path at the head."""
    diffs = (from_pr_file(e) for e in entries)
    return {d.path: d for d in diffs}


def hunk_header(line: str) -> tuple[int, int, int, int] | None:
    """The old start, old count, new start and new count of a ``@@ -a,b +c,d @@``
    line (a count left out is 1, as git writes it), or None for any other line."""
    match = HUNK_HEADER.match(line)
    if match is None:
        return None
    old_start, old_count, new_start, new_count = match.groups()
    return int(old_start), _count(old_count), int(new_start), _count(new_count)


def _parse_hunks(lines: list[str]) -> list[Hunk]:
    hunks: list[Hunk] = []
    hunk: Hunk | None = None
    old_left = new_left = 0
    new_no = 0
    for raw in lines:
        header = hunk_header(raw)
        if header:
            hunk = Hunk(len(hunks), *header)
            hunks.append(hunk)
            old_left, new_left = hunk.old_count, hunk.new_count
            new_no = hunk.new_start
            continue
        if hunk is None or raw.startswith("\\"):
            continue  # text before the first hunk, or a no-newline marker
        if old_left <= 0 and new_left <= 0:
            hunk = None  # past the hunk's counts: not diff content
            continue
        kind, text = (raw[0], raw[1:]) if raw else (" ", "")  # a bare "" is an empty context line
        if kind == "+":
            hunk.right[new_no] = text
            hunk.added.add(new_no)
            new_no += 1
            new_left -= 1
        elif kind == "-":
            old_left -= 1
        elif kind == " ":
            hunk.right[new_no] = text
            new_no += 1
            new_left -= 1
            old_left -= 1
    return hunks


def _count(text: str | None) -> int:
    return 1 if text is None else int(text)


# --- git diff ------------------------------------------------------------------------

_DIFF_GIT = re.compile(r"^diff --git (.+)$")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def parse_git_diff(text: str) -> dict[str, FileDiff]:
    """Every file of ``git diff`` output, keyed by its path on the new side (removed
    files by their old path, with status ``removed``)."""
    out: dict[str, FileDiff] = {}
    for section in _sections(text.split("\n")):
        diff = _parse_section(section)
        if diff is not None:
            out[diff.path] = diff
    return out


def _sections(lines: list[str]) -> Iterable[list[str]]:
    current: list[str] | None = None
    for line in lines:
        if line.startswith("diff --git "):
            if current:
                yield current
            current = [line]
        elif current is not None:
            current.append(line)
    if current:
        yield current


def _parse_section(lines: list[str]) -> FileDiff | None:
    old_path, new_path = _paths_of_header(lines[0])
    status = "modified"
    binary = False
    body_start = len(lines)
    for i, line in enumerate(lines[1:], 1):
        if line.startswith("@@"):
            body_start = i
            break
        if line.startswith("new file mode"):
            status = "added"
        elif line.startswith("deleted file mode"):
            status = "removed"
        elif line.startswith("rename from "):
            old_path, status = _unquote(line[len("rename from ") :]), "renamed"
        elif line.startswith("rename to "):
            new_path, status = _unquote(line[len("rename to ") :]), "renamed"
        elif line.startswith("copy from "):
            old_path, status = _unquote(line[len("copy from ") :]), "copied"
        elif line.startswith("copy to "):
            new_path, status = _unquote(line[len("copy to ") :]), "copied"
        elif line.startswith("--- "):
            name = _unquote(line[4:].rstrip("\t"))
            if name != "/dev/null":
                old_path = name[2:] if name.startswith("a/") else name
        elif line.startswith("+++ "):
            name = _unquote(line[4:].rstrip("\t"))
            if name != "/dev/null":
                new_path = name[2:] if name.startswith("b/") else name
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            binary = True
    path = old_path if status == "removed" else new_path
    if path is None:
        return None
    previous = old_path if status in ("renamed", "copied") else None
    if binary:
        return FileDiff(path, status, previous, [], binary=True, has_patch=False)
    hunks = _parse_hunks(lines[body_start:]) if status != "removed" else []
    return FileDiff(path, status, previous, hunks)


def _paths_of_header(header: str) -> tuple[str | None, str | None]:
    """The a/ and b/ paths of a ``diff --git`` line. Unquoted paths with spaces are
    ambiguous there; the ``---``/``+++`` or rename lines that follow settle them, and
    for the rest (binary, mode-only) both sides are the same path."""
    rest = _DIFF_GIT.match(header).group(1)  # type: ignore[union-attr]
    if rest.startswith('"'):
        first, rest = _take_quoted(rest)
        second = _unquote(rest.strip())
        return _strip_prefix(first, "a/"), _strip_prefix(second, "b/")
    if rest.endswith('"'):
        start = rest.rfind(' "')
        return _strip_prefix(rest[:start], "a/"), _strip_prefix(_unquote(rest[start + 1 :]), "b/")
    if rest.startswith("a/") and len(rest) % 2 == 1:
        half = (len(rest) - 1) // 2
        a, b = rest[:half], rest[half + 1 :]
        if a[2:] == b[2:]:
            return a[2:], b[2:]
    a, _, b = rest.partition(" b/")
    return _strip_prefix(a, "a/"), b or None


def _strip_prefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


def _take_quoted(text: str) -> tuple[str, str]:
    """A C-quoted string at the start of ``text`` (unquoted), and what follows it."""
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return _unquote(text[: i + 1]), text[i + 1 :]
        i += 1
    return _unquote(text), ""


def _unquote(name: str) -> str:
    """git's C-style quoting of unusual paths (``"a/caf\\303\\251.yaml"``)."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 3 < len(body) + 1 and body[i + 1 : i + 4].isdigit():
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            out.extend(_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        out.extend(ch.encode())
        i += 1
    return out.decode("utf-8", errors="replace")
