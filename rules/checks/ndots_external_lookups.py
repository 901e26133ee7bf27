"""Pods resolve external host names under the default `ndots:5`, walking the search domains first.

A pod with the default DNS policy (`ClusterFirst`) gets a resolv.conf with
`options ndots:5` and three or more search domains
(`<namespace>.svc.cluster.local`, `svc.cluster.local`, `cluster.local`, plus the
node's). A name with fewer than five dots is tried with each search domain appended
before it is tried as written, so resolving `api.example.com` costs several
NXDOMAIN answers (for each of A and AAAA) before the one that counts.

The rule flags a pod template (any workload kind) whose DNS policy is `ClusterFirst`
(or unset, which means `ClusterFirst`), or `ClusterFirstWithHostNet`, with no `ndots`
option in `dnsConfig.options`, when a container names an external host in an env
value, an argument or the command. `dnsPolicy: Default` (the node's resolver) and
`None` (the pod's own `dnsConfig`) are not affected, and neither is a host-network
pod left on `ClusterFirst`, which Kubernetes falls back to `Default` for. The finding
sits on the line of the first external name.

What counts as an external host, to keep false alarms out:
- a dotted name, alone, as `host:port`, or as the host of a URL with a scheme
  (`https://api.example.com/v1`, `postgres://user@db.example.com:5432/app`,
  `jdbc:mysql://...`);
- whose last label is a real, commonly used top-level domain (`com`, `net`, `org`,
  `io`, `dev`, `cloud`, country codes, ...; also `internal`, as in
  `metadata.google.internal`), and whose first label is not one (so reverse-DNS
  identifiers such as `com.example.Main` or `io.k8s.api` are not hosts). Top-level
  domains that double as file extensions (`.py`, `.sh`, `.md`, `.pl`, `.rs`, `.so`,
  `.zip`, `.mov`, `.in`, `.cc`, `.tf`, ...) are never taken as hosts, so
  `config.yaml`, `app.py`, `run.sh` or `README.md` stay quiet;
- with two labels only, not ending in a word-like top-level domain (`app`, `dev`,
  `shop`, `cloud`, ...) nor in the name of a scanned namespace: `api.dev` is far
  more likely Service `api` in namespace `dev` than a public host;
- in lower case, with fewer than five dots (five or more are tried as written first),
  not ending in a dot (already absolute), not an IP address, not `localhost`, no
  label `svc` and not under `cluster.local` (in-cluster names, which the search
  domains are for);
- not followed by a path outside a URL (`ghcr.io/org/image:tag`,
  `app.kubernetes.io/name`, `networking.k8s.io/v1` are image names, label keys and
  API groups), not an e-mail address, not a wildcard, not an API group
  (`*.k8s.io`, `*.kubernetes.io`, ...) written bare;
- not the pod's own public name: values of env vars and flags whose name says so
  (`PUBLIC_URL`, `BASE_URL`, `EXTERNAL_URL`, `--web.external-url`, `DOMAIN`,
  `ALLOWED_HOSTS`, `CORS_ORIGINS`, `SERVER_NAME`, `REDIRECT_URI`, `NO_PROXY`,
  `KC_HOSTNAME`, ...) are not lookups this pod makes (`DB_HOSTNAME` is).

Names in ConfigMaps and Secrets the pod reads (`envFrom`, `valueFrom`, mounted
files) are not looked at: the rule reads the pod template only.

Not lookups either, in `command` and `args`:
- shell comments: a `#` that starts a word outside quotes, and the rest of its line
  (`# see https://github.com/...`), as the shell discards them; a `#` inside quotes
  or inside a word (`https://host/#anchor`) is kept;
- commands that run in the node's namespaces, where names are resolved with the
  node's `/etc/resolv.conf`, not the one the kubelet writes for the pod with its
  `ndots:5`: `chroot` into the mount of a hostPath volume of the node's `/`
  (`chroot /host ...`), and `nsenter` into the mount namespace of the host's PID 1
  (`nsenter --mount=/proc/1/ns/mnt ...`, `nsenter -t 1 -m ...`, which reach the
  host's PID 1 only with `hostPID: true`). In a script, such a command runs to the
  end of its line (or the next `;`, `&`, `|`), a here-document it reads included;
  in an exec-form command, everything after it. `chroot` into a directory that is
  not the node's `/` still resolves like the pod.

## Why it matters
At scale (thousands of pods making frequent external calls) the amplification
hammers CoreDNS: it gets CPU-throttled, DNS latency spikes, and every Service in the
cluster slows down, because service discovery runs through the same DNS.

## How to fix
Lower `ndots` for pods that mostly talk to external hosts: with `ndots: "2"`, a name
with two or more dots is tried as written first (`api.example.com` resolves in one
query), while short in-cluster names (`my-svc`, `my-svc.my-namespace`) still use the
search domains. Alternatives: write external names fully qualified with a trailing
dot (`api.example.com.`), which skips the search list entirely (make sure TLS and the
HTTP `Host` header still use the name without the dot), or enable the CoreDNS
`autopath` plugin (with `pods verified`), which completes the search path on the
server side in one round trip.

## Example
Bad:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels:
      app: billing
  template:
    metadata:
      labels:
        app: billing
    spec:
      containers:
        - name: billing
          image: billing:3.2.0
          env:
            - name: PAYMENTS_API
              value: https://api.stripe.com/v1
```
Good:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels:
      app: billing
  template:
    metadata:
      labels:
        app: billing
    spec:
      containers:
        - name: billing
          image: billing:3.2.0
          env:
            - name: PAYMENTS_API
              value: https://api.stripe.com/v1
      dnsConfig:
        options:
          - name: ndots
            value: "2"
```

## Configuration
- `ndots`: the value the fix sets (default 2).

## Sources
- https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy
  (DNS policies; host-network pods on `ClusterFirst` fall back to `Default`)
- https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
- KEP-504, Configurable Pod DNS: https://www.kubernetes.dev/resources/keps/504/
  ("query amplification of five to ten times for non-cluster internal names")
- resolv.conf(5), `ndots` and `search`: https://man7.org/linux/man-pages/man5/resolv.conf.5.html
- CoreDNS autopath: https://coredns.io/plugins/autopath/
- POSIX Shell Command Language, 2.3 Token Recognition (a `#` starting a word and
  the rest of the line are a comment):
  https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_18_03
- nsenter(1) (`--mount`: enter the mount namespace of the target process):
  https://man7.org/linux/man-pages/man1/nsenter.1.html; chroot(2) (pathnames,
  `/etc/resolv.conf` included, resolve under the new root):
  https://man7.org/linux/man-pages/man2/chroot.2.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..context import Context
from ..model import Finding, Fix
from ..workloads import Workload, insert_into_pod_spec

ID = "ndots-external-lookups"
SEVERITY = "info"
SUMMARY = "Pod resolves external hosts under the default ndots:5"

AFFECTED_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet")
DEFAULT_NDOTS = 5

# Top-level domains taken as evidence of a host name: common generic ones and
# country codes, less those that are also file extensions.
TLDS = frozenset(
    """
com net org edu gov mil int info biz name mobi asia tel travel jobs pro aero coop museum
io dev app cloud ai co me tv xyz online site tech store shop blog page live news
systems services solutions network digital agency email host link space website
us uk eu de fr nl be ch at es it pt se no fi dk is ie pl cz sk hu ro bg gr hr si ee lv lt
ru ua by kz tr il ae sa qa eg za ng ke ma ca mx br ar cl pe uy jp kr cn hk tw sg my th vn
id ph nz au vc gg je ly
internal
""".split()
)
# Top-level domains that are also ordinary words, which Kubernetes namespaces are
# often named after (`api.dev` is Service `api` in namespace `dev`): a two-label name
# ending in one is not taken as a host.
WORD_TLDS = frozenset(
    """
app dev cloud xyz online site tech store shop blog page live news systems services
solutions network digital agency email host link space website mobi asia tel travel
jobs pro aero coop museum name internal
""".split()
)
# Never hosts, though real TLDs: also common file extensions.
FILE_EXTENSION_TLDS = frozenset(
    "py sh md pl rs so zip mov in cc tf ps ml pm sc mk am gs ts rb js cs cx ax as ac sx".split()
)
# Bare (scheme-less) names under these domains are API groups and annotation keys.
API_GROUP_DOMAINS = (
    "k8s.io",
    "kubernetes.io",
    "openshift.io",
    "istio.io",
    "cert-manager.io",
    "coreos.com",
    "argoproj.io",
    "knative.dev",
    "fluxcd.io",
    "crossplane.io",
    "cattle.io",
    "projectcalico.org",
    "cilium.io",
    "keda.sh",
    "tekton.dev",
    "gateway.networking.k8s.io",
)
# Env var and flag names whose values are the pod's own names, not lookups it makes.
OWN_NAME_WORDS = frozenset(
    {
        "public",
        "domain",
        "domains",
        "origin",
        "origins",
        "cors",
        "allowed",
        "redirect",
        "callback",
        "homepage",
        "virtual",
        "advertise",
        "advertised",
        "cookie",
        "servername",
        "baseurl",
        "canonical",
        "frontend",
        "nonproxyhosts",
        "noproxy",
        "vhost",
    }
)
# `KC_HOSTNAME`, `SERVER_HOSTNAME`: the pod's own name; `DB_HOSTNAME`: a lookup.
OWN_HOSTNAME_WORDS = frozenset({"server", "public", "external", "app", "site", "web", "own", "self"})
CLIENT_WORDS = frozenset(
    {
        "db",
        "pg",
        "es",
        "mq",
        "s3",
        "api",
        "sql",
        "dns",
        "ftp",
        "rds",
        "sftp",
        "ssh",
        "git",
        "bus",
        "log",
        "otel",
        "otlp",
        "nfs",
        "cdn",
        "sso",
        "idp",
    }
)
OWN_NAME_PAIRS = (
    ("external", "url"),
    ("external", "host"),
    ("external", "hostname"),
    ("base", "url"),
    ("root", "url"),
    ("app", "url"),
    ("site", "url"),
    ("server", "name"),
    ("web", "url"),
    ("no", "proxy"),
    ("non", "proxy"),
    ("self", "url"),
)

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://([^/\s?#\"'`]+)")
_STRIP = "\"'`()[]{}<>,;|"


@dataclass(frozen=True)
class Mention:
    host: str
    where: str  # "env PAYMENTS_API of container billing"
    path: tuple[Any, ...]  # the value's field path within the resource
    line: int


def check(ctx: Context) -> Iterator[Finding]:
    namespaces = {r.namespace for r in ctx.inventory.resources if r.namespace}
    namespaces |= {r.name for r in ctx.inventory.of_kind("Namespace")}
    for workload in ctx.inventory.workloads:
        spec = workload.pod_spec
        if not isinstance(spec, dict) or not _affected(spec):
            continue
        mentions = list(_external_mentions(workload, namespaces))
        if not mentions:
            continue
        first = min(mentions, key=lambda m: m.line)
        yield ctx.finding(
            workload.resource,
            first.path,
            _message(ctx, first, len({m.host for m in mentions})),
            fix=_fix(ctx, workload),
            lines=(first.line, first.line),
            field=".".join(workload.pod_spec_path) + ".dnsConfig.options.ndots",
        )


def _affected(spec: dict) -> bool:
    """Whether the pod gets the cluster resolv.conf with the default ndots:5."""
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy not in AFFECTED_POLICIES:
        return False
    if policy == "ClusterFirst" and spec.get("hostNetwork") is True:
        return False  # falls back to Default: the node's resolver
    dns_config = spec.get("dnsConfig")
    options = dns_config.get("options") if isinstance(dns_config, dict) else None
    return not any(isinstance(o, dict) and o.get("name") == "ndots" for o in options or [])


def _message(ctx: Context, first: Mention, count: int) -> str:
    others = f"; {count - 1} other external name{'s' if count > 2 else ''} too" if count > 1 else ""
    dots = first.host.count(".")
    ndots = ctx.config.ndots
    caveat = ""
    if dots < ndots:
        caveat = (
            f" (`{first.host}` has {dots} dot{'s' if dots != 1 else ''}, fewer than {ndots}: "
            f"for it, only the trailing dot or autopath helps)"
        )
    return (
        f"`{first.host}` ({first.where}{others}) is resolved under the default ndots:5: "
        f"a name with fewer than 5 dots is first tried with every search domain "
        f"(`<namespace>.svc.cluster.local`, `svc.cluster.local`, `cluster.local`, ...), "
        f'several wasted queries to CoreDNS per lookup. Set `ndots: "{ndots}"` in the pod\'s '
        f"`dnsConfig`{caveat}, or write the name fully qualified with a trailing dot "
        f"(`{first.host}.`), or enable the CoreDNS `autopath` plugin."
    )


def _fix(ctx: Context, workload: Workload) -> Fix | None:
    value = str(ctx.config.ndots)
    edits = insert_into_pod_spec(workload, {"dnsConfig": {"options": [{"name": "ndots", "value": value}]}})
    if not edits:
        return None
    return Fix(f'Set `ndots: "{value}"` in the pod\'s dnsConfig', tuple(edits))


# --- finding host names in containers ----------------------------------------------


def _external_mentions(workload: Workload, namespaces: set[str]) -> Iterator[Mention]:
    """The container's mentions of names outside the cluster (see `_is_external`)."""
    resource = workload.resource
    spec = workload.pod_spec
    for list_key in ("initContainers", "containers"):
        containers = spec.get(list_key)
        if not isinstance(containers, list):
            continue
        for c_index, container in enumerate(containers):
            if not isinstance(container, dict):
                continue
            base = workload.pod_spec_path + (list_key, c_index)
            name = container.get("name", c_index)
            for e_index, env in enumerate(container.get("env") or []):
                if not isinstance(env, dict) or not isinstance(env.get("value"), str):
                    continue
                env_name = str(env.get("name", ""))
                if _own_name(env_name):
                    continue
                for host in _hosts_in(env["value"]):
                    if not _is_external(host, namespaces):
                        continue
                    path = base + ("env", e_index, "value")
                    yield Mention(host, f"env {env_name} of container {name}", path, _line_of(resource, path, host))
            host_side = _HostSide(_host_root_mounts(spec, container), spec.get("hostPID") is True)
            argv = [
                (key, a_index, item)
                for key in ("command", "args")
                if isinstance(container.get(key), list)
                for a_index, item in enumerate(container[key])
            ]
            in_host = host_side.argv_start([item for _, _, item in argv])
            flag = None
            for position, (key, a_index, item) in enumerate(argv):
                if position >= in_host:
                    break  # the rest of the command runs in the node's namespaces
                if not isinstance(item, str):
                    flag = None
                    continue
                for host in _hosts_in(host_side.mask(strip_shell_comments(item)), flag):
                    if not _is_external(host, namespaces):
                        continue
                    path = base + (key, a_index)
                    yield Mention(host, f"{key} of container {name}", path, _line_of(resource, path, host))
                flag = item if item.startswith("-") and "=" not in item else None


def strip_shell_comments(text: str) -> str:
    """``text`` with its shell comments blanked: a `#` that starts a word outside
    quotes runs to the end of its line (POSIX shell, "Token Recognition"). A `#`
    inside quotes or inside a word (`https://host/#anchor`) is kept."""
    out = list(text)
    quote = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = None
            elif char == "\\" and quote == '"':
                index += 1
        elif char == "\\":
            index += 1
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace() or text[index - 1] in ";&|("):
            end = text.find("\n", index)
            end = len(text) if end < 0 else end
            out[index:end] = " " * (end - index)
            index = end
            continue
        index += 1
    return "".join(out)


def _host_root_mounts(spec: dict, container: dict) -> set[str]:
    """Where the container mounts a hostPath volume of the node's `/`."""
    volumes, mounts = spec.get("volumes"), container.get("volumeMounts")
    roots = {
        v.get("name")
        for v in (volumes if isinstance(volumes, list) else [])
        if isinstance(v, dict)
        and isinstance(v.get("hostPath"), dict)
        and str(v["hostPath"].get("path") or "").rstrip("/") == ""
    }
    return {
        str(m.get("mountPath")).rstrip("/") or "/"
        for m in (mounts if isinstance(mounts, list) else [])
        if isinstance(m, dict) and m.get("name") in roots and m.get("mountPath")
    }


_CHROOT = re.compile(r"(?:^|(?<=[\s;&|(`]))(?:\S*/)?chroot((?:\s+-\S+)*)\s+['\"]?([^\s'\";&|)]+)")
_NSENTER = re.compile(r"(?:^|(?<=[\s;&|(`]))(?:\S*/)?nsenter((?:\s+(?:-\S+|\d+))*)")


class _HostSide:
    """Which parts of a container's command run in the node's namespaces, where
    names are resolved by the node's resolver (the node's /etc/resolv.conf, not the
    pod's with its ndots): after `chroot` into a hostPath of the node's `/`, or
    `nsenter` into the mount namespace of the host's PID 1 (`--mount=/proc/1/ns/mnt`,
    or `-t 1 -m`; PID 1 is the host's only with `hostPID: true`)."""

    def __init__(self, roots: set[str], host_pid: bool) -> None:
        self.roots = roots
        self.host_pid = host_pid

    def argv_start(self, argv: list[Any]) -> int:
        """The position in an exec-form command from which it runs on the node's
        side (len(argv) when it never does)."""
        words = [w if isinstance(w, str) else "" for w in argv]
        for index, word in enumerate(words):
            name = word.rsplit("/", 1)[-1]
            if name == "chroot":
                target = next((w for w in words[index + 1 :] if not w.startswith("-")), "")
                if target.rstrip("/") in self.roots or (target == "/" and "/" in self.roots):
                    return index
            elif name == "nsenter":
                options = []
                for w in words[index + 1 :]:
                    if not (w.startswith("-") or w.isdigit()) or w == "--":
                        break
                    options.append(w)
                if self._enters_host_mounts(options):
                    return index
        return len(argv)

    def mask(self, script: str) -> str:
        """``script`` with the commands that run on the node's side blanked, each
        up to the end of its command (a newline, `;`, `&` or `|` outside quotes),
        a here-document it reads included."""
        spans = [
            m.start()
            for m in _CHROOT.finditer(script)
            if m.group(2).rstrip("/") in self.roots or (m.group(2) == "/" and "/" in self.roots)
        ]
        spans += [m.start() for m in _NSENTER.finditer(script) if self._enters_host_mounts(m.group(1).split())]
        out = script
        for start in sorted(spans):
            end = _command_end(script, start)
            out = out[:start] + " " * (end - start) + out[end:]
        return out

    def _enters_host_mounts(self, options: list[str]) -> bool:
        joined = " ".join(options)
        mount = re.search(r"--mount=(\S+)", joined)
        if mount:
            path = mount.group(1)
            return path.endswith("/proc/1/ns/mnt") and (self.host_pid or not path.startswith("/proc/"))
        target = re.search(r"(?:-t\s*|--target[=\s])1\b", joined)
        mounts = any(o in ("--mount", "--all", "-a") or (re.fullmatch(r"-[a-zA-Z]+", o) and "m" in o) for o in options)
        return bool(target) and mounts and self.host_pid


def _command_end(script: str, start: int) -> int:
    """Where the shell command starting at ``start`` ends: the first newline, `;`,
    `&` or `|` outside quotes, or, when it reads a here-document (`<<EOF`), the line
    that ends it."""
    quote = None
    index = start
    while index < len(script):
        char = script[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "\\":
            index += 1
        elif char in "\n;&|":
            break
        index += 1
    heredoc = re.search(r"<<-?\s*['\"]?(\w+)", script[start:index])
    if heredoc:
        closing = re.compile(rf"^\s*{heredoc.group(1)}\s*$", re.MULTILINE).search(script, index)
        return closing.end() if closing else len(script)
    return index


def _line_of(resource, path: tuple[Any, ...], host: str) -> int:
    """The line that holds ``host`` within the value at ``path`` (a block scalar
    spans several)."""
    span = resource.span(*path)
    if span is None:
        return resource.start_line
    for number in range(span.start, span.end + 1):
        if host in resource.source.line(number):
            return number
    return span.key_line


def _hosts_in(text: str, flag: str | None = None) -> Iterator[str]:
    """External host names in one string (an env value, an argument, a shell line);
    ``flag`` is the option the string is the value of, if any."""
    for word in text.split():
        word = word.strip(_STRIP)
        key = None
        if word.startswith("-"):
            if "=" not in word:
                flag = word
                continue
            key, _, word = word.partition("=")
        elif "=" in word and ("://" not in word or word.index("=") < word.index("://")):
            key, _, word = word.partition("=")
        else:
            key = flag
        flag = None
        if key is not None and _own_name(key):
            continue
        for piece in word.split(","):
            host = _host_of(piece.strip(_STRIP))
            if host:
                yield host


@lru_cache(maxsize=4096)  # a pure function of a string that repeats over workloads
def _host_of(piece: str) -> str | None:
    url = _URL.search(piece)
    if url:
        authority = url.group(1).rsplit("@", 1)[-1]
        if authority.startswith("["):
            return None  # an IPv6 literal
        host = authority.split(":", 1)[0]
        return host or None
    if "/" in piece or "@" in piece or "*" in piece:
        return None  # an image, label key, API group, path, e-mail or wildcard
    if ":" in piece:
        host, _, port = piece.rpartition(":")
        if not port.isdigit():
            return None
        piece = host
    if any(piece == d or piece.endswith("." + d) for d in API_GROUP_DOMAINS):
        return None
    return piece


def _is_external(host: str, namespaces: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether ``host`` looks like a name outside the cluster (see the module's
    documentation); ``namespaces`` are the scanned ones (``<service>.<namespace>``)."""
    if host.endswith(".") or host != host.lower():
        return False  # absolute already; or a class name rather than a host
    labels = host.split(".")
    if len(labels) < 2 or len(labels) - 1 >= DEFAULT_NDOTS:
        return False  # a bare name, or enough dots to be tried as written first
    if not all(_LABEL.match(label) for label in labels):
        return False
    if "svc" in labels or host.endswith(("cluster.local", ".localhost", ".local")):
        return False
    tld, first = labels[-1], labels[0]
    if tld not in TLDS or tld in FILE_EXTENSION_TLDS or first in TLDS:
        return False
    if len(labels) == 2 and (tld in WORD_TLDS or tld in namespaces):
        return False  # more likely <service>.<namespace>
    return True


@lru_cache(maxsize=4096)  # a pure function of a name that repeats over workloads
def _own_name(key: str) -> bool:
    """Whether an env var or flag names the pod's own public name (not a lookup)."""
    words = set(w for w in re.split(r"[^a-z0-9]+", _uncamel(key).lower()) if w)
    if words & OWN_NAME_WORDS:
        return True
    if "hostname" in words and all(
        w in OWN_HOSTNAME_WORDS or (len(w) <= 3 and w not in CLIENT_WORDS) for w in words - {"hostname"}
    ):
        return True
    return any(a in words and b in words for a, b in OWN_NAME_PAIRS)


def _uncamel(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
