"""hardcoded-node-port: a port pinned twice is a conflict only where both are
deployed; Services exported from a cluster get a note, not a fix."""

from __future__ import annotations

import re

from tests.helpers import CASES, of_rule, read_case, scan_texts

RULE = "hardcoded-node-port"
EXPORT = read_case(CASES / "hardcoded-node-port" / "kubectl-export.yaml")


def service(name: str) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  type: NodePort\n"
        f"  selector:\n    app: {name}\n  ports:\n    - port: 80\n      nodePort: 30080\n"
    )


def test_the_same_node_port_in_alternative_examples_is_no_conflict():
    found = of_rule(scan_texts({"examples/a/svc.yaml": service("web"), "examples/b/svc.yaml": service("shop")}), RULE)
    assert [f.severity for f in found] == ["warning", "warning"]
    assert not any("also pinned" in f.message for f in found)


def test_the_same_node_port_deployed_together_is_a_conflict():
    found = of_rule(scan_texts({"app/a.yaml": service("web"), "app/b.yaml": service("shop")}), RULE)
    assert [f.severity for f in found] == ["error", "error"]


def _without_server_fields(files: dict[str, str]) -> dict[str, str]:
    """The export as someone would write it: no uid, no resourceVersion; what
    `kubectl create --dry-run=client -o yaml` writes (`creationTimestamp: null`,
    `status: {}`) may stay."""
    return {
        path: re.sub(r"(?m)^\s*(uid|resourceVersion): .*\n", "", text).replace(
            'creationTimestamp: "2026-11-02T09:12:44Z"', "creationTimestamp: null"
        )
        for path, text in files.items()
    }


def test_exported_node_port_is_an_info_note_without_a_fix():
    [finding] = of_rule(scan_texts(EXPORT), "hardcoded-node-port")
    assert finding.severity == "info"
    assert "looks assigned by the API server" in finding.message
    assert "Let Kubernetes assign" not in finding.message
    assert finding.fix is None


def test_written_node_port_stays_a_warning_with_a_fix():
    [finding] = of_rule(scan_texts(_without_server_fields(EXPORT)), "hardcoded-node-port")
    assert finding.severity == "warning"
    assert finding.fix is not None
