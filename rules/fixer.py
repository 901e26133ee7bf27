"""``footgun fix``: apply every available fix in place, in the files' own style.

Fixes are applied in passes: each pass takes every fix whose edits do not overlap
an edit already taken, writes the files, and scans again, since one fix can make
another finding's lines move or disappear. A few passes settle any real tree.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .config import Config
from .edits import apply_edits, overlaps
from .engine import ScanResult, scan_paths
from .model import Edit, Finding

MAX_PASSES = 5
BOM = "\ufeff"


@dataclass
class FixReport:
    changed: Counter  # path -> number of findings fixed there
    remaining: ScanResult


def choose_fixes(findings: Iterable[Finding]) -> list[Finding]:
    """The findings whose fixes can be applied together (no overlapping edits)."""
    chosen, taken = [], []
    for finding in findings:
        if finding.fix and not any(overlaps(e, t) for e in finding.fix.edits for t in taken):
            chosen.append(finding)
            taken.extend(finding.fix.edits)
    return chosen


def fix_paths(paths: list[str], config: Config) -> FixReport:
    changed: Counter = Counter()
    result = scan_paths(paths, config)
    for _ in range(MAX_PASSES):
        chosen = choose_fixes(result.findings)
        if not chosen:
            break
        by_path: dict[str, list[Edit]] = {}
        for finding in chosen:
            for edit in finding.fix.edits:
                by_path.setdefault(edit.path, []).append(edit)
            changed[finding.path] += 1
        for path, edits in by_path.items():
            _rewrite(path, edits)
        result = scan_paths(paths, config)
    return FixReport(changed, result)


def _rewrite(path: str, edits: list[Edit]) -> None:
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8")
    bom = BOM if text.startswith(BOM) else ""
    new = bom + apply_edits(text.removeprefix(BOM), edits)
    with open(path, "wb") as handle:
        handle.write(new.encode("utf-8"))
