"""From findings and a pull request's diff to the one review the App posts.

Pure functions, no network: `plan_review` decides which finding becomes an inline
comment (its lines are in one hunk of the diff) and which goes into the review's
body, renders every text, and returns a `ReviewPlan` whose `payload()` is exactly
what ``POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews`` takes.

GitHub's rules this follows (a single violation makes GitHub reject the whole
review with 422):

* a comment targets a ``RIGHT`` line that is an added or context line of the diff;
* a multi-line comment has ``start_line`` < ``line``, both in the same hunk
  ("start line must precede the end line", "must be part of the same hunk");
  a single-line comment carries no ``start_line``;
* a body is at most 65,536 characters.

A ```` ```suggestion ```` block replaces exactly the commented lines when applied,
so a fix becomes a suggestion only when every edit it makes in the finding's file
lies, with the finding's lines, in one hunk: the comment then spans the finding and
all those edits (at most `MAX_SUGGESTION_SPAN` lines), and the suggestion carries the
untouched lines between them as the diff shows them, so applying it does exactly
what the fix's edits of that file do. Edits in other files cannot be part of a
suggestion: they follow it as ``yaml`` blocks, with their paths and lines, under a
note to also apply them. A fix with edits of the finding's file outside that span of
the hunk is shown whole as ``yaml`` blocks: applying part of a file's edits could
leave the file half changed, and would move the lines the others name.

Every comment and the body carry hidden markers (``<!-- footgun:fp=<id> -->``), the
short hash of each reported finding's line-independent fingerprint;
`fingerprints_in` reads them back, so a later push does not report a finding twice.

Files that could not be scanned (oversized, binary, not UTF-8, hostile YAML, over the
App's budget) are listed in the body, each marked the same way (`skip_id`), so they are
named once. Such a file is worth a review of its own when nothing else is new (its
author would otherwise take silence for a clean bill); a Helm template is not (it is
expected, and the check run lists it). Run-level notes (a partial scan) go into the
body of a review that is posted anyway.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from footgun.rules.model import SEVERITY_RANK, Edit, Finding, Fix, Skip

from .diff import FileDiff
from .links import rule_link

MAX_BODY = 65536  # GitHub: "Body is too long (maximum is 65536 characters)"
MAX_INLINE = 30
MAX_SUGGESTION_SPAN = 60  # lines a suggestion may cover; a longer span reads better as the edits
MARKER = "<!-- footgun:fp={} -->"
REVIEW_MARKER = "<!-- footgun:review -->"
_MARKER_RE = re.compile(r"<!-- footgun:fp=([0-9a-f]{16}) -->")
_MARKER_LINE = re.compile(r"^<!-- footgun:(?:fp=[0-9a-f]{16}|review) -->$")
_COMMAND = "/footgun"
_ZWSP = "\u200b"
_NOTE_RESERVE = 600  # room kept for the truncation notes


# --- fingerprints --------------------------------------------------------------------


def finding_id(finding: Finding) -> str:
    """Short, stable hash of the finding's line-independent fingerprint."""
    return hashlib.sha256(finding.fingerprint.encode("utf-8")).hexdigest()[:16]


def marker(finding: Finding) -> str:
    return MARKER.format(finding_id(finding))


def fingerprints_in(text: str | None) -> set[str]:
    """The finding ids marked in a comment or review body written by `plan_review`."""
    return set(_MARKER_RE.findall(text or ""))


def skip_id(skip: Skip) -> str:
    """Stable id of a skipped file and why (numbers left out: a parse error moving by a
    line is the same problem)."""
    reason = re.sub(r"[0-9][0-9,.]*", "#", skip.reason)
    return hashlib.sha256(f"skip|{skip.path}|{reason}".encode()).hexdigest()[:16]


# Skips that never make a review on their own: expected, and named by the check run.
QUIET_ALONE_PREFIXES = ("Helm/Go template syntax",)


def is_marked(finding: Finding, ids: set[str] | frozenset[str]) -> bool:
    """Whether ``ids`` (finding ids, or raw fingerprints) name this finding."""
    return finding_id(finding) in ids or finding.fingerprint in ids


# --- safe Markdown -------------------------------------------------------------------


def is_command_line(line: str) -> bool:
    """Whether a line would read as a ``/footgun`` command."""
    return line.lstrip().lower().startswith(_COMMAND)


def escape_prose(text: str) -> str:
    """Text from a manifest (names, label values, paths, messages quoting them) for
    Markdown prose, shown as written and nothing more: no line reads as a command
    (``\\/footgun`` renders as ``/footgun``); outside code spans ``<`` is shown, not
    taken for HTML (GitHub would hide ``<none>``), an ``@mention`` notifies nobody, a
    ``#123`` or ``owner/repo#1`` references nothing, and neither ``[text](url)``, an
    image nor a bare URL becomes a link; inside them, no hidden marker can be forged."""
    text = _outside_code_spans(text, _inert_prose, _defuse_markers)
    return "\n".join(_escape_command(line, "\\") for line in text.split("\n"))


_LIVE_PROSE = [  # (what GitHub would turn into a mention, reference, link or HTML, made inert)
    (re.compile(r"<"), "&lt;"),
    (re.compile(r"([\[\]])"), r"\\\1"),
    (re.compile(r"@(?=[A-Za-z0-9_-])"), "@" + "\u200b"),
    (re.compile(r"#(?=[0-9])"), "#" + "\u200b"),
    (re.compile(r"(?i)\b(gh-)(?=[0-9])"), "\\1" + "\u200b"),
    (re.compile(r":(?=//)"), ":" + "\u200b"),
    (re.compile(r"(?i)\b(www)\."), "\\1" + "\u200b."),
]
_MARKER_OPEN = re.compile(r"<!--(?=\s*footgun)", re.IGNORECASE)


def _inert_prose(text: str) -> str:
    for pattern, replacement in _LIVE_PROSE:
        text = pattern.sub(replacement, text)
    return text


def _defuse_markers(text: str) -> str:
    """``text`` with anything shaped like footgun's hidden markers broken by a
    zero-width space: markers are the App's own, never copied from a manifest."""
    return _MARKER_OPEN.sub("<\u200b!--", text)


def has_marker_text(text: str) -> bool:
    return _MARKER_OPEN.search(text) is not None


def code_span(text: str) -> str:
    """``text`` (a path, a name) as an inline code span that shows it whole: fenced
    with more backticks than any run inside it (padded when it starts or ends with
    one), on one line, without a marker."""
    text = _defuse_markers(text.replace("\r", " ").replace("\n", " "))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _outside_code_spans(text: str, change, inside=lambda part: part) -> str:
    """``change`` applied to the parts of ``text`` outside backtick code spans (a run
    of n backticks up to the next run of exactly n, as CommonMark reads them),
    ``inside`` to the code spans."""
    out: list[str] = []
    plain_from = i = 0
    while i < len(text):
        if text[i] != "`":
            i += 1
            continue
        run = len(text[i:]) - len(text[i:].lstrip("`"))
        closing = re.compile(rf"(?<!`)`{{{run}}}(?!`)").search(text, i + run)
        if closing is None:
            i += run
            continue
        out.append(change(text[plain_from:i]))
        out.append(inside(text[i : closing.end()]))
        plain_from = i = closing.end()
    out.append(change(text[plain_from:]))
    return "".join(out)


def _escape_command(line: str, escape: str) -> str:
    if not is_command_line(line):
        return line
    cut = len(line) - len(line.lstrip())
    return line[:cut] + escape + line[cut:]


def neutralise(text: str) -> str:
    """Last line of defence on a whole body: a zero-width space before any command,
    and in any marker-shaped text that is not one of the App's own marker lines."""
    return "\n".join(
        _escape_command(line if _MARKER_LINE.match(line) else _defuse_markers(line), _ZWSP) for line in text.split("\n")
    )


def fence_for(content: str) -> str:
    """A backtick fence longer than any backtick run inside ``content``."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    return "`" * max(3, longest + 1)


def code_block(content: str, info: str = "yaml") -> str:
    """A fenced block showing ``content`` (text with its line endings) as it is."""
    body = _lines(content)
    text = "\n".join(_escape_command(_defuse_markers(line), _ZWSP) for line in body)
    fence = fence_for(text)
    return f"{fence}{info}\n{text}\n{fence}" if body else f"{fence}{info}\n{fence}"


def suggestion_block(lines: list[str]) -> str:
    """A suggestion replacing the commented lines with ``lines`` (none: delete them)."""
    text = "\n".join(lines)
    fence = fence_for(text)
    return f"{fence}suggestion\n{text}\n{fence}" if lines else f"{fence}suggestion\n{fence}"


def _lines(replacement: str) -> list[str]:
    """An edit's replacement as lines without endings ("" -> none, "\\n" -> one empty)."""
    if not replacement:
        return []
    text = replacement.replace("\r\n", "\n").replace("\r", "\n")
    return text.removesuffix("\n").split("\n")


def _size(text: str) -> int:
    """Length as GitHub may count it (UTF-16 code units: never less than characters)."""
    return len(text.encode("utf-16-le")) // 2


# --- fixes as text -------------------------------------------------------------------


def _span(start: int, end: int) -> str:
    return f"line {start}" if start >= end else f"lines {start}-{end}"


def fix_markdown(fix: Fix) -> str:
    """A fix as Markdown: its description, then each edit with its path, lines and
    replacement in a ``yaml`` block."""
    return _render_fix(fix, markdown=True)


def fix_text(fix: Fix) -> str:
    """A fix as plain text (check-run annotation details)."""
    return _render_fix(fix, markdown=False)


def _render_fix(fix: Fix, markdown: bool) -> str:
    prose = escape_prose if markdown else (lambda text: text)
    parts = [f"{'**Fix:** ' if markdown else ''}{prose(fix.description)}"] if fix.description else []
    parts.extend(_render_edit(edit, markdown) for edit in fix.edits)
    return "\n\n".join(parts)


def _render_edit(edit: Edit, markdown: bool = True) -> str:
    """One edit with its path and lines: "delete.", or its replacement in a block."""
    prose = escape_prose if markdown else (lambda text: text)
    path = code_span(edit.path) if markdown else edit.path
    where = prose(f"{path} {_span(edit.start_line, edit.end_line)}")
    if not edit.replacement:
        return f"{where}: delete."
    shown = code_block(edit.replacement) if markdown else edit.replacement.rstrip()
    return f"{where}, replace with:\n{shown}"


def severity_counts(findings: Iterable[Finding], include_zero: bool = True) -> str:
    """ "1 error, 2 warnings, 0 info" (without the zero counts if asked)."""
    counts = Counter(f.severity for f in findings)
    parts = []
    for severity in ("error", "warning", "info"):
        n = counts.get(severity, 0)
        if n or include_zero:
            parts.append(f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}")
    return ", ".join(parts)


# --- placing findings on the diff ----------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where an inline comment goes, and the suggestion it carries (if any)."""

    path: str
    start_line: int
    line: int
    suggestion: list[str] | None = None  # the lines replacing start_line..line
    rest: tuple[Edit, ...] = ()  # the fix's edits in other files, to apply besides the suggestion

    def comment(self, body: str) -> dict:
        out: dict = {"path": self.path, "line": self.line, "side": "RIGHT", "body": body}
        if self.start_line < self.line:
            out["start_line"] = self.start_line
            out["start_side"] = "RIGHT"
        return out


def place(finding: Finding, diff: FileDiff | None) -> Placement | None:
    """The inline placement of a finding, or None when its lines are not all in one
    hunk of the diff (GitHub would refuse the comment).

    The placement carries a suggestion when the fix's edits of the finding's file
    can all be applied by one: they do not overlap, and the span from the first to
    the last line that the finding or an edit touches is at most
    `MAX_SUGGESTION_SPAN` lines, all in the finding's hunk. Its lines are the edits'
    replacements with the untouched lines between them copied from the diff. Edits
    in other files go to ``rest``, shown after the suggestion to be applied too: a
    part is offered alone only along file lines (the rules' fixes make each file's
    part an improvement by itself, e.g. dropping ``sessionAffinity`` before the
    Ingress gets its cookie annotations), never part of one file's edits. Otherwise
    the comment sits on the finding's lines alone and the fix is shown as its
    edits."""
    if diff is None:
        return None
    start, end = sorted((finding.line, finding.end_line))
    if diff.hunk_spanning(start, end) is None:
        return None
    plain = Placement(finding.path, start, end)
    if finding.fix is None:
        return plain
    here = sorted((e for e in finding.fix.edits if e.path == finding.path), key=lambda e: e.start_line)
    rest = tuple(e for e in finding.fix.edits if e.path != finding.path)
    if not here or any(e.start_line > e.end_line or e.start_line < 1 for e in here):
        return plain
    if any(later.start_line <= earlier.end_line for earlier, later in zip(here, here[1:])):
        return plain  # overlapping edits: no single text does what they mean
    first = min(start, here[0].start_line)
    last = max(end, max(e.end_line for e in here))
    if last - first + 1 > MAX_SUGGESTION_SPAN:
        return plain
    shown = diff.texts(first, last)
    if shown is None:
        return plain  # a line of the span is outside the finding's hunk
    lines: list[str] = []
    at = first  # the next line of the span not yet accounted for
    for edit in here:
        lines += [text.rstrip("\r") for text in shown[at - first : edit.start_line - first]]
        lines += _lines(edit.replacement)
        at = edit.end_line + 1
    lines += [text.rstrip("\r") for text in shown[at - first :]]
    if any(is_command_line(line) or has_marker_text(line) for line in lines):
        return plain  # would have to alter the fix
    return Placement(finding.path, first, last, lines, rest)


# --- rendering -----------------------------------------------------------------------


def _related(finding: Finding) -> str:
    if not finding.related:
        return ""
    items = [f"- {code_span(r.path)} line {r.line}: {escape_prose(r.message)}" for r in finding.related]
    return "**Related:**\n" + "\n".join(items)


def _silence(finding: Finding, here: str = "this line") -> str:
    return (
        f"{rule_link(finding.rule, f'About `{finding.rule}`')} · to silence it, add "
        f"`# footgun:ignore {finding.rule}` on the resource's first line or {here}."
    )


def comment_body(finding: Finding, placement: Placement) -> str:
    """The inline comment: rule and severity, what breaks, the fix, docs, silencing."""
    parts = [f"**footgun** · `{finding.rule}` · {finding.severity}", escape_prose(finding.message)]
    if placement.suggestion is not None and finding.fix is not None:
        description = escape_prose(finding.fix.description) if finding.fix.description else "Suggested fix"
        parts.append(f"**Fix:** {description}\n{suggestion_block(placement.suggestion)}")
        if placement.rest:
            files = sorted({e.path for e in placement.rest})
            where = "another file" if len(files) == 1 else "other files"
            parts.append(
                f"The suggestion above is only part of the fix: also apply "
                f"{'this edit' if len(placement.rest) == 1 else 'these edits'} in {where}:"
            )
            parts.extend(_render_edit(edit) for edit in placement.rest)
    elif finding.fix is not None:
        parts.append(fix_markdown(finding.fix))
    related = _related(finding)
    if related:
        parts.append(related)
    parts.append(_silence(finding))
    parts.append(marker(finding))
    return neutralise("\n\n".join(parts))


def body_entry(finding: Finding, reason: str) -> str:
    """A finding listed in the review body (under its file's heading)."""
    where = _span(*sorted((finding.line, finding.end_line)))
    parts = [
        f"**`{finding.rule}`** ({finding.severity}) · {where} · {escape_prose(str(finding.resource))}"
        f"{f' · {reason}' if reason else ''}",
        escape_prose(finding.message),
    ]
    if finding.fix is not None:
        parts.append(fix_markdown(finding.fix))
    related = _related(finding)
    if related:
        parts.append(related)
    parts.append(_silence(finding, "the finding's line") + "\n" + marker(finding))
    return "\n\n".join(parts)


@dataclass
class ReviewPlan:
    """One review, ready to post (`payload`) or to print (`to_markdown`)."""

    commit_id: str
    body: str
    comments: list[dict] = field(default_factory=list)
    fingerprints: set[str] = field(default_factory=set)  # ids of the findings reported here
    event: str = "COMMENT"

    def payload(self) -> dict:
        """The JSON body of ``POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews``."""
        return {
            "commit_id": self.commit_id,
            "body": self.body,
            "event": self.event,
            "comments": [dict(c) for c in self.comments],
        }

    def to_markdown(self) -> str:
        """The whole review as Markdown for a terminal: the body, then every inline
        comment under its path and lines (hidden markers left out)."""
        out = [_strip_markers(self.body)]
        for comment in self.comments:
            start = comment.get("start_line", comment["line"])
            lines = f"{start}-{comment['line']}" if start < comment["line"] else str(start)
            heading = code_span(f"{comment['path']}:{lines}")
            out.append(f"---\n\n### {heading}\n\n{_strip_markers(comment['body'])}")
        return "\n\n".join(out) + "\n"


def _strip_markers(text: str) -> str:
    kept = [line for line in text.split("\n") if not _MARKER_LINE.match(line)]
    return "\n".join(kept).strip("\n")


# --- the plan ------------------------------------------------------------------------


def plan_review(
    findings: Iterable[Finding],
    diffs: Mapping[str, FileDiff],
    already_commented: set[str] | frozenset[str] = frozenset(),
    head_sha: str = "",
    skipped: Iterable[Skip] = (),
    max_inline: int = MAX_INLINE,
    notes: Iterable[Skip] = (),
    remarks: Iterable[Skip] = (),
) -> ReviewPlan | None:
    """The review for ``findings`` on a PR whose files are ``diffs`` (path -> FileDiff),
    leaving out the findings and skipped files ``already_commented`` (ids from
    `fingerprints_in`, or raw fingerprints). ``notes``: run-level remarks (a partial
    scan) for the body; ``remarks``: what a change of the configuration would do, said
    once each (marked like a skipped file). None when nothing new remains: no review
    at all."""
    findings = list(findings)
    known = set(already_commented)
    new = [f for f in findings if not is_marked(f, known)]
    new_skips = [s for s in skipped if skip_id(s) not in known]
    new_remarks = [r for r in remarks if skip_id(r) not in known]
    alerting = [s for s in new_skips if not s.reason.startswith(QUIET_ALONE_PREFIXES)]
    if not new and not alerting and not new_remarks:
        return None
    new.sort(key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), f.path, f.line, f.rule))
    comments: list[dict] = []
    reported: set[str] = set()
    listed: list[tuple[Finding, str]] = []
    for finding in new:
        placement = place(finding, diffs.get(finding.path))
        if placement is None:
            listed.append((finding, "not in this diff"))
            continue
        if len(comments) >= max_inline:
            listed.append((finding, f"over the {max_inline} inline comments of a review"))
            continue
        body = comment_body(finding, placement)
        if _size(body) > MAX_BODY:
            listed.append((finding, "too long for an inline comment"))
            continue
        comments.append(placement.comment(body))
        reported.add(finding_id(finding))
    comments.sort(key=lambda c: (c["path"], c["line"]))
    body, listed_ids = _review_body(findings, len(new), len(comments), listed, new_skips, list(notes), new_remarks)
    return ReviewPlan(head_sha, body, comments, reported | listed_ids)


def _review_body(
    findings: list[Finding],
    new: int,
    inline: int,
    listed: list[tuple[Finding, str]],
    skipped: list[Skip],
    notes: Sequence[Skip] = (),
    remarks: Sequence[Skip] = (),
) -> tuple[str, set[str]]:
    old = len(findings) - new
    if new:
        summary = f"**footgun**: {severity_counts(findings)} ({new} new, {old} already reported)."
    elif skipped:
        summary = "**footgun**: nothing new found, but part of this pull request could not be scanned (below)."
    else:
        summary = "**footgun**: nothing new found; this pull request changes footgun's configuration (below)."
    where = []
    if inline:
        where.append(f"{inline} commented inline")
    if listed:
        where.append(f"{len(listed)} listed below")
    head = summary + ("\n\n" + "; ".join(where) + "." if where else "")
    budget = MAX_BODY - _size(head) - _size(REVIEW_MARKER) - _NOTE_RESERVE
    partial = ""
    if notes:  # a partial scan is said first, whatever else has to give way
        partial = "\n".join(["### Partial review", *(f"- {escape_prose(n.reason)}" for n in notes)])
        partial = partial[:4000]
        budget -= _size(partial) + 2

    sections: list[str] = []
    listed_ids: set[str] = set()
    omitted = 0
    if listed:
        by_file: dict[str, list[tuple[Finding, str]]] = {}
        for finding, reason in sorted(listed, key=lambda item: (item[0].path, item[0].line)):
            by_file.setdefault(finding.path, []).append((finding, reason))
        parts = ["### Not commented inline"]
        for path, entries in by_file.items():
            heading = f"#### {code_span(path)}"
            for finding, reason in entries:
                entry = body_entry(finding, reason)
                piece = f"{heading}\n\n{entry}" if heading else entry
                cost = _size(piece) + 2
                if cost > budget:
                    omitted += 1
                    continue
                budget -= cost
                parts.append(piece)
                heading = ""
                listed_ids.add(finding_id(finding))
        sections.append("\n\n".join(parts))
    skip_markers: list[str] = []
    if skipped:
        lines = ["### Files not scanned"]
        left_out = 0
        for skip in skipped:
            subject = "the pull request" if skip.path == "." else code_span(skip.path)
            line = f"- {subject}: {escape_prose(skip.reason)}"
            mark = MARKER.format(skip_id(skip))
            cost = _size(line) + _size(mark) + 2
            if cost > budget:
                left_out += 1
                continue
            budget -= cost
            lines.append(line)
            skip_markers.append(mark)
            listed_ids.add(skip_id(skip))
        if left_out:
            lines.append(f"- ... and {left_out} more.")
        sections.append("\n".join(lines))
    if partial:
        sections.insert(0, partial)
    for remark in remarks:  # short, and said first: the configuration decides what the rest means
        sections.insert(0, f"### Configuration change\n\n{escape_prose(remark.reason)}")
        skip_markers.append(MARKER.format(skip_id(remark)))
        listed_ids.add(skip_id(remark))
    if omitted:
        sections.append(
            f"_{omitted} more finding{'s' if omitted != 1 else ''} did not fit in this "
            f"review (GitHub's limit of {MAX_BODY:,} characters); they show in the "
            f"`footgun` check run and in `footgun scan`._"
        )
    body = "\n\n".join([head, *sections, *(["\n".join(skip_markers)] if skip_markers else []), REVIEW_MARKER])
    return neutralise(body), listed_ids
