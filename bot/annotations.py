"""The ``footgun`` check run's output: title, summary table, annotations, conclusion.

GitHub's limits (Checks API): ``output.summary`` at most 65,535 characters (counted
as bytes in practice, github/rest-api-description#5399, so this counts UTF-8 bytes);
an annotation's ``message`` and ``raw_details`` at most 64 KB; at most 50 annotations
per create/update request (`batches`), later requests appending to the earlier ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, TypeVar

from footgun.rules.checks import RULES
from footgun.rules.model import SEVERITY_RANK, Finding, Skip

from .links import rule_link
from .review import code_span, escape_prose, fix_text, is_marked, neutralise, severity_counts

# A check run's conclusions footgun gives (GitHub's words).
Conclusion = Literal["success", "neutral", "failure"]

MAX_SUMMARY_BYTES = 65535
MAX_DETAIL_BYTES = 64 * 1024 - 1024  # 64 KB, with room to spare
ANNOTATIONS_PER_REQUEST = 50
LEVELS = {"error": "failure", "warning": "warning", "info": "notice"}

T = TypeVar("T")


def conclusion_for(findings: Iterable[Finding], new: set[str] | frozenset[str]) -> Conclusion:
    """``failure`` when an error-severity finding is new in the PR, ``neutral`` when
    findings remain (warnings, info, or errors the PR did not introduce), ``success``
    when clean. ``new``: the findings the PR introduced (absent at its base), as ids
    (`bot.review.finding_id`) or raw fingerprints."""
    findings = list(findings)
    if any(f.severity == "error" and is_marked(f, new) for f in findings):
        return "failure"
    return "neutral" if findings else "success"


def check_run_output(
    findings: Iterable[Finding], new_fingerprints: set[str] | frozenset[str], skipped: Iterable[Skip] = ()
) -> dict:
    """The check run's ``output``: title, summary (a table of rule / severity / count /
    new, then the files not scanned) and every finding as an annotation (send them
    with `batches`)."""
    findings = list(findings)
    skipped = list(skipped)
    return {
        "title": _title(findings, new_fingerprints),
        "summary": _summary(findings, new_fingerprints, skipped),
        "annotations": [annotation(f) for f in findings],
    }


def annotation(finding: Finding) -> dict:
    start, end = sorted((finding.line, finding.end_line))
    message = finding.message
    if finding.related:
        message += "\n\n" + "\n".join(f"{r.path}:{r.line}: {r.message}" for r in finding.related)
    out = {
        "path": finding.path,
        "start_line": start,
        "end_line": end,
        "annotation_level": LEVELS.get(finding.severity, "notice"),
        "title": finding.rule,
        "message": _truncate(neutralise(message), MAX_DETAIL_BYTES),
    }
    if finding.fix is not None:
        out["raw_details"] = _truncate(neutralise(fix_text(finding.fix)), MAX_DETAIL_BYTES)
    return out


def batches(items: Sequence[T], size: int = ANNOTATIONS_PER_REQUEST) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (one per check-run request)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _title(findings: list[Finding], new: set[str] | frozenset[str]) -> str:
    if not findings:
        return "No footguns found"
    fresh = sum(1 for f in findings if is_marked(f, new))
    return f"{severity_counts(findings, include_zero=False)} ({fresh} new)"


def _summary(findings: list[Finding], new: set[str] | frozenset[str], skipped: list[Skip]) -> str:
    if findings:
        rows: dict[tuple[str, str], list[int]] = {}
        for f in findings:
            row = rows.setdefault((f.rule, f.severity), [0, 0])
            row[0] += 1
            row[1] += is_marked(f, new)
        order = list(RULES)
        keyed = sorted(
            rows.items(),
            key=lambda kv: (
                -SEVERITY_RANK.get(kv[0][1], 0),
                order.index(kv[0][0]) if kv[0][0] in order else len(order),
            ),
        )
        lines = ["| Rule | Severity | Count | New |", "| --- | --- | ---: | ---: |"]
        lines += [
            f"| {rule_link(rule)} | {severity} | {count} | {fresh} |" for (rule, severity), (count, fresh) in keyed
        ]
        text = "\n".join(lines)
    else:
        text = "No Services & Ingress footguns in the scanned manifests."
    if skipped:
        listing = ["", "**Files not scanned**", ""]
        budget = MAX_SUMMARY_BYTES - len(text.encode()) - 200
        for n, skip in enumerate(skipped):
            line = f"- {code_span(skip.path)}: {escape_prose(skip.reason)}"
            budget -= len(line.encode()) + 1
            if budget < 0:
                listing.append(f"- ... and {len(skipped) - n} more.")
                break
            listing.append(line)
        text += "\n" + "\n".join(listing)
    return _truncate(neutralise(text), MAX_SUMMARY_BYTES)


def fit_summary(text: str) -> str:
    """``text`` cut to what GitHub takes as a check run's summary."""
    return _truncate(text, MAX_SUMMARY_BYTES)


def _truncate(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    note = "\n... (truncated)"
    return data[: max_bytes - len(note)].decode("utf-8", errors="ignore") + note
