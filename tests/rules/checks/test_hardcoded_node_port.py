"""hardcoded-node-port on Services exported from a cluster."""
from __future__ import annotations

from tests.helpers import CASES, of_rule, read_case, scan_texts

EXPORT = CASES / "hardcoded-node-port" / "kubectl-export.yaml"

AUTHORED = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
      nodePort: 31847
"""


def test_exported_node_port_is_an_info_note_without_a_fix():
    [finding] = of_rule(scan_texts(read_case(EXPORT)), "hardcoded-node-port")
    assert finding.severity == "info"
    assert "looks assigned by the API server" in finding.message
    assert "Let Kubernetes assign" not in finding.message
    assert finding.fix is None


def test_authored_node_port_stays_a_warning_with_a_fix():
    [finding] = of_rule(scan_texts({"svc.yaml": AUTHORED}), "hardcoded-node-port")
    assert finding.severity == "warning"
    assert finding.fix is not None


def test_dry_run_output_is_not_an_export():
    # `kubectl create --dry-run=client -o yaml` writes `creationTimestamp: null` and
    # `status: {}`: a manifest someone wrote, not an object the API server filled in.
    text = AUTHORED.replace("  name: web\n", "  name: web\n  creationTimestamp: null\n") + "status: {}\n"
    [finding] = of_rule(scan_texts({"svc.yaml": text}), "hardcoded-node-port")
    assert finding.severity == "warning"
