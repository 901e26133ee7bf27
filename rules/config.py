"""The repository configuration, ``.footgun.yml``: read and checked in one place.

Every key is declared in `OPTIONS` with its type, default and meaning (the README's
configuration table is written from the same list). Unknown keys and bad values are
errors that name the key, so a typo never silently turns a rule off.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .model import SEVERITIES
from .yamltree import Limits

CONFIG_NAMES = (".footgun.yml", ".footgun.yaml")
FAIL_LEVELS = SEVERITIES + ("never",)
DEPLOYMENT_UNITS = ("file", "folder", "kustomization", "repository")
NGINX_FLAVOURS = ("ingress-nginx", "nginx-inc")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class IngressClassDecl:
    name: str
    controller: str | None = None
    default: bool = False


@dataclass(frozen=True)
class RuleSetting:
    enabled: bool = True
    severity: str | None = None  # None: the rule's own


@dataclass
class Config:
    path: str | None = None  # the file it came from, if any
    root: str = "."  # include/exclude globs are relative to this folder
    fail_level: str = "warning"
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    ingress_classes: list[IngressClassDecl] = field(default_factory=list)
    default_ingress_class: str | None = None
    cert_manager_issuer: str = "letsencrypt-prod"
    node_port_range: tuple[int, int] = (30000, 32767)
    max_load_balancers: int = 1
    deployment_unit: str = "folder"
    nginx_controller: str = "ingress-nginx"
    traefik_strict_prefix: bool = False
    ndots: int = 2
    custom_workloads: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    max_file_bytes: int = 1024 * 1024
    max_depth: int = 100
    max_nodes: int = 250_000
    docs_url: str | None = None  # None: the package's declared documentation (rules.checks)

    @property
    def limits(self) -> Limits:
        return Limits(max_depth=self.max_depth, max_nodes=self.max_nodes)

    def rule(self, rule_id: str) -> RuleSetting:
        return self.rules.get(rule_id, RuleSetting())

    def is_included(self, relpath: str) -> bool:
        """Whether a path (relative to ``root``, with ``/``) is in scope."""
        if self.include and not any(_glob(relpath, g) for g in self.include):
            return False
        return not any(_glob(relpath, g) for g in self.exclude)


def _glob(path: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") \
        or (pattern.startswith("**/") and fnmatch.fnmatch(path, pattern[3:]))


# --- validation -----------------------------------------------------------------

def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a non-empty string, got {value!r}")
    return value


def _url(key: str, value: Any) -> str:
    text = _str(key, value)
    if not text.startswith(("https://", "http://")):
        raise ConfigError(f"{key}: expected an http(s) URL of the rule reference page, got {value!r}")
    return text


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _int(key: str, value: Any, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{key}: expected a whole number >= {minimum}, got {value!r}")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"{key}: expected one of {', '.join(choices)}, got {value!r}")
        return value
    return check


def _globs(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: expected a list of glob patterns, got {value!r}")
    return list(value)


def _port_range(key: str, value: Any) -> tuple[int, int]:
    if isinstance(value, str) and value.count("-") == 1:
        value = value.split("-")
    try:
        low, high = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a range like 30000-32767, got {value!r}") from None
    if not 0 < low <= high <= 65535:
        raise ConfigError(f"{key}: {low}-{high} is not a valid port range")
    return low, high


def _ingress_classes(key: str, value: Any) -> list[IngressClassDecl]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of class names or {{name, controller, default}}")
    declared = []
    for item in value:
        if isinstance(item, str) and item:
            declared.append(IngressClassDecl(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            unknown = set(item) - {"name", "controller", "default"}
            if unknown:
                raise ConfigError(f"{key}: unknown key {sorted(unknown)[0]!r} in {item['name']!r}")
            declared.append(IngressClassDecl(
                item["name"],
                _str(f"{key}.controller", item["controller"]) if "controller" in item else None,
                _bool(f"{key}.default", item.get("default", False))))
        else:
            raise ConfigError(f"{key}: entry {item!r} needs a name")
    return declared


def _custom_workloads(key: str, value: Any) -> list[tuple[str, tuple[str, ...]]]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of {{kind, pod-template}}")
    result = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str) \
                or not isinstance(item.get("pod-template"), str) or set(item) - {"kind", "pod-template"}:
            raise ConfigError(f"{key}: entry {item!r} must have kind and pod-template (e.g. spec.template)")
        result.append((item["kind"], tuple(p for p in item["pod-template"].split(".") if p)))
    return result


# key in .footgun.yml -> (Config field, validator, description)
OPTIONS: dict[str, tuple[str, Callable[[str, Any], Any], str]] = {
    "fail-level": ("fail_level", _choice(FAIL_LEVELS),
                   "lowest severity that makes `footgun scan` exit 1 (`never`: always 0)"),
    "include": ("include", _globs, "only scan paths matching these globs"),
    "exclude": ("exclude", _globs, "never scan paths matching these globs"),
    "rules": ("rules", lambda k, v: _rules(k, v),
              "per rule id: `false` to turn off, or `{enabled, severity}`"),
    "ingress-classes": ("ingress_classes", _ingress_classes,
                        "IngressClasses that exist in the cluster: names or `{name, controller, default}`"),
    "default-ingress-class": ("default_ingress_class", _str,
                              "the class the cluster uses for Ingresses that name none"),
    "cert-manager-issuer": ("cert_manager_issuer", _str,
                            "ClusterIssuer that TLS fixes annotate (default `letsencrypt-prod`)"),
    "node-port-range": ("node_port_range", _port_range,
                        "the cluster's `--service-node-port-range` (default `30000-32767`)"),
    "max-load-balancers": ("max_load_balancers", lambda k, v: _int(k, v, 1),
                           "HTTP LoadBalancer Services allowed per deployment unit (default 1)"),
    "deployment-unit": ("deployment_unit", _choice(DEPLOYMENT_UNITS),
                        "what is applied together: `file`, `folder` (default), `kustomization`, `repository`"),
    "nginx-controller": ("nginx_controller", _choice(NGINX_FLAVOURS),
                         "which controller a bare `nginx` class means (default `ingress-nginx`)"),
    "traefik-strict-prefix": ("traefik_strict_prefix", _bool,
                              "Traefik runs with `strictPrefixMatching` (segment-wise Prefix)"),
    "ndots": ("ndots", lambda k, v: _int(k, v, 1), "the ndots value DNS fixes set (default 2)"),
    "custom-workloads": ("custom_workloads", _custom_workloads,
                         "custom resources that make pods: `{kind, pod-template: spec.template}`"),
    "max-file-bytes": ("max_file_bytes", lambda k, v: _int(k, v, 1), "skip files larger than this"),
    "max-depth": ("max_depth", lambda k, v: _int(k, v, 1), "skip documents nested deeper than this"),
    "max-nodes": ("max_nodes", lambda k, v: _int(k, v, 1),
                  "skip files with more YAML nodes than this once aliases are expanded"),
    "docs-url": ("docs_url", _url,
                 "the rule reference page that links point at (`#<rule-id>` is appended); "
                 "default: the package's declared documentation URL"),
}


def _rules(key: str, value: Any) -> dict[str, RuleSetting]:
    from .checks import RULES  # the rule catalogue; imported late to avoid a cycle

    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a mapping of rule id to settings")
    settings = {}
    for rule_id, setting in value.items():
        where = f"{key}.{rule_id}"
        if rule_id not in RULES:
            raise ConfigError(f"{where}: unknown rule id (known: {', '.join(RULES)})")
        if isinstance(setting, bool):
            settings[rule_id] = RuleSetting(enabled=setting)
        elif isinstance(setting, str) and setting in SEVERITIES:
            settings[rule_id] = RuleSetting(severity=setting)
        elif isinstance(setting, dict) and set(setting) - {"enabled", "severity"}:
            unknown = sorted(map(str, set(setting) - {"enabled", "severity"}))[0]
            raise ConfigError(f"{where}.{unknown}: unknown key (expected enabled, severity)")
        elif isinstance(setting, dict):
            severity = setting.get("severity")
            if severity is not None:
                _choice(SEVERITIES)(f"{where}.severity", severity)
            settings[rule_id] = RuleSetting(_bool(f"{where}.enabled", setting.get("enabled", True)), severity)
        else:
            raise ConfigError(f"{where}: expected true/false, a severity, or {{enabled, severity}}")
    return settings


def parse_config(data: Any, path: str | None = None, root: str = ".") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping at the top level")
    config = Config(path=path, root=root)
    for key, value in data.items():
        if key not in OPTIONS:
            raise ConfigError(f"{key}: unknown configuration key (known: {', '.join(OPTIONS)})")
        attribute, validate, _ = OPTIONS[key]
        setattr(config, attribute, validate(key, value))
    return config


def load_config(path: str | os.PathLike) -> Config:
    path = Path(path)
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    try:
        return parse_config(data, str(path), str(path.parent))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def find_config(start: str | os.PathLike) -> Path | None:
    """The nearest ``.footgun.yml`` in ``start`` or a folder above it."""
    folder = Path(start).resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate_dir in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            candidate = candidate_dir / name
            if candidate.is_file():
                return candidate
    return None
