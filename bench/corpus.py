"""Deterministic corpora of Kubernetes manifests for the engine benchmarks.

A corpus looks like a large platform repository: a ``cluster/`` folder with the
IngressClasses and the ingress controller, then per namespace a ``policies.yaml``
(default deny, usually DNS allowed) and one folder per application holding its
Deployment (or StatefulSet with its governing headless Service), Service(s) and
often an Ingress, either in one multi-document file or split over several files. A
few applications are bases without a namespace, and about one in six is laid out
for kustomize: a ``base/`` (its kustomization listing the Deployment, Service and
Ingress files, no namespace) and one or two ``overlays/`` (staging, production),
each a kustomization setting the namespace and a label and patching the replicas
(`bench.engine` says how many kustomize builds a scan rendered). The number of
namespaces grows with the square root of the size, so namespaces get bigger as the
corpus does (which is what exposes a rule that is quadratic per namespace).

A realistic share of footguns is planted: selector typos, labels on the Deployment
but not on its pod template, Ingresses without TLS, namespaces whose default deny
forgets DNS, headless Services in front of Deployments, pinned (sometimes duplicate
or out-of-range) node ports, LoadBalancer Services, external host names under the
default ndots, ``/api``-style character-prefix paths, misspelt ingress classes and
``sessionAffinity: ClientIP``.

Usage: ``python -m bench.corpus DOCUMENTS [FOLDER] [--seed N]`` writes a corpus and
prints what it holds; `generate` does the same from Python.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SIZES = (500, 5_000, 50_000)
KUSTOMIZE_SHARE = 0.16  # of the applications in a namespace: a base and its overlays
DEFAULT_SEED = 20240601

WORDS = (
    "api",
    "auth",
    "billing",
    "cart",
    "catalog",
    "checkout",
    "search",
    "users",
    "orders",
    "payments",
    "inventory",
    "shipping",
    "reviews",
    "notify",
    "media",
    "reports",
    "ledger",
    "quotes",
    "pricing",
    "profile",
    "session",
    "gateway",
    "export",
    "import",
    "audit",
    "feed",
    "tags",
    "geo",
    "rates",
    "invoice",
)
SUFFIXES = ("", "-server", "-worker", "-web", "-svc", "-backend", "-frontend", "-v2", "-admin", "-sync")
TEAMS = ("core", "growth", "platform", "data", "identity", "commerce", "infra", "mobile")
EXTERNAL_HOSTS = (
    "api.stripe.com",
    "hooks.slack.com",
    "sqs.eu-west-1.amazonaws.com",
    "www.googleapis.com",
    "api.sendgrid.com",
    "sentry.io",
    "api.github.com",
    "login.microsoftonline.com",
    "s3.us-east-1.amazonaws.com",
)
INTERNAL_HOSTS = (
    "postgres.{ns}.svc.cluster.local",
    "redis",
    "kafka-0.kafka-headless.{ns}.svc",
    "{peer}.{ns}.svc.cluster.local",
    "{peer}:8080",
    "memcached.{ns}",
)
IMAGES = (
    "ghcr.io/acme/{app}",
    "registry.example.com/{team}/{app}",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{app}",
)


@dataclass
class Corpus:
    root: Path
    documents: int = 0
    files: int = 0
    bytes: int = 0
    kinds: Counter = field(default_factory=Counter)
    namespaces: int = 0
    bases: int = 0  # kustomize bases, each with one or two overlays
    overlays: int = 0

    def describe(self) -> str:
        kinds = ", ".join(f"{k} {v:,}" for k, v in self.kinds.most_common())
        return (
            f"{self.documents:,} documents in {self.files:,} files "
            f"({self.bytes / 2**20:.1f} MiB, {self.namespaces} namespaces, "
            f"{self.bases:,} kustomize bases with {self.overlays:,} overlays): {kinds}"
        )


def namespace_count(documents: int) -> int:
    return max(3, round(math.sqrt(documents) / 4))


def generate(root: str | os.PathLike, documents: int, seed: int = DEFAULT_SEED) -> Corpus:
    """Write a corpus of exactly ``documents`` YAML documents under ``root``."""
    return _Generator(Path(root), documents, seed).run()


class _Generator:
    def __init__(self, root: Path, documents: int, seed: int) -> None:
        self.root = root
        self.target = documents
        self.rng = random.Random(seed)
        self.corpus = Corpus(root)
        self.namespaces = [f"{self.rng.choice(TEAMS)}-{i:02d}" for i in range(namespace_count(documents))]
        self.corpus.namespaces = len(self.namespaces)
        self.names: Counter = Counter()
        self.apps_in: dict[str, list[str]] = {ns: [] for ns in self.namespaces}

    # ---- writing -------------------------------------------------------------
    def write(self, relpath: str, docs: list[tuple[str, str]], header: str = "") -> None:
        """Write one file of (kind, text) documents, as many as the budget allows."""
        room = self.target - self.corpus.documents
        docs = docs[:room]
        if not docs:
            return
        text = header + "---\n".join(body for _, body in docs)
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(data)
        self.corpus.files += 1
        self.corpus.bytes += len(data)
        self.corpus.documents += len(docs)
        self.corpus.kinds.update(kind for kind, _ in docs)

    def full(self) -> bool:
        return self.corpus.documents >= self.target

    def run(self) -> Corpus:
        self.root.mkdir(parents=True, exist_ok=True)
        self.cluster()
        for ns in self.namespaces:
            self.policies(ns)
        while not self.full():
            if self.rng.random() < 0.03:
                self.app(None)
            else:
                self.app(self.rng.choice(self.namespaces))
        return self.corpus

    # ---- cluster-wide ----------------------------------------------------------
    def cluster(self) -> None:
        classes = [
            ("IngressClass", ingress_class("nginx", "k8s.io/ingress-nginx", default=True)),
            ("IngressClass", ingress_class("traefik", "traefik.io/ingress-controller")),
        ]
        self.write("cluster/ingress-classes.yaml", classes, "# Ingress classes installed in every cluster\n")
        labels = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
        controller = [
            (
                "Deployment",
                deployment(
                    self.rng,
                    "ingress-nginx-controller",
                    "ingress-nginx",
                    labels,
                    labels,
                    image="registry.k8s.io/ingress-nginx/controller:v1.10.1",
                    env_count=2,
                    spread=True,
                ),
            ),
            (
                "Service",
                service(
                    "ingress-nginx-controller",
                    "ingress-nginx",
                    labels,
                    kind="LoadBalancer",
                    ports=[("http", 80, "http", None), ("https", 443, "https", None)],
                    local=True,
                ),
            ),
        ]
        self.write("cluster/ingress-nginx.yaml", controller)

    def policies(self, ns: str) -> None:
        docs = [("NetworkPolicy", network_policy_default_deny(ns))]
        if self.rng.random() < 0.75:
            docs.append(("NetworkPolicy", network_policy_allow_dns(ns, tcp=self.rng.random() < 0.85)))
        docs.append(("NetworkPolicy", network_policy_allow_ingress_controller(ns)))
        self.write(f"{ns}/policies.yaml", docs, f"# Network policies of namespace {ns}\n")

    # ---- applications ------------------------------------------------------------
    def app_name(self) -> str:
        name = self.rng.choice(WORDS) + self.rng.choice(SUFFIXES)
        self.names[name] += 1
        return name if self.names[name] == 1 else f"{name}-{self.names[name]}"

    def app(self, ns: str | None) -> None:
        rng = self.rng
        name = self.app_name()
        team = rng.choice(TEAMS)
        folder = f"{ns}/{name}" if ns else f"bases/{name}"
        peers = self.apps_in.get(ns, []) if ns else []
        pod_labels = {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": team,
            "tier": rng.choice(("web", "backend", "worker")),
        }
        meta_labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "kustomize", "team": team}
        selector = {"app.kubernetes.io/name": name}
        roll = rng.random()
        if roll < 0.02:  # selector typo
            selector = {"app.kubernetes.io/name": name[:-1] + ("x" if name[-1] != "x" else "y")}
        elif roll < 0.03:  # labels on the Deployment but not on its pod template
            selector = {"app.kubernetes.io/name": name, "team": team}
        stateful = rng.random() < 0.08
        docs: list[tuple[str, str]] = []
        port = rng.choice((8080, 8000, 3000, 9090, 5000))
        if stateful:
            docs.append(("StatefulSet", statefulset(rng, name, ns, meta_labels, pod_labels, team)))
            docs.append(
                (
                    "Service",
                    service(f"{name}-headless", ns, selector, headless=True, ports=[("peer", 7000, 7000, None)]),
                )
            )
        else:
            docs.append(
                (
                    "Deployment",
                    deployment(
                        rng,
                        name,
                        ns,
                        meta_labels,
                        pod_labels,
                        team=team,
                        port=port,
                        peers=peers,
                        env_count=rng.randint(3, 12),
                        spread=rng.random() < 0.3,
                    ),
                )
            )
        svc_kind, node_port, local = "ClusterIP", None, False
        roll = rng.random()
        if roll < 0.05:
            svc_kind = "NodePort"
            if rng.random() < 0.7:
                node_port = rng.randint(30000, 32767) if rng.random() > 0.02 else rng.choice((8080, 32768, 40000))
            local = rng.random() < 0.3
        elif roll < 0.13:
            svc_kind = "LoadBalancer"
            local = rng.random() < 0.3
        docs.append(
            (
                "Service",
                service(
                    name,
                    ns,
                    selector,
                    kind=svc_kind,
                    local=local,
                    headless=not stateful and rng.random() < 0.02,
                    affinity=rng.random() < 0.03,
                    ports=[("http", 80, port, node_port)]
                    + ([("metrics", 9102, 9102, None)] if rng.random() < 0.3 else []),
                ),
            )
        )
        if rng.random() < 0.45:
            docs.append(("Ingress", ingress(rng, name, ns, team)))
        if ns and peers and rng.random() < 0.2:
            docs.append(("NetworkPolicy", network_policy_allow_peer(name, ns, rng.choice(peers), port)))
        if ns:
            self.apps_in[ns].append(name)
        if ns and rng.random() < KUSTOMIZE_SHARE:
            self.kustomize_app(folder, name, ns, docs)
        elif len(docs) > 1 and rng.random() < 0.25:  # split layout
            files = {
                "deployment.yaml": docs[:1],
                "service.yaml": [d for d in docs[1:] if d[0] == "Service"],
                "ingress.yaml": [d for d in docs[1:] if d[0] == "Ingress"],
                "network-policy.yaml": [d for d in docs[1:] if d[0] == "NetworkPolicy"],
            }
            for filename, part in files.items():
                if part:
                    self.write(f"{folder}/{filename}", part)
        else:
            self.write(f"{folder}/{name}.yaml", docs, f"# {name}: owned by team {team}\n")

    def kustomize_app(self, folder: str, name: str, ns: str, docs: list[tuple[str, str]]) -> None:
        """``docs`` as a kustomize base (without their namespace) and its overlays."""
        files: dict[str, list[tuple[str, str]]] = {}
        for kind, text in docs:
            files.setdefault(f"{kind.lower()}.yaml", []).append((kind, text.replace(f"  namespace: {ns}\n", "", 1)))
        if self.target - self.corpus.documents < len(docs) + 4:
            return  # too little room left for a whole build: the corpus ends with plain files
        for filename, part in files.items():
            self.write(f"{folder}/base/{filename}", part)
        self.write(f"{folder}/base/kustomization.yaml", [("Kustomization", kustomization(sorted(files)))])
        self.corpus.bases += 1
        workload = docs[0][0]
        environments = ("production", "staging") if self.rng.random() < 0.5 else ("production",)
        for environment in environments:
            overlay = f"{folder}/overlays/{environment}"
            namespace = ns if environment == "production" else f"{ns}-{environment}"
            replicas = self.rng.choice((3, 4, 6)) if environment == "production" else 1
            self.write(f"{overlay}/replicas.yaml", [(workload, replicas_patch(workload, name, replicas))])
            self.write(
                f"{overlay}/kustomization.yaml",
                [("Kustomization", kustomization(["../../base"], namespace, environment, "replicas.yaml"))],
            )
            self.corpus.overlays += 1


# ---- document templates --------------------------------------------------------------
def kustomization(
    resources: list[str], namespace: str | None = None, environment: str | None = None, patch: str | None = None
) -> str:
    out = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    if namespace:
        out += f"namespace: {namespace}\n"
    out += "resources:\n" + "".join(f"  - {r}\n" for r in resources)
    if environment:
        out += f"labels:\n  - pairs:\n      environment: {environment}\n"
    if patch:
        out += f"patches:\n  - path: {patch}\n"
    return out


def replicas_patch(kind: str, name: str, replicas: int) -> str:
    api_version = "apps/v1"
    return f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n"


def _map(entries: dict, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{k}: {_scalar(v)}\n" for k, v in entries.items())


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text in ("true", "false", "yes", "no", "on", "off", "null") or text[:1].isdigit() or ":" in text or "#" in text:
        return f'"{text}"'
    return text


def _metadata(name: str, ns: str | None, labels: dict | None = None, annotations: dict | None = None) -> str:
    out = f"metadata:\n  name: {name}\n"
    if ns:
        out += f"  namespace: {ns}\n"
    if labels:
        out += "  labels:\n" + _map(labels, 4)
    if annotations:
        out += "  annotations:\n" + _map(annotations, 4)
    return out


def ingress_class(name: str, controller: str, default: bool = False) -> str:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return (
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\n"
        + _metadata(name, None, None, annotations)
        + f"spec:\n  controller: {controller}\n"
    )


def _env(rng: random.Random, ns: str | None, peers: list[str], count: int) -> str:
    out = ""
    external = rng.random() < 0.3
    for i in range(count):
        roll = rng.random()
        if i == 0 and external:
            out += f"            - name: UPSTREAM_URL\n              value: https://{rng.choice(EXTERNAL_HOSTS)}/v1\n"
        elif roll < 0.35:
            peer = rng.choice(peers) if peers else "config"
            host = rng.choice(INTERNAL_HOSTS).format(ns=ns or "default", peer=peer)
            out += f'            - name: DEP_{i}_HOST\n              value: "{host}"\n'
        elif roll < 0.55:
            out += (
                f"            - name: SECRET_{i}\n              valueFrom:\n                secretKeyRef:\n"
                f"                  name: app-secrets\n                  key: key-{i}\n"
            )
        elif roll < 0.65:
            out += (
                "            - name: POD_IP\n              valueFrom:\n                fieldRef:\n"
                "                  fieldPath: status.podIP\n"
            )
        else:
            out += f'            - name: SETTING_{i}\n              value: "{rng.randint(1, 5000)}"\n'
    return out


def deployment(
    rng: random.Random,
    name: str,
    ns: str | None,
    meta_labels: dict,
    pod_labels: dict,
    *,
    team: str = "infra",
    image: str | None = None,
    port: int = 8080,
    peers: list[str] = (),
    env_count: int = 4,
    spread: bool = False,
) -> str:
    image = image or rng.choice(IMAGES).format(app=name, team=team) + f":1.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
    labels_for_selector = {k: v for k, v in pod_labels.items() if k == "app.kubernetes.io/name"}
    out = "apiVersion: apps/v1\nkind: Deployment\n" + _metadata(name, ns, meta_labels)
    out += f"spec:\n  replicas: {rng.choice((2, 3, 3, 4, 6))}\n  revisionHistoryLimit: 5\n"
    out += "  selector:\n    matchLabels:\n" + _map(labels_for_selector, 6)
    out += "  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0\n"
    out += "  template:\n    metadata:\n      labels:\n" + _map(pod_labels, 8)
    out += '      annotations:\n        prometheus.io/scrape: "true"\n        prometheus.io/port: "9102"\n'
    out += f"    spec:\n      serviceAccountName: {name}\n      terminationGracePeriodSeconds: 30\n"
    if spread:
        out += (
            "      topologySpreadConstraints:\n        - maxSkew: 1\n          topologyKey: kubernetes.io/hostname\n"
            "          whenUnsatisfiable: DoNotSchedule\n          labelSelector:\n            matchLabels:\n"
            + _map(labels_for_selector, 14)
        )
    if rng.random() < 0.1:
        out += '      dnsConfig:\n        options:\n          - name: ndots\n            value: "2"\n'
    out += "      securityContext:\n        runAsNonRoot: true\n        fsGroup: 2000\n"
    out += f"      containers:\n        - name: {name.split('-')[0]}\n          image: {image}\n"
    out += "          imagePullPolicy: IfNotPresent\n"
    if rng.random() < 0.3:
        out += f'          args: ["--port={port}", "--log-level=info"]\n'
    out += f"          ports:\n            - name: http\n              containerPort: {port}\n              protocol: TCP\n"
    if env_count:
        out += "          env:\n" + _env(rng, ns, list(peers), env_count)
    out += (
        "          resources:\n            requests:\n              cpu: 100m\n              memory: 128Mi\n"
        "            limits:\n              memory: 512Mi\n"
    )
    out += (
        "          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n"
        "            periodSeconds: 10\n"
        "          livenessProbe:\n            httpGet:\n              path: /livez\n              port: http\n"
        "            initialDelaySeconds: 15\n"
    )
    out += "          volumeMounts:\n            - name: config\n              mountPath: /etc/app\n              readOnly: true\n"
    out += f"      volumes:\n        - name: config\n          configMap:\n            name: {name}-config\n"
    return out


def statefulset(rng: random.Random, name: str, ns: str | None, meta_labels: dict, pod_labels: dict, team: str) -> str:
    selector = {"app.kubernetes.io/name": name}
    out = "apiVersion: apps/v1\nkind: StatefulSet\n" + _metadata(name, ns, meta_labels)
    out += f"spec:\n  serviceName: {name}-headless\n  replicas: 3\n  podManagementPolicy: Parallel\n"
    out += "  selector:\n    matchLabels:\n" + _map(selector, 6)
    out += "  template:\n    metadata:\n      labels:\n" + _map(pod_labels, 8)
    out += "    spec:\n      containers:\n"
    out += (
        f"      - name: {name.split('-')[0]}\n        image: ghcr.io/acme/{name}:{rng.randint(10, 16)}.{rng.randint(0, 9)}\n"
        "        ports:\n        - name: http\n          containerPort: 8080\n        - name: peer\n          containerPort: 7000\n"
        '        env:\n        - name: CLUSTER_SIZE\n          value: "3"\n'
        f"        - name: PEER_DOMAIN\n          value: {name}-headless.{ns or 'default'}.svc.cluster.local\n"
        "        volumeMounts:\n        - name: data\n          mountPath: /var/lib/data\n"
    )
    out += (
        "  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n"
        "      resources:\n        requests:\n          storage: 10Gi\n"
    )
    return out


def service(
    name: str,
    ns: str | None,
    selector: dict,
    *,
    kind: str = "ClusterIP",
    ports=(),
    local: bool = False,
    headless: bool = False,
    affinity: bool = False,
) -> str:
    out = "apiVersion: v1\nkind: Service\n" + _metadata(name, ns, {"app.kubernetes.io/name": name})
    out += "spec:\n"
    if kind != "ClusterIP":
        out += f"  type: {kind}\n"
    if headless:
        out += "  clusterIP: None\n"
    if local:
        out += "  externalTrafficPolicy: Local\n"
    if affinity:
        out += "  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 10800\n"
    out += "  selector:\n" + _map(selector, 4)
    out += "  ports:\n"
    for port_name, port, target, node_port in ports:
        out += (
            f"    - name: {port_name}\n      port: {port}\n      targetPort: {_scalar(target)}\n      protocol: TCP\n"
        )
        if node_port:
            out += f"      nodePort: {node_port}\n"
    return out


def ingress(rng: random.Random, name: str, ns: str | None, team: str) -> str:
    host = f"{name}.{ns or 'apps'}.example.com"
    tls = rng.random() < 0.8
    annotations = {}
    if tls:
        annotations["cert-manager.io/cluster-issuer"] = "letsencrypt-prod"
    roll = rng.random()
    class_line = "  ingressClassName: nginx\n"
    if roll < 0.03:
        class_line = "  ingressClassName: ngnix\n"
    elif roll < 0.08:
        class_line = ""
    elif roll < 0.15:
        class_line = "  ingressClassName: traefik\n"
    out = "apiVersion: networking.k8s.io/v1\nkind: Ingress\n" + _metadata(name, ns, {"team": team}, annotations or None)
    out += "spec:\n" + class_line
    if tls:
        out += f"  tls:\n    - hosts:\n        - {host}\n      secretName: {name}-tls\n"
    out += f"  rules:\n    - host: {host}\n      http:\n        paths:\n"
    paths = [("/", "Prefix")]
    if rng.random() < 0.3:
        paths = [
            (rng.choice(("/api", "/v1", "/static", "/admin")), rng.choice(("Prefix", "ImplementationSpecific")))
        ] + paths
    for path, path_type in paths:
        out += (
            f"          - path: {path}\n            pathType: {path_type}\n            backend:\n"
            f"              service:\n                name: {name}\n                port:\n"
            f"                  name: http\n"
        )
    return out


def network_policy_default_deny(ns: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        + _metadata("default-deny-all", ns)
        + "spec:\n  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n"
    )


def network_policy_allow_dns(ns: str, tcp: bool = True) -> str:
    ports = "        - protocol: UDP\n          port: 53\n" + (
        "        - protocol: TCP\n          port: 53\n" if tcp else ""
    )
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        + _metadata("allow-dns", ns)
        + "spec:\n  podSelector: {}\n  policyTypes:\n    - Egress\n  egress:\n    - to:\n"
        "        - namespaceSelector: {}\n          podSelector:\n            matchLabels:\n"
        "              k8s-app: kube-dns\n      ports:\n" + ports
    )


def network_policy_allow_ingress_controller(ns: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        + _metadata("allow-from-ingress", ns)
        + "spec:\n  podSelector:\n    matchLabels:\n      tier: web\n  policyTypes:\n    - Ingress\n"
        "  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n"
        "              kubernetes.io/metadata.name: ingress-nginx\n"
    )


def network_policy_allow_peer(name: str, ns: str, peer: str, port: int) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        + _metadata(f"{name}-from-{peer}", ns)
        + f"spec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n"
        f"  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - podSelector:\n"
        f"            matchLabels:\n              app.kubernetes.io/name: {peer}\n"
        f"      ports:\n        - protocol: TCP\n          port: {port}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", type=int)
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    folder = args.folder or tempfile.mkdtemp(prefix=f"footgun-corpus-{args.documents}-")
    corpus = generate(folder, args.documents, args.seed)
    print(f"{folder}: {corpus.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
