"""What a pull request's changed manifests are applied with, read ahead of the rest.

The cross-file rules judge a resource by its deployment unit (`rules.units`): the
kustomizations that build it and what they build. The nearest files by folder are
not always those: an overlay in `deploy/prod/` builds a base in `apps/base/`. So
before the budget picks the context files, the repository's kustomizations nearest
to the changed files (a quarter of the file budget at most, each read once and
cached by blob) are read, and the files of every build that includes a changed file
go first among the context: its manifests, and the other files its kustomizations
read (JSON patches, generators' files), which the engine needs to build it with
kustomize (`footgun.rules.builds`) at the head and at the merge base alike.
"""

from __future__ import annotations

import posixpath

from footgun.rules.builds import files_read
from footgun.rules.config import Config
from footgun.rules.engine import is_manifest_path
from footgun.rules.manifests import KUSTOMIZATION_NAMES, LoadedFile, load_file
from footgun.rules.model import Skip
from footgun.rules.units import Units, norm

from .fetch import BlobCache, Tree, folders_around, manifest_paths, read_blobs
from .github import Installation


def unit_paths(
    gh: Installation, repo: str, tree: Tree, config: Config, cache: BlobCache, changed: list[str], max_reads: int
) -> list[str]:
    """The manifests of ``tree`` built together with a changed one by some
    kustomization, in path order, then the other files those builds read; empty when
    none builds a changed file."""
    everything = manifest_paths(tree, config)
    kustomizations = _nearest_kustomizations(everything, changed, max_reads)
    if not kustomizations or not changed:
        return []
    small = [p for p in kustomizations if (tree.files[p].size or 0) <= config.max_file_bytes]
    texts = read_blobs(gh, repo, tree, small, cache)
    loaded = [load_file(path, raw, config.limits, config.max_file_bytes) for path, raw in texts.items()]
    loaded += [LoadedFile(None, skip=Skip(path, "")) for path in everything if path not in texts]
    units = Units(loaded)
    wanted = {
        root for path in changed if path in tree.files for root in units.roots(path) if root[0] == "kustomization"
    }
    mine = {norm(path) for path in changed}
    built = [path for path in everything if wanted & units.roots(path) and norm(path) not in mine]
    return built + _inputs_of(loaded, units, wanted, tree, config)


def _inputs_of(loaded: list[LoadedFile], units: Units, wanted: set, tree: Tree, config: Config) -> list[str]:
    """What the kustomizations of the ``wanted`` builds read that is no manifest."""
    mine = [f for f in loaded if f.is_kustomization and f.source and wanted & units.roots(f.source.path)]
    return build_inputs(mine, tree, config)


def build_inputs(kustomizations: list[LoadedFile], tree: Tree, config: Config) -> list[str]:
    """What these kustomizations read that is no manifest (a JSON patch, a
    generator's ``.env``), as far as the tree has it, each once: kustomize needs them
    to build, the engine does not judge them."""
    found: list[str] = []
    for file in kustomizations:
        if not (file.is_kustomization and file.source):
            continue
        for path in files_read(norm(file.source.path), file.kustomization):
            if path in tree.files and not is_manifest_path(path, config) and path not in found:
                found.append(path)
    return found


def _nearest_kustomizations(paths: list[str], changed: list[str], limit: int) -> list[str]:
    """Up to ``limit`` kustomization files, those of the changed files' folders and
    their parents first."""
    found = [p for p in paths if posixpath.basename(p) in KUSTOMIZATION_NAMES]
    near = folders_around(changed)
    found.sort(key=lambda p: (posixpath.dirname(p) not in near, p.count("/"), p))
    return found[:limit]
