"""GitHub Actions workflow commands (``::error file=...::message``), one per finding,
so a workflow step annotates the PR without any App installed.
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
"""

from __future__ import annotations

from ..engine import ScanResult
from .text import printable

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(value: str) -> str:
    # the commands are printed in the job's log, a terminal: no control from a manifest
    value = printable(value)
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, **_: object) -> str:
    lines = []
    for f in result.findings:
        props = f"file={_property(f.path)},line={f.line},endLine={f.end_line},title={_property(f.rule)}"
        message = f.message + (f"\nFix: {f.fix.description}" if f.fix else "")
        lines.append(f"::{LEVELS[f.severity]} {props}::{_data(message)}")
    for s in result.skipped:
        lines.append(f"::notice file={_property(s.path)},title=footgun skipped::{_data(s.reason)}")
    for note in result.notes:
        lines.append(f"::notice title=footgun::{_data(note)}")
    return "".join(line + "\n" for line in lines)
