"""hardcoded-node-port on Services exported from a cluster."""
from __future__ import annotations

import re

from tests.helpers import CASES, of_rule, read_case, scan_texts

EXPORT = read_case(CASES / "hardcoded-node-port" / "kubectl-export.yaml")


def _without_server_fields(files: dict[str, str]) -> dict[str, str]:
    """The export as someone would write it: no uid, no resourceVersion; what
    `kubectl create --dry-run=client -o yaml` writes (`creationTimestamp: null`,
    `status: {}`) may stay."""
    return {path: re.sub(r"(?m)^\s*(uid|resourceVersion): .*\n", "", text)
            .replace('creationTimestamp: "2026-11-02T09:12:44Z"', "creationTimestamp: null")
            for path, text in files.items()}


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
