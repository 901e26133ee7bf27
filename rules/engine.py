"""Runs the rule catalogue over a set of files: load, index, check, filter.

`scan_files` takes file contents (the App passes what it fetched), `scan_paths` reads
folders and files from disk (the command line). Both return a `ScanResult`; neither
touches the network.
"""
from __future__ import annotations

import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from .checks import RULES
from .config import CONFIG_NAMES, Config
from .inventory import Inventory
from .manifests import LoadedFile, Resource, SourceFile, load_file
from .context import Context
from .model import SEVERITY_RANK, Finding, Skip

# Told how far a scan is: (stage, done, total), stage "files" (read) or "rules" (run).
Progress = Callable[[str, int, int], None]

IGNORE_ANNOTATION = "footgun.dev/ignore"
_IGNORE_MARK = "footgun:ignore"  # every match of _IGNORE_COMMENT contains it
_IGNORE_COMMENT = re.compile(r"#\s*footgun:ignore\b[ \t]*([A-Za-z0-9_,\- \t]*)")
YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {".git", "node_modules", ".terraform", "__pycache__", ".venv", "venv"}


@dataclass
class ScanResult:
    findings: list[Finding]
    skipped: list[Skip]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    inventory: Inventory | None = None
    docs_url: str | None = None  # the configured base of rule links (None: the default)

    def failing(self, fail_level: str) -> list[Finding]:
        if fail_level == "never":
            return []
        threshold = SEVERITY_RANK[fail_level]
        return [f for f in self.findings if SEVERITY_RANK[f.severity] >= threshold]


def scan_files(files: Mapping[str, bytes], config: Config | None = None) -> ScanResult:
    """Scan file contents keyed by path (paths are reported as given)."""
    config = config or Config()
    with collector_paused():
        loaded = [load_file(path, raw, config.limits, config.max_file_bytes) for path, raw in files.items()]
    return run_rules(loaded, config)


def scan_paths(paths: Iterable[str], config: Config | None = None, progress: Progress | None = None) -> ScanResult:
    """Scan files and folders on disk (folders recursively, ``*.yaml``/``*.yml``);
    ``progress``, if given, is told of each file read and each rule run."""
    config = config or Config()
    loaded = []
    with collector_paused():
        files = collect_files(paths, config)
        for done, path in enumerate(files):
            if progress:
                progress("files", done, len(files))
            try:
                raw, size = _read_bounded(path, config.max_file_bytes)
            except OSError as exc:
                loaded.append(LoadedFile(None, skip=Skip(path, f"cannot read: {exc.strerror or exc}")))
                continue
            loaded.append(load_file(path, raw, config.limits, config.max_file_bytes, size))
    return run_rules(loaded, config, progress)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading allocates several objects per YAML node and frees none of them in
    reference cycles: meanwhile the cyclic garbage collector would only traverse
    every object loaded so far, again and again (a tenth of a 50,000-document scan).
    Left as the caller had it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def loaded_frozen() -> Iterator[None]:
    """While the rules run, what was loaded stays alive and acyclic: moved out of the
    collector's generations (``gc.freeze``) so that its passes look only at what the
    rules allocate, then moved back. Not when something else of the process froze
    objects already (before forking, say): unfreezing would undo that too."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _read_bounded(path: str, max_bytes: int) -> tuple[bytes, int]:
    """At most one byte more than the limit (enough to tell "too large"), and the
    file's size for the message."""
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1), os.fstat(handle.fileno()).st_size


def collect_files(paths: Iterable[str], config: Config) -> list[str]:
    """The YAML files named or below the folders named, in a stable order, less what
    the config excludes. Paths keep the form they were given in."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                # footgun's own config is YAML but no manifest: not worth a "skipped" line
                found.extend(os.path.join(folder, n) for n in sorted(names)
                             if n.endswith(YAML_SUFFIXES) and n not in CONFIG_NAMES)
        else:
            found.append(path)
    seen: set[str] = set()
    unique = []
    for path in found:
        if path not in seen and config.is_included(_relative_to_root(path, config.root)):
            seen.add(path)
            unique.append(path)
    return unique


def _relative_to_root(path: str, root: str) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def run_rules(loaded: list[LoadedFile], config: Config, progress: Progress | None = None) -> ScanResult:
    with loaded_frozen():
        return _run_rules(loaded, config, progress)


def _run_rules(loaded: list[LoadedFile], config: Config, progress: Progress | None = None) -> ScanResult:
    inventory = Inventory(loaded, config.custom_workloads)
    findings: list[Finding] = []
    for done, (rule_id, rule) in enumerate(RULES.items()):
        if progress:
            progress("rules", done, len(RULES))
        setting = config.rule(rule_id)
        if not setting.enabled:
            continue
        context = Context(inventory, config, rule)
        for found in rule.check(context):
            if is_suppressed(found, context.origins.get(id(found))):
                continue
            if setting.severity:
                found.severity = setting.severity
            findings.append(found)
    findings.sort(key=lambda f: (f.path, f.line, list(RULES).index(f.rule)))
    sources = {f.source.path: f.source for f in loaded if f.source}
    skipped = [f.skip for f in loaded if f.skip]
    return ScanResult(findings, skipped, sources, inventory, config.docs_url)


def is_suppressed(found: Finding, resource: Resource | None) -> bool:
    """``# footgun:ignore <ids>`` on the finding's line or the resource's first line
    (or a comment line just above either), or the ``footgun.dev/ignore`` annotation."""
    if resource is None:
        return False
    if _names_rule(resource.annotations.get(IGNORE_ANNOTATION), found.rule):
        return True
    source = resource.source
    if _IGNORE_MARK not in source.text:
        return False  # no ignore comment anywhere: the file's lines need not be split
    for line in {found.line, resource.start_line}:
        for ids in _ignore_comments_at(source, line):
            if _names_rule(ids, found.rule):
                return True
    return False


def _ignore_comments_at(source: SourceFile, line: int) -> Iterator[str]:
    """Ignore-comment rule lists on ``line`` and on the comment lines above it."""
    number = line
    while 1 <= number <= len(source.lines):
        text = source.line(number)
        match = _IGNORE_COMMENT.search(text)
        if match:
            yield match.group(1)
        if number != line and not text.lstrip().startswith(("#", "---")):
            break
        number -= 1
        if number < line - 20:
            break


def _names_rule(ids: str | None, rule_id: str) -> bool:
    if ids is None:
        return False
    names = {part.strip() for part in re.split(r"[,\s]+", ids) if part.strip()}
    return not names or rule_id in names or "all" in names or "*" in names
