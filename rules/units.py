"""Deployment units: which scanned resources are applied to a cluster together.

A repository often holds alternatives that are never applied side by side (one
install per cloud, tutorial chapters, before/after versions of one object), so a
cross-resource rule must look for a Service's pods, an Ingress's certificate or a
pod's network policies among what is deployed *with* it, not in the whole tree.

The model (`deployment-unit: kustomization` in `.footgun.yml`, the default):

- every kustomization is a build: the files its `resources:`, `bases:` and
  `components:` name, following folders into the kustomizations they hold, plus
  its patch files; its `namespace:` is applied to what it builds (an outer
  kustomization's wins over an inner one's, as `kustomize build` does). A root
  kustomization that builds app folders makes them one unit;
- a file no kustomization builds belongs to its folder; a file beside a
  `kustomization.yaml` that does not list it is applied by nothing in that build,
  so it shares a unit only with the other unlisted files of its folder;
- a Flux `Kustomization` (`spec.path`) or an Argo CD `Application` /
  `ApplicationSet` (source `path`, a git directory generator's paths) names
  folders applied to one cluster, which is one more build: a Flux one's is the
  cluster it is itself applied to (another one when `spec.kubeConfig` names it),
  Argo CD ones with the same `destination` cluster share theirs. Flux builds a
  folder without a kustomization from everything below it, Argo CD from the folder
  itself (unless `directory.recurse`). `targetNamespace` and the destination
  namespace fill in namespaces left unset;
- `file`, `folder` and `repository` are the plain alternatives: one file, one
  folder, everything scanned.

A resource may be in several builds (a base that two overlays include, an
infrastructure folder two clusters apply); two resources are deployed together
when they share one. Two manifests of one API group, kind, namespace and name are
alternatives, never deployed together (one replaces the other), unless one is a
patch that a build merges into the other.

Rules look inside the unit first: which pods a Service selects, which policies
cover a pod, which Ingresses share a host, which IngressClass is the default. Only
when nothing but its folder places a resource and that folder holds no candidate
at all do they look through the repository, and then say so and offer no fix that
edits another unit's file. Evidence that silences a finding counts inside the unit
only.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .manifests import LoadedFile, Resource

_REMOTE = ("://", "git@", "github.com/", "?ref=")


@dataclass(frozen=True)
class Unit:
    """One set of things applied together; ``label`` is how a message names it."""

    key: tuple[str, str]
    label: str


def norm(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/"))


def folder_of(path: str) -> str:
    return posixpath.dirname(norm(path)) or "."


def identity(resource: Resource) -> tuple[str, str, str | None, str]:
    """What makes two manifests one object in a cluster: API group, kind,
    namespace and name."""
    group = resource.api_version.rpartition("/")[0]
    return group, resource.kind, resource.namespace, resource.name


class Units:
    """Which builds every scanned file belongs to, joined where GitOps descriptors
    say so. Built once per scan from the loaded files."""

    def __init__(self, files: list[LoadedFile], mode: str = "kustomization") -> None:
        self._paths = [norm(_path_of(f)) for f in files]
        self._builds: dict[str, set[tuple[str, str]]] = {}  # a path without a build has no entry
        self._patches: dict[str, set[tuple[str, str]]] = {}
        self._namespace_hints: dict[str, list[str | None]] = {}
        self._labels: dict[tuple[str, str], str] = {}
        if mode == "repository":
            for path in self._paths:
                self._add(path, ("repository", ""), "the repository")
        elif mode == "file":
            for path in self._paths:
                self._add(path, ("file", path), f"`{path}`")
        else:
            kustomizations = (
                {norm(f.source.path): f.kustomization for f in files if f.is_kustomization and f.source}
                if mode == "kustomization"
                else {}
            )
            self._kustomization_builds(kustomizations)
            for f in files:  # a build's rendered objects are applied by that kustomization
                if f.built_by and f.source:
                    applied_by = ("kustomization", norm(f.built_by))
                    self._add(norm(f.source.path), applied_by, f"the kustomization `{norm(f.built_by)}`")
            folder_builds: dict[str, tuple[str, str]] = {}  # one per folder, shared by its files
            for path in self._paths:
                if not self._builds.get(path) and path not in kustomizations:
                    folder = folder_of(path)
                    build = folder_builds.get(folder)
                    if build is None:
                        build = folder_builds[folder] = ("folder", folder)
                        self._labels.setdefault(build, f"folder `{folder}/`" if folder != "." else "the top folder")
                    self._add(path, build, self._labels[build])
            if mode == "kustomization":
                self._join_gitops(files, kustomizations)
        shared: dict[frozenset, frozenset] = {}  # the files of one folder or build share one set
        self._roots: dict[str, frozenset[tuple[str, str]]] = {}
        for path in [*self._paths, *self._builds]:
            roots = frozenset(self._builds.get(path, ()))
            self._roots[path] = shared.setdefault(roots, roots)
        self._builds = self._roots  # type: ignore[assignment]  # built: frozen, one set per distinct value
        self._roots_as_given: dict[str, frozenset[tuple[str, str]]] = {}  # rules ask per pair: norm once

    # --- what rules ask ---------------------------------------------------------

    def roots(self, path: str) -> frozenset[tuple[str, str]]:
        """The builds (kustomizations, folders, GitOps clusters) a file belongs to."""
        found = self._roots.get(path)  # a path in normal form (most) is its own key
        if found is None:
            found = self._roots_as_given.get(path)
        if found is None:
            normal = norm(path)
            found = self._roots.get(normal)
            if found is None:
                found = frozenset({("file", normal)})
            self._roots_as_given[path] = found
        return found

    def together(self, a: Resource, b: Resource) -> bool:
        """Whether ``a`` and ``b`` are applied to one cluster together."""
        if a is b:
            return True
        shared = self.roots(a.path) & self.roots(b.path)
        if not shared:
            return False
        if identity(a) == identity(b):
            return self._patch_in(a.path, shared) or self._patch_in(b.path, shared)
        return True

    def label(self, root: tuple[str, str]) -> str:
        return self._labels.get(root, f"`{root[1]}`")

    def unit(self, path: str) -> Unit:
        """The unit a message names for a file: the first of its units."""
        root = min(self.roots(path))
        return Unit(root, self.label(root))

    def only_folder(self, path: str) -> bool:
        """Whether nothing but its folder says what is applied with the file (no
        kustomization builds it, no GitOps descriptor applies it)."""
        return all(build[0] == "folder" for build in self.roots(path))

    def neighbourhood(self, path: str) -> str:
        """The folder whose subtree may be applied with a file that only its folder
        places (``kubectl apply -R`` of a chapter whose set-up sits in a subfolder):
        the file's folder, or its parent when that is not the top."""
        folder = folder_of(path)
        parent = posixpath.dirname(folder)
        return parent if parent not in ("", ".", "/") else folder

    def namespace(self, path: str) -> str | None:
        """The namespace every build of the file applies to it, if they agree."""
        hints = self._namespace_hints.get(norm(path))
        if not hints or None in hints or len(set(hints)) != 1:
            return None
        return hints[0]

    def distance_key(self, near: str, path: str) -> tuple[int, int, str]:
        """Sort key: files of ``near``'s folder first, then by the folders shared
        with it and the steps down from there."""
        a, b = folder_of(near).split("/"), folder_of(path).split("/")
        shared = 0
        for x, y in zip(a, b):
            if x != y:
                break
            shared += 1
        return -shared, len(b) - shared, path

    # --- building ---------------------------------------------------------------

    def _add(self, path: str, build: tuple[str, str], label: str) -> None:
        self._builds.setdefault(path, set()).add(build)
        self._labels.setdefault(build, label)

    def _patch_in(self, path: str, roots: frozenset) -> bool:
        return any(b in roots for b in self._patches.get(norm(path), ()))

    def _kustomization_builds(self, kustomizations: dict[str, Any]) -> None:
        folders = {folder_of(path): path for path in kustomizations}
        included: set[str] = set()
        memo: dict[str, dict[str, tuple[str | None, bool]]] = {}
        for path in sorted(kustomizations):
            members = _built(path, kustomizations, folders, memo, set())
            build = ("kustomization", path)
            for member, (_, is_patch) in members.items():
                self._add(member, build, f"the kustomization `{path}`")
                if is_patch:
                    self._patches.setdefault(member, set()).add(build)
                if member != path:
                    included.add(member)
            self._labels.setdefault(build, f"the kustomization `{path}`")
        tops = [p for p in sorted(kustomizations) if p not in included]
        for path in tops:
            for member, (namespace, _) in memo.get(path, {}).items():
                self._namespace_hints.setdefault(member, []).append(namespace)

    def _join_gitops(self, files: list[LoadedFile], kustomizations: dict[str, Any]) -> None:
        folders = _folders(self._paths)
        self._by_folder: dict[str, list[str]] = {}
        for path in self._paths:
            self._by_folder.setdefault(folder_of(path), []).append(path)
        descriptors = [(r, t) for f in files for r in f.resources for t in _gitops_targets(r)]
        members: dict[tuple[str, str], set[str]] = {}
        for path, builds in self._builds.items():
            for build in builds:
                members.setdefault(build, set()).add(path)
        # Twice: a descriptor applied by another descriptor (Flux's own sync, an
        # app of apps) sends its folders to the cluster that one applies to.
        for _ in range(2):
            for descriptor, target in descriptors:
                self._apply_target(descriptor, target, folders, kustomizations, members)

    def _apply_target(
        self,
        descriptor: Resource,
        target: _Target,
        folders: set[str],
        kustomizations: dict[str, Any],
        members: dict[tuple[str, str], set[str]],
    ) -> None:
        """Every file a descriptor applies joins the descriptor's cluster: a build of
        its own, beside the kustomization and folder builds the file is in."""
        named = [f for f in folders if target.matches(f)]
        if not named:
            return
        cluster = target.cluster
        if cluster is None:  # Flux, same cluster: the one the descriptor is applied to
            own = sorted(self._builds.get(norm(descriptor.path), ()))
            if not own:
                return
            clusters = [b for b in own if b[0] == "cluster"]
            cluster = clusters[0] if clusters else ("cluster", own[0][1])
            self._labels.setdefault(cluster, f"the cluster that `{norm(descriptor.path)}` is applied to")
            self._add(norm(descriptor.path), cluster, self._labels[cluster])
        else:
            self._labels.setdefault(
                cluster,
                f"the cluster of {cluster[1].replace('Argo CD ', 'Argo CD destination `')}`"
                if cluster[1].startswith("Argo CD ")
                else f"the cluster of `{cluster[1]}`",
            )
        for folder in named:
            below = [f for f in self._by_folder if f == folder or (target.recurse and _under(f, folder))]
            for path in (p for f in below for p in self._by_folder[f]):
                for build in list(self._builds.get(path, ())):
                    if build[0] != "cluster" and (_anchor(build) == folder or _under(_anchor(build), folder)):
                        for member in members.get(build, ()):
                            self._add(member, cluster, self._labels[cluster])
                if target.namespace and path not in kustomizations:
                    hints = self._namespace_hints.setdefault(path, [])
                    if not any(hints):
                        hints[:] = [target.namespace]


def _path_of(loaded: LoadedFile) -> str:
    return loaded.source.path if loaded.source else loaded.skip.path if loaded.skip else ""


def _under(path: str, folder: str) -> bool:
    return folder == "." or path.startswith(folder + "/")


def _anchor(build: tuple[str, str]) -> str:
    """The folder a build is rooted at."""
    kind, where = build
    return folder_of(where) if kind == "kustomization" else where


def _folders(paths: Iterable[str]) -> set[str]:
    found = set()
    for path in paths:
        folder = folder_of(path)
        while folder not in found:
            found.add(folder)
            if folder in (".", "/", ""):
                break
            folder = posixpath.dirname(folder) or "."
    return found


def _built(
    path: str,
    kustomizations: dict[str, Any],
    folders: dict[str, str],
    memo: dict[str, dict[str, tuple[str | None, bool]]],
    active: set[str],
) -> dict[str, tuple[str | None, bool]]:
    """The files a kustomization builds, each with the namespace the build gives it
    (None: left as written) and whether it is a patch."""
    if path in memo:
        return memo[path]
    if path in active:  # a cycle: kustomize refuses it; build nothing more
        return {}
    active.add(path)
    content = kustomizations.get(path)
    content = content if isinstance(content, dict) else {}
    own_namespace = content.get("namespace") if isinstance(content.get("namespace"), str) else None
    base = folder_of(path)
    members: dict[str, tuple[str | None, bool]] = {path: (own_namespace, False)}
    for key in ("resources", "bases", "components"):
        for entry in _strings(content.get(key)):
            if any(mark in entry for mark in _REMOTE):
                continue  # fetched at build time: not in the scanned set
            target = norm(posixpath.join(base, entry))
            if target in folders:
                for member, (namespace, is_patch) in _built(
                    folders[target], kustomizations, folders, memo, active
                ).items():
                    members.setdefault(member, (own_namespace or namespace, is_patch))
            else:
                members.setdefault(target, (own_namespace, False))
    for entry in _patch_paths(content):
        members.setdefault(norm(posixpath.join(base, entry)), (own_namespace, True))
    active.discard(path)
    memo[path] = members
    return members


def _patch_paths(content: dict) -> list[str]:
    found = _strings(content.get("patchesStrategicMerge"))
    for key in ("patches", "patchesJson6902"):
        for entry in content.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                found.append(entry["path"])
    return found


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# --- GitOps descriptors ----------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """A folder pattern a descriptor applies, and to which cluster (None: the one
    the descriptor itself is applied to)."""

    pattern: str
    recurse: bool
    cluster: tuple[str, str] | None
    namespace: str | None

    def matches(self, folder: str) -> bool:
        if self.pattern in ("", "."):
            return folder == "."
        return fnmatch.fnmatchcase(folder, self.pattern) or fnmatch.fnmatchcase(folder, "*/" + self.pattern)


def _gitops_targets(resource: Resource) -> list[_Target]:
    group = resource.api_version.split("/")[0]
    if resource.kind == "Kustomization" and group == "kustomize.toolkit.fluxcd.io":
        return _flux_targets(resource)
    if group == "argoproj.io" and resource.kind == "Application":
        return _argo_targets(resource.get("spec"), [])
    if group == "argoproj.io" and resource.kind == "ApplicationSet":
        template = resource.get("spec", "template")
        spec = template.get("spec") if isinstance(template, dict) else None
        return _argo_targets(spec, _generated_paths(resource.get("spec", "generators")))
    return []


def _flux_targets(resource: Resource) -> list[_Target]:
    path = resource.get("spec", "path")
    if not isinstance(path, str):
        return []
    remote = resource.get("spec", "kubeConfig")
    cluster = None
    if isinstance(remote, dict):
        secret = remote.get("secretRef")
        name = secret.get("name") if isinstance(secret, dict) else None
        cluster = ("cluster", f"kubeConfig {name or resource.name}")
    namespace = resource.get("spec", "targetNamespace")
    # kustomize-controller builds a folder without a kustomization.yaml from every
    # manifest below it, subfolders included
    return [_Target(_pattern(path), True, cluster, namespace if isinstance(namespace, str) else None)]


def _argo_targets(spec: Any, generated: list[str]) -> list[_Target]:
    if not isinstance(spec, dict):
        return []
    destination = spec.get("destination")
    if not isinstance(destination, dict):
        destination = {}
    server = destination.get("server") or destination.get("name") or "in-cluster"
    if server == "https://kubernetes.default.svc":
        server = "in-cluster"
    namespace = destination.get("namespace")
    templated = any("{{" in str(v) for v in (server, namespace))
    sources = [spec.get("source")] + list(spec.get("sources") or [])
    targets = []
    for source in sources:
        if not isinstance(source, dict) or not isinstance(source.get("path"), str):
            continue
        directory = source.get("directory")
        recurse = isinstance(directory, dict) and directory.get("recurse") is True
        paths = generated if "{{" in source["path"] else [source["path"]]
        for path in paths:
            targets.append(
                _Target(
                    _pattern(path),
                    recurse,
                    None if templated else ("cluster", f"Argo CD {server}"),
                    None if templated or not isinstance(namespace, str) else namespace,
                )
            )
    # a templated destination gives each generated application its own cluster:
    # nothing to join, each folder stays its own unit
    return [t for t in targets if t.cluster is not None]


def _generated_paths(generators: Any) -> list[str]:
    """The folder globs of an ApplicationSet's git directory generators."""
    found = []
    for generator in generators if isinstance(generators, list) else []:
        git = generator.get("git") if isinstance(generator, dict) else None
        for entry in git.get("directories") or [] if isinstance(git, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str) and not entry.get("exclude"):
                found.append(entry["path"])
    return found


def _pattern(path: str) -> str:
    cleaned = norm(path.strip()).lstrip("/")
    return "." if cleaned in ("", ".") else cleaned.removeprefix("./")
