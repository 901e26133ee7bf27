"""Runs the rule catalogue over a set of files: load, index, check, filter.

`scan_files` takes file contents (the App passes what it fetched), `scan_paths` reads
folders and files from disk (the command line). Both return a `ScanResult`; neither
touches the network.
"""

from __future__ import annotations

import gc
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

from .builds import Builder, Reader, Rendering
from .checks import RULES
from .config import CONFIG_NAMES, Config
from .context import Context
from .edits import apply_edits
from .inventory import Inventory
from .manifests import NOT_A_MANIFEST, LoadedFile, Resource, SourceFile, load_file, load_text
from .model import SEVERITY_RANK, Edit, Finding, Skip
from .sources import Placer
from .units import norm

# Told how far a scan is: (stage, done, total), stage "files" (read) or "rules" (run).
Progress = Callable[[str, int, int], None]

IGNORE_ANNOTATION = "footgun.dev/ignore"
_IGNORE_COMMENT = re.compile(r"#\s*footgun:ignore\b[ \t]*([A-Za-z0-9_,\- \t]*)")
YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {".git", "node_modules", ".terraform", "__pycache__", ".venv", "venv"}


def is_manifest_name(name: str) -> bool:
    """A file name the engine reads: YAML, and not footgun's own configuration (YAML,
    but no manifest: not worth a "skipped" line); or a kustomization named
    ``Kustomization``, which kustomize reads as its own."""
    return (name.endswith(YAML_SUFFIXES) and name not in CONFIG_NAMES) or name == "Kustomization"


def is_manifest_path(path: str, config: Config) -> bool:
    """A repository path (``/``-separated, from its root) to scan: a manifest name, under
    no vendored or tool folder (`SKIP_DIRS`), within the configuration's scope."""
    folders, _, name = path.rpartition("/")
    return (
        is_manifest_name(name)
        and not any(part in SKIP_DIRS for part in folders.split("/"))
        and config.is_included(path)
    )


@dataclass
class ScanResult:
    findings: list[Finding]
    skipped: list[Skip]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    inventory: Inventory | None = None
    docs_url: str | None = None  # the configured base of rule links (None: the default)
    notes: list[str] = field(default_factory=list)  # said once to the reader (builds not rendered)
    loaded: list[LoadedFile] | None = None  # the files as read (the inventory also holds builds)
    builder: Builder | None = None  # this scan's kustomize builds, reused when fixes are checked

    def failing(self, fail_level: str) -> list[Finding]:
        if fail_level == "never":
            return []
        threshold = SEVERITY_RANK[fail_level]
        return [f for f in self.findings if SEVERITY_RANK[f.severity] >= threshold]


def scan_files(
    files: Mapping[str, bytes], config: Config | None = None, build_inputs: Mapping[str, bytes] | None = None
) -> ScanResult:
    """Scan file contents keyed by path (paths are reported as given).
    ``build_inputs`` holds more files kustomizations may read (generators' files,
    patches that are not YAML manifests), keyed by normalized path; they are not judged."""
    config = config or Config()
    with collector_paused():
        loaded = [_load(path, raw, config) for path, raw in files.items()]
    extra = dict(build_inputs or {})
    return run_rules(loaded, config, read_extra=extra.get)


def scan_paths(paths: Iterable[str], config: Config | None = None, progress: Progress | None = None) -> ScanResult:
    """Scan files and folders on disk (folders recursively, ``*.yaml``/``*.yml`` and
    ``Kustomization`` files);
    ``progress``, if given, is told of each file read and each rule run."""
    config = config or Config()
    loaded = []
    unreadable: list[Skip] = []
    with collector_paused():
        files = collect_files(paths, config, unreadable)
        for done, path in enumerate(files):
            if progress:
                progress("files", done, len(files))
            try:
                raw, size = _read_bounded(path, config.max_file_bytes)
            except OSError as exc:
                loaded.append(LoadedFile(None, skip=Skip(path, f"cannot read: {exc.strerror or exc}")))
                continue
            except NotARegularFile as exc:
                loaded.append(LoadedFile(None, skip=Skip(path, str(exc))))
                continue
            loaded.append(_load(path, raw, config, size))
    result = run_rules(loaded, config, progress, read_extra=_disk_reader(config.max_file_bytes))
    result.skipped[:0] = unreadable
    return result


def _disk_reader(max_bytes: int) -> Reader:
    """Reads what a kustomization names besides the scanned YAML files (a generator's
    ``.env``, a ``Kustomization`` file): regular files only, up to the size limit."""

    def read(path: str) -> bytes | None:
        try:
            raw, _ = _read_bounded(path, max_bytes)
        except (OSError, NotARegularFile):
            return None
        return raw if len(raw) <= max_bytes else None

    return read


def _load(path: str, raw: bytes, config: Config, size: int | None = None) -> LoadedFile:
    """`load_file`, with any failure of the loader contained to its file."""
    try:
        return load_file(path, raw, config.limits, config.max_file_bytes, size)
    except MemoryError:  # the process itself is in trouble: not a resource's fault
        raise
    except Exception as error:  # a loader bug must not cost the other files their scan
        return LoadedFile(None, skip=Skip(path, f"not scanned: {_describe(error)}"))


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


class NotARegularFile(Exception):
    """A path that names a FIFO, a device or a socket: reading it could block forever
    or never end, and it holds no manifest."""


_FILE_TYPES = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def _read_bounded(path: str, max_bytes: int) -> tuple[bytes, int]:
    """At most one byte more than the limit (enough to tell "too large"), and the
    file's size for the message. Opened without blocking, so that a FIFO is refused
    instead of waited on; only regular files are read."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with open(descriptor, "rb", closefd=True) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            what = _FILE_TYPES.get(stat.S_IFMT(info.st_mode), "not a file")
            raise NotARegularFile(f"not a regular file ({what}): not read")
        return handle.read(max_bytes + 1), info.st_size


def collect_files(paths: Iterable[str], config: Config, unreadable: list[Skip] | None = None) -> list[str]:
    """The YAML files named or below the folders named, in a stable order, less what
    the config excludes. Paths keep the form they were given in; a file reached twice
    (named twice, or through a symbolic link) is listed once. Folders that cannot be
    listed are added to ``unreadable``."""
    found: list[str] = []

    def cannot_list(error: OSError) -> None:
        if unreadable is not None:
            unreadable.append(Skip(error.filename or "?", f"cannot read folder: {error.strerror or error}"))

    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path, onerror=cannot_list):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                found.extend(os.path.join(folder, n) for n in sorted(names) if is_manifest_name(n))
        else:
            found.append(path)
    seen: set[str] = set()
    unique = []
    for path in found:
        real = os.path.realpath(path)
        if real not in seen and config.is_included(_relative_to_root(path, config.root)):
            seen.add(real)
            unique.append(path)
    return unique


def _relative_to_root(path: str, root: str) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def run_rules(
    loaded: list[LoadedFile], config: Config, progress: Progress | None = None, read_extra: Reader | None = None
) -> ScanResult:
    """Every enabled rule over the loaded files and the builds of their
    kustomizations (`footgun.rules.builds`; ``read_extra`` reads what a build needs
    beyond the loaded files); then every fix is checked so that none is suggested
    that would break the file (`validate_fixes`, without running the rules again:
    `footgun fix` does that too before it writes)."""
    # builds are what a kustomization applies; other unit models say kustomize is not used
    building = config.kustomize_build and config.deployment_unit == "kustomization"
    builder = Builder(config.limits, config.max_file_bytes, read_extra) if building else None
    with loaded_frozen():
        result = _run_rules(loaded, config, progress, builder=builder)
        validate_fixes(result, config, rerun_rules=False)
        return result


def _run_rules(
    loaded: list[LoadedFile],
    config: Config,
    progress: Progress | None = None,
    only: str | None = None,
    builder: Builder | None = None,
) -> ScanResult:
    """The rules (``only`` that one) over the loaded files and their builds, their
    findings in order, each on its source line."""
    rendering = builder.render(loaded) if builder else Rendering()
    inventory, unjudged = _indexed(_judged(loaded, rendering), config)
    findings: list[Finding] = []
    rules = RULES if only is None else {only: RULES[only]}
    for done, (rule_id, rule) in enumerate(rules.items()):
        if progress:
            progress("rules", done, len(rules))
        setting = config.rule(rule_id)
        if not setting.enabled:
            continue
        found_by_rule, skips = _run_rule(rule, inventory, inventory.files, config)
        unjudged.extend(skips)
        for found in found_by_rule:
            if setting.severity:
                found.severity = setting.severity
            findings.append(found)
    if rendering.builds:
        findings = _placer(loaded, rendering).place_all(findings, _suppressed_at_source)
    order = {rule_id: index for index, rule_id in enumerate(RULES)}
    findings.sort(key=lambda f: (f.path, f.line, order[f.rule]))
    sources = {f.source.path: f.source for f in loaded if f.source}
    skipped = (
        [f.skip for f in loaded if f.skip and not _read_by_build(f, rendering)]
        + [s for f in loaded for s in f.skipped_documents]
        + rendering.skipped
        + unjudged
    )
    return ScanResult(findings, skipped, sources, inventory, config.docs_url, list(rendering.notes), loaded, builder)


def _judged(loaded: list[LoadedFile], rendering: Rendering) -> list[LoadedFile]:
    """What the rules judge: each build's objects, and the files no build read as
    they are written (a file a build read is judged through the build: a patch is no
    object of its own, a base only what its overlays make of it)."""
    if not rendering.builds:
        return loaded
    members = rendering.members
    judged = [
        replace(f, resources=[]) if f.source and f.resources and norm(f.source.path) in members else f for f in loaded
    ]
    return judged + [b.loaded for b in rendering.builds]


def _read_by_build(file: LoadedFile, rendering: Rendering) -> bool:
    """Whether a file that is no manifest (a JSON 6902 patch, say) was read by a build
    that kustomize made: then it is no skipped file but a part of that build."""
    return (
        file.source is not None
        and file.skip is not None
        and file.skip.reason.startswith(NOT_A_MANIFEST)
        and norm(file.source.path) in rendering.read
    )


def _placer(loaded: list[LoadedFile], rendering: Rendering) -> Placer:
    resources = {norm(f.source.path): f.resources for f in loaded if f.source}
    paths = {norm(f.source.path): f.source.path for f in loaded if f.source}
    return Placer(rendering.builds, resources, paths)


def _suppressed_at_source(found: Finding, source: SourceFile, start_line: int) -> bool:
    """An ignore comment at the source place of a built object's finding (its line,
    or the source resource's first line)."""
    if not source.has_ignore_comment:
        return False
    return any(
        _names_rule(ids, found.rule) for line in {found.line, start_line} for ids in _ignore_comments_at(source, line)
    )


MAX_UNJUDGED_PER_RULE = 50  # resources one rule may fail on before it is given up


def _run_rule(
    rule: ModuleType, inventory: Inventory, loaded: list[LoadedFile], config: Config
) -> tuple[list[Finding], list[Skip]]:
    """One rule's findings, isolated from resources it cannot judge: when the rule
    raises (a field of a type it did not expect, say), the resource it was looking
    at is left out for this rule alone, with a reason naming its file and line, and
    the rule runs again without it. Other rules still see that resource."""
    left_out: dict[int, Resource] = {}
    skips: list[Skip] = []
    while True:
        try:
            return _check(rule, inventory, config), skips
        except MemoryError:  # the process itself is in trouble: not a resource's fault
            raise
        except Exception as error:  # any failure of rule code: isolated, never fatal
            culprit = _culprit(
                error,
                list(inventory.resources),
                lambda without: _succeeds(
                    lambda: _check(rule, _inventory_without(loaded, config, {**left_out, **without}), config)
                ),
            )
            if culprit is None or len(left_out) >= MAX_UNJUDGED_PER_RULE:
                where = culprit.path if culprit else next((f.source.path for f in loaded if f.source), "")
                skips.append(
                    Skip(
                        where,
                        f"rule {rule.ID} was not run: after {len(left_out)} resources it "
                        f"could not judge, it still fails with {_describe(error)}",
                    )
                )
                return [], skips
            left_out[id(culprit)] = culprit
            skips.append(
                Skip(
                    culprit.path,
                    f"{culprit.ref} at line {culprit.start_line} was not checked by {rule.ID}: {_describe(error)}",
                    culprit.start_line,
                )
            )
            inventory = _inventory_without(loaded, config, left_out)


def _indexed(loaded: list[LoadedFile], config: Config) -> tuple[Inventory, list[Skip]]:
    """The inventory of the loaded resources, less any resource that indexing fails
    on (each left out with its file and line)."""
    left_out: dict[int, Resource] = {}
    skips: list[Skip] = []
    while True:
        try:
            return _inventory_without(loaded, config, left_out), skips
        except MemoryError:  # the process itself is in trouble: not a resource's fault
            raise
        except Exception as error:  # isolated like a rule's failure
            candidates = [r for f in loaded for r in f.resources if id(r) not in left_out]
            culprit = _culprit(
                error,
                candidates,
                (lambda without: _succeeds(lambda: _inventory_without(loaded, config, {**left_out, **without})))
                if len(left_out) < MAX_UNJUDGED_PER_RULE
                else None,
            )
            if culprit is None:
                raise
            left_out[id(culprit)] = culprit
            skips.append(
                Skip(
                    culprit.path,
                    f"{culprit.ref} at line {culprit.start_line} was not scanned: {_describe(error)}",
                    culprit.start_line,
                )
            )


def _succeeds(attempt: Callable[[], object]) -> bool:
    """Whether ``attempt`` runs without raising (a MemoryError still propagates: the
    process itself is in trouble, not a resource's fault)."""
    try:
        attempt()
    except MemoryError:
        raise
    except Exception:
        return False
    return True


def _held_resource(error: Exception, known: set[int]) -> Resource | None:
    """The one resource held by the innermost frame of the traceback that holds any."""
    frames = []
    traceback = error.__traceback__
    while traceback is not None:
        frames.append(traceback.tb_frame)
        traceback = traceback.tb_next
    for frame in reversed(frames):
        held = {id(v): v for v in frame.f_locals.values() if isinstance(v, Resource) and id(v) in known}
        if held:
            return next(iter(held.values())) if len(held) == 1 else None
    return None


def _halve_by(candidates: list[Resource], succeeds_without) -> Resource | None:
    """One resource of ``candidates`` that a failure needs: keep the half that still
    fails with the other half left out."""
    while len(candidates) > 1:
        half, rest = candidates[: len(candidates) // 2], candidates[len(candidates) // 2 :]
        candidates = rest if succeeds_without({id(r): r for r in rest}) else half
    return candidates[0] if candidates else None


def _check(rule: ModuleType, inventory: Inventory, config: Config) -> list[Finding]:
    context = Context(inventory, config, rule)
    return [found for found in rule.check(context) if not is_suppressed(found, context.origins.get(id(found)))]


def _describe(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def _inventory_without(loaded: list[LoadedFile], config: Config, left_out: dict[int, Resource]) -> Inventory:
    """The inventory of ``loaded`` less ``left_out``, indexed as a full scan is (the
    same deployment units: isolating one resource must not regroup the others)."""
    kept = (
        [replace(f, resources=[r for r in f.resources if id(r) not in left_out]) for f in loaded]
        if left_out
        else loaded
    )
    return Inventory(kept, config.custom_workloads, config.deployment_unit)


def _culprit(
    error: Exception, candidates: list[Resource], succeeds_without: Callable[[dict[int, Resource]], bool] | None
) -> Resource | None:
    """The resource of ``candidates`` a failure is about: the one the failing code
    was looking at (the innermost frame of the traceback holding exactly one), else,
    given ``succeeds_without``, found by halving the candidates until the failure
    stays with one."""
    culprit = _held_resource(error, {id(r) for r in candidates})
    if culprit is not None or succeeds_without is None:
        return culprit
    return _halve_by(candidates, succeeds_without)


def is_suppressed(found: Finding, resource: Resource | None) -> bool:
    """``# footgun:ignore <ids>`` on the finding's line or the resource's first line
    (or a comment line just above either), or the ``footgun.dev/ignore`` annotation."""
    if resource is None:
        return False
    if _names_rule(resource.annotations.get(IGNORE_ANNOTATION), found.rule):
        return True
    source = resource.source
    if not source.has_ignore_comment:  # the text is searched once, not once per finding
        return False  # no ignore comment anywhere: the file's lines need not be split
    for line in {found.line, resource.start_line}:
        for ids in _ignore_comments_at(source, line):
            if _names_rule(ids, found.rule):
                return True
    return False


def _ignore_comments_at(source: SourceFile, line: int) -> Iterator[str]:
    """Ignore-comment rule lists on ``line`` and on the comment lines above it."""
    number = line
    while 1 <= number <= source.line_count:
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


# --- fixes are validated before anyone writes or suggests them -----------------------

# A YAML node property on an edited line (``&anchor``, ``*alias``, ``!tag``): a line
# edit would duplicate, drop or detach it, changing what else refers to the node.
_NODE_PROPERTY = re.compile(r"(?:^|[\s\[{,])[&*!][^\s\[\]{},]*")
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]+")


MAX_VALIDATION_RUNS = 12  # rule runs one scan may spend on validating fixes


def validate_fixes(
    result: ScanResult, config: Config, rerun_rules: bool = True, paths: Collection[str] | None = None
) -> None:
    """Withhold every fix that is not safe to apply: one whose edits touch a YAML
    anchor, alias or tag or a document that shares nodes through anchors, or whose
    result does not parse; with ``rerun_rules``, also one that leaves its finding in
    place or brings a new finding of its own rule. (A finding of another rule may
    appear: a misspelt ingress class, once corrected, lets the path rules judge that
    Ingress.) Withheld fixes become ``fix=None`` with the reason in ``fix_withheld``.
    The fixes of one rule are tried together (one run of the rules over the edited
    files) and, when a group fails, in halves until the failing one is found, within
    `MAX_VALIDATION_RUNS` runs; fixes left unvalidated past that are withheld too.
    With ``paths``, only the fixes of findings in those files are checked beyond the
    parse (the App's suggestions: a pull request's own files)."""
    loaded = result.loaded if result.loaded is not None else result.inventory.files if result.inventory else []
    pending = []
    for finding in result.findings:
        if finding.fix:
            reason = _unsafe(finding, result.sources, loaded)
            if reason:
                _withhold(finding, reason)
            elif paths is None or finding.path in paths:
                pending.append(finding)
    if not pending:
        return
    check = _Validation(result, loaded, config, rerun_rules)
    by_rule: dict[str, list[Finding]] = {}
    for finding in pending:
        by_rule.setdefault(finding.rule if rerun_rules else "", []).append(finding)
    for of_rule in by_rule.values():
        while of_rule:
            group, of_rule = choose_fixes(of_rule)
            check.validate(group)


def choose_fixes(findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
    """The findings whose fixes can be applied together (no two edit the same line),
    in order, and the rest. Linear in the lines edited."""
    chosen, rest = [], []
    taken: dict[str, set[int]] = {}
    for finding in findings:
        if not finding.fix:
            continue
        wanted = [(e.path, n) for e in finding.fix.edits for n in range(e.start_line, e.end_line + 1)]
        if any(n in taken.get(path, ()) for path, n in wanted):
            rest.append(finding)
            continue
        chosen.append(finding)
        for path, n in wanted:
            taken.setdefault(path, set()).add(n)
    return chosen, rest


def _withhold(finding: Finding, reason: str) -> None:
    finding.fix = None
    finding.fix_withheld = reason


def _unsafe(finding: Finding, sources: dict[str, SourceFile], loaded: list[LoadedFile]) -> str | None:
    for edit in finding.fix.edits if finding.fix else ():
        source = sources.get(edit.path)
        if source is None or not 1 <= edit.start_line <= edit.end_line <= source.line_count:
            return "its edit does not fit the file"
        if any(_NODE_PROPERTY.search(source.line(n)) for n in range(edit.start_line, edit.end_line + 1)):
            return "its edit would touch a YAML anchor, alias or tag"
        if "&" in source.text and _in_anchored_document(edit, source, loaded):
            return "the document uses YAML anchors: an edit could change nodes shared elsewhere"
    return None


def _in_anchored_document(edit: Edit, source: SourceFile, loaded: list[LoadedFile]) -> bool:
    for file in loaded:
        if file.source is source:
            for resource in file.resources:
                doc = resource.doc
                if (
                    doc.start_line <= edit.end_line
                    and edit.start_line <= doc.end_line + 1
                    and any(_ANCHOR.search(source.line(n)) for n in range(doc.start_line, doc.end_line + 1))
                ):
                    return True
    return False


class _Validation:
    """Fixes checked against one scan's findings, with a budget of rule runs."""

    def __init__(self, result: ScanResult, loaded: list[LoadedFile], config: Config, rerun_rules: bool) -> None:
        self.loaded = loaded
        self.config = config
        self.rerun_rules = rerun_rules
        self.builder = result.builder
        self.before = Counter(f.fingerprint for f in result.findings)
        self.runs_left = MAX_VALIDATION_RUNS

    def validate(self, group: list[Finding]) -> None:
        problem = self.problem_with(group)
        if problem is None:
            return
        if len(group) == 1:
            _withhold(group[0], problem)
            return
        middle = len(group) // 2
        self.validate(group[:middle])
        self.validate(group[middle:])

    def problem_with(self, group: list[Finding]) -> str | None:
        """Why applying the fixes of ``group`` together is not safe, or None."""
        edits: dict[str, list[Edit]] = {}
        for finding in group:
            for edit in finding.fix.edits if finding.fix else ():
                edits.setdefault(edit.path, []).append(edit)
        reloaded = []  # kept only to run the rules again: the edited trees are a scan's worth
        for file in self.loaded:
            if file.source is None or file.source.path not in edits:
                reloaded.append(file)
                continue
            path = file.source.path
            edited = load_text(path, apply_edits(file.source.text, edits[path]), self.config.limits)
            if edited.skip or len(edited.skipped_documents) > len(file.skipped_documents):
                reason = edited.skip.reason if edited.skip else edited.skipped_documents[-1].reason
                return f"the edited file does not parse: {reason}"
            if self.rerun_rules:
                reloaded.append(edited)
        if not self.rerun_rules:
            return None
        if self.runs_left <= 0:
            return "not validated: too many fixes of this scan failed validation"
        self.runs_left -= 1
        own_rule = group[0].rule  # a group holds the fixes of one rule: only its findings count
        after = Counter(
            f.fingerprint for f in _run_rules(reloaded, self.config, only=own_rule, builder=self.builder).findings
        )
        fixed = Counter(f.fingerprint for f in group)
        for fingerprint, count in fixed.items():
            if after[fingerprint] > self.before[fingerprint] - count:
                return "its finding remains after the edit"
        for fingerprint, count in after.items():
            if count > self.before[fingerprint]:
                return f"the edit would bring a new {own_rule} finding in {fingerprint.split('|')[1]}"
        return None
