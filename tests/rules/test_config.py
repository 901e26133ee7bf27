"""`.footgun.yml`: found by walking up, every key checked, errors that name the key."""

from __future__ import annotations

import pytest

from footgun.rules.config import (
    OPTIONS,
    Config,
    ConfigError,
    IngressClassDecl,
    RuleSetting,
    find_config,
    load_config,
    parse_config,
)
from footgun.rules.engine import scan_paths
from footgun.rules.yamltree import Limits


def test_defaults():
    config = parse_config(None)
    assert config == Config()
    assert (config.fail_level, config.cert_manager_issuer, config.node_port_range) == (
        "warning",
        "letsencrypt-prod",
        (30000, 32767),
    )
    assert config.rule("hardcoded-node-port") == RuleSetting(enabled=True, severity=None)
    assert config.limits == Limits(max_depth=100, max_nodes=250_000)


def test_every_key_is_accepted():
    config = parse_config(
        {
            "fail-level": "error",
            "include": ["k8s/**"],
            "exclude": "k8s/legacy/**",
            "rules": {
                "load-balancer-per-service": False,
                "ingress-without-tls": "error",
                "hardcoded-node-port": {"enabled": True, "severity": "info"},
            },
            "ingress-classes": ["nginx", {"name": "internal", "controller": "k8s.io/ingress-nginx", "default": True}],
            "default-ingress-class": "nginx",
            "cert-manager-issuer": "letsencrypt-staging",
            "node-port-range": "30000-31000",
            "max-load-balancers": 2,
            "deployment-unit": "repository",
            "kustomize-build": False,
            "nginx-controller": "nginx-inc",
            "traefik-strict-prefix": True,
            "ndots": 3,
            "custom-workloads": [{"kind": "CloneSet", "pod-template": "spec.template"}],
            "max-file-bytes": 2048,
            "max-depth": 50,
            "max-nodes": 1000,
            "docs-url": "https://docs.example.org/footgun/rules",
        }
    )
    assert config.fail_level == "error" and config.include == ["k8s/**"] and config.exclude == ["k8s/legacy/**"]
    assert config.rule("load-balancer-per-service").enabled is False
    assert config.rule("ingress-without-tls") == RuleSetting(True, "error")
    assert config.rule("hardcoded-node-port") == RuleSetting(True, "info")
    assert config.ingress_classes == [
        IngressClassDecl("nginx"),
        IngressClassDecl("internal", "k8s.io/ingress-nginx", True),
    ]
    assert config.node_port_range == (30000, 31000) and config.kustomize_build is False
    assert config.custom_workloads == [("CloneSet", ("spec", "template"))]
    assert config.limits == Limits(max_depth=50, max_nodes=1000) and config.max_file_bytes == 2048
    assert set(OPTIONS) == {
        "fail-level",
        "include",
        "exclude",
        "rules",
        "ingress-classes",
        "default-ingress-class",
        "cert-manager-issuer",
        "node-port-range",
        "max-load-balancers",
        "deployment-unit",
        "kustomize-build",
        "nginx-controller",
        "traefik-strict-prefix",
        "ndots",
        "custom-workloads",
        "max-file-bytes",
        "max-depth",
        "max-nodes",
        "docs-url",
    }
    assert config.docs_url == "https://docs.example.org/footgun/rules"


def test_node_port_range_forms():
    assert parse_config({"node-port-range": [30000, 32000]}).node_port_range == (30000, 32000)
    for bad in ("32767-30000", "0-100", "x", 30000, "1-2-3"):
        with pytest.raises(ConfigError, match="^node-port-range:"):
            parse_config({"node-port-range": bad})


@pytest.mark.parametrize(
    "key, value",
    [
        ("unknown-key", 1),
        ("fail-level", "fatal"),
        ("include", [""]),
        ("exclude", {"a": 1}),
        ("rules", ["hardcoded-node-port"]),
        ("ingress-classes", "nginx"),
        ("ingress-classes", [{"controller": "x"}]),
        ("default-ingress-class", ""),
        ("cert-manager-issuer", 5),
        ("max-load-balancers", 0),
        ("deployment-unit", "cluster"),
        ("nginx-controller", "nginx"),
        ("traefik-strict-prefix", "yes"),
        ("ndots", "2"),
        ("custom-workloads", [{"kind": "X"}]),
        ("max-file-bytes", -1),
        ("max-depth", True),
        ("max-nodes", 1.5),
    ],
)
def test_bad_values_name_the_key(key, value):
    with pytest.raises(ConfigError) as caught:
        parse_config({key: value})
    assert str(caught.value).startswith(f"{key}")


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"^fail_level: unknown configuration key \(known: fail-level, "):
        parse_config({"fail_level": "error"})


def test_nested_keys_are_named_with_their_path():
    with pytest.raises(ConfigError, match=r"^ingress-classes\.default:"):
        parse_config({"ingress-classes": [{"name": "x", "default": "yes"}]})
    with pytest.raises(ConfigError, match=r"^ingress-classes: unknown key 'ctrl' in 'x'"):
        parse_config({"ingress-classes": [{"name": "x", "ctrl": "y"}]})
    with pytest.raises(ConfigError, match=r"^rules\.hardcoded-node-port\.enabled:"):
        parse_config({"rules": {"hardcoded-node-port": {"enabled": "no"}}})


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        parse_config(["fail-level"], path=".footgun.yml")


def test_find_config_walks_up_from_a_file_or_folder(tmp_path):
    (tmp_path / ".footgun.yml").write_text("fail-level: error\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "svc.yaml").write_text("")
    assert find_config(deep) == tmp_path / ".footgun.yml"
    assert find_config(deep / "svc.yaml") == tmp_path / ".footgun.yml"
    (tmp_path / "a" / ".footgun.yaml").write_text("")
    assert find_config(deep) == tmp_path / "a" / ".footgun.yaml"


def test_load_config_roots_globs_at_its_folder(tmp_path):
    (tmp_path / ".footgun.yml").write_text("exclude: [legacy/**]\n")
    config = load_config(tmp_path / ".footgun.yml")
    assert config.root == str(tmp_path) and config.path == str(tmp_path / ".footgun.yml")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "svc.yaml").write_text("a: [\n")
    (tmp_path / "svc.yaml").write_text("a: [\n")
    result = scan_paths([str(tmp_path)], config)
    assert [s.path for s in result.skipped] == [str(tmp_path / "svc.yaml")]


def test_load_config_errors_name_the_file_and_the_key(tmp_path):
    path = tmp_path / ".footgun.yml"
    path.write_text("rules:\n  hardcoded-node-port: {severity: loud}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: rules.hardcoded-node-port.severity:")
    path.write_text("fail-level: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(path)
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(ConfigError):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yml")


def test_empty_config_file_means_defaults(tmp_path):
    path = tmp_path / ".footgun.yml"
    path.write_text("# nothing configured yet\n")
    config = load_config(path)
    assert config.fail_level == "warning" and config.rules == {}


def test_is_included_matches_paths_relative_to_the_root():
    config = parse_config({"include": ["k8s/**", "*.yaml"], "exclude": ["k8s/tmp", "**/*.generated.yaml"]})
    assert config.is_included("k8s/app/svc.yaml")
    assert config.is_included("top.yaml")
    assert not config.is_included("k8s/tmp/x.yaml")  # a folder excludes what is below it
    assert not config.is_included("k8s/app/x.generated.yaml")
    assert not config.is_included("other/svc.yml")
