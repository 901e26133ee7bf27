"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: rule metadata with
help text, regions on the offending lines, fixes as SARIF fixes.
https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from typing import Any

from ..checks import doc_url, package_version, project_urls
from ..docs import rule_docs
from ..engine import ScanResult
from ..manifests import SourceFile
from ..model import Edit, Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render(result: ScanResult, version: str | None = None, **_: object) -> str:
    docs = rule_docs()
    index = {d.id: i for i, d in enumerate(docs)}
    rules = [
        {
            "id": d.id,
            "name": "".join(part.title() for part in d.id.split("-")),
            "shortDescription": {"text": d.summary},
            "fullDescription": {"text": d.title},
            "help": {"text": d.markdown, "markdown": d.markdown},
            **({"helpUri": url} if (url := doc_url(d.id, result.docs_url)) else {}),
            "defaultConfiguration": {"level": LEVELS[d.severity]},
            "properties": {"tags": ["kubernetes", "networking"], "problem.severity": d.severity},
        }
        for d in docs
    ]
    results = [_result(f, index, result.sources) for f in result.findings]
    notifications = [
        {
            "level": "note",
            "message": {"text": f"{s.path}: skipped: {s.reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(s.path)}}}],
        }
        for s in result.skipped
    ] + [{"level": "note", "message": {"text": note}} for note in result.notes]
    run = {
        "tool": {"driver": _driver(version, rules)},
        "results": results,
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _driver(version: str | None, rules: list[dict]) -> dict:
    driver = {"name": "footgun", "version": version or package_version(), "rules": rules}
    home = project_urls().get("homepage")
    if home:  # only a declared address: SARIF viewers link it
        driver["informationUri"] = home
    return driver


def _uri(path: str) -> str:
    return PurePath(path).as_posix().removeprefix("./")


def _location(path: str, start: int, end: int) -> dict:
    return {
        "physicalLocation": {"artifactLocation": {"uri": _uri(path)}, "region": {"startLine": start, "endLine": end}}
    }


def _result(f: Finding, index: dict[str, int], sources: dict[str, SourceFile]) -> dict:
    result = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [_location(f.path, f.line, f.end_line)],
        "partialFingerprints": {"footgun/v1": hashlib.sha256(f.fingerprint.encode()).hexdigest()[:32]},
    }
    if f.related:
        result["relatedLocations"] = [
            {"id": i, "message": {"text": r.message}, **_location(r.path, r.line, r.line)}
            for i, r in enumerate(f.related)
        ]
    if f.fix:
        changes: dict[str, dict[str, Any]] = {}
        for edit in f.fix.edits:
            change = changes.setdefault(edit.path, {"artifactLocation": {"uri": _uri(edit.path)}, "replacements": []})
            change["replacements"].append(_replacement(edit, sources.get(edit.path)))
        result["fixes"] = [{"description": {"text": f.fix.description}, "artifactChanges": list(changes.values())}]
    return result


def _replacement(edit: Edit, source: SourceFile | None) -> dict:
    """Whole lines out, new text in, as character offsets (exact for any line ending)."""
    if source is None:
        region = {"startLine": edit.start_line, "endLine": edit.end_line}
    else:
        offset = sum(len(line) for line in source.lines[: edit.start_line - 1])
        length = sum(len(line) for line in source.lines[edit.start_line - 1 : edit.end_line])
        region = {"charOffset": offset, "charLength": length}
    return {"deletedRegion": region, "insertedContent": {"text": edit.replacement}}
