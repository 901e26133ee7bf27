"""hardcoded-node-port: a port pinned twice is a conflict only where both are deployed."""
from __future__ import annotations

from tests.helpers import of_rule, scan_texts

RULE = "hardcoded-node-port"


def service(name: str) -> str:
    return (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  type: NodePort\n"
            f"  selector:\n    app: {name}\n  ports:\n    - port: 80\n      nodePort: 30080\n")


def test_the_same_node_port_in_alternative_examples_is_no_conflict():
    found = of_rule(scan_texts({"examples/a/svc.yaml": service("web"), "examples/b/svc.yaml": service("shop")}), RULE)
    assert [f.severity for f in found] == ["warning", "warning"]
    assert not any("also pinned" in f.message for f in found)


def test_the_same_node_port_deployed_together_is_a_conflict():
    found = of_rule(scan_texts({"app/a.yaml": service("web"), "app/b.yaml": service("shop")}), RULE)
    assert [f.severity for f in found] == ["error", "error"]
