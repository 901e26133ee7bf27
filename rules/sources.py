"""Findings on built objects, reported on the source line a person has to change.

A kustomize build's objects (`footgun.rules.builds`) are judged as applied, but a
finding must point at a file of the repository. For the field a finding is about,
the place is, in this order:

1. the patch that sets it, the last one kustomize applies (a strategic-merge patch
   file's line, a JSON 6902 operation's ``value``; a patch written inline in the
   kustomization gives its entry's line there);
2. the base resource's line (the object's source file is the build's
   ``config.kubernetes.io/origin``), when the value written there is what was built;
3. the kustomization line that changes it: ``namespace:``, ``namePrefix:`` /
   ``nameSuffix:``, ``labels:`` / ``commonLabels:``, ``replicas:``, ``images:``;
4. else the base resource's first line, else the kustomization's.

A fix moves with its finding only when each of its edits changes (or removes) one
scalar whose source line holds the very value that was built, in a resource or
patch file (never a kustomization: its ``namespace:`` or ``namePrefix:`` changes
every object it builds), and only when every build that reads the edited file has
the finding; otherwise the finding comes without a fix. A base that several builds
include gives one finding per source place, naming the builds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .builds import Build, Patch
from .edits import remove_key, set_scalar
from .manifests import Resource, SourceFile
from .model import Edit, Finding, Fix, Related
from .units import norm
from .yamltree import YMap, YSeq, parse_documents

# List items are matched by these keys, as strategic merge does for the lists rules
# look at (containers and their ports by name / containerPort, a Service's ports by port).
_MERGE_KEYS = ("name", "containerPort", "port", "mountPath", "ip")
_IDENTITY = (("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"), ("metadata", "namespace"))
_MISSING = object()
# Why a built object's fix is not offered: its edit would write what the build made
# (prefixed names, added labels, the overlay's namespace) into a file others build too.
_NOT_CARRIED = "it edits the built object, and no single source line holds what it changes: edit the source by hand"


@dataclass
class Place:
    """Where a built field comes from. ``container``/``key`` locate a source scalar
    (for moving a fix there) when the place is a resource or patch file's value."""

    path: str
    line: int
    end: int
    source: SourceFile | None = None
    container: Any = None
    key: Any = None
    value: Any = _MISSING
    patched: bool = False  # the place is a patch (removing its line would leave the base's value)


class Placer:
    """Places findings of one scan's builds on their sources."""

    def __init__(self, builds: list[Build], resources: dict[str, list[Resource]], paths: dict[str, str]) -> None:
        self.builds = {b.loaded.source.path: b for b in builds if b.loaded.source}
        self.resources = resources  # normalized path -> the resources written there
        self.paths = paths  # normalized path -> the path as the scan names it

    def is_built(self, path: str) -> bool:
        return path in self.builds

    def place_all(
        self, findings: list[Finding], suppressed: Callable[[Finding, SourceFile, int], bool]
    ) -> list[Finding]:
        """Findings on built objects moved to their sources (merged across builds);
        ``suppressed`` says whether an ignore comment at the source silences one."""
        kept: list[Finding] = []
        merged: dict[tuple, tuple[Finding, list[Build]]] = {}
        # a file an unbuilt kustomization reads is judged as written too: where that
        # judgement already reports a line, a build's finding there says it again
        as_written = {(f.rule, f.path, f.line, f.field) for f in findings if f.path not in self.builds}
        for finding in findings:
            build = self.builds.get(finding.path)
            if build is None:
                kept.append(finding)
                continue
            try:
                moved, source, start = self._moved(finding, build)
            except MemoryError:
                raise
            except Exception:  # an unforeseen shape of source: the finding still counts, on its kustomization
                moved = replace(finding, path=self._shown(build.kustomization), line=1, end_line=1, fix=None)
                source, start = None, 1
            if source is not None and suppressed(moved, source, start):
                continue
            key = (moved.rule, moved.path, moved.line, moved.field)
            if key in as_written:
                continue
            if key in merged:
                merged[key][1].append(build)
                continue
            merged[key] = (moved, [build])
            kept.append(moved)
        for moved, found_in in merged.values():
            for build_path, build in self.builds.items():  # messages name a build by its kustomization
                moved.message = moved.message.replace(build_path, self._shown(build.kustomization))
            self._keep_fix_to_its_builds(moved, found_in)
            names = sorted({b.label for b in found_in})
            if len(names) == 1:
                moved.message += f" (in the build of {names[0]})"
            else:
                moved.message += f" (in the builds of {', '.join(names[:-1])} and {names[-1]})"
        return kept

    def _keep_fix_to_its_builds(self, finding: Finding, found_in: list[Build]) -> None:
        """A fix that edits a file another build reads, where the finding does not
        occur (a base shared with an overlay that patches the field differently), would
        break that build: it is withheld."""
        if not finding.fix:
            return
        mine = {b.kustomization for b in found_in}
        for edit in finding.fix.edits:
            others = sorted(
                b.kustomization
                for b in self.builds.values()
                if norm(edit.path) in b.members and b.kustomization not in mine
            )
            if others:
                finding.fix = None
                finding.fix_withheld = (
                    f"it edits {edit.path}, which {self._shown(others[0])} builds too, without this finding"
                )
                return

    def _moved(self, finding: Finding, build: Build) -> tuple[Finding, SourceFile | None, int]:
        resource = _resource_at(build, finding.line)
        if resource is None:
            return replace(finding, path=self._shown(build.kustomization), line=1, end_line=1, fix=None), None, 1
        place = self.place(build, resource, finding.line)
        end = place.end if finding.end_line > finding.line else place.line
        related = [self._related(r, build) for r in finding.related]
        fix = self._fix(finding.fix, build) if finding.fix else None
        origin = self._origin(build, resource)
        moved = replace(
            finding,
            path=self._shown(place.path),
            line=place.line,
            end_line=max(end, place.line),
            related=related,
            fix=fix,
            fix_withheld=None if fix or not finding.fix else _NOT_CARRIED,
        )
        start = origin.start_line if origin is not None and origin.source is place.source else place.line
        return moved, place.source, start

    def _related(self, related: Related, build: Build) -> Related:
        target = self.builds.get(related.path)
        if target is None:
            return related
        resource = _resource_at(target, related.line)
        if resource is None:
            return replace(related, path=self._shown(target.kustomization), line=1)
        place = self.place(target, resource, related.line)
        return replace(related, path=self._shown(place.path), line=place.line)

    def _shown(self, path: str) -> str:
        return self.paths.get(path, path)

    # --- where a built field comes from ------------------------------------------------

    def place(self, build: Build, resource: Resource, line: int) -> Place:
        steps, built = _steps_at(resource.data, line)
        origin = self._origin(build, resource)
        if line == resource.start_line or not steps:
            return self._start(build, origin)
        if tuple(steps[:2]) not in _IDENTITY and tuple(steps[:1]) not in _IDENTITY:
            for patch in reversed(build.patches):
                if _patch_applies(patch, resource, origin):
                    found = self._in_patch(patch, steps, resource.data)
                    if found:
                        return found
        if origin is not None:
            found = _resolve(origin.data, steps, resource.data)
            if found and (found.value is _MISSING or found.value == built):
                return _within_text(replace(found, path=norm(origin.path), source=origin.source), resource, steps, line)
        by_kustomization = self._in_kustomization(build, steps, resource)
        if by_kustomization:
            return by_kustomization
        if origin is not None:
            found = _resolve(origin.data, steps, resource.data)
            if found:
                return replace(found, path=norm(origin.path), source=origin.source, container=None)
        return self._start(build, origin)

    def _start(self, build: Build, origin: Resource | None) -> Place:
        if origin is not None:
            return Place(norm(origin.path), origin.start_line, origin.start_line)
        return Place(build.kustomization, 1, 1)

    def _origin(self, build: Build, resource: Resource) -> Resource | None:
        """The resource of the origin file the built object was made from."""
        index = next((i for i, r in enumerate(build.loaded.resources) if r is resource), None)
        path = build.origins[index] if index is not None and index < len(build.origins) else None
        candidates = [r for r in self.resources.get(path or "", []) if r.kind == resource.kind]
        named = [r for r in candidates if r.name in resource.name]
        named.sort(key=lambda r: -len(r.name))
        return named[0] if named else candidates[0] if len(candidates) == 1 else None

    def _in_patch(self, patch: Patch, steps: list, built: YMap) -> Place | None:
        if patch.is_json:
            return self._in_operations(patch, steps, built)
        found = _resolve(patch.root, steps, built, positional=False)
        if found is None:
            return None
        if patch.source is None:
            return _inline(patch, found.line, found.end)
        return replace(found, path=norm(patch.source.path), source=patch.source, patched=True)

    def _in_operations(self, patch: Patch, steps: list, built: YMap) -> Place | None:
        wanted = [str(s) for s in steps]
        for index in reversed(range(len(patch.root))):
            operation = patch.root[index]
            if not isinstance(operation, YMap) or operation.get("op") not in ("add", "replace"):
                continue
            pointer = operation.get("path")
            if not isinstance(pointer, str):
                continue
            tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
            if tokens != wanted[: len(tokens)] and wanted != tokens[: len(wanted)]:
                continue
            item = patch.root.at[index]
            span = operation.at["value"] if "value" in operation else item
            if patch.source is None:
                return _inline(patch, span.key_line, span.end)
            where = norm(patch.source.path)
            if "value" not in operation:
                return Place(where, item.key_line, item.end)
            if len(tokens) < len(wanted) and isinstance(operation["value"], (YMap, YSeq)):
                inner = _resolve(operation["value"], steps[len(tokens) :], _node(built, steps[: len(tokens)]))
                if inner:
                    return replace(inner, path=where, source=patch.source, patched=True)
            if len(tokens) == len(wanted) and not isinstance(operation["value"], (YMap, YSeq)):
                return Place(where, span.key_line, span.end, patch.source, operation, "value", operation["value"], True)
            return Place(where, span.key_line, span.end)
        return None

    def _in_kustomization(self, build: Build, steps: list, resource: Resource) -> Place | None:
        """The kustomization line that explains a built value: the outermost one that
        sets the transformation (kustomize applies an overlay's after its base's)."""
        keys = _transformers(steps)
        if not keys:
            return None
        for path in reversed(build.chain):
            loaded = build.kustomizations.get(path)
            content = loaded.kustomization if loaded else None
            if not isinstance(content, YMap):
                continue
            for key in keys:
                if key in content:
                    span = content.at[key]
                    line = _entry_line(content[key], span, resource)
                    return Place(path, line, line if line != span.key_line else span.end)
        return None

    # --- fixes --------------------------------------------------------------------------

    def _fix(self, fix: Fix, build: Build) -> Fix | None:
        edits = []
        for edit in fix.edits:
            for part in self._line_by_line(edit):
                moved = self._moved_edit(part, build)
                if moved is None:
                    return None
                edits.append(moved)
        return Fix(fix.description, tuple(edits)) if edits else None

    def _line_by_line(self, edit: Edit) -> list[Edit]:
        """An edit that rewrites a block with as many lines (a selector written anew)
        as the one-line edits of the lines it changes; any other edit as it is."""
        build = self.builds.get(edit.path)
        source = build.loaded.source if build else None
        new = edit.replacement.splitlines(keepends=True)
        if source is None or edit.start_line == edit.end_line or len(new) != edit.end_line - edit.start_line + 1:
            return [edit]
        lines = range(edit.start_line, edit.end_line + 1)
        return [
            Edit(edit.path, number, number, text)
            for number, text in zip(lines, new)
            if text.rstrip("\r\n") != source.line(number)
        ]

    def _moved_edit(self, edit: Edit, build: Build) -> Edit | None:
        """The edit on the source, when it changes or removes one scalar whose source
        value is the built one."""
        target = self.builds.get(edit.path)
        resource = _resource_at(target, edit.start_line) if target else None
        if target is None or target.loaded.source is None or resource is None:
            return None
        steps, built = _steps_at(resource.data, edit.start_line)
        container = _node(resource.data, steps[:-1]) if steps else None
        if not isinstance(container, YMap) or isinstance(built, (YMap, YSeq)):
            return None
        span = container.at[steps[-1]]
        removal = remove_key(target.loaded.source, container, steps[-1]) == edit
        if span.key_line != span.end or (edit.start_line != edit.end_line and not removal):
            return None
        place = self.place(target, resource, edit.start_line)
        if place.source is None or place.container is None or place.value != built:
            return None
        if not isinstance(place.container, YMap) or place.container.at[place.key].key_line != place.line:
            return None
        source = place.source
        if removal:
            moved = remove_key(source, place.container, place.key) if not place.patched else None
        else:
            new = _new_value(edit.replacement, steps[-1])
            if new is _MISSING:
                return None
            moved = set_scalar(source, place.container, place.key, new)
        return replace(moved, path=self._shown(norm(source.path))) if moved else None


def _within_text(place: Place, resource: Resource, steps: list, line: int) -> Place:
    """A line inside a multi-line string (a script in a block scalar) is the same line
    of the same text in the source, when the text starts and ends alike there."""
    container = _node(resource.data, steps[:-1])
    if not isinstance(place.value, str) or "\n" not in place.value or not isinstance(container, (YMap, YSeq)):
        return place
    built = container.at[steps[-1]]
    offset = line - built.start
    if offset <= 0 or built.end - built.start != place.end - place.line or line > built.end:
        return place
    return replace(place, line=place.line + offset, end=place.line + offset, container=None)


def _inline(patch: Patch, line: int, end: int) -> Place:
    """A place in a patch written inline in its kustomization: the line itself when
    the patch is a literal block, else the patch entry's line."""
    if patch.line_offset is None:
        return Place(patch.kustomization, patch.line, patch.line)
    return Place(patch.kustomization, patch.line_offset + line, patch.line_offset + end)


def _new_value(replacement: str, key: Any) -> Any:
    """The value a one-line ``key: value`` replacement sets, or _MISSING."""
    text = replacement.rstrip("\r\n")
    if "\n" in text or "\r" in text:
        return _MISSING
    text = text.strip()
    text = text[2:] if text.startswith("- ") else text
    try:
        docs = parse_documents(text)
    except Exception:  # a replacement that is no YAML: no fix
        return _MISSING
    root = docs[0].root if docs else None
    if not isinstance(root, dict) or list(root) != [key] or isinstance(root[key], (dict, list)):
        return _MISSING
    return root[key]


def _resource_at(build: Build, line: int) -> Resource | None:
    for resource in build.loaded.resources:
        if resource.doc.start_line <= line <= resource.doc.end_line:
            return resource
    return None


def _steps_at(data: YMap, line: int) -> tuple[list, Any]:
    """The path to the deepest value whose key (or item) line or value holds ``line``,
    and the value there."""
    steps: list = []
    node: Any = data
    while isinstance(node, (YMap, YSeq)):
        keys = list(node) if isinstance(node, YMap) else range(len(node))
        for key in keys:
            span = node.at[key]
            if span.key_line <= line <= span.end:
                steps.append(key)
                if span.key_line == line and isinstance(node, YMap):
                    return steps, node[key]
                node = node[key]
                break
        else:
            return steps, node
    return steps, node


def _node(data: Any, steps: list) -> Any:
    for step in steps:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _resolve(source: Any, steps: list, built: Any, positional: bool = True) -> Place | None:
    """The place of ``steps`` (a path in the built object ``built``) in ``source``,
    list items matched by their merge keys (or, for a resource, by position when the
    lists are as long)."""
    node: Any = source
    line = end = 0
    container: Any = None
    for step in steps:
        if isinstance(built, YSeq) and isinstance(node, YSeq) and isinstance(step, int):
            index = _matching_item(node, built, step, positional)
        elif isinstance(built, YMap) and isinstance(node, YMap) and step in node:
            index = step
        else:
            return None
        if index is None:
            return None
        span = node.at[index]
        line, end, container = span.key_line, span.end, node
        node, built = node[index], built[step]
        key = index
    if container is None:
        return None
    value = node if not isinstance(node, (YMap, YSeq)) else _MISSING
    return Place("", line, end, None, container, key, value)


def _matching_item(items: YSeq, built: YSeq, index: int, positional: bool) -> int | None:
    wanted = built[index]
    if isinstance(wanted, YMap):
        for key in _MERGE_KEYS:
            if key in wanted and not isinstance(wanted[key], (YMap, YSeq)):
                for i, item in enumerate(items):
                    if isinstance(item, YMap) and item.get(key) == wanted[key]:
                        return i
                return None
    elif wanted in items:
        return items.index(wanted)
    return index if (positional or len(items) == len(built) == 1) and len(items) == len(built) else None


def _patch_applies(patch: Patch, resource: Resource, origin: Resource | None) -> bool:
    target = patch.target
    if target.get("kind") and target["kind"] != resource.kind:
        return False
    if target.get("name") and not _name_matches(str(target["name"]), resource, origin):
        return False
    if patch.is_json:
        return bool(target)
    root = patch.root
    if not isinstance(root, YMap):
        return False
    if not target and root.get("kind") != resource.kind:
        return False
    metadata = root.get("metadata")
    name = metadata.get("name") if isinstance(metadata, YMap) else None
    return target.get("name") is not None or (isinstance(name, str) and _name_matches(name, resource, origin))


def _name_matches(name: str, resource: Resource, origin: Resource | None) -> bool:
    if origin is not None and name == origin.name:
        return True
    if name in resource.name:
        return True
    try:
        return re.fullmatch(name, origin.name if origin else resource.name) is not None
    except re.error:
        return False


def _transformers(steps: list) -> tuple[str, ...]:
    """The kustomization keys that may have written the field at ``steps``."""
    path = tuple(str(s) for s in steps)
    if path[:2] == ("metadata", "namespace"):
        return ("namespace",)
    if path[:2] == ("metadata", "name"):
        return ("namePrefix", "nameSuffix")
    if "labels" in path or "selector" in path or "matchLabels" in path:
        return ("labels", "commonLabels")
    if path[:2] == ("spec", "replicas"):
        return ("replicas",)
    if path and path[-1] == "image":
        return ("images",)
    if "annotations" in path:
        return ("commonAnnotations",)
    return ()


def _entry_line(value: Any, span: Any, resource: Resource) -> int:
    """For a list of entries by name (``replicas:``, ``images:``), the line of the
    one that names the resource; else the key's line."""
    if isinstance(value, YSeq):
        for index, entry in enumerate(value):
            name = entry.get("name") if isinstance(entry, YMap) else None
            if isinstance(name, str) and (name in resource.name or _names_image(name, resource)):
                return value.at[index].key_line
    return span.key_line


def _names_image(name: str, resource: Resource) -> bool:
    text = str(resource.data)
    return f"'{name}" in text or f"'{name}:" in text
