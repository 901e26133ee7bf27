"""The deployment units: which scanned resources are applied together."""

from __future__ import annotations

import pytest

from footgun.rules.config import Config
from tests.helpers import scan_texts


def service(name: str, namespace: str | None = None) -> str:
    where = f"\n  namespace: {namespace}" if namespace else ""
    return f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}{where}\nspec:\n  selector:\n    app: {name}\n"


def units_of(files: dict[str, str], mode: str = "kustomization"):
    # the unit model itself, as used when kustomizations are not built
    inventory = scan_texts(files, Config(deployment_unit=mode, kustomize_build=False)).inventory
    by_name = {r.name: r for r in inventory.resources}
    return inventory, by_name


def test_overlays_share_their_base_but_not_each_other():
    files = {
        "base/kustomization.yaml": "resources:\n  - svc.yaml\n",
        "base/svc.yaml": service("base"),
        "dev/kustomization.yaml": "resources:\n  - ../base\n  - dev.yaml\n",
        "dev/dev.yaml": service("dev"),
        "prod/kustomization.yaml": "resources:\n  - ../base\n  - prod.yaml\n",
        "prod/prod.yaml": service("prod"),
    }
    inventory, r = units_of(files)
    assert inventory.together(r["base"], r["dev"]) and inventory.together(r["base"], r["prod"])
    assert not inventory.together(r["dev"], r["prod"])


def test_the_outermost_kustomization_namespace_fills_unset_namespaces():
    files = {
        "base/kustomization.yaml": "namespace: base\nresources:\n  - svc.yaml\n  - fixed.yaml\n",
        "base/svc.yaml": service("web"),
        "base/fixed.yaml": service("fixed", "kept"),
        "prod/kustomization.yaml": "namespace: shop\nresources:\n  - ../base\n",
    }
    _, r = units_of(files)
    assert r["web"].namespace == "shop" and r["fixed"].namespace == "kept"


def test_a_file_its_folders_kustomization_does_not_list_is_applied_with_nothing_it_builds():
    files = {
        "app/kustomization.yaml": "resources:\n  - a.yaml\n",
        "app/a.yaml": service("a"),
        "app/old.yaml": service("old"),
        "app/older.yaml": service("older"),
    }
    inventory, r = units_of(files)
    assert not inventory.together(r["a"], r["old"])
    assert inventory.together(r["old"], r["older"])  # both applied by hand, from the folder


def test_alternatives_are_never_together_but_a_patch_merges():
    files = {"ex/a.yaml": service("web"), "ex/b.yaml": service("web"), "ex/c.yaml": service("api")}
    inventory, _ = units_of(files)
    a, b, c = sorted(inventory.resources, key=lambda x: x.path)
    assert not inventory.together(a, b) and inventory.together(a, c)
    assert inventory.deployed_with(a, "Service") == [c]
    patched = {
        "base/kustomization.yaml": "resources:\n  - svc.yaml\n",
        "base/svc.yaml": service("web"),
        "prod/kustomization.yaml": "resources:\n  - ../base\npatches:\n  - path: lb.yaml\n",
        "prod/lb.yaml": service("web"),
    }
    inventory, _ = units_of(patched)
    base, patch = sorted(inventory.resources, key=lambda x: x.path)
    assert inventory.together(base, patch)


def test_flux_remote_cluster_and_argo_destinations_are_their_own_clusters():
    flux = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
        "spec:\n  path: ./apps/{name}\n{remote}  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    files = {
        "clusters/main/a.yaml": flux.format(name="a", remote=""),
        "clusters/main/b.yaml": flux.format(name="b", remote="  kubeConfig:\n    secretRef:\n      name: edge\n"),
        "apps/a/svc.yaml": service("sa"),
        "apps/b/svc.yaml": service("sb"),
    }
    inventory, r = units_of(files)
    assert inventory.together(r["a"], r["sa"]) and not inventory.together(r["sa"], r["sb"])


@pytest.mark.parametrize("mode, together", [("file", False), ("folder", True), ("repository", True)])
def test_plain_modes(mode, together):
    inventory, r = units_of({"x/a.yaml": service("a"), "x/b.yaml": service("b"), "y/c.yaml": service("c")}, mode)
    assert inventory.together(r["a"], r["b"]) is together
    assert inventory.together(r["a"], r["c"]) is (mode == "repository")


def test_skipped_files_of_the_unit_are_listed_nearest_first():
    template = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n"
    files = {
        "app/svc.yaml": service("web"),
        "app/z.yaml": template,
        "app/kustomization.yaml": "resources:\n  - svc.yaml\n  - z.yaml\n  - deep/a.yaml\n",
        "app/deep/a.yaml": template,
        "other/t.yaml": template,
    }
    result = scan_texts(files)
    web = next(r for r in result.inventory.resources if r.name == "web")
    assert [s.path for s in result.inventory.unscanned_by_distance(web)] == ["app/z.yaml", "app/deep/a.yaml"]
