"""The ``--format json`` document, as README.md describes it: ``version`` 1, the
findings and the skipped files, each as its ``to_json`` renders it, and ``notes``
(what the scan could not do at all, such as building kustomizations)."""

from __future__ import annotations

import json

from ..engine import ScanResult


def as_dict(result: ScanResult) -> dict:
    return {
        "version": 1,
        "findings": [f.to_json() for f in result.findings],
        "skipped": [s.to_json() for s in result.skipped],
        "notes": list(result.notes),
    }


def render(result: ScanResult, **_: object) -> str:
    return json.dumps(as_dict(result), indent=2) + "\n"
