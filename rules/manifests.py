"""Files to Kubernetes resources, or to a reason why a file was skipped.

A manifest is any YAML document with ``apiVersion`` and ``kind``; the items of a
``kind: List`` are manifests of their own. Files that cannot be scanned faithfully
(Helm/Go templates, binary or non-UTF-8 bytes, oversized, unparseable, hostile) are
skipped with a reason that says where, never with a crash.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from typing import Any

from .filestyle import FileStyle, detect_style
from .model import ResourceRef, Skip
from .templates import TEMPLATE_MARK, structural_marker_line
from .yamltree import (
    Limits,
    Span,
    YamlDoc,
    YAMLLimitError,
    YAMLParseError,
    YMap,
    YSeq,
    count_lines_before,
    parse_documents,
    span_at,
    split_lines,
)

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
NOT_A_MANIFEST = "not a Kubernetes manifest"


def line_ending(text: str) -> str:
    """A text's line ending: CRLF, CR alone (classic Mac files), or LF."""
    if "\r\n" in text:
        return "\r\n"
    return "\r" if "\r" in text and "\n" not in text else "\n"


@dataclass(eq=False)
class SourceFile:
    """One scanned file's text, as found (line endings and all)."""

    path: str
    text: str

    @property
    def lines(self) -> list[str]:
        """The lines as git counts them (see `split_lines`), with their endings. Split
        on each call, not kept: a scan holds every file's text, and a list of lines
        would double that; `line` and `line_count` read single lines cheaply."""
        return split_lines(self.text, keepends=True)

    @property
    def line_count(self) -> int:
        return len(self._line_starts) - 1

    @cached_property
    def newline(self) -> str:
        return line_ending(self.text)

    @cached_property
    def style(self) -> FileStyle:
        """Indentation width, sequence style and preferred quote (what a fix's new
        lines follow), read once per file."""
        return detect_style(self.lines)

    @cached_property
    def has_ignore_comment(self) -> bool:
        """Whether ``footgun:ignore`` occurs at all (else no line need be read)."""
        return "footgun:ignore" in self.text

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line ending."""
        # Rules ask for a few lines of many files: slicing the text at the line's
        # offsets keeps 2 to 4 bytes a line instead of a string a line (``lines``).
        starts = self._line_starts
        count = len(starts) - 1
        if not 1 <= number <= count:
            return self.lines[number - 1].rstrip("\r\n")  # IndexError, or from the end, as before
        return self.text[starts[number - 1] : starts[number]].rstrip("\r\n")

    @cached_property
    def _line_starts(self) -> array:
        """Where each line starts, and where the text ends: the boundaries of
        ``split_lines(text, keepends=True)``."""
        size = len(self.text)
        starts = array("H" if size < 2**16 else "i" if size < 2**31 else "q", [0])
        starts.extend(accumulate(map(len, split_lines(self.text, keepends=True))))
        return starts


@dataclass(eq=False, slots=True)  # one per manifest of a scan: no per-object dict
class Resource:
    source: SourceFile
    doc: YamlDoc
    data: YMap
    api_version: str
    kind: str
    name: str
    namespace: str | None
    labels: dict[str, str]
    annotations: dict[str, str]

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.kind, self.name, self.namespace)

    @property
    def start_line(self) -> int:
        return self.data.line

    @property
    def end_line(self) -> int:
        return self.data.end_line

    def get(self, *path: Any, default: Any = None) -> Any:
        """The value at ``path`` (keys and list indexes), or ``default``."""
        node: Any = self.data
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return default
        return node

    def key_line(self, *path: Any) -> int:
        """The line of the key (or item) at ``path``; the resource's first line when
        the path is absent, so a message always points into the resource."""
        span = self.span(*path)
        return span.key_line if span is not None else self.start_line

    def span(self, *path: Any) -> Span | None:
        """Where the value at ``path`` sits, or None when it is absent."""
        node: Any = self.data
        parent: YMap | YSeq | None = None
        for step in path:
            if isinstance(node, YMap) and step in node:
                parent = node
            elif isinstance(node, YSeq) and isinstance(step, int) and -len(node) <= step < len(node):
                parent = node
            else:
                return None
            node = node[step]
        # only the last step's span is made (`YMap.at` makes every entry's)
        return None if parent is None else span_at(parent, path[-1])

    def could_share_namespace(self, other: Resource) -> bool:
        """An unset namespace is decided at apply time, so it may match any."""
        return self.namespace is None or other.namespace is None or self.namespace == other.namespace

    def __repr__(self) -> str:
        return f"<{self.ref} at {self.path}:{self.start_line}>"


@dataclass(slots=True)  # one per file of a scan: no per-object dict
class LoadedFile:
    source: SourceFile | None
    resources: list[Resource] = field(default_factory=list)
    skip: Skip | None = None  # the whole file was not scanned
    is_kustomization: bool = False
    kustomization: dict | None = None
    # documents of a scanned file left out, each with its reason (duplicate keys)
    skipped_documents: list[Skip] = field(default_factory=list)
    # the kustomization whose build these objects are (`footgun.rules.builds`), if any
    built_by: str | None = None


def load_file(path: str, raw: bytes, limits: Limits, max_bytes: int, size: int | None = None) -> LoadedFile:
    """Decode and parse one file's bytes into resources, or a skip with its reason.
    ``size`` is the file's real size when ``raw`` was read only up to the limit."""
    if len(raw) > max_bytes:
        size = max(size or 0, len(raw))
        return _skipped(path, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    if b"\0" in raw:
        wide = _wide_encoding(raw)
        if wide:
            return _skipped(path, f"{wide} text: only UTF-8 is read (convert it, e.g. with iconv -f {wide} -t UTF-8)")
        return _skipped(path, "binary file (contains NUL bytes), not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = count_lines_before(raw.decode("latin-1"), exc.start)  # latin-1: one character per byte
        return _skipped(path, f"not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at line {line}", line)
    return load_text(path, text.removeprefix("\ufeff"), limits)


_BOMS = ((b"\xff\xfe\0\0", "UTF-32"), (b"\0\0\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def _wide_encoding(raw: bytes) -> str | None:
    """ "UTF-16" or "UTF-32" when the bytes look like that text (a byte order mark, or
    the NUL bytes every ASCII character brings along), else None."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    sample = raw[:4096]
    if len(sample) < 8:
        return None
    mostly = 3 * len(sample) // 16  # three in four of a quarter (UTF-32) or of a half (UTF-16) of the bytes
    if sample[1::4].count(0) + sample[2::4].count(0) >= 2 * mostly:
        return "UTF-32"
    if max(sample[0::2].count(0), sample[1::2].count(0)) >= 2 * mostly:
        return "UTF-16"
    return None


def load_text(path: str, text: str, limits: Limits = Limits()) -> LoadedFile:
    source = SourceFile(path, text)
    line = structural_marker_line(text) if TEMPLATE_MARK.search(text) else None
    if line:
        return LoadedFile(
            source,
            skip=Skip(
                path,
                f"Helm/Go template syntax at line {line}; render it first "
                f"(helm template / kustomize build) to scan the output",
                line,
            ),
        )
    try:
        docs = parse_documents(text, limits)
    except YAMLParseError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        return LoadedFile(source, skip=Skip(path, f"{exc}{where}", exc.line))
    except YAMLLimitError as exc:
        return LoadedFile(source, skip=Skip(path, f"refused: {exc}"))
    if _is_kustomization(path, docs):
        root = docs[0].root if docs else None
        return LoadedFile(source, is_kustomization=True, kustomization=root if isinstance(root, dict) else {})
    refused = [_duplicate_keys(path, doc) for doc in docs if doc.duplicate_keys and _is_manifest(doc.root)]
    resources = [
        r for doc in docs if not (doc.duplicate_keys and _is_manifest(doc.root)) for r in _resources_in(source, doc)
    ]
    if not resources and not refused and any(doc.root is not None for doc in docs):  # empty documents are not YAML data
        return LoadedFile(source, skip=Skip(path, f"{NOT_A_MANIFEST} (no document has apiVersion and kind)"))
    return LoadedFile(source, resources, skipped_documents=refused)


def _duplicate_keys(path: str, doc: YamlDoc) -> Skip:
    """kubectl refuses a document with a key written twice in one mapping; which value
    the rules would see is a guess, so the document is reported, not judged."""
    line, key = doc.duplicate_keys[0]
    more = len(doc.duplicate_keys) - 1
    also = f" (and {more} more)" if more else ""
    return Skip(
        path,
        f"duplicate key {str(key)[:80]!r} at line {line}{also}: kubectl rejects this document, so it was not scanned",
        line,
    )


def _skipped(path: str, reason: str, line: int | None = None) -> LoadedFile:
    return LoadedFile(None, skip=Skip(path, reason, line))


def _is_kustomization(path: str, docs: list[YamlDoc]) -> bool:
    if path.rsplit("/", 1)[-1] in KUSTOMIZATION_NAMES:
        return True
    return (
        bool(docs)
        and isinstance(docs[0].root, dict)
        and docs[0].root.get("kind") in ("Kustomization", "Component")
        and str(docs[0].root.get("apiVersion", "")).startswith("kustomize.config.k8s.io")
    )


def _resources_in(source: SourceFile, doc: YamlDoc) -> Iterable[Resource]:
    root = doc.root
    if not _is_manifest(root):
        return
    if root["kind"] == "List" or (str(root["kind"]).endswith("List") and isinstance(root.get("items"), list)):
        items = root.get("items")
        for item in items if isinstance(items, list) else []:
            if _is_manifest(item):
                yield _resource(source, doc, item)
        return
    yield _resource(source, doc, root)


def _is_manifest(node: Any) -> bool:
    return isinstance(node, YMap) and isinstance(node.get("apiVersion"), str) and isinstance(node.get("kind"), str)


def _resource(source: SourceFile, doc: YamlDoc, data: YMap) -> Resource:
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    namespace = metadata.get("namespace")
    return Resource(
        source=source,
        doc=doc,
        data=data,
        api_version=data["apiVersion"],
        kind=data["kind"],
        name=str(metadata.get("name") or metadata.get("generateName") or "<unnamed>"),
        namespace=str(namespace) if namespace else None,
        labels=_string_map(metadata.get("labels")),
        annotations=_string_map(metadata.get("annotations")),
    )


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    if all(k.__class__ is str and v.__class__ is str for k, v in value.items()):
        return value  # already strings (most labels): shared, not copied; read only
    return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def exported_from_cluster(resource: Resource) -> bool:
    """Whether the resource was read back from a cluster (`kubectl get -o yaml`)
    rather than written: the API server sets `metadata.uid` and
    `metadata.resourceVersion` on every object it stores, and no one writes them.
    (`kubectl create --dry-run -o yaml` writes `creationTimestamp: null` and
    `status: {}`, but neither of these.)"""
    return bool(resource.get("metadata", "uid") or resource.get("metadata", "resourceVersion"))
