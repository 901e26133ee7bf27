"""Pull-request diffs as GitHub computes and serves them.

Mirrors the ``files`` of ``GET /repos/{owner}/{repo}/pulls/{n}/files``
(https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files):

* ``patch`` is git's unified diff for the file with 3 lines of context, hunks headed
  ``@@ -a,b +c,d @@`` (a count of 1 is left out, as git does) followed by git's default
  "function name" context (the nearest earlier line starting with a letter, ``_`` or
  ``$``), no ``---``/``+++`` header, lines joined with ``\\n``, no trailing newline, and
  ``\\ No newline at end of file`` markers where git writes them;
* no ``patch`` key for binary files (a NUL byte in the first 8000 bytes, git's test) and
  for diffs over GitHub's per-file limit (3,000 lines or 100 KB of diff, as reported in
  https://github.com/github/docs/issues/9078 ; configurable);
* status ``added``/``modified``/``removed``/``renamed`` (exact renames, and renames of
  text files at least 50% similar, git's default threshold).

The hunks also define which lines a review comment may target (see
https://docs.github.com/en/rest/pulls/comments#create-a-review-comment-for-a-pull-request):
``RIGHT`` = added and context lines, ``LEFT`` = removed and context lines.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

CONTEXT_LINES = 3
_FUNCNAME = re.compile(r"^[A-Za-z_$]")


@dataclass
class DiffLine:
    """One line of a hunk: ``kind`` is ``" "``, ``"+"``, ``"-"`` or ``"\\\\"`` (no-newline marker)."""

    kind: str
    text: str
    old_no: int | None
    new_no: int | None


@dataclass
class Hunk:
    """One ``@@`` hunk with its lines and their line numbers on each side."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def header(self) -> str:
        def rng(start: int, count: int) -> str:
            return str(start) if count == 1 else f"{start},{count}"

        head = f"@@ -{rng(self.old_start, self.old_count)} +{rng(self.new_start, self.new_count)} @@"
        return f"{head} {self.section}" if self.section else head

    def side_lines(self, side: str) -> set[int]:
        """Line numbers a comment may target on ``side`` ("RIGHT" or "LEFT") in this hunk."""
        if side == "LEFT":
            return {
                diff_line.old_no for diff_line in self.lines if diff_line.kind in " -" and diff_line.old_no is not None
            }
        return {diff_line.new_no for diff_line in self.lines if diff_line.kind in " +" and diff_line.new_no is not None}


@dataclass
class FileDiff:
    """One entry of a pull request's file list."""

    filename: str
    status: str
    previous_filename: str | None
    old_sha: str | None
    new_sha: str | None
    additions: int
    deletions: int
    binary: bool
    hunks: list[Hunk]
    patch: str | None  # None: GitHub leaves the "patch" key out

    @property
    def changes(self) -> int:
        return self.additions + self.deletions

    def find_hunk(self, line: int, side: str) -> Hunk | None:
        for hunk in self.hunks:
            if line in hunk.side_lines(side):
                return hunk
        return None

    def position_to_line(self, position: int) -> tuple[int, str] | None:
        """Map the deprecated diff ``position`` (1 = the line below the first ``@@``) to
        ``(line, side)``."""
        flat: list[DiffLine | None] = []
        for hunk in self.hunks:
            flat.append(None)  # the @@ header line
            flat.extend(hunk.lines)
        if position < 1 or position >= len(flat):
            return None
        item = flat[position]
        if item is None or item.kind == "\\":
            return None
        if item.kind == "-":
            return item.old_no or 0, "LEFT"
        return item.new_no or 0, "RIGHT"

    def diff_hunk_for(self, line: int, side: str) -> str:
        """The ``diff_hunk`` GitHub stores on a review comment: the hunk's header and lines
        up to the commented one."""
        hunk = self.find_hunk(line, side)
        if hunk is None:
            return ""
        out = [hunk.header]
        for diff_line in hunk.lines:
            out.append(diff_line.kind + diff_line.text if diff_line.kind != "\\" else "\\ No newline at end of file")
            if (side == "LEFT" and diff_line.kind in " -" and diff_line.old_no == line) or (
                side == "RIGHT" and diff_line.kind in " +" and diff_line.new_no == line
            ):
                break
        return "\n".join(out)


def is_binary(data: bytes) -> bool:
    """git's heuristic: a NUL byte within the first 8000 bytes."""
    return b"\0" in data[:8000]


def split_lines(data: bytes) -> list[bytes]:
    """Split on ``\\n`` only (as git does), keeping the line ends."""
    if not data:
        return []
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _text(line: bytes) -> str:
    return line.rstrip(b"\n").decode("utf-8", errors="replace")


def _section(old_lines: list[bytes], old_start: int) -> str:
    """git's default funcname for a hunk starting at 1-based ``old_start``."""
    for i in range(min(old_start - 1, len(old_lines)) - 1, -1, -1):
        text = _text(old_lines[i])
        if _FUNCNAME.match(text):
            return text.encode()[:80].decode("utf-8", errors="ignore").rstrip()
    return ""


def make_hunks(old: bytes, new: bytes, context: int = CONTEXT_LINES) -> list[Hunk]:
    """The unified-diff hunks between two file contents."""
    a, b = split_lines(old), split_lines(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks: list[Hunk] = []
    for group in matcher.get_grouped_opcodes(context):
        if all(tag == "equal" for tag, *_ in group):
            continue
        i1, j1 = group[0][1], group[0][3]
        i2, j2 = group[-1][2], group[-1][4]
        old_count, new_count = i2 - i1, j2 - j1
        old_start = i1 + 1 if old_count else i1
        new_start = j1 + 1 if new_count else j1
        hunk = Hunk(old_start, old_count, new_start, new_count, _section(a, i1 + 1) if i1 > 0 else "")

        def emit(kind: str, raw: bytes, old_no: int | None, new_no: int | None, hunk: Hunk = hunk) -> None:
            hunk.lines.append(DiffLine(kind, _text(raw), old_no, new_no))
            if not raw.endswith(b"\n"):
                hunk.lines.append(DiffLine("\\", "", None, None))

        for tag, ai1, ai2, bj1, bj2 in group:
            if tag == "equal":
                for k in range(ai2 - ai1):
                    emit(" ", a[ai1 + k], ai1 + k + 1, bj1 + k + 1)
                continue
            if tag in ("replace", "delete"):
                for k in range(ai1, ai2):
                    emit("-", a[k], k + 1, None)
            if tag in ("replace", "insert"):
                for k in range(bj1, bj2):
                    emit("+", b[k], None, k + 1)
        hunks.append(hunk)
    return hunks


def render_patch(hunks: list[Hunk]) -> str:
    """The ``patch`` string GitHub returns for a file."""
    out: list[str] = []
    for hunk in hunks:
        out.append(hunk.header)
        for diff_line in hunk.lines:
            out.append("\\ No newline at end of file" if diff_line.kind == "\\" else diff_line.kind + diff_line.text)
    return "\n".join(out)


@dataclass
class DiffLimits:
    """Per-file limits above which GitHub omits ``patch``."""

    max_patch_lines: int = 3000
    max_patch_bytes: int = 100 * 1024


def file_diff(
    filename: str,
    status: str,
    old: bytes | None,
    new: bytes | None,
    old_sha: str | None,
    new_sha: str | None,
    limits: DiffLimits,
    previous_filename: str | None = None,
) -> FileDiff:
    """Build one :class:`FileDiff` from the two contents (``None`` = absent)."""
    old_b, new_b = old or b"", new or b""
    binary = is_binary(old_b) or is_binary(new_b)
    if binary:
        return FileDiff(filename, status, previous_filename, old_sha, new_sha, 0, 0, True, [], None)
    hunks = make_hunks(old_b, new_b)
    adds = sum(1 for h in hunks for diff_line in h.lines if diff_line.kind == "+")
    dels = sum(1 for h in hunks for diff_line in h.lines if diff_line.kind == "-")
    patch: str | None = render_patch(hunks) if hunks else None
    if patch is not None and (
        patch.count("\n") + 1 > limits.max_patch_lines or len(patch.encode()) > limits.max_patch_bytes
    ):
        patch = None
    return FileDiff(filename, status, previous_filename, old_sha, new_sha, adds, dels, False, hunks, patch)


def diff_trees(
    old_files: dict[str, str],
    new_files: dict[str, str],
    blobs: dict[str, bytes],
    limits: DiffLimits | None = None,
    max_rename_pairs: int = 400,
) -> list[FileDiff]:
    """The file list between two flattened trees (``{path: blob sha}``), sorted by path."""
    limits = limits or DiffLimits()
    removed = sorted(p for p in old_files if p not in new_files)
    added = sorted(p for p in new_files if p not in old_files)
    out: list[FileDiff] = []

    # Exact renames first (same blob), then similar text files.
    renames: list[tuple[str, str]] = []
    by_sha: dict[str, list[str]] = {}
    for p in removed:
        by_sha.setdefault(old_files[p], []).append(p)
    for p in list(added):
        candidates = by_sha.get(new_files[p])
        if candidates:
            old_path = candidates.pop(0)
            renames.append((old_path, p))
    taken_old = {o for o, _ in renames}
    taken_new = {n for _, n in renames}
    rest_removed = [p for p in removed if p not in taken_old]
    rest_added = [p for p in added if p not in taken_new]
    if rest_removed and rest_added and len(rest_removed) * len(rest_added) <= max_rename_pairs:
        scored: list[tuple[float, str, str]] = []
        for o in rest_removed:
            ob = blobs[old_files[o]]
            if is_binary(ob):
                continue
            for n in rest_added:
                nb = blobs[new_files[n]]
                if is_binary(nb):
                    continue
                ratio = difflib.SequenceMatcher(None, split_lines(ob), split_lines(nb), autojunk=False).ratio()
                if ratio >= 0.5:
                    scored.append((ratio, o, n))
        for _, o, n in sorted(scored, reverse=True):
            if o not in taken_old and n not in taken_new:
                renames.append((o, n))
                taken_old.add(o)
                taken_new.add(n)

    for o, n in renames:
        out.append(
            file_diff(
                n,
                "renamed",
                blobs[old_files[o]],
                blobs[new_files[n]],
                old_files[o],
                new_files[n],
                limits,
                previous_filename=o,
            )
        )
    for p in removed:
        if p not in taken_old:
            out.append(file_diff(p, "removed", blobs[old_files[p]], None, old_files[p], None, limits))
    for p in added:
        if p not in taken_new:
            out.append(file_diff(p, "added", None, blobs[new_files[p]], None, new_files[p], limits))
    for p in sorted(set(old_files) & set(new_files)):
        if old_files[p] != new_files[p]:
            out.append(
                file_diff(p, "modified", blobs[old_files[p]], blobs[new_files[p]], old_files[p], new_files[p], limits)
            )
    out.sort(key=lambda f: f.filename.encode())
    return out
