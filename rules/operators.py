"""What makes pods that the manifests do not show as workloads: operators' custom
resources (a Prometheus, a RedisCluster, a Kafka) and GitOps releases (a Flux
HelmRelease, an Argo CD Application, a k3s HelmChart) installing into a namespace.
Rules that would call a Service's pods, or a name, missing stay silent when one of
these is deployed with it.
"""

from __future__ import annotations

from .inventory import Inventory
from .manifests import Resource

# Custom resource kinds known not to make pods: their presence in a namespace says
# nothing about where a Service's pods come from.
PODLESS_KINDS = frozenset(
    {
        "ServiceMonitor",
        "PodMonitor",
        "Probe",
        "PrometheusRule",
        "ScrapeConfig",
        "AlertmanagerConfig",
        "Certificate",
        "CertificateRequest",
        "Issuer",
        "ClusterIssuer",
        "Order",
        "Challenge",
        "TrafficSplit",
        "HTTPRouteGroup",
        "TCPRoute",
        "TrafficTarget",
        "HTTPRoute",
        "GRPCRoute",
        "TLSRoute",
        "UDPRoute",
        "Gateway",
        "GatewayClass",
        "ReferenceGrant",
        "BackendTLSPolicy",
        "VirtualService",
        "DestinationRule",
        "ServiceEntry",
        "Sidecar",
        "PeerAuthentication",
        "AuthorizationPolicy",
        "RequestAuthentication",
        "EnvoyFilter",
        "Telemetry",
        "WorkloadEntry",
        "IngressRoute",
        "IngressRouteTCP",
        "IngressRouteUDP",
        "Middleware",
        "MiddlewareTCP",
        "TLSOption",
        "TLSStore",
        "TraefikService",
        "ServersTransport",
        "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy",
        "NetworkPolicy",
        "GlobalNetworkPolicy",
        "Server",
        "ServerAuthorization",
        "ServiceProfile",
        "SealedSecret",
        "ExternalSecret",
        "ClusterExternalSecret",
        "SecretStore",
        "ClusterSecretStore",
        "ScaledObject",
        "ScaledJob",
        "TriggerAuthentication",
        "ClusterTriggerAuthentication",
        "BackendConfig",
        "FrontendConfig",
        "ManagedCertificate",
        "TargetGroupBinding",
        "IngressClassParams",
        "Mapping",
        "Host",
        "Listener",
        "TLSContext",
        "KongPlugin",
        "KongIngress",
        "KongConsumer",
        "HTTPProxy",
        "TLSCertificateDelegation",
        "VerticalPodAutoscaler",
        "Application",
        "AppProject",
        "Kustomization",
        "HelmRelease",
        "HelmRepository",
        "GitRepository",
        "OCIRepository",
    }
)

# API groups of tool configs that are read by a command on a workstation or in CI,
# never applied to a cluster: kind's and k3d's cluster configs, ctlptl's, k0sctl's,
# eksctl's, clusterctl's, kpt's and Tilt's. They make no pods.
TOOL_CONFIG_GROUPS = frozenset(
    {
        "kind.x-k8s.io",
        "k3d.io",
        "ctlptl.dev",
        "k0sctl.k0sproject.io",
        "eksctl.io",
        "clusterctl.cluster.x-k8s.io",
        "kpt.dev",
        "fn.kpt.dev",
        "config.kubernetes.io",
        "tilt.dev",
    }
)


# GitOps resources that install workloads the manifests do not hold (a Helm chart,
# another repository) into a namespace: kind, API group, the fields naming the
# target namespace (the resource's own namespace when unset).
RELEASES = (
    ("HelmRelease", "helm.toolkit.fluxcd.io/", (("spec", "targetNamespace"),)),
    ("Application", "argoproj.io/", (("spec", "destination", "namespace"),)),
    ("HelmChart", "helm.cattle.io/", (("spec", "targetNamespace"),)),
)


def releases_into(inventory: Inventory, namespace: str | None) -> bool:
    """Whether a Flux HelmRelease, an Argo CD Application or a k3s HelmChart in the
    scanned files may install workloads into ``namespace``."""
    for kind, group, fields in RELEASES:
        for release in inventory.of_kind(kind):
            if not release.api_version.startswith(group):
                continue
            target = next((t for f in fields if isinstance(t := release.get(*f), str) and t), release.namespace)
            if namespace is None or target is None or target == namespace:
                return True
    return False


def pod_makers(inventory: Inventory, namespace: str | None) -> list[Resource]:
    """The resources that may make pods (`may_make_pods`) and could be in
    ``namespace``, from an index built once per scan (linear in the resources, not
    in resources times the Services that ask)."""
    index = inventory.memo("pod-makers", lambda: _pod_makers_by_namespace(inventory))
    if namespace is None:
        return [r for bucket in index.values() for r in bucket]
    return index.get(namespace, []) + index.get(None, [])


def _pod_makers_by_namespace(inventory: Inventory) -> dict[str | None, list[Resource]]:
    index: dict[str | None, list[Resource]] = {}
    for resource in inventory.resources:
        if may_make_pods(inventory, resource):
            index.setdefault(resource.namespace, []).append(resource)
    return index


def may_make_pods(inventory: Inventory, resource: Resource) -> bool:
    """A custom resource an operator may make pods for: not a Kubernetes API, not a
    kind known to make none, not a declared custom workload (its pods are checked),
    and not the config of a tool that is never applied to a cluster."""
    group = resource.api_version.split("/")[0] if "/" in resource.api_version else ""
    official = group.endswith(".k8s.io") and not group.endswith("x-k8s.io")
    return (
        "." in group
        and not official
        and group not in TOOL_CONFIG_GROUPS
        and resource.kind not in PODLESS_KINDS
        and resource.kind not in inventory.custom_kinds
        and resource.kind != "Rollout"
    )
