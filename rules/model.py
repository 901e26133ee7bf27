"""The engine's output vocabulary: findings, fixes as line edits, skipped files.

Everything here is plain data. Lines are 1-based and inclusive everywhere, and an
`Edit` replaces lines `start_line..end_line` of a file with `replacement`, exactly as
a GitHub suggestion does (an empty replacement deletes the lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}


@dataclass(frozen=True)
class ResourceRef:
    kind: str
    name: str
    namespace: str | None  # None: not set in the manifest (decided at apply time)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "namespace": self.namespace or "default"}

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class Edit:
    path: str
    start_line: int
    end_line: int
    replacement: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "replacement": self.replacement,
        }


@dataclass(frozen=True)
class Fix:
    description: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "edits": [e.to_json() for e in self.edits]}


@dataclass(frozen=True)
class Related:
    path: str
    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass(slots=True)  # thousands in a large scan: no per-object dict
class Finding:
    rule: str
    severity: str
    message: str
    path: str
    line: int
    end_line: int
    resource: ResourceRef
    # Dotted field the finding is about ("spec.selector"); with rule, path and
    # resource it identifies a finding independently of line numbers.
    field: str = ""
    related: list[Related] = dataclass_field(default_factory=list)
    fix: Fix | None = None
    # why a fix the rule proposed was dropped (it failed validation), if it was
    fix_withheld: str | None = None

    @property
    def fingerprint(self) -> str:
        r = self.resource
        return "|".join((self.rule, self.path, r.kind, r.namespace or "", r.name, self.field))

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "resource": self.resource.to_json(),
            "related": [r.to_json() for r in self.related],
            "fix": self.fix.to_json() if self.fix else None,
        }


@dataclass(frozen=True)
class Skip:
    path: str
    reason: str
    line: int | None = None  # where parsing failed, when known

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason}
