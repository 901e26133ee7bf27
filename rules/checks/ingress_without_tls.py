"""An Ingress serves some of its hosts over plain HTTP.

An Ingress without `spec.tls`, or whose `tls` entries leave some rule host
uncovered, is served in cleartext for those hosts. A tls entry covers the hosts
it lists; a wildcard (`*.example.com`) covers exactly one more label
(`api.example.com`, not `example.com` nor `a.b.example.com`); an entry without
`hosts` covers every host. An Ingress with no host at all (a default backend or
catch-all rules) is flagged without a fix, since there is no host to put in a
certificate.

A rule without `host` is a catch-all: it is matched on every Host header, and TLS
cannot work on it, since no certificate covers every name (the Kubernetes
documentation: hosts in the tls section need to explicitly match the host in the
rules section). Controllers serve it on port 80 (ingress-nginx puts it in its
catch-all server `_`, which "works out-of-the-box for HTTP traffic"). So a `tls:`
section that names hosts does not cover the catch-all rules beside them: the
first of them is flagged on its own line, without a fix (there is no host to put
in a certificate). A tls entry without `hosts` (the Ingress's certificate for
everything it serves) leaves them alone, as before. Beside an Ingress with no `tls:`
at all, the finding on its named hosts says the catch-all stays plaintext.

F5 NGINX Ingress Controller's mergeable Ingresses
(`nginx.org/mergeable-ingress-type`): a `master` holds the host's server settings,
TLS included; a `minion` only adds paths to its master's server for the same host
(in any namespace) and cannot carry TLS. A minion is never reported, nor told to
add TLS: its paths are served with its master's TLS. A master without TLS is the
finding, on the master, which names the minions whose paths it serves in
plaintext; the fix adds the `tls:` entry to the master.

Left alone: Ingresses whose controller terminates TLS through its own
annotations: AWS ALB `alb.ingress.kubernetes.io/certificate-arn`, or
`alb.ingress.kubernetes.io/listen-ports` with an HTTPS port (the controller then
discovers an ACM certificate for the hosts); GKE
`ingress.gcp.kubernetes.io/pre-shared-cert` or
`networking.gke.io/managed-certificates`; Traefik
`traefik.ingress.kubernetes.io/router.tls: "true"` or a
`traefik.ingress.kubernetes.io/router.tls.certresolver`; Azure Application
Gateway `appgw.ingress.kubernetes.io/appgw-ssl-certificate`. And Ingresses that pass
TLS through to the backend, which terminates it with its own certificate
(`nginx.ingress.kubernetes.io/ssl-passthrough: "true"`, as Argo CD's documentation
sets it, or HAProxy's `ssl-passthrough`): a `tls` section would not be used.

Also left alone with ingress-nginx, which builds one server per host out of every
Ingress of its class: a host that another Ingress of the same class gives a
certificate (a `tls` entry covering it, on an Ingress with a rule for that host) is
served over HTTPS for every Ingress that adds paths to it, and plain HTTP is
redirected, since `ssl-redirect` (on by default) applies whenever the server has a
certificate; unless this Ingress sets `nginx.ingress.kubernetes.io/ssl-redirect:
"false"`. A canary Ingress (`nginx.ingress.kubernetes.io/canary: "true"`) only adds a
backend to its main Ingress's server: when the main Ingress is in the scanned files,
the finding and its fix belong to it. Other controllers (Traefik, GKE, ...) make
routes per Ingress, so there each Ingress needs its own `tls`.

Hosts `localhost` and `*.localhost` are left alone too: they resolve to the loopback
address (RFC 6761), so that traffic never crosses a network.

## Why it matters
Everything the application exchanges with its users (passwords, session cookies,
API tokens, personal data) crosses the network readable and alterable by anyone
on the path. Nothing breaks, so nobody notices.

## How to fix
Add a `tls:` entry for the hosts with a Secret name, and let cert-manager obtain
and renew the certificate: the `cert-manager.io/cluster-issuer` annotation on the
Ingress makes cert-manager create the Certificate for every `tls` entry. With
ingress-nginx, `nginx.ingress.kubernetes.io/force-ssl-redirect: "true"` also
redirects plain HTTP to HTTPS. The fix does exactly that (Secret
`<ingress-name>-tls`, issuer from the config). With the AWS Load Balancer
Controller, which takes certificates from ACM rather than Secrets, no fix is
offered: add an HTTPS listener (`alb.ingress.kubernetes.io/listen-ports`) and a
`certificate-arn`. Nor for a host no public CA can certify (`*.local`, `*.test`,
`*.internal`, `*.lan`, `*.home.arpa`, a name without a dot, ...) while the issuer is
the default Let's Encrypt one: the finding stays and says to take the certificate
from an internal CA; with `cert-manager-issuer` configured, or an issuer annotation
already on the Ingress, the fix uses that issuer.

## Example
Bad:
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api-ingress
spec:
  ingressClassName: nginx
  rules:
    - host: api.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api-server
                port:
                  number: 80
```
Good:
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api-ingress
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt-prod
    nginx.ingress.kubernetes.io/force-ssl-redirect: "true"
spec:
  ingressClassName: nginx
  rules:
    - host: api.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api-server
                port:
                  number: 80
  tls:
    - hosts:
        - api.example.com
      secretName: api-ingress-tls
```

## Gateway API
The same footgun exists with Gateway API, where TLS is a property of the
Gateway's listeners: an `HTTPRoute` host that a scanned Gateway serves on a
plain `HTTP` listener (the route's `parentRefs`, narrowed by `sectionName` and
`port`; the listener's `hostname` admitting the host) while no `HTTPS` or `TLS`
listener of that Gateway admits the host is reported on the route's hostname.
Not judged: routes whose every rule redirects to `https` (`RequestRedirect`
with `scheme: https`: the plain listener only sends clients on), routes without
`hostnames`, routes to Gateways the scan does not hold, and plain listeners
beside an HTTPS one for the same host (whether HTTP is redirected there is the
implementation's or another route's business). No fix is offered: add an
`HTTPS` listener for the host with a certificate (`tls.certificateRefs`, or
cert-manager's `cert-manager.io/cluster-issuer` annotation on the Gateway), and
make the HTTP listener's route redirect.

## Configuration
- `cert-manager-issuer`: the ClusterIssuer the fix names (default `letsencrypt-prod`).
- `ingress-classes`, `default-ingress-class`, `nginx-controller`: how the
  controller is told (for the ingress-nginx redirect annotation).

## Sources
- https://kubernetes.io/docs/concepts/services-networking/ingress/#tls
- https://cert-manager.io/docs/usage/ingress/
- https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#server-side-https-enforcement-through-redirect
- https://github.com/kubernetes/ingress-nginx/blob/main/rootfs/etc/nginx/template/nginx.tmpl
  (the redirect is gated on the server's certificate, `$server.SSLCert`)
- https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary
- https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/cert_discovery/
- https://cloud.google.com/kubernetes-engine/docs/how-to/secure-traffic-management
- https://doc.traefik.io/traefik/reference/routing-configuration/kubernetes/ingress/
- https://kubernetes.github.io/ingress-nginx/user-guide/tls/#ssl-passthrough
- https://kubernetes.io/docs/concepts/services-networking/ingress/#tls ("TLS will not
  work on the default rule because the certificates would have to be issued for all
  the possible sub-domains")
- https://kubernetes.github.io/ingress-nginx/user-guide/tls/#default-ssl-certificate
  (the catch-all server `_` works out-of-the-box for HTTP)
- https://github.com/nginx/kubernetes-ingress/tree/main/examples/ingress-resources/mergeable-ingress-types
  (a master processes the host's TLS configuration; on minions "TLS configurations
  are not allowed"; minions may live in other namespaces)
- https://gateway-api.sigs.k8s.io/guides/tls/ and
  https://gateway-api.sigs.k8s.io/guides/http-redirect-rewrite/ (Gateway API)
- https://cert-manager.io/docs/usage/gateway/
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..config import Config
from ..context import Context
from ..edits import merge_entries, overlaps, set_block
from ..gateway import http_exposures, is_gateway_api, redirects_to_https, route_hostnames
from ..ingress import (
    ALB,
    INGRESS_NGINX,
    NGINX_INC,
    IngressClasses,
    ingress_classes,
    ingress_hosts,
    ingress_rules,
    is_ingress,
)
from ..manifests import Resource
from ..model import Edit, Finding, Fix, Related
from ..yamltree import YMap, YSeq

ID = "ingress-without-tls"
SEVERITY = "warning"
SUMMARY = "Ingress serves a host without TLS (plaintext HTTP)"

ISSUER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")
FORCE_SSL_REDIRECT = "nginx.ingress.kubernetes.io/force-ssl-redirect"
SSL_REDIRECT = "nginx.ingress.kubernetes.io/ssl-redirect"
CANARY = "nginx.ingress.kubernetes.io/canary"
# TLS passed through to the backend, which terminates it with its own certificate.
SSL_PASSTHROUGH = (
    "nginx.ingress.kubernetes.io/ssl-passthrough",
    "haproxy.org/ssl-passthrough",
    "haproxy-ingress.github.io/ssl-passthrough",
)


def check(ctx: Context) -> Iterator[Finding]:
    ingresses = [i for i in ctx.inventory.of_kind("Ingress") if is_ingress(i)]
    servers = _NginxServers(ingresses, ctx)
    for ingress in ingresses:
        classes = servers.classes[ingress]  # the classes deployed with this Ingress
        if terminated_by_controller(ingress.annotations) or _mergeable_type(ingress, classes) == MINION:
            continue  # a minion's paths are served with its master's TLS: the master decides
        entries = tls_entries(ingress)
        hosts = ingress_hosts(ingress)
        catch_all = _catch_all_rules(ingress) if not _covers_every_host(entries) else []
        if catch_all and entries:
            yield _catch_all_finding(ctx, ingress, catch_all[0])
        if not hosts:
            if not entries:
                master = _mergeable_type(ingress, classes) == MASTER
                found = _hostless(ctx, ingress, _minions_note(ingress, ingresses, classes) if master else "")
                if found:
                    yield found
            continue
        uncovered: dict[str, int] = {}
        for host, rule_index in hosts:
            if (
                host.lower() not in uncovered
                and not covered(host, entries)
                and not loopback(host)
                and not servers.secured_elsewhere(ingress, host)
                and not ctx.inventory.unscanned_holding(ingress, host)
            ):
                uncovered[host.lower()] = rule_index
        if not uncovered:
            continue
        names = [ingress.get("spec", "rules", i, "host") for i in uncovered.values()]
        listed = ", ".join(names)
        if entries:
            message = (
                f"`tls:` does not cover {listed}: requests to {_them(names)} are served "
                f"over plain HTTP, readable and alterable on the way."
            )
        else:
            message = (
                f"No `tls:` section: {listed} {_is(names)} served over plain HTTP, so "
                f"credentials, cookies and tokens cross the network in cleartext."
            )
            if catch_all:
                message += (
                    " The rule without `host` is served for every Host and stays plain HTTP "
                    "whatever certificate the named hosts get: give it a host too."
                )
        if _mergeable_type(ingress, classes) == MASTER:
            message += _minions_note(ingress, ingresses, classes)
        controller = classes.controller_of(ingress)
        fix = None
        # the default issuer is a public ACME CA; a configured one, or the Ingress's own,
        # may be an internal CA
        own_issuer = any(key in ingress.annotations for key in ISSUER_ANNOTATIONS)
        private = (
            [n for n in names if not public_name(n)]
            if ctx.config.cert_manager_issuer == Config.cert_manager_issuer and not own_issuer
            else []
        )
        if controller == ALB:
            message += (
                " The AWS Load Balancer Controller takes its certificate from ACM: add an "
                "HTTPS port to `alb.ingress.kubernetes.io/listen-ports` and a `certificate-arn`."
            )
        elif private:
            message += (
                f" {', '.join(f'`{n}`' for n in private)} {_is(private)} not a public DNS name, so no "
                f"public CA (Let's Encrypt) can issue {_its(private)} certificate: add a `tls:` entry "
                f"with a certificate from an internal CA (a cert-manager CA Issuer, for instance)."
            )
        else:
            fix = _fix(ingress, names, ctx.config.cert_manager_issuer, controller == INGRESS_NGINX)
        first = uncovered[names[0].lower()]
        line = ingress.key_line("spec", "rules", first, "host")
        yield ctx.finding(ingress, ("spec", "tls"), message, fix=fix, lines=(line, line), field="spec.tls")
    yield from _plain_http_routes(ctx)


def _catch_all_rules(ingress: Resource) -> list[int]:
    """Indexes of the rules without a host: each is matched on every Host header."""
    return [index for index, rule in ingress_rules(ingress) if not rule.get("host")]


def _covers_every_host(entries: list[dict]) -> bool:
    """Whether a tls entry without `hosts` gives the Ingress a certificate for every
    host it serves, the catch-all rules included."""
    return any(not entry.get("hosts") for entry in entries)


def _catch_all_finding(ctx: Context, ingress: Resource, index: int) -> Finding:
    """A rule without host beside a `tls` section that names its hosts: the
    certificate covers those hosts only, and the catch-all is served on port 80."""
    line = ingress.key_line("spec", "rules", index)
    message = (
        "This rule has no `host`, so it is served for every Host header, and the `tls:` section "
        "names other hosts only: its paths are served over plain HTTP (TLS cannot work on a rule "
        "without host, as no certificate covers every name). Give the rule the host it is for and "
        "list that host under `tls:`."
    )
    return ctx.finding(
        ingress,
        ("spec", "rules", index),
        message,
        lines=(line, line),
        field="spec.rules.catch-all.tls",
    )


# F5 NGINX Ingress Controller's mergeable Ingresses: a master holds a host's server
# settings, TLS included; minions only add paths to it and cannot carry TLS.
MERGEABLE_TYPE = "nginx.org/mergeable-ingress-type"
MASTER, MINION = "master", "minion"


def _mergeable_type(ingress: Resource, classes: IngressClasses) -> str | None:
    """MASTER or MINION for a mergeable Ingress of F5 NGINX (or of no known
    controller); None otherwise, the annotation means nothing to other controllers."""
    kind = ingress.annotations.get(MERGEABLE_TYPE, "").strip().lower()
    if kind in (MASTER, MINION) and classes.controller_of(ingress) in (NGINX_INC, None):
        return kind
    return None


def _minions_note(master: Resource, ingresses: list[Resource], classes: IngressClasses) -> str:
    """The minions whose paths the master's server serves (same host, any namespace)."""
    hosts = {str(rule.get("host") or "").lower() for _, rule in ingress_rules(master)}
    minions = [
        i
        for i in ingresses
        if _mergeable_type(i, classes) == MINION
        and {str(rule.get("host") or "").lower() for _, rule in ingress_rules(i)} & hosts
    ]
    if not minions:
        return " This is an F5 NGINX mergeable master: the TLS of its minions' paths is set here."
    names = ", ".join(f"Ingress {m.ref.name}" for m in minions[:3]) + (" and others" if len(minions) > 3 else "")
    return (
        f" This is an F5 NGINX mergeable master: the paths of its minions ({names}) are served in "
        f"its server, so they are plaintext too; TLS goes here, a minion cannot carry it."
    )


class _NginxServers:
    """ingress-nginx builds one server per host from every Ingress of its class: a
    certificate that one Ingress gives the host serves the paths the others add, and
    HTTP requests to them are redirected to HTTPS (`ssl-redirect`, on by default,
    applies whenever the server has a certificate; nginx.tmpl: "redirect to HTTPS can
    be achieved forcing the redirect or having a SSL Certificate configured for the
    server"). A canary Ingress adds no server of its own: its main Ingress decides.
    Only Ingresses deployed together share a server (an alternative of the same
    name replaces the Ingress, it does not add to it)."""

    def __init__(self, ingresses: list[Resource], ctx: Context) -> None:
        self.inventory = ctx.inventory
        self.classes = {i: ingress_classes(ctx.inventory, ctx.config, i) for i in ingresses}
        self.by_host: dict[tuple[str | None, str], list[Resource]] = {}
        for ingress in ingresses:
            classes = self.classes[ingress]
            if classes.controller_of(ingress) != INGRESS_NGINX:
                continue
            for host, _ in ingress_hosts(ingress):
                self.by_host.setdefault((classes.class_of(ingress), host.lower()), []).append(ingress)

    def secured_elsewhere(self, ingress: Resource, host: str) -> bool:
        """Whether the host's ingress-nginx server gets its certificate, or its
        finding, from another Ingress of the same class deployed with it."""
        classes = self.classes[ingress]
        if classes.controller_of(ingress) != INGRESS_NGINX:
            return False
        others = [
            o
            for o in self.by_host.get((classes.class_of(ingress), host.lower()), ())
            if o is not ingress and self.inventory.together(o, ingress)
        ]
        redirects = ingress.annotations.get(SSL_REDIRECT, "true").lower() != "false"
        if redirects and any(covered(host, tls_entries(o)) for o in others):
            return True
        return _canary(ingress) and any(not _canary(o) for o in others)


def _canary(ingress: Resource) -> bool:
    return ingress.annotations.get(CANARY, "").lower() == "true"


# Names no public CA issues certificates for: RFC 2606 / RFC 6761 reserved names
# (not `.example` and `example.com`, the placeholders documentation writes for a
# real public name), mDNS (.local), the private-use .internal, home networks, and
# common private zones.
_PRIVATE_SUFFIXES = (
    ".local",
    ".localhost",
    ".test",
    ".invalid",
    ".internal",
    ".lan",
    ".home.arpa",
    ".localdomain",
    ".corp",
    ".intranet",
    ".private",
)


def loopback(host: str) -> bool:
    """`localhost` and `*.localhost` resolve to the loopback address (RFC 6761 6.3):
    that traffic never crosses a network."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def public_name(host: str) -> bool:
    """Whether a public CA could issue a certificate for the host."""
    host = host.lower().rstrip(".")
    return "." in host.lstrip("*.") and not host.endswith(_PRIVATE_SUFFIXES)


def terminated_by_controller(annotations: dict[str, str]) -> bool:
    """TLS set up through the controller's own annotations rather than ``spec.tls``."""
    get = annotations.get
    return bool(
        get("alb.ingress.kubernetes.io/certificate-arn")
        or "https" in get("alb.ingress.kubernetes.io/listen-ports", "").lower()
        or get("ingress.gcp.kubernetes.io/pre-shared-cert")
        or get("networking.gke.io/managed-certificates")
        or get("traefik.ingress.kubernetes.io/router.tls", "").lower() == "true"
        or get("traefik.ingress.kubernetes.io/router.tls.certresolver")
        or get("appgw.ingress.kubernetes.io/appgw-ssl-certificate")
        or any(get(key, "").lower() == "true" for key in SSL_PASSTHROUGH)
    )


def tls_entries(ingress: Resource) -> list[dict]:
    tls = ingress.get("spec", "tls")
    return [entry for entry in tls if isinstance(entry, dict)] if isinstance(tls, list) else []


def covered(host: str, entries: list[dict]) -> bool:
    """Whether some tls entry covers ``host``: listed, matched by a one-label
    wildcard, or an entry without hosts (which covers them all)."""
    host = host.lower()
    for entry in entries:
        hosts = entry.get("hosts")
        if isinstance(hosts, str):
            hosts = [hosts]
        if not hosts:
            return True
        if not isinstance(hosts, list):
            continue
        for tls_host in hosts:
            if isinstance(tls_host, str) and _matches(tls_host.lower(), host):
                return True
    return False


def _matches(tls_host: str, host: str) -> bool:
    if tls_host == host:
        return True
    if tls_host.startswith("*."):
        suffix = tls_host[1:]  # ".example.com"
        label = host[: -len(suffix)] if host.endswith(suffix) else ""
        return bool(label) and "." not in label and label != "*"
    return False


def _hostless(ctx: Context, ingress: Resource, note: str = "") -> Finding | None:
    for key in ("defaultBackend", "backend"):
        if ingress.span("spec", key):
            path: tuple[Any, ...] = ("spec", key)
            break
    else:
        rules = list(ingress_rules(ingress))
        if not rules:
            return None
        path = ("spec", "rules", rules[0][0])
    line = ingress.key_line(*path)
    message = (
        "No `tls:` section and no host: everything this Ingress serves goes over plain "
        "HTTP. Name the host(s) in `rules` and add a `tls:` entry with a certificate for them." + note
    )
    return ctx.finding(ingress, path, message, lines=(line, line), field="spec.tls")


def _fix(ingress: Resource, hosts: list[str], issuer: str, ingress_nginx: bool) -> Fix | None:
    secret = _secret_name(ingress)
    annotations: dict[str, str] = {}
    if not any(key in ingress.annotations for key in ISSUER_ANNOTATIONS):
        annotations[ISSUER_ANNOTATIONS[0]] = issuer
    if ingress_nginx and FORCE_SSL_REDIRECT not in ingress.annotations:
        annotations[FORCE_SSL_REDIRECT] = "true"
    edits = _add(ingress, "spec", "tls", [{"hosts": list(hosts), "secretName": secret}])
    if annotations and edits is not None:
        more = _add(ingress, "metadata", "annotations", annotations)
        edits = None if more is None or any(overlaps(a, b) for a in edits for b in more) else edits + more
    if not edits:
        return None
    extra = " and redirect HTTP to HTTPS" if FORCE_SSL_REDIRECT in annotations else ""
    issued = f", issued by cert-manager (ClusterIssuer `{issuer}`)" if ISSUER_ANNOTATIONS[0] in annotations else ""
    return Fix(f"Add a `tls:` entry for {', '.join(hosts)} with Secret `{secret}`{issued}{extra}", tuple(edits))


def _add(ingress: Resource, section: str, key: str, value: Any) -> list[Edit] | None:
    """Edits adding ``value`` (a mapping's entries, or a list's items) under
    ``<section>.<key>``: merged into a block value, or the key rewritten whole when
    its value is in flow style (``annotations: {}``, ``tls: []``)."""
    parent = ingress.get(section)
    current = parent.get(key) if isinstance(parent, YMap) else None
    if isinstance(parent, YMap) and not parent.flow and isinstance(current, (YMap, YSeq)) and current.flow:
        merged = {**current, **value} if isinstance(current, YMap) else [*current, *value]
        edit = set_block(ingress.source, parent, key, merged)
        return [edit] if edit else None
    return merge_entries(ingress.source, ingress.data, {section: {key: value}})


def _secret_name(ingress: Resource) -> str:
    used = {entry.get("secretName") for entry in tls_entries(ingress)}
    name, n = f"{ingress.name}-tls", 2
    while name in used:
        name, n = f"{ingress.name}-{n}-tls", n + 1
    return name


def _them(names: list[str]) -> str:
    return "it" if len(names) == 1 else "them"


def _its(names: list[str]) -> str:
    return "its" if len(names) == 1 else "their"


def _is(names: list[str]) -> str:
    return "is" if len(names) == 1 else "are"


def _plain_http_routes(ctx: Context) -> Iterator[Finding]:
    """HTTPRoute hosts that a Gateway serves on plain HTTP and on no HTTPS or TLS
    listener (Gateway API's form of this footgun)."""
    for route in ctx.inventory.of_kind("HTTPRoute"):
        if not is_gateway_api(route) or redirects_to_https(route):
            continue
        for index, host in route_hostnames(route):
            exposures = http_exposures(ctx.inventory, route, host)
            if not exposures or any(e.secured for e in exposures) or loopback(host):
                continue
            gateway, listener = exposures[0].gateway, exposures[0].listener
            message = (
                f"Gateway {gateway.name} serves {host} on its plain-HTTP listener {listener.name} "
                f"(port {listener.port}) and has no HTTPS listener for it: credentials, cookies and "
                f"tokens cross the network in cleartext. Add an HTTPS listener for {host} with a "
                f"certificate and make this listener's route redirect to https."
            )
            yield ctx.finding(
                route,
                ("spec", "hostnames", index),
                message,
                field=f"spec.hostnames.{host}",
                related=[
                    Related(gateway.path, gateway.key_line("spec", "listeners"), f"listeners of Gateway {gateway.name}")
                ],
            )
