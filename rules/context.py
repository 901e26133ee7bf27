"""What a rule sees while it runs: the inventory, the config, a way to report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, TypeVar

from .config import Config
from .inventory import Inventory
from .manifests import Resource
from .model import Finding, Fix, Related

T = TypeVar("T")


class Context:
    """What a rule sees: the inventory, the config, and a way to report."""

    def __init__(self, inventory: Inventory, config: Config, rule: ModuleType) -> None:
        self.inventory = inventory
        self.config = config
        self.rule_id: str = rule.ID
        self.default_severity: str = rule.SEVERITY
        self.origins: dict[int, Resource] = {}
        self._memos: dict[str, Any] = {}

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``'s value, built once per rule and scan: the indexes a rule
        derives for its many look-ups live on its context, and go with it."""
        if key not in self._memos:
            self._memos[key] = build()
        return self._memos[key]

    def finding(
        self,
        resource: Resource,
        field_path: tuple[Any, ...],
        message: str,
        *,
        fix: Fix | None = None,
        related: Iterable[Related] = (),
        severity: str | None = None,
        lines: tuple[int, int] | None = None,
        field: str | None = None,
    ) -> Finding:
        """A finding on the value at ``field_path`` of ``resource`` (its key line
        through the value's last line), or on explicit ``lines``. ``field`` names the
        finding's subject for fingerprints when the path's list indexes would not
        be stable (a port's name is, its position is not)."""
        if fix is not None and not self._within_unit(resource, fix):
            fix = None  # never reach into another example: what is not deployed with it
        if lines is None:
            span = resource.span(*field_path)
            lines = (span.key_line, span.end) if span else (resource.start_line, resource.start_line)
        found = Finding(
            rule=self.rule_id,
            severity=severity or self.default_severity,
            message=message,
            path=resource.path,
            line=lines[0],
            end_line=lines[1],
            resource=resource.ref,
            field=field or ".".join(str(p) for p in field_path),
            related=list(related),
            fix=fix,
        )
        self.origins[id(found)] = resource
        return found

    def _within_unit(self, resource: Resource, fix: Fix) -> bool:
        """Whether every file the fix edits is deployed with ``resource``."""
        roots = self.inventory.units.roots(resource.path)
        return all(edit.path == resource.path or roots & self.inventory.units.roots(edit.path) for edit in fix.edits)

    def caveat(self, resource: Resource) -> str:
        """A sentence to append when skipped files of ``resource``'s unit could
        change the verdict (nearest first)."""
        unscanned = self.inventory.unscanned_by_distance(resource)
        if not unscanned:
            return ""
        names = ", ".join(s.path for s in unscanned[:3]) + (" and others" if len(unscanned) > 3 else "")
        return f" This may be wrong: {names} could not be scanned and may hold what is missing."
