"""Findings for people: ``path:line: severity rule: message``, the fix as a small
diff, a link to the rule's docs; colour only on a terminal."""

from __future__ import annotations

import re
from collections import Counter

from ..checks import doc_url, offline_hint
from ..engine import ScanResult
from ..manifests import SourceFile
from ..model import Edit, Finding
from ..yamltree import split_lines

# Terminal controls a manifest value could carry into a message, a path or a diff line:
# C0 controls but tab and line feed (ESC starts colour, cursor and OSC sequences; CR
# overwrites a line; BEL rings), DEL, C1 controls (0x9b is a one-byte CSI), and the
# bidirectional overrides that reorder what is shown. Printed as escapes instead.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every terminal control written as a visible escape (``\\x1b``)."""
    return _CONTROLS.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


COLOURS = {"error": "31", "warning": "33", "info": "36", "minus": "31", "plus": "32", "dim": "2"}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, colour: str) -> str:
        return f"\033[{COLOURS[colour]}m{text}\033[0m" if self.enabled else text


def render(result: ScanResult, colour: bool = False, **_: object) -> str:
    paint = _Paint(colour)
    out: list[str] = []
    for finding in result.findings:
        out.extend(_finding(finding, result, paint))
    for skip in result.skipped:
        out.append(f"{printable(skip.path)}: {paint('skipped', 'dim')}: {printable(skip.reason)}")
    for note in result.notes:
        out.append(f"{paint('note', 'dim')}: {printable(note)}")
    out.append(summary(result))
    return "\n".join(out) + "\n"


def summary(result: ScanResult) -> str:
    counts = Counter(f.severity for f in result.findings)
    if not result.findings:
        head = "No findings"
    else:
        parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in ("error", "warning", "info") if counts[s]]
        fixable = sum(1 for f in result.findings if f.fix)
        head = f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} ({', '.join(parts)}); {fixable} fixable with `footgun fix`"
    scanned = len(result.sources)
    tail = f" in {scanned} file{'s' if scanned != 1 else ''}"
    if result.skipped:
        tail += f", {len(result.skipped)} skipped"
    return head + tail + "."


def _finding(finding: Finding, result: ScanResult, paint: _Paint) -> list[str]:
    sources = result.sources
    where = f"{printable(finding.path)}:{finding.line}"
    lines = [f"{where}: {paint(finding.severity, finding.severity)} {finding.rule}: {printable(finding.message)}"]
    for related in finding.related:
        lines.append(f"    {printable(related.path)}:{related.line}: {printable(related.message)}")
    if finding.fix:
        lines.append(f"    fix: {printable(finding.fix.description)}")
        for edit in finding.fix.edits:
            lines.extend("    " + line for line in _diff(edit, sources.get(edit.path), paint))
    elif finding.fix_withheld:
        lines.append(f"    no fix offered: {printable(finding.fix_withheld)}")
    docs = doc_url(finding.rule, result.docs_url) or offline_hint(finding.rule)
    lines.append(f"    {paint('docs: ' + docs, 'dim')}")
    return lines


def _diff(edit: Edit, source: SourceFile | None, paint: _Paint) -> list[str]:
    lines = [paint(f"@@ {printable(edit.path)}:{edit.start_line}-{edit.end_line} @@", "dim")]
    if source is not None:
        for number in range(edit.start_line, edit.end_line + 1):
            lines.append(paint("-" + printable(source.line(number)), "minus"))
    for new in split_lines(edit.replacement):
        lines.append(paint("+" + printable(new), "plus"))
    return lines
