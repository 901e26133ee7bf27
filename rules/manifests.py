"""Files to Kubernetes resources, or to a reason why a file was skipped.

A manifest is any YAML document with ``apiVersion`` and ``kind``; the items of a
``kind: List`` are manifests of their own. Files that cannot be scanned faithfully
(Helm/Go templates, binary or non-UTF-8 bytes, oversized, unparseable, hostile) are
skipped with a reason that says where, never with a crash.
"""
from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from typing import Any, Iterable

from .model import ResourceRef, Skip
from .yamltree import Limits, Span, YAMLLimitError, YAMLParseError, YMap, YamlDoc, YSeq, parse_documents, span_at

TEMPLATE_MARK = re.compile(r"\{\{|\{%")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(eq=False)
class SourceFile:
    """One scanned file's text, as found (line endings and all)."""

    path: str
    text: str

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @cached_property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line ending."""
        if "lines" in self.__dict__:
            return self.lines[number - 1].rstrip("\r\n")
        # Rules ask for a few lines of many files: slicing the text at the line's
        # offsets keeps 8 bytes a line instead of a string a line (``lines``).
        starts = self._line_starts
        count = len(starts) - 1
        if not 1 <= number <= count:
            return self.lines[number - 1].rstrip("\r\n")  # IndexError, or from the end, as before
        return self.text[starts[number - 1]:starts[number]].rstrip("\r\n")

    @cached_property
    def _line_starts(self) -> array:
        """Where each line starts, and where the text ends: the boundaries of
        ``text.splitlines(keepends=True)``."""
        starts = array("q", [0])
        starts.extend(accumulate(map(len, self.text.splitlines(keepends=True))))
        return starts


@dataclass(eq=False)
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

    def span(self, *path: Any) -> Span | None:
        """Where the value at ``path`` sits, or None when it is absent."""
        node: Any = self.data
        parent = None
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

    def could_share_namespace(self, other: "Resource") -> bool:
        """An unset namespace is decided at apply time, so it may match any."""
        return self.namespace is None or other.namespace is None or self.namespace == other.namespace

    def __repr__(self) -> str:
        return f"<{self.ref} at {self.path}:{self.start_line}>"


@dataclass
class LoadedFile:
    source: SourceFile | None
    resources: list[Resource] = field(default_factory=list)
    skip: Skip | None = None
    is_kustomization: bool = False
    kustomization: dict | None = None


def load_file(path: str, raw: bytes, limits: Limits, max_bytes: int, size: int | None = None) -> LoadedFile:
    """Decode and parse one file's bytes into resources, or a skip with its reason.
    ``size`` is the file's real size when ``raw`` was read only up to the limit."""
    if len(raw) > max_bytes:
        size = max(size or 0, len(raw))
        return _skipped(path, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    if b"\0" in raw:
        return _skipped(path, "binary file (contains NUL bytes), not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return _skipped(path, f"not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at line {line}", line)
    return load_text(path, text.removeprefix("\ufeff"), limits)


def load_text(path: str, text: str, limits: Limits = Limits()) -> LoadedFile:
    source = SourceFile(path, text)
    template = TEMPLATE_MARK.search(text)
    if template:
        line = text.count("\n", 0, template.start()) + 1
        return LoadedFile(source, skip=Skip(
            path, f"Helm/Go template syntax at line {line}; render it first "
                  f"(helm template / kustomize build) to scan the output", line))
    try:
        docs = parse_documents(text, limits)
    except YAMLParseError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        return LoadedFile(source, skip=Skip(path, f"{exc}{where}", exc.line))
    except YAMLLimitError as exc:
        return LoadedFile(source, skip=Skip(path, f"refused: {exc}"))
    if _is_kustomization(path, docs):
        root = docs[0].root if docs else None
        return LoadedFile(source, is_kustomization=True,
                          kustomization=root if isinstance(root, dict) else {})
    resources = [r for doc in docs for r in _resources_in(source, doc)]
    if not resources and any(doc.root is not None for doc in docs):  # empty documents are not YAML data
        return LoadedFile(source, skip=Skip(path, "not a Kubernetes manifest (no document has apiVersion and kind)"))
    return LoadedFile(source, resources)


def _skipped(path: str, reason: str, line: int | None = None) -> LoadedFile:
    return LoadedFile(None, skip=Skip(path, reason, line))


def _is_kustomization(path: str, docs: list[YamlDoc]) -> bool:
    if path.rsplit("/", 1)[-1] in KUSTOMIZATION_NAMES:
        return True
    return bool(docs) and isinstance(docs[0].root, dict) and docs[0].root.get("kind") in ("Kustomization", "Component") \
        and str(docs[0].root.get("apiVersion", "")).startswith("kustomize.config.k8s.io")


def _resources_in(source: SourceFile, doc: YamlDoc) -> Iterable[Resource]:
    root = doc.root
    if not _is_manifest(root):
        return
    if root["kind"] == "List" or (str(root["kind"]).endswith("List") and isinstance(root.get("items"), list)):
        for item in root.get("items") or []:
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
        source=source, doc=doc, data=data,
        api_version=data["apiVersion"], kind=data["kind"],
        name=str(metadata.get("name") or metadata.get("generateName") or "<unnamed>"),
        namespace=str(namespace) if namespace else None,
        labels=_string_map(metadata.get("labels")),
        annotations=_string_map(metadata.get("annotations")),
    )


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in value.items()}


def exported_from_cluster(resource: Resource) -> bool:
    """Whether the resource was read back from a cluster (`kubectl get -o yaml`)
    rather than written: the API server sets `metadata.uid` and
    `metadata.resourceVersion` on every object it stores, and no one writes them.
    (`kubectl create --dry-run -o yaml` writes `creationTimestamp: null` and
    `status: {}`, but neither of these.)"""
    return bool(resource.get("metadata", "uid") or resource.get("metadata", "resourceVersion"))
