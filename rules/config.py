"""The repository configuration, ``.footgun.yml``: read and checked in one place.

Every key is declared in `OPTIONS` with its type, default and meaning (the README's
configuration table is written from the same list). Unknown keys and bad values are
errors that name the key, so a typo never silently turns a rule off.
"""

from __future__ import annotations

import fnmatch
import os
import re
import reprlib
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .model import SEVERITIES
from .yamltree import Limits, YAMLLimitError, YAMLParseError, parse_documents

CONFIG_NAMES = (".footgun.yml", ".footgun.yaml")
FAIL_LEVELS = SEVERITIES + ("never",)
DEPLOYMENT_UNITS = ("file", "folder", "kustomization", "repository")
NGINX_FLAVOURS = ("ingress-nginx", "nginx-inc")


# A configuration is untrusted input too (the App reads it from pull requests' base
# branches): it is parsed with bounds of its own, far below any real file's needs.
MAX_CONFIG_BYTES = 256 * 1024
CONFIG_LIMITS = Limits(max_depth=20, max_nodes=20_000)
MAX_GLOBS = 1000  # include + exclude: each path is matched against all of them


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and the key."""


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
    deployment_unit: str = "kustomization"
    kustomize_build: bool = True  # build kustomizations with kustomize (rules.builds)
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
        if self.include and not self._include_pattern.match(relpath):
            return False
        return not (self.exclude and self._exclude_pattern.match(relpath))

    # Every glob compiled into one regular expression, once per configuration.
    @cached_property
    def _include_pattern(self) -> re.Pattern:
        return _compiled_globs(tuple(self.include))

    @cached_property
    def _exclude_pattern(self) -> re.Pattern:
        return _compiled_globs(tuple(self.exclude))


def _compiled_globs(patterns: tuple[str, ...]) -> re.Pattern:
    """One expression matching what any of ``patterns`` matches: the path itself,
    anything below it, and (for ``**/x``) ``x`` at the top."""
    forms = []
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        forms += [pattern, pattern + "/*"] + ([pattern[3:]] if pattern.startswith("**/") else [])
    return re.compile("|".join(f"(?:{fnmatch.translate(form)})" for form in forms) or "(?!)", re.DOTALL)


_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = 60
_shown.maxlist = _shown.maxdict = _shown.maxlevel = 4


def _show(value: Any) -> str:
    """A value in an error message: bounded whatever its size (an aliased value may
    expand exponentially)."""
    if isinstance(value, dict):  # YMap and friends: shown as the plain mapping they are
        value = dict(value)
    return _shown.repr(value)


def _key(key: Any) -> str:
    """A key in an error message: as written when it is a short string."""
    return key if isinstance(key, str) and len(key) <= 60 and key.isprintable() else _show(key)


# --- validation -----------------------------------------------------------------


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a non-empty string, got {_show(value)}")
    return value


def _url(key: str, value: Any) -> str:
    text = _str(key, value)
    if not text.startswith(("https://", "http://")):
        raise ConfigError(f"{key}: expected an http(s) URL of the rule reference page, got {_show(value)}")
    return text


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {_show(value)}")
    return value


def _int(key: str, value: Any, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{key}: expected a whole number >= {minimum}, got {_show(value)}")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"{key}: expected one of {', '.join(choices)}, got {_show(value)}")
        return value

    return check


def _globs(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: expected a list of glob patterns, got {_show(value)}")
    if len(value) > MAX_GLOBS:
        raise ConfigError(f"{key}: {len(value)} patterns; at most {MAX_GLOBS} are allowed")
    return list(value)


def _port_range(key: str, value: Any) -> tuple[int, int]:
    if isinstance(value, str) and value.count("-") == 1:
        value = value.split("-")
    try:
        low, high = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a range like 30000-32767, got {_show(value)}") from None
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
                raise ConfigError(f"{key}: unknown key {_show(sorted(map(str, unknown))[0])} in {_show(item['name'])}")
            declared.append(
                IngressClassDecl(
                    item["name"],
                    _str(f"{key}.controller", item["controller"]) if "controller" in item else None,
                    _bool(f"{key}.default", item.get("default", False)),
                )
            )
        else:
            raise ConfigError(f"{key}: entry {_show(item)} needs a name")
    return declared


def _custom_workloads(key: str, value: Any) -> list[tuple[str, tuple[str, ...]]]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of {{kind, pod-template}}")
    result = []
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("kind"), str)
            or not isinstance(item.get("pod-template"), str)
            or set(item) - {"kind", "pod-template"}
        ):
            raise ConfigError(f"{key}: entry {_show(item)} must have kind and pod-template (e.g. spec.template)")
        result.append((item["kind"], tuple(p for p in item["pod-template"].split(".") if p)))
    return result


# key in .footgun.yml -> (Config field, validator, description)
OPTIONS: dict[str, tuple[str, Callable[[str, Any], Any], str]] = {
    "fail-level": (
        "fail_level",
        _choice(FAIL_LEVELS),
        "lowest severity that makes `footgun scan` exit 1 (`never`: always 0)",
    ),
    "include": ("include", _globs, "only scan paths matching these globs"),
    "exclude": ("exclude", _globs, "never scan paths matching these globs"),
    "rules": ("rules", lambda k, v: _rules(k, v), "per rule id: `false` to turn off, or `{enabled, severity}`"),
    "ingress-classes": (
        "ingress_classes",
        _ingress_classes,
        "IngressClasses that exist in the cluster: names or `{name, controller, default}`",
    ),
    "default-ingress-class": ("default_ingress_class", _str, "the class the cluster uses for Ingresses that name none"),
    "cert-manager-issuer": (
        "cert_manager_issuer",
        _str,
        "ClusterIssuer that TLS fixes annotate (default `letsencrypt-prod`)",
    ),
    "node-port-range": (
        "node_port_range",
        _port_range,
        "the cluster's `--service-node-port-range` (default `30000-32767`)",
    ),
    "max-load-balancers": (
        "max_load_balancers",
        lambda k, v: _int(k, v, 1),
        "HTTP LoadBalancer Services allowed per deployment unit (default 1)",
    ),
    "deployment-unit": (
        "deployment_unit",
        _choice(DEPLOYMENT_UNITS),
        "what is applied together: `kustomization` (default: kustomize builds, GitOps "
        "descriptors, else the folder), `file`, `folder`, `repository`",
    ),
    "kustomize-build": (
        "kustomize_build",
        _bool,
        "build each kustomization with kustomize and judge what it applies (default true; "
        "false: judge the files as written)",
    ),
    "nginx-controller": (
        "nginx_controller",
        _choice(NGINX_FLAVOURS),
        "which controller a bare `nginx` class means (default `ingress-nginx`)",
    ),
    "traefik-strict-prefix": (
        "traefik_strict_prefix",
        _bool,
        "Traefik runs with `strictPrefixMatching` (segment-wise Prefix)",
    ),
    "ndots": ("ndots", lambda k, v: _int(k, v, 1), "the ndots value DNS fixes set (default 2)"),
    "custom-workloads": (
        "custom_workloads",
        _custom_workloads,
        "custom resources that make pods: `{kind, pod-template: spec.template}`",
    ),
    "max-file-bytes": ("max_file_bytes", lambda k, v: _int(k, v, 1), "skip files larger than this"),
    "max-depth": ("max_depth", lambda k, v: _int(k, v, 1), "skip documents nested deeper than this"),
    "max-nodes": (
        "max_nodes",
        lambda k, v: _int(k, v, 1),
        "skip files with more YAML nodes than this once aliases are expanded",
    ),
    "docs-url": (
        "docs_url",
        _url,
        "the rule reference page that links point at (`#<rule-id>` is appended); "
        "default: the package's declared documentation URL",
    ),
}


def _rules(key: str, value: Any) -> dict[str, RuleSetting]:
    from .checks import RULES  # the rule catalogue; imported late to avoid a cycle

    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a mapping of rule id to settings")
    settings = {}
    for rule_id, setting in value.items():
        where = f"{key}.{_key(rule_id)}"
        if rule_id not in RULES:
            raise ConfigError(f"{where}: unknown rule id (known: {', '.join(RULES)})")
        if isinstance(setting, bool):
            settings[rule_id] = RuleSetting(enabled=setting)
        elif isinstance(setting, str) and setting in SEVERITIES:
            settings[rule_id] = RuleSetting(severity=setting)
        elif isinstance(setting, dict) and set(setting) - {"enabled", "severity"}:
            unknown = _key(sorted(map(str, set(setting) - {"enabled", "severity"}))[0])
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
            raise ConfigError(f"{_key(key)}: unknown configuration key (known: {', '.join(OPTIONS)})")
        attribute, validate, _ = OPTIONS[key]
        setattr(config, attribute, validate(key, value))
    if len(config.include) + len(config.exclude) > MAX_GLOBS:
        raise ConfigError(f"include, exclude: at most {MAX_GLOBS} patterns in all")
    return config


def parse_config_text(text: str | bytes, name: str, root: str = ".") -> Config:
    """A configuration from its text (``name`` is the file it came from, for messages
    and `Config.path`). Bounded like manifests: size, nesting depth, and nodes once
    aliases are expanded. Any problem raises `ConfigError` naming ``name``."""
    size = len(text)
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{name}: {size:,} bytes, over the {MAX_CONFIG_BYTES:,}-byte limit for a configuration")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{name}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        docs = parse_documents(text.removeprefix("\ufeff"), CONFIG_LIMITS)
    except YAMLParseError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise ConfigError(f"{name}: {exc}{where}") from None
    except YAMLLimitError as exc:
        raise ConfigError(f"{name}: refused: {exc}") from None
    if len(docs) > 1:
        raise ConfigError(f"{name}: expected one YAML document, found {len(docs)}")
    if docs and docs[0].duplicate_keys:
        line, key = docs[0].duplicate_keys[0]
        raise ConfigError(f"{name}: {_show(key)} is set twice (again at line {line})")
    try:
        return parse_config(docs[0].root if docs else None, name, root)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise ConfigError(f"{name}: nested too deeply") from None


def load_config(path: str | os.PathLike) -> Config:
    """The configuration in file ``path`` (its folder is the globs' root)."""
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read forever
            raise ConfigError(f"{path}: not a regular file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_config_text(raw, str(path), str(path.parent))


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
