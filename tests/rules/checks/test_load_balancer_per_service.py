"""load-balancer-per-service: what the case marks cannot say (wording, fix text,
units, which ports count)."""

from __future__ import annotations

import pytest

from footgun.rules.checks.load_balancer_per_service import serves_http
from footgun.rules.config import Config
from footgun.rules.manifests import load_text
from tests.helpers import apply_fix, of_rule, scan_texts

RULE = "load-balancer-per-service"


def service(name: str, port: int = 80, type_line: str = "type: LoadBalancer", extra: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  {type_line}\n{extra}"
        f"  selector:\n    app: {name}\n  ports:\n    - port: {port}\n"
    )


def findings(files: dict[str, str], config: Config | None = None):
    return of_rule(scan_texts(files, config), RULE)


def test_second_load_balancer_is_flagged_with_count_others_and_ingress_rule():
    files = {"k8s/blog.yaml": service("blog"), "k8s/docs.yaml": service("docs", 8080)}
    [found] = findings(files)
    assert found.path == "k8s/docs.yaml" and found.line == 6
    assert found.severity == "info"
    assert found.message.startswith("2 LoadBalancer Services serve HTTP in folder `k8s/` (`blog` and this one)")
    assert "~$20-50/month" in found.message
    assert (
        "```yaml\n- host: docs.example.com  # your host\n  http:\n    paths:\n      - path: /\n"
        "        pathType: Prefix\n        backend:\n          service:\n            name: docs\n"
        "            port:\n              number: 8080\n```"
    ) in found.message
    assert [(r.path, r.line) for r in found.related] == [("k8s/blog.yaml", 6)]
    fixed = apply_fix(files, found.fix)["k8s/docs.yaml"]
    assert fixed == service("docs", 8080, "type: ClusterIP")
    assert found.fix.description == "Make `docs` a ClusterIP Service; route it through the shared ingress"


def test_every_load_balancer_beyond_the_allowance_in_file_order():
    text = "---\n".join(service(n) for n in ("a", "b", "c", "d"))
    assert [f.message.split(" (")[1].split(")")[0] for f in findings({"all.yaml": text})] == [
        "`a`, `c`, `d` and this one",
        "`a`, `b`, `d` and this one",
        "`a`, `b`, `c` and this one",
    ]
    assert [f.resource.name for f in findings({"all.yaml": text}, Config(max_load_balancers=3))] == ["d"]
    assert "more than the 3 allowed" in findings({"all.yaml": text}, Config(max_load_balancers=3))[0].message


def test_fix_keeps_quotes_and_comment_and_drops_load_balancer_only_fields():
    extra = (
        "  externalTrafficPolicy: Local\n  loadBalancerIP: 203.0.113.7\n"
        "  loadBalancerSourceRanges:\n    - 192.0.2.0/24\n"
    )
    files = {"a.yaml": service("a"), "b.yaml": service("b", type_line="type: 'LoadBalancer'  # public", extra=extra)}
    [found] = findings(files)
    assert apply_fix(files, found.fix)["b.yaml"] == service("b", type_line="type: 'ClusterIP'  # public")
    assert "`loadBalancerIP`, `loadBalancerSourceRanges`, `externalTrafficPolicy`" in found.fix.description
    assert "nginx.ingress.kubernetes.io/whitelist-source-range" in found.message


def test_external_ips_keep_their_traffic_policy():
    extra = "  externalIPs:\n    - 198.51.100.4\n  externalTrafficPolicy: Local\n"
    files = {"a.yaml": service("a"), "b.yaml": service("b", extra=extra)}
    [found] = findings(files)
    assert "externalTrafficPolicy: Local" in apply_fix(files, found.fix)["b.yaml"]


def test_node_ports_are_removed_with_the_type():
    text = service("b").replace("    - port: 80\n", "    - nodePort: 30080\n      port: 80\n")
    files = {"a.yaml": service("a"), "b.yaml": text}
    [found] = findings(files)
    fixed = apply_fix(files, found.fix)["b.yaml"]
    assert "nodePort" not in fixed and "    - port: 80\n" in fixed and "type: ClusterIP" in fixed


def test_flow_style_spec_is_reported_without_a_fix():
    flow = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"
        "spec: {type: LoadBalancer, selector: {app: b}, ports: [{port: 80}]}\n"
    )
    [found] = findings({"a.yaml": service("a"), "b.yaml": flow})
    assert found.fix is None


def test_units():
    files = {"examples/aws/svc.yaml": service("shop"), "examples/gcp/svc.yaml": service("shop-gcp")}
    assert findings(files) == []  # alternative examples, one folder each
    assert [f.path for f in findings(files, Config(deployment_unit="repository"))] == ["examples/gcp/svc.yaml"]
    assert "in the repository" in findings(files, Config(deployment_unit="repository"))[0].message
    same_folder = {"k8s/a.yaml": service("a"), "k8s/b.yaml": service("b")}
    assert findings(same_folder, Config(deployment_unit="file")) == []


def test_kustomization_unit_follows_folders_and_files():
    files = {
        "deploy/prod/kustomization.yaml": "resources:\n  - ../../base\n  - extra.yaml\n",
        "deploy/prod/extra.yaml": service("extra"),
        "base/kustomization.yaml": "resources:\n  - web.yaml\n",
        "base/web.yaml": service("web"),
    }
    config = Config(deployment_unit="kustomization", kustomize_build=False)  # the unit model itself
    [found] = findings(files, config)
    assert found.path == "deploy/prod/extra.yaml"
    assert "in the kustomization `deploy/prod/kustomization.yaml`" in found.message
    assert findings(files, Config(deployment_unit="folder")) == []  # by folder, one each
    assert findings(files, Config(kustomize_build=False)) == [found]  # kustomization units are the default


def test_namespaces_that_differ_are_different_services():
    a = service("web").replace("  name: web\n", "  name: web\n  namespace: shop\n")
    b = service("web").replace("  name: web\n", "  name: web\n  namespace: blog\n")
    assert len(findings({"k8s/a.yaml": a, "k8s/b.yaml": b})) == 1
    assert findings({"k8s/a.yaml": a, "k8s/c.yaml": service("web")}) == []  # a copy


@pytest.mark.parametrize(
    "ports, http",
    [
        ("- port: 80", True),
        ("- port: 8080\n  name: grpc-api", True),
        ("- port: 5432\n  name: http-admin", True),  # the name says HTTP
        ("- port: 4317\n  appProtocol: grpc", True),
        ("- port: 5432", False),
        ("- port: 80\n  protocol: UDP", False),
        ("- port: 9000\n  name: tcp-game", False),
        ("- port: 9000\n  appProtocol: kubernetes.io/mysql", False),
        ("- port: 80\n  targetPort: 3306", False),
        ("- port: 7000\n  targetPort: postgres", False),
        ("- port: 80\n- port: 22\n  name: ssh", False),
    ],
)
def test_which_services_serve_http(ports, http):
    body = "\n".join("    " + line for line in ports.splitlines())
    text = f"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: LoadBalancer\n  ports:\n{body}\n"
    [resource] = load_text("s.yaml", text).resources
    assert serves_http(resource) is http
