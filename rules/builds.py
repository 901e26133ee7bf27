"""Kustomize builds: what each kustomization actually applies, rendered by kustomize.

An overlay's patch that turns a base Service into ``type: LoadBalancer``, a
``namePrefix`` or a ``labels:`` entry changes objects that no single file shows. So
each kustomization of the scan is built with the real kustomize (the ``kustomize``
binary when it is on ``PATH``, else ``kubectl kustomize``), never with a home-made
merge, and the rules judge each build's objects as one deployment unit.

Only kustomizations that no other scanned kustomization includes are built: those
are what is applied (``kubectl apply -k overlays/prod``); a base built on its own
would be judged as if deployed without its overlays' patches, and once more per
overlay. A Component is never built on its own (kustomize refuses it).

A build reads only what the scan holds: the kustomizations, resources, patches and
generator files it names are written to a private temporary folder and built there,
with a time limit, a memory limit, no network and no plugins. A build that names a
remote resource (a URL, a git reference), ``helmCharts:`` or an absolute path is not
built (skipped with that reason, its files judged as written); one that kustomize
refuses is skipped with kustomize's own message. Without any kustomize, nothing is
built and the scan says so once.

Each build is asked to record where every object came from (``buildMetadata:
[originAnnotations]``, whose ``config.kubernetes.io/origin`` annotation names the
source file); the annotation is taken out again before the rules see the objects.
(``transformerAnnotations`` is not asked for: kustomize v5 lists there every
transformer of the kustomization, applied to the object or not, so a patch is
matched to an object by its target instead.)
`footgun.rules.sources` then reports every finding on the source line a person has
to change.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .manifests import KUSTOMIZATION_NAMES, LoadedFile, SourceFile, load_text
from .model import Skip
from .units import folder_of, norm
from .yamltree import Limits, YAMLLimitError, YAMLParseError, YMap, YSeq, parse_documents

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
# What buildMetadata adds besides the origin; removed too, so objects are judged as applied.
_BUILD_ANNOTATIONS = (ORIGIN_ANNOTATION, "alpha.config.kubernetes.io/transformations")
BUILD_SUFFIX = "#build"  # the path of a build's rendered objects: "<kustomization>#build"
BUILD_SECONDS = 30.0
BUILD_MEMORY_BYTES = 1024 * 1024 * 1024  # when the process itself runs without a memory limit
_REMOTE = ("://", "git@", "github.com/", "gitlab.com/", "bitbucket.org/", "?ref=", "?version=")
NOT_RENDERED = (
    "kustomizations were not built: neither `kustomize` nor `kubectl` is on PATH, so overlays' "
    "patches, namePrefix and labels are not applied (install kubectl or kustomize to judge what "
    "each overlay builds)"
)

Reader = Callable[[str], "bytes | None"]


def kustomize_command() -> list[str] | None:
    """How to run kustomize here: ``kustomize build``, else ``kubectl kustomize``."""
    found = shutil.which("kustomize")
    if found:
        return [found, "build"]
    found = shutil.which("kubectl")
    return [found, "kustomize"] if found else None


@dataclass
class Patch:
    """One patch a kustomization applies: a strategic-merge document (``root`` a
    mapping) or a JSON 6902 operation list (``root`` a sequence). ``source`` is the
    file that holds it, None for a patch written inline in the kustomization (then
    ``line`` is its entry's line there)."""

    kustomization: str
    root: Any
    source: SourceFile | None
    line: int
    target: dict = field(default_factory=dict)
    # for an inline patch written as a literal block (``patch: |``): its line n is the
    # kustomization's line ``line_offset + n``
    line_offset: int | None = None

    @property
    def is_json(self) -> bool:
        return isinstance(self.root, list)


@dataclass
class Build:
    """One kustomization's rendered objects, and what is needed to place them."""

    kustomization: str  # the built kustomization's path, normalized
    loaded: LoadedFile  # the objects, as one file at ``<kustomization>#build``
    origins: list[str | None]  # per object: the source file it came from (None: generated)
    members: frozenset[str]  # every file the build read
    chain: list[str]  # the kustomizations it read, innermost first (the order kustomize applies them)
    kustomizations: dict[str, LoadedFile]
    patches: list[Patch]  # in the order they are applied

    @property
    def label(self) -> str:
        return f"`{folder_of(self.kustomization)}`"


@dataclass
class Rendering:
    """What the builds of one scan gave: the builds, the builds skipped (each with its
    reason) and notes for the reader (builds not rendered at all)."""

    builds: list[Build] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # files a kustomization that was not built reads: they stay judged as written, in
    # that kustomization's unit, even when another build reads them too
    written: set[str] = field(default_factory=set)

    @property
    def read(self) -> set[str]:
        """Files some build read."""
        return {m for b in self.builds for m in b.members}

    @property
    def members(self) -> set[str]:
        """Files judged through builds only, not as written."""
        return self.read - self.written


@dataclass(frozen=True)
class BuildOutcome:
    """What kustomize gave for one build: its output (``ok``) or why not. Origin
    annotations in the output name files relative to ``origin_base`` (the built
    folder, or the folder of the batch it was built in); None: the built folder."""

    ok: bool
    text: str
    origin_base: str | None = None


class Builder:
    """Builds the kustomizations of a scan, each at most once per content (a fix being
    validated changes one file: only builds that read it run again). Per scan."""

    def __init__(self, limits: Limits, max_output_bytes: int, read_extra: Reader | None = None) -> None:
        self.limits = limits
        self.max_output_bytes = max_output_bytes
        self.read_extra = read_extra
        self.command = kustomize_command()
        self._cache: dict[str, BuildOutcome] = {}  # inputs' hash -> what kustomize gave

    def render(self, loaded: list[LoadedFile]) -> Rendering:
        kustomizations = {norm(f.source.path): f for f in loaded if f.is_kustomization and f.source}
        rendering = Rendering()
        if not kustomizations:
            return rendering
        if self.command is None:
            rendering.notes.append(NOT_RENDERED)
            return rendering
        texts = {norm(f.source.path): f.source for f in loaded if f.source}
        originals = {norm(f.source.path): f.source.path for f in loaded if f.source}
        unread = {norm(f.skip.path): f.skip.reason for f in loaded if f.skip and not f.source}
        inputs = {
            path: _Inputs(path, texts, kustomizations, self.read_extra, self.limits, unread)
            for path in sorted(kustomizations)
        }
        included = {k for i in inputs.values() for k in i.chain if k != i.root}
        tops = {p: i for p, i in inputs.items() if p not in included and not _is_component(i.kustomizations.get(p))}
        outcomes = self._run_all([i for i in tops.values() if not i.problem])
        for path, needed in tops.items():
            built = self._built(path, originals.get(path, path), needed, outcomes)
            if isinstance(built, Skip):
                rendering.skipped.append(built)
                rendering.written.update(needed.files)
            else:
                rendering.builds.append(built)
        return rendering

    def _built(self, path: str, shown: str, needed: _Inputs, outcomes: dict[str, BuildOutcome]) -> Build | Skip:
        if needed.problem:
            return Skip(shown, f"kustomization not built: {needed.problem}")
        outcome = outcomes[_key(needed)]
        if not outcome.ok:
            return Skip(shown, f"kustomization not built: {outcome.text}")
        return _build_of(path, shown, outcome, needed, self.limits)

    def _run_all(self, builds: list[_Inputs]) -> dict[str, BuildOutcome]:
        """Each build's outcome by its inputs' hash: from the cache, else run. Builds
        that can share a kustomize process do, in batches (`_kustomize_batch`); the
        batches and the builds run alone go a few at once."""
        pending: dict[str, _Inputs] = {}
        for needed in builds:
            key = _key(needed)
            if key not in self._cache:
                pending[key] = needed
        if not pending:
            return self._cache
        workers = max(1, min(4, os.cpu_count() or 1, len(pending)))
        together = [n for n in pending.values() if _batchable(n)]
        alone = [[n] for n in pending.values() if not _batchable(n)]
        size = min(MAX_BATCH, max(1, -(-len(together) // workers)))
        batches = [together[i : i + size] for i in range(0, len(together), size)] + alone
        with ThreadPoolExecutor(workers) as pool:
            for done in pool.map(self._run_batch, batches):
                self._cache.update(done)
        return self._cache

    def _run_batch(self, batch: list[_Inputs]) -> dict[str, BuildOutcome]:
        """The outcomes of ``batch``, built in one process when it holds several; a
        batch kustomize refuses is split in halves (so a broken kustomization gets its
        own message), one that runs out of time is built one by one."""
        command = self.command or []
        if len(batch) == 1:
            return {_key(batch[0]): _kustomize(command, batch[0], self.max_output_bytes)}
        outcomes = _kustomize_batch(command, batch, self.max_output_bytes)
        if isinstance(outcomes, dict):
            return outcomes
        if outcomes == _TIMED_OUT:
            return {_key(n): _kustomize(command, n, self.max_output_bytes) for n in batch}
        half = len(batch) // 2
        return self._run_batch(batch[:half]) | self._run_batch(batch[half:])


def _key(needed: _Inputs) -> str:
    """What a build's output depends on: every file it reads, path and content."""
    if needed.key is None:
        digest = hashlib.sha256()
        for path in sorted(needed.files):
            digest.update(path.encode() + b"\0" + needed.files[path] + b"\0")
        needed.key = digest.hexdigest()
    return needed.key


# --- what a build reads --------------------------------------------------------------


class _Inputs:
    """The files a kustomization's build reads (kustomizations, resources, patches,
    generators' files), or the reason it cannot be built here."""

    def __init__(
        self,
        root: str,
        texts: Mapping[str, SourceFile],
        scanned: Mapping[str, LoadedFile],
        read_extra: Reader | None,
        limits: Limits,
        unread: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.unread = unread or {}  # files of the scan that were not read, with the reason
        self.texts = texts
        self.scanned = scanned  # the scan's kustomizations, already parsed
        self.key: str | None = None
        self.read_extra = read_extra
        self.limits = limits
        self.files: dict[str, bytes] = {}
        self.chain: list[str] = []
        self.kustomizations: dict[str, LoadedFile] = {}
        self.problem: str | None = None
        self._visit(root, set())

    def _cannot_build(self, why: str) -> None:
        """Record the first reason the build cannot run here. The walk goes on: every
        local file the kustomization reads is still known (they stay judged as
        written, `Rendering.written`), and what it includes is not built on its own."""
        if self.problem is None:
            self.problem = why

    def _read(self, path: str) -> bytes | None:
        if path in self.files:
            return self.files[path]
        if path in self.unread:
            self._cannot_build(f"it reads `{path}`, which was not scanned ({self.unread[path]})")
            return None
        source = self.texts.get(path)
        raw = source.text.encode("utf-8") if source else self.read_extra(path) if self.read_extra else None
        if raw is not None:
            self.files[path] = raw
        return raw

    def _kustomization_in(self, folder: str) -> str | None:
        for name in KUSTOMIZATION_NAMES:
            candidate = norm(posixpath.join(folder, name))
            if candidate in self.texts or (self.read_extra and self._read(candidate) is not None):
                return candidate
        return None

    def _visit(self, path: str, active: set[str]) -> None:
        if path in self.kustomizations or path in active:
            return
        active.add(path)
        loaded = self._loaded(path)
        content = loaded.kustomization if loaded and isinstance(loaded.kustomization, dict) else {}
        folder = folder_of(path)
        if any(key in content for key in ("helmCharts", "helmChartInflationGenerator", "helmGlobals")):
            self._cannot_build(f"`{path}` inflates Helm charts (helmCharts), which are not rendered here")
        for key in ("resources", "bases", "components"):
            for entry in _strings(content.get(key)):
                self._entry(folder, entry, key, active)
        for entry in _file_entries(content):
            self._file(folder, entry)
        active.discard(path)
        self.chain.append(path)
        if loaded:
            self.kustomizations[path] = loaded

    def _loaded(self, path: str) -> LoadedFile | None:
        raw = self._read(path)
        if raw is None:
            return None
        if path in self.scanned:
            return self.scanned[path]
        source = self.texts.get(path)
        loaded = load_text(path, source.text if source else raw.decode("utf-8", "replace"), self.limits)
        if not loaded.is_kustomization:  # a kustomization named otherwise (Kustomization file, kind)
            loaded = LoadedFile(loaded.source, is_kustomization=True, kustomization=_first_root(loaded, self.limits))
        return loaded

    def _entry(self, folder: str, entry: str, key: str, active: set[str]) -> None:
        if any(mark in entry for mark in _REMOTE):
            self._cannot_build(f"`{entry}` ({key}) is remote: it is not fetched")
            return
        if entry.startswith("/"):
            self._cannot_build(f"`{entry}` ({key}) is an absolute path")
            return
        target = norm(posixpath.join(folder, entry))
        if self._read(target) is not None:
            return
        inner = self._kustomization_in(target)
        if inner:
            self._visit(inner, active)

    def _file(self, folder: str, entry: str) -> None:
        if entry.startswith("/") or any(mark in entry for mark in _REMOTE):
            return
        self._read(norm(posixpath.join(folder, entry)))


def _first_root(loaded: LoadedFile, limits: Limits) -> dict:
    if loaded.source is None:
        return {}
    try:
        docs = parse_documents(loaded.source.text, limits)
    except (YAMLParseError, YAMLLimitError):
        return {}
    root = docs[0].root if docs else None
    return root if isinstance(root, dict) else {}


def _is_component(loaded: LoadedFile | None) -> bool:
    content = loaded.kustomization if loaded else None
    return isinstance(content, dict) and content.get("kind") == "Component"


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def files_read(path: str, content: Any) -> list[str]:
    """The files besides resources that the kustomization at ``path`` reads (patches,
    generators' files, replacements, ...), as normalized paths; local ones only."""
    if not isinstance(content, Mapping):
        return []
    folder = folder_of(path)
    return [
        norm(posixpath.join(folder, entry))
        for entry in _file_entries(content)
        if not entry.startswith("/") and not any(mark in entry for mark in _REMOTE)
    ]


def _file_entries(content: Mapping) -> list[str]:
    """Files a kustomization reads besides resources: patches, generators' files,
    replacements, configurations, CRDs, OpenAPI schema, plugin configurations."""
    found = [p for p in _strings(content.get("patchesStrategicMerge")) if "\n" not in p]
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in content.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                found.append(entry["path"])
    for key in ("configMapGenerator", "secretGenerator"):
        for entry in content.get(key) or []:
            if not isinstance(entry, dict):
                continue
            for item in _strings(entry.get("files")) + _strings(entry.get("envs")):
                found.append(item.split("=", 1)[-1])
            if isinstance(entry.get("env"), str):
                found.append(entry["env"])
    for key in ("configurations", "crds", "generators", "transformers", "validators"):
        found.extend(p for p in _strings(content.get(key)) if "\n" not in p)
    openapi = content.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        found.append(openapi["path"])
    return found


# --- running kustomize -------------------------------------------------------------------


def _kustomize(command: list[str], needed: _Inputs, max_output_bytes: int) -> BuildOutcome:
    """The build of ``needed.root`` in a private folder holding only the files it reads."""
    with tempfile.TemporaryDirectory(prefix="footgun-build-") as folder:
        top = _tree_root(folder, needed.files)
        try:
            _lay_out(
                folder, top, {p: _with_origins(raw) if p == needed.root else raw for p, raw in needed.files.items()}
            )
        except (ValueError, OSError) as exc:
            return BuildOutcome(False, f"its files cannot be laid out for kustomize: {exc}")
        ran = _run_kustomize(command, _inside(folder, top, folder_of(needed.root)), folder)
        if isinstance(ran, str):
            return BuildOutcome(False, ran)
        output, errors, status = ran
        if status != 0:
            return BuildOutcome(False, _message(errors.decode("utf-8", "replace"), folder, top))
        if len(output) > max_output_bytes:
            return BuildOutcome(False, f"its output is {len(output):,} bytes, over the {max_output_bytes:,}-byte limit")
        return BuildOutcome(True, output.decode("utf-8", "replace"))


def _lay_out(folder: str, top: str, files: Mapping[str, bytes]) -> None:
    for path, raw in files.items():
        target = _inside(folder, top, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(raw)


def _run_kustomize(command: list[str], built: str, folder: str) -> tuple[bytes, bytes, int] | str:
    """kustomize's output, errors and exit status for the folder ``built`` (inside the
    private ``folder``), or why it gave none (it could not start, or ran out of time)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": folder,
        "KUBECONFIG": os.devnull,
        # nothing is fetched: a remote reference that slipped through fails fast
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    try:
        process = subprocess.Popen(
            [*command, built],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=folder,
            env=env,
            start_new_session=True,
            preexec_fn=_limit_memory,
        )
    except OSError as exc:
        return f"kustomize could not be run: {exc.strerror or exc}"
    try:
        output, errors = process.communicate(timeout=BUILD_SECONDS)
    except subprocess.TimeoutExpired:
        _kill(process)
        return _TIMED_OUT
    return output, errors, process.returncode


# --- several builds in one kustomize process -------------------------------------------
#
# Starting kustomize costs far more than building a small overlay (about 150 ms against
# 10 ms), so the builds of a scan share processes: a private kustomization lists their
# folders as resources, and each member's objects are told apart by an annotation that
# an inline AnnotationsTransformer, added last to the member's own kustomization, sets
# on the objects' metadata only (never on pod templates). Each member's objects come out
# as its own build gives them, in the same order (kustomize sorts by kind and name),
# with origins relative to the batch's folder (`BuildOutcome.origin_base`). What must stay
# true: a batch that kustomize refuses (two members making one object, one member
# broken) is split until every build runs alone, so a batch never changes an outcome.

MAX_BATCH = 64
BATCH_FOLDER = "__footgun_batch__"
_MEMBER_ANNOTATION = "footgun.build/member"
_MEMBER_LINE = re.compile(r'^[ \t]+footgun\.build/member: "?m(\d+)"?[ \t]*\n', re.M)
_TIMED_OUT = f"kustomize did not finish within {BUILD_SECONDS:g} s"
_REFUSED = "refused"
# keys whose meaning a member's place in a batch could change: built alone
_ALONE_KEYS = ("transformers", "sortOptions", "buildMetadata", "openapi")


def _batchable(needed: _Inputs) -> bool:
    loaded = needed.kustomizations.get(needed.root)
    content = loaded.kustomization if loaded else None
    return isinstance(content, Mapping) and not any(key in content for key in _ALONE_KEYS)


def _member_marker(raw: bytes, index: int) -> bytes:
    """A member's kustomization with the transformer that marks its objects."""
    text = raw.decode("utf-8", "replace").rstrip("\n")
    return (
        f"{text}\ntransformers:\n  - |-\n    apiVersion: builtin\n    kind: AnnotationsTransformer\n"
        f"    metadata:\n      name: footgun-batch-member\n    annotations:\n"
        f'      {_MEMBER_ANNOTATION}: "m{index}"\n    fieldSpecs:\n      - path: metadata/annotations\n'
        f"        create: true\n"
    ).encode()


def _kustomize_batch(command: list[str], batch: list[_Inputs], max_output_bytes: int) -> dict[str, BuildOutcome] | str:
    """The outcome of each build of ``batch`` from one kustomize run, or why there is
    none (`_TIMED_OUT`, `_REFUSED`: the caller builds them apart)."""
    files: dict[str, bytes] = {}
    for needed in batch:
        for path, raw in needed.files.items():
            if files.setdefault(path, raw) != raw:
                return _REFUSED  # not one scan's files: built apart
    absolute = {needed.root.startswith("/") for needed in batch}
    if len(absolute) != 1:
        return _REFUSED
    for index, needed in enumerate(batch):
        files[needed.root] = _member_marker(files[needed.root], index)
    with tempfile.TemporaryDirectory(prefix="footgun-build-") as folder:
        top = _tree_root(folder, files)
        batch_root = os.path.join(top, BATCH_FOLDER)
        try:
            _lay_out(folder, top, files)
            members = [os.path.relpath(_inside(folder, top, folder_of(n.root)), batch_root) for n in batch]
            os.makedirs(batch_root)
            with open(os.path.join(batch_root, "kustomization.yaml"), "w", encoding="utf-8") as handle:
                listed = "".join(f"  - {member}\n" for member in members)
                handle.write(f"resources:\n{listed}buildMetadata: [originAnnotations]\n")
        except (ValueError, OSError):
            return _REFUSED
        ran = _run_kustomize(command, batch_root, folder)
    if isinstance(ran, str):
        return ran if ran == _TIMED_OUT else _REFUSED
    output, _, status = ran
    if status != 0 or len(output) > max_output_bytes * len(batch):
        return _REFUSED
    parts = _split_members(output.decode("utf-8", "replace"), len(batch))
    if parts is None:
        return _REFUSED
    base = ("/" if batch[0].root.startswith("/") else "") + BATCH_FOLDER
    outcomes = {}
    for needed, text in zip(batch, parts):
        size = len(text.encode("utf-8"))
        if size > max_output_bytes:
            outcomes[_key(needed)] = BuildOutcome(
                False, f"its output is {size:,} bytes, over the {max_output_bytes:,}-byte limit"
            )
        else:
            outcomes[_key(needed)] = BuildOutcome(True, text, origin_base=base)
    return outcomes


def _split_members(output: str, count: int) -> list[str] | None:
    """Each member's documents (its marker line taken out), in output order; None
    when a document carries no single marker."""
    parts: list[list[str]] = [[] for _ in range(count)]
    for document in re.split(r"^---\n", output, flags=re.M):
        if not document.strip():
            continue
        found = _MEMBER_LINE.findall(document)
        if len(found) != 1 or int(found[0]) >= count:
            return None
        parts[int(found[0])].append(_MEMBER_LINE.sub("", document))
    return ["---\n".join(docs) for docs in parts]


def _tree_root(folder: str, files: Mapping[str, bytes]) -> str:
    """Where the scan's top sits in the private folder: deep enough that paths
    reaching above it (``../shared``) stay inside."""
    ups = max((len(p.split("/")) for p in files if p.startswith("..")), default=0)
    return os.path.join(folder, *(["t"] * (ups + 1)))


def _inside(folder: str, top: str, path: str) -> str:
    """Where a scanned file's copy goes: below ``top`` in the private ``folder``, an
    absolute path (a folder scanned by its absolute name) too. What is written must
    never land next to, or over, the scanned files themselves."""
    placed = os.path.normpath(os.path.join(top, path.lstrip("/")))
    if os.path.commonpath([placed, folder]) != folder:
        raise ValueError(f"`{path}` reaches above the scanned folders")
    return placed


def _with_origins(raw: bytes) -> bytes:
    """The kustomization with ``buildMetadata: [originAnnotations]`` added (a
    top-level key; kustomize then writes each object's source file in the
    ``config.kubernetes.io/origin`` annotation)."""
    text = raw.decode("utf-8", "replace")
    lines = text.splitlines()
    kept = []
    skipping = False
    for line in lines:  # any buildMetadata of its own is replaced (it changes no object's content)
        if line.startswith("buildMetadata:"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "\t", "-")) or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    return ("\n".join(kept) + "\nbuildMetadata: [originAnnotations]\n").encode("utf-8")


def _limit_memory() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The build's own memory limit. Go reserves far more address space than it uses,
    so ``RLIMIT_AS`` (the engine's limit) would stop kustomize before it starts: the
    limit moves to ``RLIMIT_DATA``, which counts what is actually written to."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    budget = soft if soft != resource.RLIM_INFINITY else BUILD_MEMORY_BYTES
    if hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    data_soft, data_hard = resource.getrlimit(resource.RLIMIT_DATA)
    if data_hard != resource.RLIM_INFINITY:
        budget = min(budget, data_hard)
    resource.setrlimit(resource.RLIMIT_DATA, (budget, data_hard))


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    process.communicate()


# kubectl logs its error through klog: `E1203 14:10:11.47 26140 run.go:72] "command failed" err="..."`
_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err=')


def _message(errors: str, folder: str, top: str) -> str:
    """kustomize's message, with the private folder taken out of its paths and
    kubectl's log prefix and quoting taken off."""
    lines = [line for line in errors.strip().splitlines() if not line.startswith("# Warning:")]
    text = " ".join(" ".join(lines).split()).replace(top + "/", "").replace(top, ".").replace(folder, ".")
    if _KLOG.match(text):
        text = _KLOG.sub("", text).strip()
        if text[:1] + text[-1:] in ('""', "<>"):
            text = text[1:-1].strip()
        text = text.replace("\\'", "'").replace('\\"', '"')
    text = text.removeprefix("error: ").removeprefix("Error: ")
    if len(text) > 400:  # kustomize nests its errors: the innermost, at the end, says what is wrong
        text = text[:150] + " [...] " + text[-250:]
    return text or "kustomize failed"


# --- reading a build's output ---------------------------------------------------------


def _build_of(path: str, shown: str, outcome: BuildOutcome, needed: _Inputs, limits: Limits) -> Build | Skip:
    """The build's objects, each with the source file it came from, without the
    annotations the build was asked to add."""
    output = outcome.text
    try:
        docs = parse_documents(output, limits)
    except (YAMLParseError, YAMLLimitError) as exc:
        return Skip(shown, f"kustomization not built: its output cannot be read: {exc}")
    cuts: list[tuple[int, int]] = []
    origins: list[str | None] = []
    base = folder_of(path) if outcome.origin_base is None else outcome.origin_base
    for doc in docs:
        root = doc.root
        if not isinstance(root, YMap):
            continue
        metadata = root.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, YMap) else None
        origin = None
        if isinstance(metadata, YMap) and isinstance(annotations, YMap):
            origin = _origin_path(annotations.get(ORIGIN_ANNOTATION), base)
            own = [k for k in annotations if k not in _BUILD_ANNOTATIONS]
            if not own:  # the annotations mapping goes as a whole
                span = metadata.at["annotations"]
                cuts.append((span.key_line, span.end))
            else:
                for key in _BUILD_ANNOTATIONS:
                    if key in annotations:
                        span = annotations.at[key]
                        cuts.append((span.key_line, span.end))
        origins.append(origin)
    lines = output.splitlines(keepends=True)
    dropped = {n for start, end in cuts for n in range(start, end + 1)}
    text = "".join(line for number, line in enumerate(lines, 1) if number not in dropped)
    loaded = load_text(path + BUILD_SUFFIX, text, limits)
    if loaded.skip:
        return Skip(shown, f"kustomization not built: its output cannot be read: {loaded.skip.reason}")
    loaded.built_by = path
    if len(loaded.resources) != len(origins):  # List documents: origins cannot be paired
        origins = [None] * len(loaded.resources)
    return Build(
        kustomization=path,
        loaded=loaded,
        origins=origins,
        members=frozenset(needed.files),
        chain=list(needed.chain),
        kustomizations=dict(needed.kustomizations),
        patches=_patches(needed, limits),
    )


def _origin_path(value: Any, base: str) -> str | None:
    """The source file an origin annotation names (relative to the built folder), or
    None for a generated object or a remote one."""
    if not isinstance(value, str):
        return None
    fields = {}
    for line in value.splitlines():
        key, _, rest = line.partition(":")
        fields[key.strip()] = rest.strip().strip("'\"")
    if fields.get("repo") or not fields.get("path"):
        return None
    return norm(posixpath.join(base, fields["path"]))


def _patches(needed: _Inputs, limits: Limits) -> list[Patch]:
    """Every patch of the build, in the order kustomize applies them: a base's before
    its overlay's, each kustomization's in the order written."""
    found: list[Patch] = []
    for path in needed.chain:
        loaded = needed.kustomizations.get(path)
        content = loaded.kustomization if loaded else None
        if not isinstance(content, YMap):
            continue
        folder = folder_of(path)
        merges = content.get("patchesStrategicMerge")
        if isinstance(merges, YSeq):
            for index, entry in enumerate(merges):
                if isinstance(entry, str):
                    found.extend(_patch_docs(path, folder, entry, {}, merges.at[index].key_line, needed, limits))
        for key in ("patches", "patchesJson6902"):
            entries = content.get(key)
            if not isinstance(entries, YSeq):
                continue
            for index, entry in enumerate(entries):
                if not isinstance(entry, YMap):
                    continue
                line = entries.at[index].key_line
                target: dict = entry["target"] if isinstance(entry.get("target"), dict) else {}
                if key == "patchesJson6902" and not target:
                    target = {k: entry[k] for k in ("kind", "name", "namespace") if k in entry}
                if isinstance(entry.get("path"), str):
                    found.extend(_patch_docs(path, folder, entry["path"], target, line, needed, limits))
                elif isinstance(entry.get("patch"), str):
                    span = entry.at["patch"]
                    patches = _patch_docs(path, folder, entry["patch"], target, line, needed, limits)
                    header = loaded.source.line(span.key_line) if loaded and loaded.source else ""
                    if header.rstrip().endswith(("|", "|-", "|+")):
                        for patch in patches:
                            patch.line_offset = span.key_line
                    found.extend(patches)
    return found


def _patch_docs(
    kustomization: str, folder: str, entry: str, target: dict, line: int, needed: _Inputs, limits: Limits
) -> list[Patch]:
    inline = "\n" in entry or entry.lstrip().startswith(("[", "{", "-"))
    if inline:
        source, text = None, entry
    else:
        path = norm(posixpath.join(folder, entry))
        raw = needed.files.get(path)
        if raw is None:
            return []
        source = needed.texts.get(path) or SourceFile(path, raw.decode("utf-8", "replace"))
        text = source.text
    try:
        docs = parse_documents(text, limits)
    except (YAMLParseError, YAMLLimitError):
        return []
    return [Patch(kustomization, d.root, source, line, dict(target)) for d in docs if d.root is not None]
