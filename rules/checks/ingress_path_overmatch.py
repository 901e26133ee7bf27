"""An Ingress path matches more than it looks: `/api` also serves `/api-docs`.

A path without a trailing slash that the controller matches as a plain character
prefix also catches every path that merely starts with the same characters:
`/api` serves `/api2`, `/api-docs` and `/api-internal`, not only `/api` and
`/api/...`. Whether that happens depends on the controller and the path type, so
the rule follows each controller as its source code does, and stays silent when
nothing in the scan or the config tells which controller serves the Ingress.

- **ingress-nginx** (controller `k8s.io/ingress-nginx`): `Prefix` `/foo` becomes two
  locations, `location /foo/` and `location = /foo` (segment-wise:
  `internal/ingress/controller/location.go`, `updateServerLocations` and
  `normalizePrefixPath`); `Exact` becomes `location = /foo`;
  `ImplementationSpecific` stays `location /foo`, a character prefix
  (`internal/ingress/controller/template/template.go`, `buildLocation`). But when
  any Ingress of the same host sets `nginx.ingress.kubernetes.io/use-regex: "true"`
  or a `rewrite-target` (`enforceRegexModifier`), every location of that host
  becomes `~* "^<path>"`, a case-insensitive regular-expression prefix, whatever
  its path type, `Exact` included. This is checked across files and Ingresses.
- **F5 NGINX Ingress Controller** (controller `nginx.org/ingress-controller`):
  `Prefix` and `ImplementationSpecific` `/foo` both become `location /foo`, a
  character prefix; only `Exact` is `location = /foo`
  (`internal/configs/ingress.go`, `generateIngressPath`);
  `nginx.org/path-regex: case_sensitive|case_insensitive` makes it `~ "^/foo"`
  (`internal/configs/version1/template_helper.go`, `makeLocationPath`).
- **Traefik** (`pkg/provider/kubernetes/ingress/kubernetes.go`, `loadRouter`):
  `Exact` is `Path`, `Prefix` and `ImplementationSpecific` are `PathPrefix`, a
  character prefix, unless the provider runs with `strictPrefixMatching`
  (config `traefik-strict-prefix`), which makes `Prefix` segment-wise.
- **AWS Load Balancer Controller** (`pkg/ingress/model_build_listener_rules.go`,
  `buildPathPatterns`): `Prefix` `/foo` becomes the patterns `/foo` and `/foo/*`
  (segment-wise); `ImplementationSpecific` is the raw ALB path pattern: without a
  `*` it is exact, and `/foo*` is a character wildcard.
- **Istio** (`pilot/pkg/config/kube/ingress/conversion.go`, `createStringMatch`):
  `Prefix` is segment-wise; `ImplementationSpecific` `/foo.*` is a character
  prefix of `/foo`, anything else exact.
- **GKE** (ingress-gce, `pkg/translator`, `validateAndGetPaths`): `Prefix` `/foo`
  becomes `/foo` and `/foo/*`; URL maps accept `*` only right after a `/`, so no
  path is ever a character prefix there.

Each controller's own source decides:
ingress-nginx matches `Prefix` per path segment (only `ImplementationSpecific`,
and every path of a regex-mode host, is a character prefix; the F5 NGINX
controller, also called "NGINX Ingress", is the one whose `Prefix` is a character
prefix); Traefik's `Prefix` *is* a character prefix unless `strictPrefixMatching`
is on; an ALB `Prefix` is segment-wise, and an `ImplementationSpecific` path is
exact unless it carries a `*`. A GCE wildcard such as `/api*` is not a character
prefix either: GCE URL maps reject a `*` that does not follow a `/`.

Left alone: paths ending in `/` (already segment-aligned), `/` itself, paths that
already are regular expressions, paths whose last segment names a file
(`/robots.txt`: what they overmatch is that file's own variants), an ingress-nginx
`Prefix` or `Exact` path outside regex mode, and any Ingress whose controller
cannot be told.

## Why it matters
Requests meant for another service, or for nothing at all, reach the backend of
the shorter path: `/api` catches `/api-docs` and sends it to the API, `/admin`
catches `/administrator`. Routing looks right in review and in a quick test, and
is wrong for exactly the paths nobody tried; behind an auth proxy on one path, a
sibling path may skip it.

## How to fix
Say what you mean in a way the controller matches per segment:
`pathType: Prefix` where the controller implements it per segment (ingress-nginx,
ALB, Istio), `pathType: Exact` for a single endpoint such as `/healthz`; where
`Prefix` is itself a character prefix (F5 NGINX, Traefik without
`strictPrefixMatching`), split the path into `Exact` `/api` plus `Prefix` `/api/`;
on an ingress-nginx host in regex mode, anchor the expression at a segment
boundary: `/api(/|$)` (`/healthz$` for a single endpoint), with
`pathType: ImplementationSpecific` since ingress-nginx validates `Prefix` and
`Exact` paths to plain characters. The fix does whichever keeps the intended
routes.

## Example
Bad:
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: gateway
spec:
  ingressClassName: nginx
  rules:
    - host: gateway.example.com
      http:
        paths:
          - path: /api
            pathType: ImplementationSpecific
            backend:
              service:
                name: api
                port:
                  number: 80
```
Good:
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: gateway
spec:
  ingressClassName: nginx
  rules:
    - host: gateway.example.com
      http:
        paths:
          - path: /api
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 80
```

## Gateway API
An `HTTPRoute`'s `PathPrefix` is segment-aware by the specification (`/api`
matches `/api` and `/api/v1`, never `/api-docs`), and `Exact` is exact, so neither
is judged. A `RegularExpression` match is implementation-specific (Envoy-based
implementations match the whole path, NGINX-based ones search for it), but one
of the form `/literal.*` (optionally anchored, `^/api.*$`) matches every path
beginning with those characters in all of them: it is reported, and the fix makes
it `PathPrefix` with the literal (`Exact` for a single endpoint such as
`/healthz`). Other expressions, and literals ending in `/` or naming a file, are
not judged.

## Configuration
- `ingress-classes`, `default-ingress-class`: which class (and controller) serves
  an Ingress.
- `nginx-controller`: `ingress-nginx` (default) or `nginx-inc`, what a bare `nginx`
  class means when neither an IngressClass nor the annotations tell.
- `traefik-strict-prefix`: Traefik runs with `strictPrefixMatching`.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/ingress/#path-types
- https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/controller/location.go
- https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/controller/template/template.go
- https://kubernetes.github.io/ingress-nginx/user-guide/ingress-path-matching/
- https://kubernetes.github.io/ingress-nginx/faq/#validation-of-path
- https://github.com/nginx/kubernetes-ingress/blob/main/internal/configs/ingress.go
- https://github.com/traefik/traefik/blob/master/pkg/provider/kubernetes/ingress/kubernetes.go
- https://doc.traefik.io/traefik/reference/install-configuration/providers/kubernetes/kubernetes-ingress/
- https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/main/pkg/ingress/model_build_listener_rules.go
- https://github.com/istio/istio/blob/master/pilot/pkg/config/kube/ingress/conversion.go
- https://cloud.google.com/compute/docs/reference/rest/v1/urlMaps (pathRules.paths)
- https://gateway-api.sigs.k8s.io/reference/spec/#httppathmatch (PathPrefix: "a
  path prefix split by `/`"; RegularExpression: implementation-specific)
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..context import Context
from ..edits import insert_after, render, replace_lines, set_scalar, style_of
from ..gateway import is_gateway_api, path_matches, regex_character_prefix
from ..ingress import (
    ALB,
    INGRESS_NGINX,
    ISTIO,
    NGINX_INC,
    TRAEFIK,
    IngressPath,
    ingress_classes,
    ingress_paths,
    is_ingress,
)
from ..manifests import Resource
from ..model import Edit, Finding, Fix, Related
from ..yamltree import YMap

ID = "ingress-path-overmatch"
SEVERITY = "warning"
SUMMARY = "Ingress path matched as a character prefix (/api also serves /api-docs)"

USE_REGEX = "nginx.ingress.kubernetes.io/use-regex"
REWRITE_TARGET = "nginx.ingress.kubernetes.io/rewrite-target"
NGINX_INC_REGEX = "nginx.org/path-regex"
TRAEFIK_MATCHER = "traefik.ingress.kubernetes.io/router.pathmatcher"
ALB_REGEX = "alb.ingress.kubernetes.io/use-regex-path-match"

NAMES = {
    INGRESS_NGINX: "ingress-nginx",
    NGINX_INC: "the F5 NGINX Ingress Controller",
    TRAEFIK: "Traefik",
    ALB: "the AWS Load Balancer Controller",
    ISTIO: "Istio",
}
# Plain path characters: what ingress-nginx accepts in Prefix and Exact paths.
PLAIN = re.compile(r"/[A-Za-z0-9/_-]*")
REGEX_SYNTAX = re.compile(r"[\\^$*+?()\[\]{}|]")
FILE_SEGMENT = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
# Single endpoints: matched exactly, whatever comes after them is another route.
ENDPOINTS = frozenset({"healthz", "readyz", "livez", "health", "ready", "ping", "metrics", "version"})


@dataclass(frozen=True)
class Overmatch:
    kind: str  # "prefix": character prefix; "regex": regex prefix (nginx); "wildcard": ALB/Istio
    prefix: str  # what the requests are matched against
    path_type: str  # as written, "ImplementationSpecific" when absent


def check(ctx: Context) -> Iterator[Finding]:
    ingresses = [r for r in ctx.inventory.of_kind("Ingress") if is_ingress(r)]
    classes_of = {i: ingress_classes(ctx.inventory, ctx.config, i) for i in ingresses}
    controllers = {i: classes_of[i].controller_of(i) for i in ingresses}
    regex_hosts: dict[tuple[str | None, str], list[tuple[Resource, str]]] = defaultdict(list)
    for ingress in ingresses:
        trigger = _regex_trigger(ingress) if controllers[ingress] == INGRESS_NGINX else None
        if trigger:
            for host in {entry.host for entry in ingress_paths(ingress)}:
                regex_hosts[(classes_of[ingress].class_of(ingress), host)].append((ingress, trigger))
    for ingress in ingresses:
        controller = controllers[ingress]
        if controller not in NAMES:
            continue
        for entry in ingress_paths(ingress):
            triggers = (
                [
                    t
                    for t in regex_hosts.get((classes_of[ingress].class_of(ingress), entry.host), [])
                    if ctx.inventory.together(t[0], ingress)
                ]
                if controller == INGRESS_NGINX
                else []
            )
            found = _overmatch(controller, ingress, entry, bool(triggers), ctx.config.traefik_strict_prefix)
            if found:
                yield _finding(ctx, ingress, entry, controller, found, triggers)
    yield from _route_overmatches(ctx)


def _regex_trigger(ingress: Resource) -> str | None:
    """The annotation that puts ingress-nginx in regex mode for the Ingress's hosts
    (``enforceRegexModifier``: use-regex, or a rewrite-target that differs from a path)."""
    if ingress.annotations.get(USE_REGEX, "").lower() == "true":
        return USE_REGEX
    target = ingress.annotations.get(REWRITE_TARGET)
    if target and any(entry.path != target for entry in ingress_paths(ingress)):
        return REWRITE_TARGET
    return None


def _overmatch(
    controller: str, ingress: Resource, entry: IngressPath, regex_mode: bool, traefik_strict: bool
) -> Overmatch | None:
    path, path_type = entry.path, entry.path_type or "ImplementationSpecific"
    if not path or not path.startswith("/") or path.endswith("/") or FILE_SEGMENT.search(path):
        return None
    literal = not REGEX_SYNTAX.search(path)
    annotations = ingress.annotations
    if controller == INGRESS_NGINX:
        if regex_mode:
            return Overmatch("regex", path, path_type) if literal else None
        if path_type in ("Prefix", "Exact") or not literal:
            return None
        return Overmatch("prefix", path, path_type)
    if controller == NGINX_INC:
        mode = annotations.get(NGINX_INC_REGEX, "").lower()
        if mode == "exact" or not literal:
            return None
        if mode in ("case_sensitive", "case_insensitive", "true"):
            return Overmatch("regex", path, path_type)
        return None if path_type == "Exact" else Overmatch("prefix", path, path_type)
    if controller == TRAEFIK:
        if path_type == "Exact" or not literal:
            return None
        if path_type == "Prefix":
            return None if traefik_strict else Overmatch("prefix", path, path_type)
        if traefik_strict or annotations.get(TRAEFIK_MATCHER, "PathPrefix") != "PathPrefix":
            return None
        return Overmatch("prefix", path, path_type)
    if controller == ALB:
        if path_type != "ImplementationSpecific" or annotations.get(ALB_REGEX):
            return None
        prefix = path[:-1]
        if not path.endswith("*") or "*" in prefix or "?" in prefix or prefix.endswith("/") or len(prefix) < 2:
            return None
        return Overmatch("wildcard", prefix, path_type)
    if controller == ISTIO:
        if path_type != "ImplementationSpecific" or not path.endswith(".*"):
            return None
        prefix = path[:-2]
        if prefix.endswith("/") or len(prefix) < 2 or REGEX_SYNTAX.search(prefix):
            return None
        return Overmatch("wildcard", prefix, path_type)
    return None


def _finding(
    ctx: Context,
    ingress: Resource,
    entry: IngressPath,
    controller: str,
    found: Overmatch,
    triggers: list[tuple[Resource, str]],
) -> Finding:
    prefix = found.prefix
    also = f"`{prefix}2` and `{prefix}-anything`"
    related: list[Related] = []
    if found.kind == "regex" and controller == INGRESS_NGINX:
        source, annotation = triggers[0]
        whose = "this Ingress" if source is ingress else f"{source.ref} ({source.path})"
        host = entry.host or "the default server"
        message = (
            f"`{entry.path}` is a case-insensitive regex prefix: `{annotation}` on {whose} puts "
            f"host {host} in ingress-nginx regex mode, which turns every path of the host, "
            f'whatever its pathType ({found.path_type} here), into `~* "^{entry.path}"`: it also '
            f"matches {also}, and `{prefix.upper()}`."
        )
        related = [
            Related(s.path, s.key_line("metadata", "annotations", a), f"`{a}` puts host {host} in regex mode")
            for s, a in triggers
            if s is not ingress
        ]
    elif found.kind == "regex":
        message = (
            f"`{entry.path}` is a regex prefix (`{NGINX_INC_REGEX}`): {NAMES[controller]} "
            f"matches `^{entry.path}`, so it also matches {also}."
        )
    elif found.kind == "wildcard":
        message = (
            f"`{entry.path}` is a character wildcard with {NAMES[controller]}: it matches {also}, "
            f"not only `{prefix}` and `{prefix}/...`."
        )
    else:
        written = found.path_type if entry.path_type else "no pathType, so ImplementationSpecific"
        message = (
            f"`{entry.path}` ({written}) is a character prefix with {NAMES[controller]}: "
            f"it also matches {also}, not only `{prefix}` and `{prefix}/...`."
        )
    fix = _fix(ingress, entry, controller, found)
    return ctx.finding(ingress, entry.field_path + ("path",), message, fix=fix, related=related, field=entry.field)


# --- fixes -------------------------------------------------------------------------


def _fix(ingress: Resource, entry: IngressPath, controller: str, found: Overmatch) -> Fix | None:
    source, item, path = ingress.source, entry.item, entry.path or ""
    endpoint = _is_endpoint(path)
    if found.kind == "wildcard":  # ALB /api*, Istio /api.*: their Prefix is per segment
        edits = _retype(source, item, path=found.prefix, path_type="Prefix")
        return _made(
            f"Use `path: {found.prefix}` with `pathType: Prefix`, which {NAMES[controller]} matches per path segment",
            edits,
        )
    if found.kind == "regex":
        if endpoint or found.path_type == "Exact":
            anchored, meaning = f"{path}$", f"`{path}` only"
        else:
            group = "(?:/|$)" if "$" in ingress.annotations.get(REWRITE_TARGET, "") else "(/|$)"
            anchored, meaning = f"{path}{group}", f"`{path}` and `{path}/...` only"
        edits = _retype(source, item, path=anchored, path_type="ImplementationSpecific")
        return _made(
            f"Anchor the expression: `path: {anchored}` (matches {meaning}), with "
            f"`pathType: ImplementationSpecific` as a regex path needs",
            edits,
        )
    if controller == INGRESS_NGINX:
        if PLAIN.fullmatch(path):
            new_type = "Exact" if endpoint else "Prefix"
            what = f"`{path}` only" if endpoint else f"`{path}` and `{path}/...` (one location per segment)"
            return _made(
                f"Use `pathType: {new_type}`: ingress-nginx then matches {what}",
                _retype(source, item, path_type=new_type),
            )
        if endpoint:
            return None  # Exact allows plain characters only (ingress-nginx path validation)
        return _made(
            f"Use `path: {path}/`: it matches `{path}/...` only, and nginx redirects `{path}` to `{path}/`",
            _retype(source, item, path=f"{path}/"),
        )
    # F5 NGINX and Traefik: Prefix is itself a character prefix.
    if endpoint:
        return _made(
            f"Use `pathType: Exact`: {NAMES[controller]} then matches `{path}` only",
            _retype(source, item, path_type="Exact"),
        )
    edit = _split(ingress, entry)
    return _made(
        f"Split into `{path}` (Exact) and `{path}/` (Prefix): {NAMES[controller]} then serves "
        f"`{path}` and `{path}/...` only",
        [edit] if edit else None,
    )


def _made(description: str, edits: list[Edit] | None) -> Fix | None:
    return Fix(description, tuple(edits)) if edits else None


def _is_endpoint(path: str) -> bool:
    return path.rstrip("/").rsplit("/", 1)[-1].lower() in ENDPOINTS


def _retype(source: Any, item: YMap, path: str | None = None, path_type: str | None = None) -> list[Edit] | None:
    """Edits setting a path entry's ``path`` and/or ``pathType`` (inserted after
    ``path`` when absent), never two edits on one line."""
    if item.flow or "path" not in item:
        return None
    edits: list[Edit] = []
    path_edit = None
    if path is not None:
        path_edit = set_scalar(source, item, "path", path)
        if path_edit is None:
            return None
    if path_type is not None and item.get("pathType") != path_type:
        if "pathType" in item:
            edit = set_scalar(source, item, "pathType", path_type)
            if edit is None:
                return None
            edits.append(edit)
        else:
            new = render({"pathType": path_type}, style_of(source), item.at[next(iter(item))].col)
            anchor = item.at["path"].end
            if path_edit is not None and path_edit.start_line == anchor:
                path_edit = replace_lines(source, anchor, anchor, [path_edit.replacement.rstrip("\r\n"), *new])
            else:
                edits.append(insert_after(source, anchor, new))
    if path_edit is not None:
        edits.append(path_edit)
    return sorted(edits, key=lambda e: e.start_line) or None


def _split(ingress: Resource, entry: IngressPath) -> Edit | None:
    """One edit over the path entry: the entry itself made ``Exact``, followed by a
    copy of it for ``<path>/`` with ``Prefix``."""
    source, item = ingress.source, entry.item
    paths = ingress.get(*entry.field_path[:-1])
    if paths.flow or item.flow:
        return None
    span = paths.at[entry.path_index]
    retype = _retype(source, item, path_type="Exact")
    if not retype:
        return None
    lines = [source.line(n) for n in range(span.start, span.end + 1)]
    for edit in sorted(retype, key=lambda e: e.start_line, reverse=True):
        new = edit.replacement.rstrip("\r\n").split(source.newline) if edit.replacement else []
        lines[edit.start_line - span.start : edit.end_line - span.start + 1] = new
    copy: dict[str, Any] = {}
    for key, value in item.items():
        copy[key] = f"{entry.path}/" if key == "path" else "Prefix" if key == "pathType" else value
        if key == "path" and "pathType" not in item:
            copy["pathType"] = "Prefix"
    body = render(copy, style_of(source), item.col)
    indicator = source.line(item.line)[: item.col].rstrip()
    if not indicator.endswith("-") or indicator[:-1].strip():
        return None  # the entry does not start on its "- " line
    dash = len(indicator) - 1
    first = " " * dash + "-" + " " * (item.col - dash - 1) + body[0][item.col :]
    return replace_lines(source, span.start, span.end, [*lines, first, *body[1:]])


def _route_overmatches(ctx: Context) -> Iterator[Finding]:
    """Gateway API HTTPRoutes: only a `/literal.*` regular expression overmatches."""
    for route in ctx.inventory.of_kind("HTTPRoute"):
        if not is_gateway_api(route):
            continue
        for field_path, match in path_matches(route):
            prefix = regex_character_prefix(match)
            if prefix is None or FILE_SEGMENT.search(prefix):
                continue
            value = match["value"]
            message = (
                f"`{value}` (RegularExpression) matches every path beginning with `{prefix}`: also "
                f"`{prefix}2` and `{prefix}-anything`, not only `{prefix}` and `{prefix}/...`."
            )
            new_type = "Exact" if _is_endpoint(prefix) else "PathPrefix"
            edits = (
                [set_scalar(route.source, match, "type", new_type), set_scalar(route.source, match, "value", prefix)]
                if isinstance(match, YMap)
                else []
            )
            fix = _made(
                f"Use `type: {new_type}` with `value: {prefix}`, which Gateway API matches "
                f"{'exactly' if new_type == 'Exact' else 'per path segment'}",
                [e for e in edits if e] if edits and all(edits) else None,
            )
            yield ctx.finding(
                route, field_path + ("value",), message, fix=fix, field=f"spec.rules.matches.path.{value}"
            )
