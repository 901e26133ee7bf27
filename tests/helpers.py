"""Shared test helpers: scanning in-memory files and case folders, applying fixes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ruamel.yaml import YAML

from footgun.rules.config import Config, find_config, load_config
from footgun.rules.edits import apply_edits
from footgun.rules.engine import ScanResult, scan_files
from footgun.rules.model import Finding, Fix

CASES = Path(__file__).parent / "rules" / "checks" / "cases"
EXPECT = re.compile(r"#\s*expect:\s*([a-z-]+)(?:\s+(error|warning|info))?")


def scan_texts(files: dict[str, str], config: Config | None = None) -> ScanResult:
    """Scan files given as {path: text}."""
    return scan_files({p: t.encode() for p, t in files.items()}, config)


def scan_text(text: str, config: Config | None = None, path: str = "manifest.yaml") -> ScanResult:
    return scan_texts({path: text}, config)


def of_rule(result: ScanResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


def case_paths() -> list[Path]:
    """Every case: a YAML file or a folder (one scan) under cases/<rule-id>/."""
    return sorted(
        p
        for rule_dir in CASES.iterdir()
        if rule_dir.is_dir()
        for p in rule_dir.iterdir()
        if p.suffix in (".yaml", ".yml") or p.is_dir()
    )


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def read_case(path: Path) -> dict[str, str]:
    """The case's files as {relative path: text}, read as bytes so CRLF survives."""
    if path.is_file():
        return {path.name: path.read_bytes().decode()}
    return {
        p.relative_to(path).as_posix(): p.read_bytes().decode()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.suffix in (".yaml", ".yml") and p.name not in (".footgun.yml", ".footgun.yaml")
    }


def case_config(path: Path) -> Config:
    found = find_config(path) if path.is_dir() else None
    return load_config(found) if found and found.is_relative_to(CASES) else Config()


def expected_markers(files: dict[str, str]) -> set[tuple[str, int, str]]:
    """(path, line, rule) for every ``# expect: <rule>`` comment."""
    marks = set()
    for path, text in files.items():
        for number, line in enumerate(text.splitlines(), 1):
            for match in EXPECT.finditer(line):
                marks.add((path, number, match.group(1)))
    return marks


def apply_fix(files: dict[str, str], fix: Fix) -> dict[str, str]:
    changed = dict(files)
    for path in {e.path for e in fix.edits}:
        changed[path] = apply_edits(changed[path], [e for e in fix.edits if e.path == path])
    return changed


def parses(text: str) -> bool:
    try:
        list(YAML(typ="safe").load_all(text))
        return True
    except Exception:
        return False


def fingerprints(findings: Iterable[Finding]) -> set[str]:
    return {f.fingerprint for f in findings}
